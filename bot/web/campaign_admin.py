"""群众评议 surveys and 常见问题 written in the workbench (issue 13), for leaders.

A survey or common question is the same table a [campaign] TOML file holds: the form is turned into that table and
checked by the files' own loader (handlers.survey.check_new → parse_survey; handlers.faq.parse_entry), then kept in
storage.campaign_defs, where every process picks it up (Campaign.sync). The workbench's version of an id replaces
the file's, so a file's entry can be corrected here too. Results come from the CLI's functions
(handlers.survey_results.survey_results, handlers.faq.stats_rows).
"""
from __future__ import annotations

import datetime as dt
import re

from aiohttp import web

from bot.web import auth
from bot.web.admin import _leaders_only
from bot.web.auth import Viewer, read, staff_page, write
from bot.web.workbench import _context, _ip, _render, _tz, form_page, NotFound, saved
from handlers import review, survey as survey_defs, texts
from handlers.faq import FaqError, entry_table, parse_entry, stats_rows
from handlers.public import KIND_NAMES as UNIT_KIND_NAMES
from handlers.survey import DEFAULT_LABELS, SurveyError
from handlers.survey_results import CSV_COLUMNS, INSUFFICIENT, csv_rows, survey_results
from storage import campaign_defs, directory, faq as faq_store, surveys as surveys_store, websessions

BLANK_QUESTIONS = 2
TYPE_NAMES = {"scale": "1–5分量表", "choice": "单选", "text": "文字意见"}
SURVEY_KEYS = {"id": "问卷代码", "title": "标题", "intro": "开头语", "units": "参评单位", "opens": "开始日期",
               "closes": "截止日期", "previous": "对比的上一次问卷", "questions": "题目", "title_en": "英文标题",
               "intro_en": "英文开头语"}
QUESTION_KEYS = {"id": "题目代码", "type": "题型", "text": "题目", "labels": "五级标签", "options": "选项",
                 "text_en": "英文题目", "labels_en": "英文五级标签", "options_en": "英文选项",
                 "optional": "可不答", "topic": "简称"}
FAQ_KEYS = {"id": "代码", "question": "问题", "also": "其他问法", "keywords": "关键词", "answer": "答复",
            "unit": "负责单位", "review_by": "复核日期", "question_en": "英文问题", "answer_en": "英文答复"}


def _campaign(request: web.Request):
    from bot.app import DISPATCHER
    return request.app[DISPATCHER].campaign


async def _synced(request: web.Request):
    """The campaign as every process will see it after the latest edit."""
    campaign = _campaign(request)
    await read(request, campaign.sync)
    return campaign


async def _min_responses(request: web.Request, period: str = "") -> int:
    """[campaign] min_responses; for a review period that has ended, the one in force at its end (m078): the
    page with a period gives the 评议 figure of that period's review, as review.as_shown scored it."""
    from bot.app import CONFIG
    c = request.app[CONFIG]
    if not period:
        return c.campaign.min_responses
    return (await read(request, review.rules_in_force, period, _tz(request), auth.now(request), c.review.weights(),
                       c.review.min_cases, c.campaign.min_responses))[2]


def _lines(text: str) -> list[str]:
    return [x.strip() for x in re.split(r"[\r\n]+", text) if x.strip()]


# -- surveys -------------------------------------------------------------------------------------------------------
@staff_page
async def surveys_page(request: web.Request, v: Viewer) -> web.Response:
    _leaders_only(v)
    campaign, t = await _synced(request), auth.now(request)

    def load(db):
        counts = {k: v[:2] for k, v in surveys_store.totals(db).items()}
        return counts, {r["id"]: r for r in campaign_defs.rows(db, "survey")}

    counts, stored = await read(request, load)
    rows = []
    for s in sorted(campaign.p.surveys.values(), key=lambda s: s.opens, reverse=True):
        state = "进行中" if s.is_open(t) else "已结束" if t >= s.closes_at else "未开始"
        n, units = counts.get(s.id, (0, 0))
        rows.append({"s": s, "state": state, "n": n, "units": units, "units_text": _units_text(s.units),
                     "source": "工作台" if s.id in stored else "配置文件"})
    return _render("w_surveys.html", request, await _context(request, v, rows=rows))


def _units_text(units) -> str:
    return "、".join(UNIT_KIND_NAMES.get(u, u) + ("（全部）" if u in UNIT_KIND_NAMES else "") for u in units)


