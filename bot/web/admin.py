"""What leaders manage in the workbench (issues 12 and 13): the directory of units with their commitments and
service items, staff bindings and invite codes, and the performance review (绩效考核) with 领导点评.

Every change calls the same storage function as the CLI or the WeChat command (storage.directory.update with the
CSV's checks, storage.services.set_unit_items with the services file's, storage.staff.create_invite /
revoke_invite / set_role, Desk.remove_staff, storage.review.add_comment), inside one writer transaction with its
audit row. A form that fails a check is shown again with what was typed and the reason; nothing is stored.

Who may: leaders (and admins) everything; a supervisor the service items and contact hours of the units in their
scope (their own unit and the units under it, as for tickets), because 亮承诺 asks each unit to publish and keep its
own service list, while its name, kind, place in the directory and commitment stay the bureau's decision. Anyone
else gets 404 for these pages, as for another unit's ticket.
"""
from __future__ import annotations

import re

import asyncio
import io
import time
from urllib.parse import urlencode

from aiohttp import web

from bot.web import auth, whole_number
from bot.web.auth import Viewer, read, staff_page, write
from bot.web.workbench import _context, _fmt, _ip, _render, _tz, form_page, NotFound, saved
from handlers import review, texts
from handlers.public import KIND_NAMES as UNIT_KIND_NAMES
from handlers.vocabulary import WIDE_ROLES
from storage import directory, outbox, review as review_store, services, staff, users, websessions

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ITEM_ROWS_BLANK = 2          # empty rows offered below a unit's items for new ones (no script needed)
UNIT_FIELDS = {"name": "名称", "kind": "类型", "district": "区县", "parent": "上级单位", "commitment": "服务承诺",
               "contact_hours": "办公时间", "contact_phone": "联系电话"}
INVITE_STATES = {"open": "待使用", "used": "已使用", "expired": "已过期", "revoked": "已撤销"}


def _desk(request: web.Request):
    from bot.app import DISPATCHER
    return request.app[DISPATCHER].desk


def is_leader(v: Viewer) -> bool:
    return v.user["role"] in WIDE_ROLES


def _leaders_only(v: Viewer) -> None:
    if not is_leader(v):
        raise NotFound("page")


async def _editable_units(request: web.Request, v: Viewer) -> set[str] | None:
    """Units whose service items this person may edit: None = all (leaders); a supervisor's scope; else none."""
    if is_leader(v):
        return None
    if v.user["role"] != "supervisor":
        return set()
    desk = _desk(request)
    scope, _ = await read(request, desk.scope, v.user)
    return set(scope or ())


def _public_edited(request: web.Request) -> None:
    """This process's public pages look at the database again before the next request (others within a second)."""
    from bot.public import CACHE
    if CACHE in request.app:
        request.app[CACHE].edited()


# -- the hub -----------------------------------------------------------------------------------------------------
@staff_page
async def hub(request: web.Request, v: Viewer) -> web.Response:
    editable = await _editable_units(request, v)
    if editable is not None and not editable:
        raise NotFound("page")
    # a setting only an admin can complete: the complaints about the bureau go to the leaders until it is set
    from bot.app import CONFIG
    unset = is_leader(v) and not request.app[CONFIG].routing.oversight_office
    # complaints about the bureau nobody bound may act on (no leader, nobody at the oversight office)
    nobody = is_leader(v) and await read(request, _desk(request).unattended_about_bureau)
    return _render("w_admin.html", request, await _context(
        request, v, leader=is_leader(v), oversight_unset=texts.OVERSIGHT_UNSET if unset else "",
        nobody_for_bureau=texts.NOBODY_FOR_BUREAU_ADMIN.format(count=nobody) if nobody else "",
        no_admin=await read(request, _no_admin) if is_leader(v) else None))


