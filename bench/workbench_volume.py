"""The bureau's side under realistic volume, as its people see it on a Monday morning, for a person to look at.

    .venv/bin/python bench/workbench_volume.py [--out /tmp/shots] [--port 18820] [--weeks 8]

Starts the demo (its directory, bound staff and survey) on a fresh database with a clock set --weeks back, and
plays the weeks through the real core: about a dozen messages a working day routed and filed as the intake files
them, handled by each unit's staff at its own pace (the school 江南区实验小学 falls behind in the last weeks, so its
teacher has some forty open tickets), parents adding words and photos, rating the answers through the bot, the
district head's 催办 and 延期 decisions, 群众评议 answers, the weekly digest job. Then it signs in, with
Playwright driving Debian's chromium at 390 and 1280 px, as the teacher, the school head, the district head and
the leader, opens the public pages, and saves one PNG per page into --out. Prints each file and a few figures
(open tickets per unit) so the screenshots can be read against them.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import tempfile
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
import screenshots as shots  # the same filing path and browser set-up as bench/screenshots.py

from aiohttp import web

from bot.app import CONFIG, DB, DISPATCHER, SCHEDULER, create_app
from bot.demo import demo_config
from handlers import digest
from handlers.clock import FixedClock
from storage import tickets, users, websessions

SCHOOL_TEXTS = [  # burden and safety: the school handles them itself (routing.school_categories)
    "{g}年级作业太多，孩子每天写到晚上{h}点，还有很多练习卷。",
    "{g}年级周末布置了{n}张试卷，孩子根本写不完，希望减轻作业负担。",
    "学校要求家长每天批改作业并签字，{g}年级家长压力很大。",
    "放学时校门口车辆拥堵，{g}年级孩子过马路很危险，建议安排老师护导。",
    "学校操场的篮球架松动了，{g}年级孩子在下面玩很危险，请尽快维修。",
    "{g}年级教室的电扇摇晃，担心掉下来砸到孩子，请学校检查。",
    "课间不让学生出教室活动，{g}年级孩子一整天都坐着，这样合理吗？",
    "学校午休时间太短，{g}年级孩子下午上课总犯困，建议调整作息。",
    "{g}年级体育课经常被语文数学占用，孩子一周都没上体育课。",
    "学校楼梯扶手有一段松了，{g}年级孩子上下楼容易摔倒。",
]
OTHER_TEXTS = [t for t, *_ in shots.SAMPLES if "老师" not in t]  # 师德 goes to the district; kept out of the mix
SCHOOLS = ["jn-syxx", "jn-yyxx", "jn-dszx", "jb-wcxx", "jb-bhxx", "jb-yzzx"]
HANDLERS = {"jyj-sfc": "o_demo_staff_sfc", "jn-syxx": "o_demo_staff_syxx", "jn-jyj": "o_demo_staff_jn",
            "jb-wcxx": "o_demo_staff_wcxx", "jyj-bgs": "o_demo_staff_bgs", "jyj-pxc": "o_demo_staff_pxc",
            "jyj-xqc": "o_demo_staff_xqc"}
# How each unit keeps up: (chance a ticket is handled at all, working hours to 签收, days to 办结)
PACE = {"jn-syxx": (0.9, 3, 4), "jb-wcxx": (0.95, 2, 3), "jyj-sfc": (0.9, 6, 5), "jn-jyj": (0.85, 10, 6)}
REPLY = "您好，您反映的情况已收到，我们正在核实，会在时限内答复处理结果。"
RESOLVE = ["经核实，学校已调整相关安排，并在家长群中说明，感谢您的监督。",
           "已安排后勤人员现场检查并维修完毕，今后每周巡查一次。",
           "学校已召开年级组会议，控制每日作业总量，并请班主任与您电话沟通。"]


async def play(app: web.Application, clock: FixedClock, weeks: int, rng: random.Random) -> dict:
    """Files and handles `weeks` of messages in time order through the core; returns a few figures."""
    d, db = app[DISPATCHER], app[DB]
    start, events = clock.now(), []
    n = 0
    for day in range(weeks * 7):
        base = start + day * 86400
        if dt.datetime.fromtimestamp(base, shots.TZ).weekday() >= 5:
            continue
        behind = day >= (weeks - 3) * 7  # the last three weeks: the school falls behind
        for _ in range(rng.randint(9, 14)):
            n += 1
            at = base + rng.uniform(0, 10) * 3600
            if rng.random() < 0.45:
                school = "jn-syxx" if rng.random() < 0.55 else rng.choice(SCHOOLS)
                text = rng.choice(SCHOOL_TEXTS).format(g=rng.choice("一二三四五六"), h=rng.choice((10, 11)),
                                                       n=rng.randint(3, 8))
                kind = "suggestion" if "建议" in text else "complaint"
            else:
                school, text = rng.choice(SCHOOLS + [None]), rng.choice(OTHER_TEXTS)
                kind = "inquiry" if ("？" in text or "请问" in text) else "complaint"
            phone = f"139{rng.randint(10000000, 99999999)}" if rng.random() < 0.5 else None
            events.append((at, n, "file", (text, school, kind, phone, behind)))
        events.append((base + 9 * 3600, 0, "sweep", ()))  # the deadline watch: warnings, 催办, escalation
    events.sort()
    stats = {"filed": 0, "rated": 0, "replied_by_parent": 0}
    i = 0
    while i < len(events):
        at, n, what, args = events[i]
        i += 1
        clock.at = max(clock.at, at)
        if what == "sweep":
            await db.run(d.sweep_tx)
            continue
        if what == "file":
            text, school, kind, phone, behind = args
            t = await db.run(_file, d, text, school, kind, phone, n, rng.random() < 0.15)
            stats["filed"] += 1
            for later in _handling(t, at, behind, rng, n):
                events.insert(_where(events, i, later[0]), later)
            continue
        number = args[0]
        t = await db.run(tickets.get, number)
        if what == "parent":
            if t["state"] in ("assigned", "accepted", "replied"):
                await db.run(_parent_adds, d, t, args[1])
                stats["replied_by_parent"] += 1
        elif what == "rate":
            if t["state"] == "resolved":
                await db.run(lambda db_: d.followup.rate(db_, t["openid"], args[1]))
                stats["rated"] += 1
        elif what == "decide":
            if (t.get("extension") or {}).get("state") == "requested":
                await db.run(shots.act, d, "o_demo_head_jn", number, "decide_extension", *args[1:])
        else:
            who = HANDLERS.get(t["unit_code"]) if what != "press" else "o_demo_head_jn"
            if who is None and t.get("unattended"):  # 代收: the duty office stands in for a school with nobody
                who = HANDLERS["jyj-bgs"]
            if who and t["state"] not in ("closed", "resolved", "withdrawn"):
                await db.run(shots.act, d, who, number, what, *args[1:])
    return stats


def _where(events: list, start: int, at: float) -> int:
    lo, hi = start, len(events)
    while lo < hi:
        mid = (lo + hi) // 2
        if events[mid][0] <= at:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _handling(t: dict, at: float, behind: bool, rng: random.Random, n: int) -> list[tuple]:
    """What happens to a filed ticket later: its unit's 签收, answer and 办结 at that unit's pace, a parent's
    added words, the rating."""
    number, unit = t["number"], t["unit_code"]
    if t["kind"] == "praise":
        return []
    out = []
    if rng.random() < 0.12:
        out.append((at + rng.uniform(2, 30) * 3600, n, "parent", (number, rng.choice(
            ["补充一下：今天又是这样，孩子回家很晚。", "附上照片，请尽快处理。", "请问现在处理到哪一步了？"]))))
    chance, hours, days = PACE.get(unit, (0.7, 8, 5))
    if unit == "jn-syxx" and behind:
        chance = 0.25  # a teacher off sick, the head busy: the school falls behind
    if (unit not in HANDLERS and not t.get("unattended")) or rng.random() > chance:
        if unit == "jn-jyj" and rng.random() < 0.5:
            out.append((at + 5 * 86400, n, "press", (number, "urge", "请尽快办理并反馈结果。")))
        return out
    accept = at + rng.uniform(0.3, 2) * hours * 3600
    out.append((accept, n, "accept", (number,)))
    if rng.random() < 0.3:
        out.append((accept + 1800, n, "note", (number, "已电话联系家长，约定回访时间。")))
    if unit == "jn-syxx" and rng.random() < 0.15:  # the district decides a school's 延期 (a day later)
        out.append((accept + 2400, n, "request_extension", (number, 3, "需要请维修单位到现场查看")))
        if rng.random() < 0.6:  # the rest wait for the district head on Monday
            out.append((accept + 86400, n, "decide", (number, rng.random() < 0.7, "同意，请按期办结。")))
    if rng.random() < 0.5:
        out.append((accept + 3600, n, "reply", (number, REPLY)))
    done = accept + rng.uniform(0.3, 1.6) * days * 86400
    out.append((done, n, "resolve", (number, rng.choice(RESOLVE))))
    if rng.random() < 0.7:
        out.append((done + rng.uniform(2, 40) * 3600, n, "rate", (number, rng.choices("123", [70, 20, 10])[0])))
    return out


def _file(db, d, text: str, school: str | None, kind: str, phone: str | None, n: int, again: bool) -> dict:
    """shots.file with a parent per message (a few write twice): each can rate the answer it got."""
    from storage import outbox
    routing = d.router.route(text).to_dict()
    plan = d.plan(db, routing["category"], school, kind, routing)
    now = d.clock.now()
    ticket = tickets.create(
        db, openid=f"o_volume_parent_{n // 2 if again else n}", kind=kind, category=plan.category,
        unit_code=plan.unit_code, school_code=plan.school_code, text=text,
        attachments=[{"kind": "image"}] if n % 4 == 0 else [], contact_phone=phone, anonymous=False,
        routing=plan.routing, now=now, due_at=plan.due_at, tz=d.calendar.tz, accept_due_at=d.calendar.due(now, 1))
    outbox.enqueue_replies(db, [r.to_dict() for r in d.desk.dispatch_notices(db, ticket)], "", now, source="sample")
    return ticket


def _parent_adds(db, d, ticket: dict, text: str) -> None:
    from storage import outbox
    replies = d.desk.citizen_reply(db, ticket["openid"], ticket, text)
    outbox.enqueue_replies(db, [r.to_dict() for r in replies if r.to], ticket["openid"], d.clock.now(),
                           source="sample")


async def main(out: Path, port: int, weeks: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(8)
    with tempfile.TemporaryDirectory() as tmp:
        monday = shots.at("2026-11-30 09:10")
        clock = FixedClock(monday - weeks * 7 * 86400)
        config = demo_config(port=port, data_dir=tmp)
        app = create_app(config, clock=clock)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            app[SCHEDULER].pause()
            await app[DB].run(shots._survey_answers, clock.now() + (weeks - 1) * 7 * 86400)
            stats = await play(app, clock, weeks, rng)
            clock.at = monday
            print("filed", stats)
            for unit, n in await app[DB].run(lambda db: list(db.execute(
                    "SELECT unit_code, count(*) FROM tickets WHERE state IN ('assigned','accepted','replied',"
                    "'reopened') GROUP BY 1 ORDER BY 2 DESC"))):
                print(f"  open at {unit}: {n}")
            made = await shoot(f"http://127.0.0.1:{port}", app, clock, out)
        finally:
            await runner.cleanup()
    for path in made:
        print(path)
    print(f"{len(made)} screenshots in {out}/")


PEOPLE = [("teacher", "o_demo_staff_syxx"), ("head", "o_demo_head_syxx"), ("district", "o_demo_head_jn"),
          ("leader", "o_demo_leader")]


async def shoot(base: str, app: web.Application, clock: FixedClock, out: Path) -> list[Path]:
    from playwright.async_api import async_playwright
    db, made = app[DB], []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shots.CHROMIUM, args=shots.CHROMIUM_ARGS)
        for width in shots.WIDTHS:
            for role, openid in PEOPLE:
                context = await browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
                page = await context.new_page()
                token = await db.run(websessions.create_signin, openid, clock.now())
                await page.goto(f"{base}/w/signin/{token}")
                await page.click("#signin")
                await page.wait_for_url(f"{base}/w/")
                made.append(await shots._shot(page, out, f"{role}-inbox-{width}"))
                paths = [("overdue", "/w/?state=open&overdue=1"), ("notices", "/w/notices"),
                         ("dashboard", "/w/dashboard"), ("dashboard-month", "/w/dashboard?kind=month")]
                if role in ("teacher", "head"):
                    paths.append(("rates", "/w/rates/jn-syxx?period=2026-11"))
                if role == "district":
                    paths.append(("extensions", "/w/?state=open&flag=extension"))
                if role == "teacher":
                    number = await db.run(_with_parent_words, "jn-syxx")
                    if number:
                        paths.append(("ticket-parent", f"/w/t/{number}"))
                    paths.append(("inbox-page2", "/w/?page=2"))
                if role in ("leader", "district"):
                    paths += [("review", "/w/review?period=2026-11"), ("survey-results",
                                                                        "/w/surveys/school-2026/results")]
                if role == "leader":  # a quarter's trace, a range of days, the 评议 figure's answers (bureau9)
                    paths += [("rates-quarter", "/w/rates/jn-syxx?period=2026-Q4"),
                              ("rates-range", "/w/rates/jn-syxx?from=2026-10-08&to=2026-11-29"),
                              ("survey-period", "/w/surveys/school-2026/results?period=2026-11")]
                    paths += [("admin", "/w/admin"), ("units", "/w/units"), ("unit", "/w/units/jn-syxx"),
                              ("staff", "/w/staff"), ("surveys", "/w/surveys")]
                for name, path in paths:
                    await page.goto(base + path)
                    made.append(await shots._shot(page, out, f"{role}-{name}-{width}"))
                await context.close()
            context = await browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
            page = await context.new_page()
            from bot.web import digest_link
            from urllib.parse import urlsplit
            week = digest.previous_week(digest.week_of(clock.now(), shots.TZ))
            signed = urlsplit(digest_link(app[CONFIG], week, "bureau", clock.now(), "o_demo_leader"))
            for name, path in (("public-units", "/u/"), ("public-school", "/u/jn-syxx"), ("public-bureau", "/u/jyj"),
                               ("leader-digest", f"{signed.path}?{signed.query}")):
                await page.goto(base + path)
                made.append(await shots._shot(page, out, f"{name}-{width}"))
            await context.close()
        await browser.close()
    return made


def _with_parent_words(db, unit: str) -> str | None:
    """An open ticket of `unit` a parent added words to (the teacher must see them)."""
    row = db.execute("SELECT t.number FROM tickets t JOIN ticket_events e ON e.ticket_id = t.id "
                     "WHERE t.unit_code = ? AND t.state IN ('assigned','accepted','replied') "
                     "AND e.actor = t.openid AND e.action != 'submit' ORDER BY t.id DESC LIMIT 1", [unit]).fetchone()
    return row[0] if row else None


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="/tmp/tingjian-volume", type=Path)
    parser.add_argument("--port", default=18820, type=int)
    parser.add_argument("--weeks", default=8, type=int)
    args = parser.parse_args()
    asyncio.run(main(args.out, args.port, args.weeks))