def _survey_from_form(form, fixed_id: str | None) -> dict:
    """The form as the table a survey file holds (so the file loader checks it)."""
    raw: dict = {"id": fixed_id if fixed_id is not None else str(form.get("id", "")).strip(),
                 "title": str(form.get("title", "")).strip()[:100], "intro": str(form.get("intro", "")).strip()[:500],
                 "units": [str(u) for u in form.getall("units", []) if str(u)],
                 "opens": str(form.get("opens", "")).strip(), "closes": str(form.get("closes", "")).strip()}
    if str(form.get("previous", "")).strip():
        raw["previous"] = str(form.get("previous")).strip()
    for key, limit in (("title_en", 100), ("intro_en", 500)):  # for people who write in English (optional)
        if str(form.get(key, "")).strip():
            raw[key] = str(form.get(key)).strip()[:limit]
    questions = []
    n = 0
    while f"q-{n}-text" in form:
        p = f"q-{n}-"
        n += 1
        if form.get(p + "drop"):
            continue
        text, qid = str(form.get(p + "text", "")).strip(), str(form.get(p + "id", "")).strip()
        if not text and not qid:
            continue  # a blank row
        qtype = str(form.get(p + "type", "scale"))
        q: dict = {"id": qid or f"q{len(questions) + 1}", "type": qtype, "text": text[:300]}
        topic = str(form.get(p + "topic", "")).strip()
        if topic:
            q["topic"] = topic
        if qtype == "scale":
            labels = [x.strip() for x in re.split(r"[/／|｜]", str(form.get(p + "labels", ""))) if x.strip()]
            if labels:
                q["labels"] = labels
        if qtype == "choice":
            q["options"] = _lines(str(form.get(p + "options", "")))[:20]
        if form.get(p + "optional"):
            q["optional"] = True
        if str(form.get(p + "text_en", "")).strip():
            q["text_en"] = str(form.get(p + "text_en")).strip()[:300]
        labels_en = [x.strip() for x in re.split(r"[/／|｜]", str(form.get(p + "labels_en", ""))) if x.strip()]
        if labels_en and qtype == "scale":
            q["labels_en"] = labels_en
        options_en = _lines(str(form.get(p + "options_en", "")))[:20]
        if options_en and qtype == "choice":
            q["options_en"] = options_en
        questions.append(q)
    raw["questions"] = questions
    return raw


def _survey_table(s) -> dict:
    """A survey as its file table, for the form."""
    return {"id": s.id, "title": s.title, "intro": s.intro, "units": list(s.units), "opens": s.opens.isoformat(),
            "closes": s.closes.isoformat(), "previous": s.previous, "title_en": s.title_en, "intro_en": s.intro_en,
            "questions": [{"id": q.id, "type": q.type, "text": q.text, "topic": q.topic if q.topic != q.id else "",
                           "labels": list(q.labels) if q.type == "scale" else [], "options": list(q.options),
                           "optional": q.optional, "text_en": q.text_en, "labels_en": list(q.labels_en),
                           "options_en": list(q.options_en)} for q in s.questions]}


def survey_error(text: str) -> str:
    """The loader's message (`source: key: why`) in the words of the form."""
    _, _, rest = text.partition(": ")
    key, _, why = rest.partition(": ")
    m = re.fullmatch(r"questions\[(\d+)\](?:\.(\w+))?", key)
    if m:
        n, part = m.group(1), m.group(2) or ""
        words = {"id": "题目代码须唯一，只用字母、数字、- 或 _", "type": "请选择题型", "text": "请填写题目",
                 "labels": "五级量表需要正好5个标签，用 / 分开（从1分到5分）", "options": "单选题需要2到9个选项，每行一个",
                 "topic": "简称最多12个字"}
        return f"第{n}题：{words.get(part, why)}。"
    words = {"id": "问卷代码只用1–32个字母、数字、- 或 _（它是二维码参数的一部分）", "title": "请填写标题",
             "units": "请至少选择一类单位或一个单位", "questions": "请至少填写一道题",
             "previous": "对比的上一次问卷不存在"}
    if key in ("opens", "closes"):
        return "截止日期早于开始日期。" if "before" in why else f"{SURVEY_KEYS[key]}请按 YYYY-MM-DD 填写。"
    if key == "units" and "neither" in why:
        return "参评单位中有名录里没有的单位。"
    return (words.get(key) or f"{SURVEY_KEYS.get(key, key)}：{why}") + "。"