def _no_admin(db) -> tuple[str, str, str] | None:
    """The warning that nobody is bound as admin, with the console command that makes one (None when one is)."""
    if staff.of_role(db, "admin"):
        return None
    bureau = next((u["code"] for u in directory.all_units(db) if u["kind"] == "bureau"), "单位代码")
    before, command, after = texts.NO_ADMIN
    return before, command.format(unit=bureau), after


# -- units -------------------------------------------------------------------------------------------------------
@staff_page
async def units_page(request: web.Request, v: Viewer) -> web.Response:
    editable = await _editable_units(request, v)
    if editable is not None and not editable:
        raise NotFound("page")
    q = request.query.get("q", "").strip()[:40]
    kind = request.query.get("kind", "")

    def load(db):
        units = directory.all_units(db)
        names = {u["code"]: u["name"] for u in units}
        own = {r[0] for r in db.execute("SELECT DISTINCT scope FROM service_items")}
        return units, names, own, staff.count_by_unit(db), _desk(request).stand_in_words(db)

    units, names, own, people, stand_in = await read(request, load)
    if editable is not None:
        units = [u for u in units if u["code"] in editable]
    shown = directory.search(units, q) if q else units
    if kind in directory.UNIT_KINDS:
        shown = [u for u in shown if u["kind"] == kind]
    # What a set-up still lacks: units that receive tickets with nobody bound (their tickets are 代收, and they
    # score 在岗 against them) and units with no published 服务承诺 (their public page shows none)
    nobody = {u["code"] for u in units if u["kind"] != "bureau" and not people.get(u["code"])}
    unpromised = {u["code"] for u in units if u["kind"] != "bureau" and not (u.get("commitment") or "").strip()}
    lacking = request.query.get("lacking", "")
    if lacking in ("staff", "commitment"):
        shown = [u for u in shown if u["code"] in (nobody if lacking == "staff" else unpromised)]
    rows = [{**u, "parent_name": names.get(u["parent"], ""), "kind_name": UNIT_KIND_NAMES.get(u["kind"], u["kind"]),
             "own_items": u["code"] in own, "people": people.get(u["code"], 0), "nobody": u["code"] in nobody,
             "unpromised": u["code"] in unpromised} for u in shown]
    return _render("w_units.html", request, await _context(
        request, v, rows=rows, q=q, kind=kind, total=len(units), leader=is_leader(v), lacking=lacking,
        nobody=len(nobody), unpromised=len(unpromised), stand_in=stand_in,
        kinds=[(k, UNIT_KIND_NAMES.get(k, k)) for k in directory.UNIT_KINDS]))


def _items_from(form) -> list[dict[str, str]]:
    """The item rows of the form (item-<n>-name …), in order, without those marked for removal."""
    rows = []
    n = 0
    while f"item-{n}-name" in form:
        if not form.get(f"item-{n}-drop"):
            rows.append({k: str(form.get(f"item-{n}-{k}", ""))[:1000] for k in services.ITEM_KEYS})
        n += 1
    return rows


