"""Exports for 绩效考核: the inbox's tickets (same filters, same scope) and the units' rates for a period, as CSV
(streamed in batches) or XLSX (openpyxl's write-only mode, built off the event loop). Personal data is masked as in
the workbench (a school never gets an anonymous citizen's phone), and every export is audited with its filters and
row count."""
from __future__ import annotations

import asyncio
import io
from urllib.parse import quote

from aiohttp import web

from bot import sheets
from bot.web import auth
from bot.web.auth import Viewer, read, staff_page, write
from bot.web.workbench import _desk, _fmt, _ip, _period, _tz, filters_from
from handlers import privacy, texts
from handlers.desk import kind_name
from handlers.intake import mask_phone
from handlers import rates
from handlers.rates import percent
from storage import directory, inbox, lifecycle, websessions

BATCH = 500
MAX_ROWS = 100_000
TICKET_COLUMNS = ["编号", "类型", "类别", "承办单位", "学校", "状态", "提交时间", "办结时限", "签收时间", "办结时间",
                  "是否超期", "评价", "联系电话", "内容摘要", "办理结果"]
RATE_COLUMNS = ["单位", "派发", "按时签收", "响应率", "办结", "按时办结", "超期未办结", "解决率", "评价数", "满意",
                "满意率", "未评价", "代收", "代收他单位", "代收办结", "代收超期",
                "代收超时签收"]
RATINGS = {1: "满意", 2: "基本满意", 3: "不满意"}


def _ticket_row(t: dict, units: dict, hidden_at_school: bool, now: float, tz) -> list:
    overdue = bool(t["due_at"] and t["due_at"] < now and t["state"] in lifecycle.CLOCK)
    phone = "" if (hidden_at_school and t["anonymous"]) else (mask_phone(t["contact_phone"]) if t["contact_phone"]
                                                               else "")
    return [t["number"], kind_name(t), texts.CATEGORY_NAMES.get(t["category"], t["category"]),
            units.get(t["unit_code"], {}).get("name", ""), units.get(t["school_code"], {}).get("name", ""),
            texts.STAFF_STATE_NAMES[t["state"]], _fmt(t["created_at"], tz), _fmt(t["due_at"], tz),
            _fmt(t["accepted_at"], tz), _fmt(t["resolved_at"], tz), "是" if overdue else "",
            RATINGS.get(t["rating"], ""), phone, texts.excerpt(privacy.numbers_masked(t["text"]), 80), t["resolution"] or ""]


def _rate_row(name: str, r) -> list:
    return [name, r.dispatched, r.accepted_in_time, percent(r.response), r.resolved, r.resolved_in_time,
            r.open_overdue, percent(r.resolution), r.rated, r.satisfied, percent(r.satisfaction), r.unrated,
            r.stood_in, r.proxied, r.proxied_resolved, r.proxied_late, r.proxied_late_response]  # 代收 for others: not in its rates


_csv_line = sheets.csv_line  # every value made safe from formula injection


def _xlsx(title: str, header: list, rows: list[list]) -> bytes:
    from openpyxl import Workbook
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    ws.append(header)
    for row in rows:
        ws.append(sheets.xlsx_row(ws, row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


TYPES = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
BOM = "\ufeff".encode("utf-8")  # Excel reads a CSV as UTF-8 only with it


def _start(request: web.Request, filename: str) -> web.StreamResponse:
    response = web.StreamResponse(headers={
        "Content-Type": TYPES[filename.rsplit(".", 1)[1]],
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})
    auth._stamp(response)
    return response


async def _send(request: web.Request, body: bytes, filename: str) -> web.StreamResponse:
    """A file made whole in memory (an XLSX, the rates' CSV), with its length."""
    response = _start(request, filename)
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(body)
    return response


async def _done(request: web.Request, response: web.StreamResponse, v: Viewer, t: float, what: str,
                detail: str) -> web.StreamResponse:
    """Every export is audited, with what it held, before the download ends."""
    await write(request, websessions.audit, t, v.openid, f"export:{what}", None, detail, _ip(request))
    await response.write_eof()
    return response


@staff_page
async def export_tickets(request: web.Request, v: Viewer) -> web.StreamResponse:
    fmt = request.match_info["fmt"]
    tz, t, desk = _tz(request), auth.now(request), _desk(request)
    f = filters_from(request.query, tz)
    f.sort = "due"

    def head(db):
        scope = desk.scope(db, v.user)
        viewer_unit = directory.get(db, v.user.get("unit_code")) or {}
        return scope, {u["code"]: u for u in directory.all_units(db)}, viewer_unit.get("kind") in (
            "school", "kindergarten")

    scope, units, at_school = await read(request, head)
    name = f"留言导出-{_fmt(t, tz, '%Y%m%d-%H%M')}.{fmt}"
    count, after = 0, 0
    if fmt == "csv":
        response = _start(request, name)
        await response.prepare(request)
        await response.write(BOM + _csv_line(TICKET_COLUMNS))
        while count < MAX_ROWS:
            rows = await read(request, inbox.batch, scope, f, t, after, BATCH)
            if not rows:
                break
            await response.write(b"".join(_csv_line(_ticket_row(r, units, at_school, t, tz)) for r in rows))
            count, after = count + len(rows), rows[-1]["id"]
    else:
        lines = []
        while count < MAX_ROWS:
            rows = await read(request, inbox.batch, scope, f, t, after, BATCH)
            if not rows:
                break
            lines += [_ticket_row(r, units, at_school, t, tz) for r in rows]
            count, after = count + len(rows), rows[-1]["id"]
        body = await asyncio.get_running_loop().run_in_executor(None, _xlsx, "留言", TICKET_COLUMNS, lines)
        response = await _send(request, body, name)
    return await _done(request, response, v, t, f"tickets.{fmt}",
                       f"{count} rows; {request.query_string or 'default filters'}")


@staff_page
async def export_rates(request: web.Request, v: Viewer) -> web.StreamResponse:
    fmt = request.match_info["fmt"]
    tz, t, desk = _tz(request), auth.now(request), _desk(request)
    period = _period(request, tz, t)

    def load(db):
        scope = desk.scope(db, v.user)
        units = {u["code"]: u for u in directory.all_units(db)}
        per_unit = rates.for_period(db, period.start, period.end, scope[0], t)
        return [_rate_row(units.get(code, {}).get("name", code), r) for code, r in sorted(per_unit.items())
                if scope[0] is None or code in scope[0]]

    rows = await read(request, load)
    name = f"单位三率-{period.key}.{fmt}"
    if fmt == "csv":
        body = BOM + b"".join(_csv_line(r) for r in [RATE_COLUMNS, *rows])
    else:
        body = await asyncio.get_running_loop().run_in_executor(None, _xlsx, period.key, RATE_COLUMNS, rows)
    response = await _send(request, body, name)
    return await _done(request, response, v, t, f"rates.{fmt}", f"{len(rows)} units; {period.label}")


def setup(app: web.Application) -> None:
    app.router.add_get(r"/w/export/tickets.{fmt:csv|xlsx}", export_tickets)
    app.router.add_get(r"/w/export/rates.{fmt:csv|xlsx}", export_rates)