@staff_page
async def survey_edit(request: web.Request, v: Viewer) -> web.Response:
    _leaders_only(v)
    sid = request.match_info.get("id")
    campaign, t, ip = await _synced(request), auth.now(request), _ip(request)
    existing = campaign.p.surveys.get(sid) if sid else None
    if sid and existing is None:
        raise NotFound("survey")
    error, values = None, _survey_table(existing) if existing else {
        "id": "", "title": "", "intro": "", "units": ["school"], "opens": "", "closes": "", "previous": "",
        "questions": []}
    if request.method == "POST":
        form = await request.post()
        raw = _survey_from_form(form, sid)
        known = {u["code"]: u["kind"] for u in await read(request, directory.all_units)}
        try:
            if not sid and raw["id"] in campaign.p.surveys:
                raise SurveyError(f"工作台: id: already used by {campaign.p.surveys[raw['id']].title}")
            checked = survey_defs.check_new(raw, campaign.p.surveys, campaign.p.tz, known)
        except SurveyError as exc:
            error = "问卷代码已被另一份问卷使用。" if "already used" in str(exc) else survey_error(str(exc))
            values = {**raw, "questions": [{"labels": [], "options": [], **q} for q in raw["questions"]],
                      "previous": raw.get("previous", "")}
        else:
            def save(db):
                campaign_defs.save(db, "survey", checked.id, raw, t, v.openid)
                websessions.audit(db, t, v.openid, "survey:save", None,
                                  f"{checked.id} {checked.title} ({len(checked.questions)} 题)", ip)
            await write(request, save)
            await read(request, campaign.sync)
            await saved(request, v, f"已保存问卷“{checked.title}”，公众号中立即生效。", f"/w/surveys/{checked.id}")
    units = await read(request, directory.all_units)
    responses = 0
    if existing:
        responses = await read(request, lambda db: db.execute(
            "SELECT count(*) FROM survey_responses WHERE survey_id = ?", [existing.id]).fetchone()[0])
    questions = values["questions"] + [{"id": "", "type": "scale", "text": "", "topic": "", "labels": [],
                                        "options": [], "optional": False}] * BLANK_QUESTIONS
    ctx = await _context(
        request, v, values=values, existing=existing, error=error, questions=questions, types=TYPE_NAMES,
        default_labels=" / ".join(DEFAULT_LABELS), kinds=[(k, n) for k, n in UNIT_KIND_NAMES.items()],
        units=units, others=[s for s in campaign.p.surveys.values() if s.id != sid], responses=responses,
        source="配置文件" if existing and existing.source != survey_defs.WORKBENCH else "工作台")
    return form_page("w_survey.html", request, ctx, error)


def _review_period(request: web.Request) -> str:
    """`period=2026-11` (a month, 2026-Q4, 2026: the review's periods) or '' for every answer."""
    period = request.query.get("period", "").strip().upper()
    try:
        review.parse_period(period)
    except ValueError:
        return ""
    return period


async def _results(request: web.Request, v: Viewer, minimum: int, period: str = ""):
    """The survey named in the URL and its results per unit (leaders only; 404 for an unknown survey); with a
    review period, from the answers submitted in it only: the 评议 figure of that period's review."""
    from handlers import review
    _leaders_only(v)
    campaign = await _synced(request)
    survey = campaign.p.surveys.get(request.match_info["id"])
    if survey is None:
        raise NotFound("survey")
    since, until = review.bounds(period, _tz(request)) if period else (None, None)
    return survey, await read(request, survey_results, survey, campaign.p.surveys, minimum, None, since, until)


@staff_page
async def survey_results_page(request: web.Request, v: Viewer) -> web.Response:
    period = _review_period(request)
    minimum = await _min_responses(request, period)
    survey, results = await _results(request, v, minimum, period)
    units = sorted(results.values(), key=lambda u: (u.score is None, -(u.score or 0), u.unit))
    tz = _tz(request)
    days = await read(request, surveys_store.days, survey.id)
    for entries in days.values():
        for e in entries:
            e["date"] = dt.datetime.fromtimestamp(e["day"] * 86400 - surveys_store.DAY_OFFSET + 43200,
                                                  dt.timezone(dt.timedelta(seconds=surveys_store.DAY_OFFSET))
                                                  ).strftime("%Y-%m-%d")
            for r in e["rulings"]:
                r["when"] = dt.datetime.fromtimestamp(r["at"], tz).strftime("%m-%d %H:%M")
    names = {u.unit: u.name for u in units}
    names.update({u["code"]: u["name"] for u in await read(request, directory.all_units) if u["code"] in days})
    return _render("w_survey_results.html", request, await _context(
        request, v, s=survey, units=units, minimum=minimum, insufficient=INSUFFICIENT, types=TYPE_NAMES,
        total=sum(u.n for u in units), days=days, day_names=names, decisions=DAY_DECISIONS, period=period,
        period_name=review.period_name(period) if period else ""))