@staff_page
async def unit_page(request: web.Request, v: Viewer) -> web.Response:
    code = request.match_info["code"]
    editable = await _editable_units(request, v)
    if editable is not None and code not in editable:  # no unit at all to edit: the page is not theirs
        raise NotFound("unit" if editable else "page")
    t, ip, tz = auth.now(request), _ip(request), _tz(request)
    error: dict[str, str] | None = None   # {"form": which form, "text": why, "field": the field at fault}
    typed: dict = {}
    made = None
    if request.method == "POST":
        form = await request.post()
        what = str(form.get("do", ""))
        leader_only = what in ("unit", "role", "remove", "invite")
        if leader_only and not is_leader(v):
            raise NotFound("page")
        if what == "unit":
            fields = {k: str(form.get(k, ""))[:1000] for k in UNIT_FIELDS}

            def save_unit(db):
                before = directory.update(db, code, fields, t)
                changed = [k for k in UNIT_FIELDS if (before[k] or "") != (fields[k].strip() or "")]
                detail = "; ".join(f"{k}: {_short(before[k])} → {_short(fields[k].strip())}" for k in changed)
                websessions.audit(db, t, v.openid, "unit:edit", None, f"{code}: {detail or '无变化'}"[:1000], ip)
                return changed
            try:
                changed = await write(request, save_unit)
            except directory.DirectoryError as exc:
                error = {"form": "unit", "text": _unit_error(exc), "field": exc.field}
                typed = fields
            else:
                _public_edited(request)
                await saved(request, v, "已保存单位信息" + ("（" + "、".join(UNIT_FIELDS[k] for k in changed) + "）"
                                                        if changed else "（没有改动）") + "。" +
                            ("新名称在公开页和工作台中已生效；留言分派时按学校名称识别，在服务下次重启后使用新名称。"
                             if "name" in changed else ""), f"/w/units/{code}")
        elif what == "items":
            items = _items_from(form)

            def save_items(db):
                n = services.set_unit_items(db, code, items, t)
                websessions.audit(db, t, v.openid, "unit:items", None, f"{code}: {n} 项服务事项", ip)
                return n
            try:
                n = await write(request, save_items)
            except services.ServicesError as exc:
                error = {"form": "items", "text": _items_error(exc), "field": ""}
                typed = {"items": items}
            else:
                _public_edited(request)
                await saved(request, v, f"已保存服务事项（{n}项），单位公开页已更新。" if n else
                            "已清空本单位的服务事项：公开页改为显示同类单位的通用事项。", f"/w/units/{code}#items")
        elif what == "role":
            raise web.HTTPFound(await _change_role(request, v, form, f"/w/units/{code}#staff"))
        elif what == "remove":
            raise web.HTTPFound(await _remove(request, v, form, f"/w/units/{code}#staff"))
        elif what == "invite":
            made, error = await _invite(request, v, form, code)
            if error:
                typed = {"invite_name": str(form.get("name", "")), "invite_role": str(form.get("role", ""))}
        else:
            raise web.HTTPBadRequest(text="未知的操作。")

    def load(db):
        unit = directory.get(db, code)
        if unit is None or not unit["active"]:
            return None
        own = list(db.query("SELECT name, procedure, standard, time_limit FROM service_items WHERE scope = ? "
                            "ORDER BY position", [code]))
        shared = [] if own else services.for_unit(db, unit)
        people = [r for r in staff.list_staff(db) if r["unit_code"] == code]
        return unit, own, shared, people, directory.all_units(db), _desk(request).stand_in_words(db, code)

    data = await read(request, load)
    if data is None:
        raise NotFound("unit")
    unit, own, shared, people, units, stand_in = data
    items = typed.get("items", own)
    values = {k: typed.get(k, unit[k] or "") for k in UNIT_FIELDS} if error and error["form"] == "unit" else \
        {k: unit[k] or "" for k in UNIT_FIELDS}
    ctx = await _context(
        request, v, unit=unit, values=values, items=items, blank=ITEM_ROWS_BLANK if len(items) < 30 else 0,
        shared=shared, error=error, typed=typed, made=made, leader=is_leader(v), stand_in=stand_in,
        kind_name=UNIT_KIND_NAMES.get(unit["kind"], unit["kind"]), labels=UNIT_FIELDS,
        kinds=[(k, UNIT_KIND_NAMES.get(k, k)) for k in directory.UNIT_KINDS],
        parents=[u for u in units if u["code"] != code],
        people=[{**p, "role_name": texts.ROLE_NAMES.get(p["role"], p["role"]), "may": _may_change(v, p),
                 "seen": _fmt(p["last_seen_at"], tz, "%Y-%m-%d")} for p in people],
        roles=_roles(v),
        hours=_invite_hours(request), edited=_fmt(unit["edited_at"], tz), items_edited=_fmt(unit["items_edited_at"], tz))
    return form_page("w_unit.html", request, ctx, error)


