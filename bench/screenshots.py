"""Screenshots of every workbench page at 390 px (a phone) and 1280 px (a desk), for a person to look at.

    .venv/bin/python bench/screenshots.py [--out screenshots] [--port 18810]

Starts the demo (its directory and bound staff) on a fresh database with a clock set two weeks back, files about
two dozen tickets from realistic texts through the router and the desk (some accepted, answered, resolved, rated,
overdue, transferred, with notes and an extension request), then signs in as a school handler, the fees office,
a district supervisor and the leader with Playwright driving Debian's chromium, and saves one PNG per page and
width into --out (not committed). Needs `playwright` (pip) and /usr/bin/chromium.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)

from aiohttp import web

from bot.app import CONFIG, DB, DISPATCHER, SCHEDULER, create_app
from bot.demo import demo_config
from bot.web.auth import Links
from handlers.clock import FixedClock
from storage import outbox, tickets, users, websessions

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TZ = ZoneInfo("Asia/Shanghai")
WIDTHS = (390, 1280)

# (text, school scene code or None, kind, phone)
SAMPLES = [
    ("学校乱收费，开学每人收资料费300元，不给收据，也没有公示。", "jn-syxx", "complaint", "13812345678"),
    ("孩子所在班级要求统一购买指定教辅，每本80元，请问是否合规？", "jn-syxx", "inquiry", None),
    ("周末学校组织有偿补课，每次200元，不参加的学生被老师点名批评。", "jn-dszx", "complaint", "13911112222"),
    ("幼儿园伙食费每月涨了300元，饭菜质量却越来越差。", "jn-xgyey", "complaint", None),
    ("校门口早晚接送时段车辆拥堵，建议增加交警或志愿者疏导，保障孩子安全。", "jb-wcxx", "suggestion", None),
    ("初一新生入学分班是否按成绩分快慢班？", "jb-yzzx", "inquiry", None),
    ("班主任经常体罚学生，还暗示家长送礼。", "jn-syxx", "complaint", "13700001111"),
    ("作业太多，孩子每天写到晚上11点，周末还有很多练习卷。", "jn-yyxx", "complaint", None),
    ("小区附近有培训机构无证办学，收费后老板跑路了。", None, "complaint", "13600002222"),
    ("请问今年中考体育考试的项目和评分标准什么时候公布？", None, "inquiry", None),
    ("感谢育英小学王老师，对孩子耐心细致，孩子进步很大。", "jn-yyxx", "praise", None),
    ("学校食堂饭菜经常不熟，孩子吃了肚子疼。", "jb-bhxx", "complaint", "13500003333"),
    ("民办幼儿园入园报名需要哪些材料？", None, "inquiry", None),
    ("学校校车超载，一辆车坐了四十多个孩子。", "jb-wcxx", "complaint", None),
    ("建议学校延长图书馆开放时间，方便学生课后阅读。", "jb-yzzx", "suggestion", None),
    ("高三学生被要求周六全天到校上课，是否符合规定？", "sz1", "inquiry", None),
    ("职业学校实习被安排到与专业无关的工厂流水线，每天12小时。", "szy", "complaint", "13400004444"),
    ("学校收取校服费但校服质量很差，一洗就褪色。", "jn-hpcz", "complaint", None),
    ("区里新建小区的配套学校什么时候开工？", None, "inquiry", None),
    ("老师在家长群里公布学生考试成绩排名。", "jn-yyxx", "complaint", None),
    ("学校乱收费问题：课后服务费每学期收两次。", "jn-dszx", "complaint", None),
    ("教师招聘考试成绩什么时候公布？", None, "inquiry", None),
]


def at(text: str) -> float:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ).timestamp()


def file(db, d, text: str, school: str | None, kind: str, phone: str | None, n: int) -> dict:
    """A ticket as the intake conversation would submit it: routed, planned, stored, its unit told."""
    routing = d.router.route(text).to_dict()
    plan = d.plan(db, routing["category"], school, kind, routing)
    now = d.clock.now()
    ticket = tickets.create(
        db, openid=f"o_sample_parent_{n % 9}", kind=kind, category=plan.category, unit_code=plan.unit_code,
        school_code=plan.school_code, text=text, attachments=[{"kind": "image"}] if n % 4 == 0 else [],
        contact_phone=phone, anonymous=n % 3 != 0, routing=plan.routing, now=now, due_at=plan.due_at,
        tz=d.calendar.tz, accept_due_at=d.calendar.due(now, 1))
    pushes = d.desk.dispatch_notices(db, ticket)
    outbox.enqueue_replies(db, [r.to_dict() for r in pushes], "", now, source="sample")
    return ticket


def act(db, d, openid: str, number: str, what: str, *args) -> None:
    user = users.get(db, openid)
    ticket = tickets.get(db, number)
    if not d.desk.in_scope(db, user, ticket):
        return
    replies = getattr(d.desk, what)(db, user, ticket, *args)
    outbox.enqueue_replies(db, [r.to_dict() for r in replies if r.to], openid, d.clock.now(), source="sample")


async def seed(app: web.Application, clock: FixedClock) -> list[str]:
    d, db = app[DISPATCHER], app[DB]
    await db.run(_survey_answers, clock.now())  # for the 群众评议 results page
    numbers = []
    for n, (text, school, kind, phone) in enumerate(SAMPLES):
        ticket = await db.run(file, d, text, school, kind, phone, n)
        numbers.append(ticket["number"])
        clock.advance(11 * 3600)
    # Work on some of them, as a week of handling would.
    handlers = {"jyj-sfc": "o_demo_staff_sfc", "jn-syxx": "o_demo_staff_syxx", "jn-jyj": "o_demo_staff_jn",
                "jb-wcxx": "o_demo_staff_wcxx", "jyj-bgs": "o_demo_staff_bgs", "jyj-pxc": "o_demo_staff_pxc",
                "jyj-xqc": "o_demo_staff_xqc"}
    for i, number in enumerate(numbers):
        t = await db.run(tickets.get, number)
        who = handlers.get(t["unit_code"]) or ("o_demo_staff_bgs" if t["unattended"] else None)  # 代收
        if who is None or i % 5 == 4:
            continue  # left waiting: some of them overdue by now
        await db.run(act, d, who, number, "accept")
        if i % 3 == 0:
            await db.run(act, d, who, number, "note", "已电话联系家长，约定周三回访。")
        if i % 2 == 0:
            await db.run(act, d, who, number, "reply", "您好，您反映的问题已转学校核实，我们会在时限内答复处理结果。")
        if i % 4 == 0:
            await db.run(act, d, who, number, "resolve", "经核实，学校已停止收取该费用并全额退还，已在校内公示。")
        if i == 6:
            await db.run(act, d, who, number, "request_extension", 3, "需要现场核查并约谈相关教师")
    await db.run(act, d, "o_demo_leader", numbers[3], "press", "supervise", "请于本周五前办结并报告结果")
    from storage import replies
    for unit, title, text in TEMPLATES:  # 常用回复 of two units
        await db.run(replies.add, unit, title, text, "sample", clock.now())
    return numbers


TEMPLATES = [
    ("jyj-sfc", "已转学校核实", "您好，您反映的问题（{编号}）已转{学校}核实，我们将在{截止}前答复处理结果。"),
    ("jyj-sfc", "已责令退费", "经{单位}核实，学校收取的费用不符合规定，已责令全额退还，并在校内公示。感谢您的监督。"),
    ("jyj-sfc", "政策咨询", "您好，按照现行规定，义务教育阶段学校不得以任何名义向学生收取资料费、补课费。"),
    ("jn-syxx", "已约谈老师", "您好，学校已约谈相关老师并整改，如仍有问题请随时反映。"),
]


async def shoot(base: str, app: web.Application, clock: FixedClock, numbers: list[str], out: Path) -> list[Path]:
    from playwright.async_api import async_playwright
    db, made = app[DB], []
    people = [("school", "o_demo_staff_syxx"), ("fees", "o_demo_staff_sfc"), ("district", "o_demo_head_jn"),
              ("leader", "o_demo_leader")]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for width in WIDTHS:
            for role, openid in people:
                context = await browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
                page = await context.new_page()
                token = await db.run(websessions.create_signin, openid, clock.now())
                await page.goto(f"{base}/w/signin/{token}")
                if role == "school":
                    made.append(await _shot(page, out, f"signin-{width}"))
                await page.click("#signin")
                await page.wait_for_url(f"{base}/w/")
                made.append(await _shot(page, out, f"{role}-inbox-{width}"))
                first = await page.query_selector("table.tickets td.num a")
                if first:
                    await first.click()
                    made.append(await _shot(page, out, f"{role}-ticket-{width}"))
                for name, path in (("notices", "/w/notices"), ("dashboard", "/w/dashboard"), ("replies", "/w/replies")):
                    await page.goto(base + path)
                    made.append(await _shot(page, out, f"{role}-{name}-{width}"))
                if role == "fees":  # a reply filled from a template, as the 填入 button does without JavaScript
                    t = next(t for t in [await db.run(tickets.get, n) for n in numbers]
                             if t["unit_code"] == "jyj-sfc" and t["state"] in ("assigned", "accepted", "replied"))
                    tpl = (await db.run(replies_of, "jyj-sfc"))[0]["id"]
                    await page.goto(f"{base}/w/t/{t['number']}?into=reply&tpl={tpl}#act-reply")
                    made.append(await _shot(page, out, f"fees-ticket-template-{width}"))
                if role == "leader":
                    await page.goto(base + "/w/?state=all&q=乱收费")
                    made.append(await _shot(page, out, f"leader-search-{width}"))
                    await page.goto(base + "/w/?state=open&overdue=1")
                    made.append(await _shot(page, out, f"leader-overdue-{width}"))
                    await page.goto(base + "/w/dashboard?kind=month")
                    made.append(await _shot(page, out, f"leader-dashboard-month-{width}"))
                    # the duty office's 代收 for a school with nobody bound, apart from its rates (rates14)
                    await page.goto(base + "/w/rates/jyj-bgs?period=2026-11")
                    made.append(await _shot(page, out, f"leader-rates-duty-{width}"))
                    from urllib.parse import urlsplit

                    from bot.web import digest_link
                    signed = urlsplit(digest_link(app[CONFIG], "2026-W46", "bureau", clock.now(), "o_demo_leader"))
                    await page.goto(f"{base}{signed.path}?{signed.query}")  # the week the 代收 was signed in
                    made.append(await _shot(page, out, f"leader-digest-{width}"))
                    await page.goto(base + "/w/audit")
                    made.append(await _shot(page, out, f"leader-audit-{width}"))
                    await page.goto(base + "/w/staff")
                    made.append(await _shot(page, out, f"leader-staff-{width}"))
                    await page.goto(f"{base}/w/t/{numbers[6]}")
                    await page.click("#act-reply summary")
                    made.append(await _shot(page, out, f"leader-ticket-form-{width}"))
                    made += await _management(page, base, out, width)
                if role == "district":
                    await page.goto(base + "/w/units")
                    made.append(await _shot(page, out, f"district-units-{width}"))
                await context.close()
            context = await browser.new_context(viewport={"width": width, "height": 900})
            page = await context.new_page()
            ticket = await db.run(tickets.get, numbers[0])
            link = Links(app[CONFIG], clock).citizen_ticket(numbers[0], ticket["openid"])
            await page.goto(base + link[link.index("/t/"):])
            made.append(await _shot(page, out, f"citizen-ticket-{width}"))
            await page.goto(base + "/w/login")
            made.append(await _shot(page, out, f"login-{width}"))
            await context.close()
            # inside WeChat: web authorisation; the sandbox asks whose phone this is, then back to the workbench
            context = await browser.new_context(viewport={"width": width, "height": 900}, user_agent=WECHAT_UA)
            page = await context.new_page()
            await page.goto(base + "/w/")
            made.append(await _shot(page, out, f"oauth-sandbox-{width}"))
            await page.select_option("select[name=openid]", "o_demo_staff_sfc")
            await page.click("button")
            await page.wait_for_url(f"{base}/w/")
            made.append(await _shot(page, out, f"oauth-signed-in-{width}"))
            await context.close()
        await browser.close()
    return made


WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 "
             "MicroMessenger/8.0.47")


def replies_of(db, unit: str) -> list[dict]:
    from storage import replies
    return replies.of_unit(db, unit)


async def _shot(page, out: Path, name: str) -> Path:
    path = out / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def main(out: Path, port: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        clock = FixedClock(at("2026-11-09 09:00"))
        config = demo_config(port=port, data_dir=tmp)
        app = create_app(config, clock=clock)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            app[SCHEDULER].pause()
            numbers = await seed(app, clock)
            clock.at = at("2026-11-23 10:30")  # two weeks on: some deadlines have passed
            made = await shoot(f"http://127.0.0.1:{port}", app, clock, numbers, out)
        finally:
            await runner.cleanup()
    for path in made:
        print(path)
    print(f"{len(made)} screenshots in {out}/")


# -- the management pages (bot/web/admin.py) -------------------------------------------------------------------------

def _survey_answers(db, now: float) -> None:
    """群众评议 responses for the results page: enough for one school, too few for another."""
    from storage import surveys
    for unit, count in (("jn-syxx", 8), ("jn-yyxx", 3)):
        for i in range(count):
            row = surveys.begin(db, "school-2026", unit, f"o_sample_rater_{unit}_{i}", now - 3600 * (i + 1), {})
            scores = {q: 3 + (i + k) % 3 for k, q in enumerate(("attitude", "efficiency", "fees", "ethics",
                                                                 "overall"))}
            surveys.submit(db, row["id"], {**scores, "role": 1 + i % 3, "comment": None}, now - 3600 * i, i == 0)


async def _management(page, base: str, out: Path, width: int) -> list[Path]:
    """The leaders' management pages (bot/web/admin.py, bot/web/campaign_admin.py), and one form with an error."""
    made = []
    for name, path in (("admin", "/w/admin"), ("units", "/w/units"), ("unit", "/w/units/jn-syxx"),
                       ("review", "/w/review?period=2026-11"), ("surveys", "/w/surveys"),
                       ("survey", "/w/surveys/school-2026"), ("survey-results", "/w/surveys/school-2026/results"),
                       ("faq", "/w/faq"), ("faq-edit", "/w/faq/huapian")):
        await page.goto(base + path)
        made.append(await _shot(page, out, f"leader-{name}-{width}"))
    await page.goto(base + "/w/units/jn-syxx")
    await page.fill("input[name=name]", "")
    await page.evaluate("document.querySelector('input[name=name]').removeAttribute('required')")
    await page.click("#unit button.primary")
    made.append(await _shot(page, out, f"leader-unit-error-{width}"))
    return made


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="screenshots", type=Path)
    parser.add_argument("--port", default=18810, type=int)
    args = parser.parse_args()
    asyncio.run(main(args.out, args.port))
