/* 听见 · WeChat simulator. Talks to the local sandbox: POST /sandbox/send plays the user's phone, and
   GET /sandbox/messages?openid=&after= brings what the bot pushed later (customer-service and template messages). */
"use strict";

(function () {
  const POLL_MS = 1500;
  const STORE = "tingjian.chat.";
  const MAX_ITEMS = 300;
  const KIND_NAMES = { bureau: "教育局", office: "局机关处室", district: "区教育局", school: "学校",
                       kindergarten: "幼儿园" };
  // Fallback when /simulator/roles is unavailable. Extend on the server with a roles_provider.
  let roles = [{ openid: "o_demo_parent_wang", name: "家长·王女士", group: "群众" }];

  const $ = (id) => document.getElementById(id);
  const chatEl = $("chat"), input = $("input"), sendBtn = $("send"), roleSel = $("role"), openidIn = $("openid");
  const panel = $("panel"), moreBtn = $("more-btn");

  const chats = {};          // openid -> {items: [...], after: last pushed message id, lastTime}
  let current = null;        // current openid
  let units = [];
  let pickedUnit = null;
  let polling = false;

  function chat(openid) {
    if (!chats[openid]) {
      let saved = null;
      try { saved = JSON.parse(localStorage.getItem(STORE + openid) || "null"); } catch (e) { saved = null; }
      chats[openid] = saved && Array.isArray(saved.items) ? saved : { items: [], after: 0, lastTime: 0 };
    }
    return chats[openid];
  }
  // Each person's transcript survives a reload (the sandbox keeps only what the bot pushed).
  function save(openid) {
    const c = chat(openid);
    if (c.items.length > MAX_ITEMS) c.items = c.items.slice(-MAX_ITEMS);
    const plain = { after: c.after, lastTime: c.lastTime, boot: c.boot,
                    items: c.items.map((it) => { const o = Object.assign({}, it); delete o.node; delete o.pending;
                                                 return o; }) };
    try { localStorage.setItem(STORE + openid, JSON.stringify(plain)); } catch (e) { /* full or private */ }
  }
  function roleName(openid) {
    const r = roles.find((x) => x.openid === openid);
    return r ? r.name : openid;
  }

  // ---------------------------------------------------------------- rendering
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function fmtTime(ts) {
    const d = new Date(ts * 1000), p = (n) => String(n).padStart(2, "0");
    return p(d.getHours()) + ":" + p(d.getMinutes());
  }
  function avatar(who) {
    if (who === "me") return el("div", "avatar", (roleName(current).split("·").pop() || "我").slice(0, 1));
    return el("div", "avatar", "听");
  }
  function renderItem(item) {
    if (item.type === "time") return el("div", "time", fmtTime(item.at));
    if (item.type === "notice") {
      const n = el("div", "notice" + (item.error ? " error" : ""));
      n.appendChild(el("span", null, item.text));
      return n;
    }
    const row = el("div", "msg " + (item.who === "me" ? "me" : "bot") + (item.pending ? " pending" : ""));
    row.appendChild(avatar(item.who));
    if (item.type === "template" || item.type === "news" || item.type === "link") {
      row.appendChild(renderCard(item));
    } else {
      const b = el("div", "bubble", item.text);
      if (item.meta) b.appendChild(el("span", "meta", item.meta));
      row.appendChild(b);
    }
    return row;
  }
  function renderCard(item) {
    const card = el("div", "card");
    const m = item.message || {};
    if (item.type === "template") {
      const data = m.data || {};
      const body = el("div", "card-body");
      card.appendChild(el("div", "card-title", data.first ? data.first.value : "服务通知"));
      Object.keys(data).forEach((k) => {
        if (k === "first") return;
        const r = el("div", "row");
        if (k !== "remark") r.appendChild(el("span", "k", labelFor(k)));
        r.appendChild(el("span", "v", String(data[k].value)));
        body.appendChild(r);
      });
      card.appendChild(body);
      if (m.url) {
        const a = el("a", "card-foot", "详情");
        a.href = m.url; a.target = "_blank"; a.rel = "noopener";
        card.appendChild(a);
      }
    } else {
      card.appendChild(el("div", "card-title", m.title || m.content || "图文消息"));
      if (m.description) card.appendChild(el("div", "card-body", m.description));
      if (m.url) {
        const a = el("a", "card-foot", "阅读全文");
        a.href = m.url; a.target = "_blank"; a.rel = "noopener";
        card.appendChild(a);
      }
    }
    return card;
  }
  function labelFor(key) {
    const known = { keyword1: "事项", keyword2: "状态", keyword3: "时间", keyword4: "备注", keyword5: "说明" };
    return known[key] || key.replace(/\d+$/, "");
  }
  function redraw() {
    chatEl.textContent = "";
    if (!current) return;
    chat(current).items.forEach((it) => chatEl.appendChild(renderItem(it)));
    scrollDown();
  }
  function scrollDown() { chatEl.scrollTop = chatEl.scrollHeight; }

  function add(openid, item) {
    const c = chat(openid);
    const at = item.at || Date.now() / 1000;
    if ((item.type === "text" || item.type === "template" || item.type === "news" || item.type === "link")
        && at - c.lastTime > 180) {
      const t = { type: "time", at };
      c.items.push(t);
      if (openid === current) chatEl.appendChild(renderItem(t));
    }
    if (item.type !== "notice") c.lastTime = at;
    c.items.push(item);
    if (openid === current) {
      item.node = renderItem(item);
      chatEl.appendChild(item.node);
      scrollDown();
    }
    save(openid);
    return item;
  }
  function notice(openid, text, error) { return add(openid, { type: "notice", text, error: !!error }); }
  function replace(openid, item, changes) {
    Object.assign(item, changes);
    if (openid === current && item.node) {
      const fresh = renderItem(item);
      item.node.replaceWith(fresh);
      item.node = fresh;
    }
    save(openid);
  }

  // ---------------------------------------------------------------- talking to the sandbox
  async function post(payload) {
    const openid = current;
    let res;
    try {
      const r = await fetch("/sandbox/send", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign({ openid }, payload)),
      });
      res = await r.json();
      if (!r.ok) { notice(openid, "发送失败：" + (res.error || r.status), true); return null; }
    } catch (e) {
      notice(openid, "连不上服务器：" + e.message, true);
      return null;
    }
    if (res.auto_followed) notice(openid, "（已自动关注公众号）");
    if (payload.type === "scan" && res.type === "subscribe") notice(openid, "你关注了公众号");
    if (res.tries > 1) notice(openid, "微信服务器等待超时，重试了 " + (res.tries - 1) + " 次");
    if (res.reply) add(openid, { type: "text", who: "bot", text: res.reply });
    if (res.notice) notice(openid, res.notice, true);
    if (res.error) notice(openid, "⚠ " + res.error, true);
    poll();
    return res;
  }

  async function sendText() {
    const text = input.value;
    if (!text.trim() || !current) return;
    input.value = "";
    autosize();
    updateSend();
    const item = add(current, { type: "text", who: "me", text, pending: true });
    const openid = current;
    const res = await post({ type: "text", content: text });
    replace(openid, item, { pending: false });
    if (!res) replace(openid, item, { meta: "未送达" });
  }

  async function poll() {
    if (polling || !current) return;
    polling = true;
    const openid = current, c = chat(openid);
    try {
      const r = await fetch("/sandbox/messages?openid=" + encodeURIComponent(openid) + "&after=" + c.after);
      if (r.ok) {
        const data = await r.json();
        if (data.boot && c.boot !== data.boot) {
          // a restarted sandbox numbers its messages from 1 again: start over for this transcript
          const restarted = !!c.boot;
          c.boot = data.boot;
          if (restarted) { c.after = 0; save(openid); polling = false; return poll(); }
        }
        (data.messages || []).forEach((m) => {
          c.after = Math.max(c.after, m.id);
          if (m.kind === "text") add(openid, { type: "text", who: "bot", text: m.content, at: m.at });
          else if (m.kind === "image") add(openid, { type: "text", who: "bot", text: "[图片]", at: m.at });
          else add(openid, { type: m.kind, who: "bot", message: m, at: m.at });
        });
        if ((data.messages || []).length) save(openid);
      }
    } catch (e) { /* the server may be restarting: try again at the next tick */ }
    polling = false;
  }

  // ---------------------------------------------------------------- roles
  function fillRoles() {
    roleSel.textContent = "";
    const groups = {};
    roles.forEach((r) => { (groups[r.group || "群众"] = groups[r.group || "群众"] || []).push(r); });
    Object.keys(groups).forEach((g) => {
      const og = el("optgroup");
      og.label = g;
      groups[g].forEach((r) => {
        const o = el("option", null, r.name);
        o.value = r.openid;
        og.appendChild(o);
      });
      roleSel.appendChild(og);
    });
    const custom = el("option", null, "自定义 openid…");
    custom.value = "";
    roleSel.appendChild(custom);
  }
  function switchTo(openid) {
    openid = (openid || "").trim();
    if (!openid || openid === current) return;
    current = openid;
    openidIn.value = openid;
    const known = roles.some((r) => r.openid === openid);
    roleSel.value = known ? openid : "";
    try { localStorage.setItem("tingjian.openid", openid); } catch (e) { /* private mode */ }
    redraw();
    if (!chat(openid).items.length) notice(openid, "你现在是「" + roleName(openid) + "」");
    poll();
  }

  // ---------------------------------------------------------------- sheets
  function openSheet(id) {
    closeSheets();
    $(id).hidden = false;
    panel.hidden = true;
    moreBtn.setAttribute("aria-expanded", "false");
  }
  function closeSheets() { document.querySelectorAll(".sheet").forEach((s) => { s.hidden = true; }); }

  function fillUnits() {
    const list = $("units"), q = $("unit-filter").value.trim();
    list.textContent = "";
    const shown = units.filter((u) => !q || (u.name || "").includes(q) || (u.code || "").includes(q));
    if (!shown.length) { list.appendChild(el("li", "empty", units.length ? "没有匹配的单位" : "单位列表为空")); return; }
    let group = null;
    shown.forEach((u) => {
      const g = KIND_NAMES[u.kind] || u.kind || "其他";
      if (g !== group) { list.appendChild(el("li", "group", g)); group = g; }
      const li = el("li", "unit");
      li.appendChild(el("span", null, u.name));
      li.appendChild(el("small", null, u.code || ""));
      li.addEventListener("click", () => pickUnit(u));
      list.appendChild(li);
    });
  }
  async function pickUnit(u) {
    pickedUnit = u;
    $("units").hidden = true;
    $("unit-filter").hidden = true;
    $("qr").hidden = false;
    $("qr-name").textContent = u.name;
    $("qr-scene").textContent = "场景值 " + u.scene;
    $("qr-survey").hidden = !u.survey_scene;
    if (u.survey_scene) $("qr-survey").textContent = "扫描评议码（" + u.survey_title + "）";
    const img = $("qr-img");
    img.removeAttribute("src");
    try {
      const r = await fetch("/sandbox/qrcode?scene=" + encodeURIComponent(u.scene));
      const d = await r.json();
      if (d.image) img.src = d.image;
    } catch (e) { /* the QR picture is decoration; scanning works without it */ }
  }
  function backToUnits() {
    $("qr").hidden = true;
    $("units").hidden = false;
    $("unit-filter").hidden = false;
  }
  async function scanPicked(survey) {
    if (!pickedUnit || !current) return;
    const u = pickedUnit, openid = current;
    closeSheets();
    backToUnits();
    notice(openid, "扫描了「" + u.name + "」的" + (survey ? "评议码" : "二维码"));
    await post({ type: "scan", scene: survey ? u.survey_scene : u.scene });
  }

  // ---------------------------------------------------------------- tools
  async function tool(action) {
    if (!current) return;
    const openid = current;
    if (action === "scan") { openSheet("sheet-scan"); backToUnits(); fillUnits(); $("unit-filter").focus(); }
    else if (action === "location") openSheet("sheet-location");
    else if (action === "voice") { openSheet("sheet-voice"); $("voice-text").focus(); }
    else if (action === "image") {
      panel.hidden = true;
      add(openid, { type: "text", who: "me", text: "[图片]" });
      await post({ type: "image" });
    } else if (action === "follow") {
      panel.hidden = true;
      notice(openid, "你关注了公众号");
      await post({ type: "subscribe" });
    } else if (action === "unfollow") {
      panel.hidden = true;
      notice(openid, "你取消了关注");
      await post({ type: "unsubscribe" });
    } else if (action === "clear") {
      panel.hidden = true;
      chat(openid).items = [];
      chat(openid).lastTime = 0;
      save(openid);
      redraw();
    }
  }
  async function sendLocation() {
    const openid = current, label = $("loc-label").value.trim();
    const lat = parseFloat($("loc-lat").value), lon = parseFloat($("loc-lon").value);
    if (isNaN(lat) || isNaN(lon)) return;
    closeSheets();
    add(openid, { type: "text", who: "me", text: "[位置] " + (label || lat + ", " + lon) });
    await post({ type: "location", lat, lon, label, scale: 15 });
  }
  async function sendVoice() {
    const openid = current, text = $("voice-text").value.trim();
    closeSheets();
    $("voice-text").value = "";
    add(openid, { type: "text", who: "me", text: "[语音] " + (text || "（未识别）") });
    await post({ type: "voice", recognition: text });
  }

  // ---------------------------------------------------------------- the custom menu (menu/create)
  let menuJson = "";
  async function loadMenu() {
    try {
      const r = await fetch("/sandbox/menu");
      if (!r.ok) return;
      const d = await r.json(), text = JSON.stringify(d.button || []);
      if (text !== menuJson) { menuJson = text; drawMenu(d.button || []); }
    } catch (e) { /* keep what is drawn */ }
  }
  function drawMenu(buttons) {
    const bar = $("menubar");
    bar.textContent = "";
    $("submenu").hidden = true;
    bar.hidden = !buttons.length;
    buttons.forEach((b) => {
      const btn = el("button", b.sub_button && b.sub_button.length ? "group" : null, b.name);
      btn.type = "button";
      btn.addEventListener("click", () => {
        if (b.sub_button && b.sub_button.length) openSubmenu(btn, b.sub_button);
        else menuAction(b);
      });
      bar.appendChild(btn);
    });
  }
  function openSubmenu(btn, subs) {
    const list = $("submenu");
    if (!list.hidden && list.dataset.owner === btn.textContent) { list.hidden = true; return; }
    list.textContent = "";
    list.dataset.owner = btn.textContent;
    subs.forEach((s) => {
      const li = el("li", null, s.name);
      li.setAttribute("role", "menuitem");
      li.addEventListener("click", () => { list.hidden = true; menuAction(s); });
      list.appendChild(li);
    });
    const phone = $("phone").getBoundingClientRect(), r = btn.getBoundingClientRect();
    list.style.left = Math.max(4, r.left - phone.left + r.width / 2 - 60) + "px";
    list.hidden = false;
  }
  async function menuAction(b) {
    if (!current) return;
    const openid = current;
    notice(openid, "点击了菜单「" + b.name + "」");
    if (b.type === "view") {
      window.open(b.url, "_blank", "noopener");
      await post({ type: "view", url: b.url });
    } else if (b.type === "click") {
      await post({ type: "click", key: b.key });
    } else {
      notice(openid, "模拟器暂不支持 " + b.type + " 类型的菜单", true);
    }
  }

  // ---------------------------------------------------------------- input box
  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }
  function updateSend() { sendBtn.disabled = !input.value.trim(); }

  input.addEventListener("input", () => { autosize(); updateSend(); });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendText(); }
  });
  input.addEventListener("focus", () => { panel.hidden = true; moreBtn.setAttribute("aria-expanded", "false"); });
  sendBtn.addEventListener("click", sendText);
  moreBtn.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    moreBtn.setAttribute("aria-expanded", String(!panel.hidden));
    closeSheets();
    scrollDown();
  });
  panel.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-action]");
    if (b) tool(b.dataset.action);
  });
  document.querySelectorAll(".sheet .close").forEach((b) => b.addEventListener("click", closeSheets));
  $("unit-filter").addEventListener("input", fillUnits);
  $("qr-back").addEventListener("click", backToUnits);
  $("qr-scan").addEventListener("click", () => scanPicked(false));
  $("qr-survey").addEventListener("click", () => scanPicked(true));
  $("loc-send").addEventListener("click", sendLocation);
  $("voice-send").addEventListener("click", sendVoice);
  roleSel.addEventListener("change", () => {
    if (roleSel.value) switchTo(roleSel.value);
    else { openidIn.value = ""; openidIn.focus(); }
  });
  openidIn.addEventListener("change", () => switchTo(openidIn.value));
  openidIn.addEventListener("keydown", (e) => { if (e.key === "Enter") switchTo(openidIn.value); });

  // ---------------------------------------------------------------- the demo clock
  // GET/POST /sandbox/clock: the demo's time, and jumps ahead after which every sweep runs at once.
  const RAN_NAMES = { deadlines: "提醒/催办", digests: "周报", retried: "重试" };
  function clockText(d) { return d.text + (d.speed && d.speed !== 1 ? " ×" + d.speed : ""); }
  async function showClock() {
    try {
      const r = await fetch("/sandbox/clock");
      if (!r.ok) return;
      const d = await r.json();
      $("demo-time").textContent = clockText(d);
      $("timebar").hidden = false;
    } catch (e) { /* no demo clock here: the bar stays hidden */ }
  }
  async function jump(button) {
    const buttons = document.querySelectorAll("#timebar button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const r = await fetch("/sandbox/clock", { method: "POST", headers: { "Content-Type": "application/json" },
                                                body: button.dataset.jump });
      const d = await r.json();
      if (!r.ok) { notice(current, "时间调整失败：" + (d.error || r.status), true); return; }
      $("demo-time").textContent = clockText(d);
      const ran = Object.keys(d.ran || {}).filter((k) => d.ran[k]).map((k) => RAN_NAMES[k] + " " + d.ran[k]);
      notice(current, "时间前进到 " + d.text + (ran.length ? "，已发出：" + ran.join("，") : "，没有到期的任务"));
      poll();
    } catch (e) {
      notice(current, "连不上服务器：" + e.message, true);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }
  document.querySelectorAll("#timebar button").forEach((b) => b.addEventListener("click", () => jump(b)));

  // ---------------------------------------------------------------- start
  async function start() {
    try {
      const r = await fetch("/simulator/roles");
      if (r.ok) { const d = await r.json(); if (Array.isArray(d) && d.length) roles = d; }
    } catch (e) { /* keep the fallback */ }
    try {
      const r = await fetch("/simulator/units");
      if (r.ok) { const d = await r.json(); if (Array.isArray(d)) units = d; }
    } catch (e) { /* the scan sheet will say the list is empty */ }
    fillRoles();
    let first = roles[0].openid;
    const fromUrl = new URLSearchParams(location.search).get("openid");
    try { first = fromUrl || localStorage.getItem("tingjian.openid") || first; } catch (e) { first = fromUrl || first; }
    switchTo(first);
    updateSend();
    loadMenu();
    setInterval(poll, POLL_MS);
    setInterval(loadMenu, 5000);   // `tingjian menu push` while the page is open shows up without a reload
    showClock();
    setInterval(showClock, 30000);
  }
  start();
})();