def _short(value, most: int = 60) -> str:
    text = str(value or "（空）").replace("\n", " ")
    return text if len(text) <= most else text[:most] + "…"


def _unit_error(exc: directory.DirectoryError) -> str:
    label = UNIT_FIELDS.get(exc.field, "")
    text = str(exc)
    if "required" in text:
        return "请填写单位名称。"
    if "longer than" in text:
        return f"{label}太长了（最多 {text.rsplit(' ', 2)[-2]} 个字）。"
    if "itself or a unit under it" in text:
        return "上级单位不能是本单位或它的下级单位。"
    if "parent" in text:
        return "上级单位不在名录中。"
    if "kind" in text:
        return "请选择单位类型。"
    return f"{label}：{text}" if label else text


def _items_error(exc: services.ServicesError) -> str:
    text = str(exc)
    names = {"name": "名称", "procedure": "办理流程", "standard": "服务标准", "time_limit": "办理时限"}
    if text.startswith("item "):
        n, _, why = text[5:].partition(": ")
        key = why.split()[0]
        if "required" in why:
            return f"第{n}项：请填写服务事项名称（不要的事项请勾选“删除”）。"
        if "longer than" in why:
            return f"第{n}项：{names.get(key, key)}太长了（最多 {why.rsplit(' ', 2)[-2]} 个字）。"
    return text


def _invite_hours(request: web.Request) -> int:
    from bot.app import CONFIG
    return request.app[CONFIG].notify.invite_hours


# -- staff and invites -------------------------------------------------------------------------------------------
async def _invite(request: web.Request, v: Viewer, form, unit: str) -> tuple[dict | None, dict | None]:
    """An invite code, made with `tingjian staff invite`'s function; shown once. (made, None) or (None, error)."""
    role, name = (str(form.get(k, "")).strip()[:60] for k in ("role", "name"))
    hours, t, ip = _invite_hours(request), auth.now(request), _ip(request)
    if not name:
        return None, {"form": "invite", "text": "请填写姓名（如：江南区实验小学·张老师）。", "field": "name"}
    try:
        name = staff.clean_name(name)  # as it is stored, and as the page then shows it
    except staff.BadName as exc:
        return None, {"form": "invite", "text": str(exc), "field": "name"}

    def invite(db):
        try:
            return staff.create_invite(db, unit, role, name, t, hours * 3600, created_by=v.openid, ip=ip)
        except staff.StaffChangeRefused as exc:  # kept: the refusal's audit row stays
            return exc
    try:
        code = await write(request, invite)
    except ValueError as exc:
        why = "请选择角色。" if "role" in str(exc) else "请选择名录中的单位。" if "unit" in str(exc) else str(exc)
        return None, {"form": "invite", "text": why, "field": ""}
    if isinstance(code, staff.StaffChangeRefused):
        return None, {"form": "invite", "text": texts.STAFF_REFUSED[code.reason], "field": "role"}
    return {"code": code, "name": name, "hours": hours}, None


async def _change_role(request: web.Request, v: Viewer, form, back: str) -> str:
    openid, role = str(form.get("openid", "")), str(form.get("role", ""))
    t, ip, desk = auth.now(request), _ip(request), _desk(request)

    def change(db):
        try:
            before, notices = desk.change_role(db, openid, role, v.openid, ip)
        except staff.StaffChangeRefused as exc:
            return _refused(exc, "role")
        except ValueError:
            return "没有改动：请选择有效的角色。"
        outbox.enqueue_replies(db, [r.to_dict() for r in notices], "", t, source=f"web:{v.openid}")
        return f"已将{before['name'] or '该人员'}的角色改为{texts.ROLE_NAMES[role]}。"
    await write(request, lambda db: websessions.set_flash(db, v.sid, change(db)))
    from bot.app import SENDER
    if SENDER in request.app:
        request.app[SENDER].wake()
    return back


def _roles(v: Viewer) -> list[tuple[str, str]]:
    """The roles offered: those this person may give (storage.staff.grantable; the rule itself is allow's)."""
    return [(r, texts.ROLE_NAMES[r]) for r in staff.grantable(v.user["role"])]