DAY_DECISIONS = {"exclude": "不计入", "include": "照常计入", "auto": "按自动检查"}


@staff_page
async def survey_day(request: web.Request, v: Viewer) -> web.Response:
    """A leader sets a unit's day of answers aside, counts it whatever the burst checks said, or gives it back to
    the checks: with a reason, in the audit log, reversible (storage.surveys.rule_day). Leaders only, as every
    survey page (_leaders_only: the one rule)."""
    _leaders_only(v)
    campaign = await _synced(request)
    survey = campaign.p.surveys.get(request.match_info["id"])
    if survey is None:
        raise NotFound("survey")
    form = await request.post()
    unit, decision = str(form.get("unit", "")), str(form.get("decision", ""))
    reason = str(form.get("reason", "")).strip()
    try:
        day = dt.date.fromisoformat(str(form.get("date", "")).strip())
    except ValueError:
        day = None
    known = {u["code"]: u for u in await read(request, directory.all_units)}
    error = (texts.SURVEY_DAY_NO_UNIT if unit not in known or not survey.covers(known[unit]) else
             texts.SURVEY_DAY_NO_DATE if day is None or not survey.opens <= day <= survey.closes else
             texts.SURVEY_DAY_NO_DECISION if decision not in DAY_DECISIONS else
             texts.SURVEY_DAY_NO_REASON if len(reason) < 4 else None)
    where = f"/w/surveys/{survey.id}/results"
    if error:
        await saved(request, v, error, where)
    number = (day - dt.date(1970, 1, 1)).days
    t, ip = auth.now(request), _ip(request)

    def rule(db):
        n = surveys_store.rule_day(db, survey.id, unit, number, decision, reason, v.openid, t)
        websessions.audit(db, t, v.openid, "survey:day", None,
                          f"{survey.id} {unit} {day.isoformat()} {decision}（{n} 份）：{reason}"[:4000], ip)
        return n
    n = await write(request, rule)
    await saved(request, v, texts.SURVEY_DAY_DONE.format(unit=known[unit]["name"], date=day.isoformat(), n=n,
                                                         decision=DAY_DECISIONS[decision]), where)


@staff_page
async def survey_results_csv(request: web.Request, v: Viewer) -> web.Response:
    """The CSV of `tingjian survey results --out` (handlers.survey_results.csv_rows), audited as every export."""
    import io

    from bot import sheets
    from bot.web.exports import _done, _send
    period = _review_period(request)
    survey, results = await _results(request, v, await _min_responses(request, period), period)
    out = io.StringIO()
    sheets.csv_dicts(out, CSV_COLUMNS, csv_rows(survey, results))
    response = await _send(request, ("\ufeff" + out.getvalue()).encode(), f"survey-{survey.id}.csv")
    return await _done(request, response, v, auth.now(request), "survey", survey.id)


# -- common questions ----------------------------------------------------------------------------------------------
async def _faq_state(request: web.Request):
    """(entries in service, retired ids, the stored rows by id, the file's entries by id)."""
    from handlers.faq import with_stored
    campaign = await _synced(request)

    def load(db):
        return campaign_defs.rows(db, "faq"), {u["code"]: u["kind"] for u in directory.all_units(db)}
    stored, known = await read(request, load)
    files = campaign.files[1]
    entries, retired = with_stored(files, stored, known)
    return entries, retired, {r["id"]: r for r in stored}, {e.id: e for e in files}


@staff_page
async def faq_page(request: web.Request, v: Viewer) -> web.Response:
    _leaders_only(v)
    entries, retired, stored, files = await _faq_state(request)
    counts = await read(request, faq_store.counts)
    today = dt.datetime.fromtimestamp(auth.now(request), _tz(request)).date()
    names = {u["code"]: u["name"] for u in await read(request, directory.all_units)}
    rows = stats_rows(entries, counts, today)
    for r in rows:
        r["source"] = "工作台" if r["id"] in stored else "配置文件" if r["id"] in files else ""
        r["retired"] = r["id"] in retired
        r["unit_name"] = names.get(r["unit"], r["unit"])
        if r["retired"]:
            r["question"] = stored[r["id"]]["body"].get("question", r["question"])
    return _render("w_faq.html", request, await _context(request, v, rows=rows))