def _may_change(v: Viewer, person: dict) -> bool:
    """Whether the page offers to change or unbind `person`: not oneself, not a role one may not take away."""
    return person["openid"] != v.openid and person["role"] in staff.grantable(v.user["role"])


def _refused(exc: staff.StaffChangeRefused, what: str) -> str:
    """Why storage.staff.allow refused a change, as the page says it; nothing was changed."""
    return texts.STAFF_SELF[what] if exc.reason == "self" else "没有改动：" + texts.STAFF_REFUSED[exc.reason]


async def _remove(request: web.Request, v: Viewer, form, back: str) -> str:
    """Unbinding does what `tingjian staff remove` does (Desk.remove_staff): open tickets go back to the unit,
    whose staff are told, and the person's workbench sessions end."""
    openid = str(form.get("openid", ""))
    t, ip, desk = auth.now(request), _ip(request), _desk(request)

    def remove(db):
        unit = (users.get(db, openid) or {}).get("unit_code")
        try:
            removed, notices = desk.remove_staff(db, openid, v.openid, ip)
        except staff.StaffChangeRefused as exc:
            return _refused(exc, "remove")
        outbox.enqueue_replies(db, [r.to_dict() for r in notices], "", t, source=f"web:{v.openid}")
        if not removed:
            return "此人已不是工作人员。"
        if not unit or desk.own_people(db, unit):
            return texts.UNBOUND_KEPT
        return texts.UNBOUND_EMPTY.format(stand_in=desk.stand_in_words(db, unit))  # who holds them now, by name
    await write(request, lambda db: websessions.set_flash(db, v.sid, remove(db)))
    from bot.app import SENDER
    if SENDER in request.app:
        request.app[SENDER].wake()
    return back


@staff_page
async def staff_list(request: web.Request, v: Viewer) -> web.Response:
    """Who is bound where, invite codes (made, listed with their state, revoked) and unbinding: what `tingjian
    staff invite|list|remove` do, with the same checks."""
    _leaders_only(v)
    t, ip, tz = auth.now(request), _ip(request), _tz(request)
    made, error, typed = None, None, {}
    if request.method == "POST":
        form = await request.post()
        what = str(form.get("do", ""))
        if what == "invite":
            made, error = await _invite(request, v, form, str(form.get("unit", "")))
            typed = {k: str(form.get(k, "")) for k in ("unit", "role", "name")}
        elif what == "remove":
            raise web.HTTPFound(await _remove(request, v, form, "/w/staff"))
        elif what == "role":
            raise web.HTTPFound(await _change_role(request, v, form, "/w/staff"))
        elif what == "revoke":
            invite_id = whole_number(str(form.get("invite", "")))

            def revoke(db):
                row = staff.revoke_invite(db, invite_id, t, v.openid, ip) if invite_id is not None else None
                if row is None:
                    return "这个绑定码已使用、已过期或已撤销，无需撤销。"
                return f"已撤销给{row['name']}的绑定码。"
            await write(request, lambda db: websessions.set_flash(db, v.sid, revoke(db)))
            raise web.HTTPFound("/w/staff#invites")
        else:
            raise web.HTTPBadRequest(text="未知的操作。")

    def load(db):
        return staff.list_staff(db), directory.all_units(db), staff.invites(db, t), _no_admin(db)

    rows, units, invites, no_admin = await read(request, load)
    people = [{**r, "role_name": texts.ROLE_NAMES.get(r["role"], r["role"]), "may": _may_change(v, r),
               "seen": _fmt(r["last_seen_at"], tz, "%Y-%m-%d")} for r in rows]
    invites = [{**i, "state_name": INVITE_STATES[i["state"]], "role_name": texts.ROLE_NAMES.get(i["role"], i["role"]),
                "created": _fmt(i["created_at"], tz), "expires": _fmt(i["expires_at"], tz),
                "used": _fmt(i["used_at"], tz)} for i in invites]
    ctx = await _context(request, v, people=people, units=units, roles=_roles(v),
                         made=made, hours=_invite_hours(request), invites=invites, error=error, typed=typed,
                         no_admin=no_admin)
    return form_page("w_staff.html", request, ctx, error)


# -- the review (绩效考核) ------------------------------------------------------------------------------------------
def _review_period(request: web.Request, t: float, tz) -> str:
    period = request.query.get("period", "").strip().upper()
    try:
        review.parse_period(period)
        return period
    except ValueError:
        return review.month_of(t, tz)


# A period's review is computed once a minute at most (a year at a million tickets takes seconds, on a reader):
# leaders opening the ranking on Monday morning, and its XLSX, share one computation. Comments are read fresh.
REVIEWS = web.AppKey("admin_reviews", dict)
REVIEW_TTL_SECONDS = 60


async def _build_review(request: web.Request, period: str, kind: str | None):
    """The one computation behind `tingjian review`, the signed /review page and this one."""
    from bot.app import CONFIG, DB, DISPATCHER
    config, d = request.app[CONFIG], request.app[DISPATCHER]
    cache, key, moment = request.app[REVIEWS], (period, kind), time.monotonic()
    entry = cache.get(key)
    if entry is None or entry[0] < moment:
        for k in [k for k, (until, _) in cache.items() if until < moment]:
            del cache[k]
        entry = cache[key] = (moment + REVIEW_TTL_SECONDS, asyncio.ensure_future(request.app[DB].read(
            review.as_shown, period, d.calendar.tz, config.review.weights(), _surveys(request),
            config.campaign.min_responses, auth.now(request), kind, config.review.min_cases)))
    try:
        return await asyncio.shield(entry[1])
    except Exception:
        cache.pop(key, None)
        raise


def _surveys(request: web.Request) -> dict:
    from bot.app import DISPATCHER
    d = request.app[DISPATCHER]
    return d.campaign.p.surveys if d.campaign.p else {}