def _faq_from_form(form, fixed_id: str | None) -> dict:
    return {"id": fixed_id if fixed_id is not None else str(form.get("id", "")).strip(),
            "question": str(form.get("question", "")).strip()[:200],
            "also": _lines(str(form.get("also", "")))[:20],
            "keywords": [w for w in re.split(r"[\s,，、;；]+", str(form.get("keywords", ""))) if w][:20],
            "answer": str(form.get("answer", "")).strip()[:3000], "unit": str(form.get("unit", "")),
            "review_by": str(form.get("review_by", "")).strip(),
            **{k: v for k in ("question_en", "answer_en")
               if (v := str(form.get(k, "")).strip()[:3000 if k == "answer_en" else 200])}}


def faq_error(text: str) -> str:
    m = re.search(r"\.(\w+): (.*)$", text)
    key, why = (m.group(1), m.group(2)) if m else ("", text)
    if key == "answer" and "longer" in why:
        return "答复太长了：公众号一条消息放不下（最多约500个汉字）。"
    words = {"id": "代码须唯一，只用字母、数字、- 或 _", "question": "请填写问题", "answer": "请填写答复",
             "unit": "请选择名录中的负责单位", "review_by": "复核日期请按 YYYY-MM-DD 填写",
             "also": "其他问法每行一条", "keywords": "关键词用空格或逗号分开"}
    return words.get(key, f"{FAQ_KEYS.get(key, key)}：{why}") + "。"


@staff_page
async def faq_edit(request: web.Request, v: Viewer) -> web.Response:
    _leaders_only(v)
    fid = request.match_info.get("id")
    t, ip = auth.now(request), _ip(request)
    entries, retired, stored, files = await _faq_state(request)
    current = {e.id: e for e in entries}
    if fid and fid not in current and fid not in stored:
        raise NotFound("faq")
    values = entry_table(current[fid]) if fid in current else stored[fid]["body"] if fid else {
        "id": "", "question": "", "also": [], "keywords": [], "answer": "", "unit": "", "review_by": ""}
    error = None
    if request.method == "POST":
        form = await request.post()
        what = str(form.get("do", "save"))
        known = {u["code"]: u["kind"] for u in await read(request, directory.all_units)}
        campaign = _campaign(request)
        if what in ("retire", "restore") and fid:
            def change(db):
                if what == "retire":
                    campaign_defs.retire(db, "faq", fid, values, t, v.openid)
                else:
                    campaign_defs.save(db, "faq", fid, values, t, v.openid)
                websessions.audit(db, t, v.openid, f"faq:{what}", None, fid, ip)
            await write(request, change)
            await read(request, campaign.sync)
            await saved(request, v, "已停用这条问答：公众号不再自动答复它。" if what == "retire" else "已恢复这条问答。",
                        "/w/faq")
        raw = _faq_from_form(form, fid)
        try:
            if not fid and (raw["id"] in stored or raw["id"] in files):  # a new entry never replaces another
                raise FaqError("工作台.id: already used")
            entry = parse_entry(raw, "工作台", known)
        except FaqError as exc:
            error = faq_error(str(exc))
            values = raw
        else:
            def save(db):
                campaign_defs.save(db, "faq", entry.id, entry_table(entry), t, v.openid)
                websessions.audit(db, t, v.openid, "faq:save", None, f"{entry.id} {entry.question}", ip)
            await write(request, save)
            await read(request, campaign.sync)
            await saved(request, v, "已保存这条问答，公众号中立即生效。", "/w/faq")
    units = await read(request, directory.all_units)
    ctx = await _context(request, v, values=values, fid=fid, error=error, units=units, retired=fid in retired,
                         source="工作台" if fid in stored else "配置文件" if fid in files else "")
    return form_page("w_faq_edit.html", request, ctx, error)


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/w/surveys", surveys_page)
    r.add_get("/w/surveys/new", survey_edit)
    r.add_post("/w/surveys/new", survey_edit)
    r.add_get("/w/surveys/{id}", survey_edit)
    r.add_post("/w/surveys/{id}", survey_edit)
    r.add_get("/w/surveys/{id}/results", survey_results_page)
    r.add_get("/w/surveys/{id}/results.csv", survey_results_csv)
    r.add_post("/w/surveys/{id}/days", survey_day)
    r.add_get("/w/faq", faq_page)
    r.add_get("/w/faq/new", faq_edit)
    r.add_post("/w/faq/new", faq_edit)
    r.add_get("/w/faq/{id}", faq_edit)
    r.add_post("/w/faq/{id}", faq_edit)