@staff_page
async def review_page(request: web.Request, v: Viewer) -> web.Response:
    if v.user["role"] not in review.COMMENT_ROLES:  # who may 点评 in WeChat: leaders (and admins)
        raise NotFound("page")
    tz, t, ip = _tz(request), auth.now(request), _ip(request)
    period = _review_period(request, t, tz)
    kind = request.query.get("kind", "")
    kind = kind if kind in review.REVIEWED_KINDS else ""
    error, typed = None, {}
    if request.method == "POST":
        form = await request.post()
        what = str(form.get("do", ""))
        if what == "comment":
            unit, body = str(form.get("unit", "")), str(form.get("text", "")).strip()[:1000]
            public = form.get("public") == "1"
            author = v.user.get("name") or v.openid

            def add(db):
                cid = review_store.add_comment(db, unit, period, author, body, public, t)
                websessions.audit(db, t, v.openid, "review:comment", None,
                                  f"{unit} {period} {'公开' if public else '内部'} #{cid}", ip)
                return cid
            if not body:
                error = {"form": "comment", "text": "请填写点评内容。"}
            else:
                try:
                    await write(request, add)
                except ValueError:
                    error = {"form": "comment", "text": "请选择名录中的单位。"}
            if error:
                typed = {"unit": unit, "text": body, "public": public}
            else:
                if public:
                    _public_edited(request)
                await saved(request, v, f"已记录对该单位{review.period_name(period)}的点评（"
                                        f"{'公开：显示在单位公开页' if public else '内部'}）。",
                            f"/w/review?{urlencode({'period': period, 'kind': kind})}#comments")
        elif what == "delete":
            cid = whole_number(str(form.get("comment", "")))

            def delete(db):
                row = db.execute("SELECT unit_code, public FROM review_comments WHERE id = ?",
                                 [cid]).fetchone() if cid is not None else None
                if row is None or not review_store.delete_comment(db, cid):
                    return "这条点评已不存在。"
                websessions.audit(db, t, v.openid, "review:delete", None, f"{row[0]} {period} #{cid}", ip)
                return "已撤回这条点评。"
            await write(request, lambda db: websessions.set_flash(db, v.sid, delete(db)))
            _public_edited(request)
            raise web.HTTPFound(f"/w/review?{urlencode({'period': period, 'kind': kind})}#comments")
        else:
            raise web.HTTPBadRequest(text="未知的操作。")
    result = await _build_review(request, period, kind or None)
    comments = await read(request, review_store.comments, period)
    units = await read(request, directory.all_units)
    names = {u["code"]: u["name"] for u in units}
    now_month = review.month_of(t, tz)
    quick = [(w, review.relative_period(w, t, tz)) for w in ("本月", "上月", "本季度", "上季度", "今年", "去年")]
    ctx = await _context(
        request, v, r=result, period=period, kind=kind, quick=quick, now_month=now_month,
        # a month's or a quarter's figures open their tickets (/w/rates; a year is more than a page can trace)
        monthly=bool(re.fullmatch(r"\d{4}-(\d{2}|Q[1-4])", period)),
        kinds=[k for k in review.REVIEWED_KINDS if any(u.kind == k for u in result.units)],
        all_kinds=[(k, UNIT_KIND_NAMES.get(k, k)) for k in review.REVIEWED_KINDS],
        components=review.COMPONENTS, names=review.COMPONENT_NAMES,
        comments=[{**c, "unit_name": names.get(c["unit_code"], c["unit_code"]),
                   "when": _fmt(c["created_at"], tz)} for c in comments],
        by_unit={code: [c for c in comments if c["unit_code"] == code] for code in {c["unit_code"] for c in comments}},
        reviewed=[u for u in units if u["kind"] in review.REVIEWED_KINDS],
        error=error, typed=typed, kind_names=UNIT_KIND_NAMES,
        xlsx=f"/w/review/{period}.xlsx" + (f"?kind={kind}" if kind else ""),
        # the 评议 figure opens the answers it rests on: that survey's results for this period, at this unit
        survey_titles={sid: s.title for sid, s in _surveys(request).items()},
        survey_link=lambda sid, code: f"/w/surveys/{sid}/results?{urlencode({'period': period})}#unit-{code}")
    return form_page("w_review.html", request, ctx, error)


@staff_page
async def review_xlsx(request: web.Request, v: Viewer) -> web.StreamResponse:
    """The XLSX of `tingjian review --out`, written by the same function (bot.review_xlsx.write)."""
    _leaders_only(v)
    period = request.match_info["period"].upper()
    try:
        review.parse_period(period)
    except ValueError:
        raise NotFound("period") from None
    kind = request.query.get("kind", "")
    kind = kind if kind in review.REVIEWED_KINDS else None
    result = await _build_review(request, period, kind)
    from bot.review_xlsx import write as write_xlsx
    out = io.BytesIO()
    t = auth.now(request)
    write_xlsx(result, out, t, _tz(request))
    await write(request, websessions.audit, t, v.openid, "export:review", None, f"{period} {kind or ''}".strip(),
                _ip(request))
    name = f"review-{period}" + (f"-{kind}" if kind else "") + ".xlsx"
    return web.Response(body=out.getvalue(), content_type=XLSX_TYPE,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


def setup(app: web.Application) -> None:
    app[REVIEWS] = {}
    r = app.router
    r.add_get("/w/admin", hub)
    r.add_get("/w/units", units_page)
    r.add_get("/w/units/{code}", unit_page)
    r.add_post("/w/units/{code}", unit_page)
    r.add_get("/w/review", review_page)
    r.add_post("/w/review", review_page)
    r.add_get("/w/review/{period}.xlsx", review_xlsx)
    from bot.web import campaign_admin
    campaign_admin.setup(app)
