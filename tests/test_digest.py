"""Rates on a hand-computed fixture, the weekly digest (message, page, sent once), and `tingjian digest`."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import zlib
import time
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from bot.app import CONFIG, DB, DISPATCHER, SCHEDULER, create_app
from bot.cli import main
from bot.web import digest_link
from handlers import digest, rates
from handlers.clock import FixedClock
from storage import outbox, staff, tickets
from tests.conftest import pause_jobs
from tests.test_process import free_port

TZ = ZoneInfo("Asia/Shanghai")
H = 3600


def at(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp()


W48 = at("2026-11-23 00:00")  # Monday of 2026-W48
W47 = at("2026-11-16 00:00")


def add(db, n: int, unit: str, *, created: float, accept_due: float, due: float, accepted: float | None = None,
        resolved: float | None = None, rating: int | None = None, rated: float | None = None, state: str = "accepted",
        category: str = "fees", kind: str = "complaint", school: str | None = "jn-syxx",
        text: str = "学校乱收资料费", close_reason: str | None = None, closed: float | None = None):
    db.execute(
        "INSERT INTO tickets (number, openid, kind, category, unit_code, school_code, text, state, created_at, "
        "dispatched_at, due_at, accept_due_at, accepted_at, resolved_at, rating, rated_at, close_reason, closed_at) "
        "VALUES (?, 'o', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [f"JY2611-{n:04d}", kind, category, unit, school, text, state, created, created, due, accept_due, accepted,
         resolved, rating, rated, close_reason, closed])
    if rating is not None:  # 满意率 counts the rating events (trust18b), as every rating writes one
        db.execute("INSERT INTO ticket_events (ticket_id, at, actor, from_state, to_state, action, unit_code) "
                   "SELECT id, ?, 'o', 'resolved', 'closed', 'rate', unit_code FROM tickets WHERE number = ?",
                   [rated, f"JY2611-{n:04d}"])


def fixture(db):
    """Fees office jyj-sfc in W48, by hand:
    #1 accepted in time, resolved in time, rated 满意           -> response 1, resolved in time, satisfied
    #2 accepted late,   resolved late,     rated 不满意          -> response 0, resolved late, rated not satisfied
    #3 accepted in time, open, deadline passed in W48           -> open overdue
    #4 not accepted,     open, deadline after W48               -> counts only as dispatched
    #5 dispatched in W47, resolved in W48 in time, rated 基本满意 -> resolved in time, satisfied (not dispatched)
    #6 resolved in W48, closed unrated                          -> resolved in time; 未评价, not rated
    响应率 = 3/5 (#1, #3, #6 of #1-#4, #6) when every 签收 window has ended; read on Monday 30 Nov 10:00, #4's
    window (to 1 Dec) is still open, so it does not count yet: 3/4; 解决率 = 3/(4+1): #1, #5, #6 in time of 4 resolved + #3 overdue
    满意率 = 2/3 (#1, #5 of #1, #2, #5)."""
    d = W48 + 10 * H
    add(db, 1, "jyj-sfc", created=d, accept_due=d + 24 * H, accepted=d + H, due=d + 72 * H, resolved=d + 48 * H,
        rating=1, rated=d + 50 * H, state="closed", close_reason="rated", closed=d + 50 * H)
    add(db, 2, "jyj-sfc", created=d, accept_due=d + 24 * H, accepted=d + 30 * H, due=d + 48 * H,
        resolved=d + 60 * H, rating=3, rated=d + 70 * H, state="closed", close_reason="rated", closed=d + 70 * H)
    add(db, 3, "jyj-sfc", created=d, accept_due=d + 24 * H, accepted=d + 2 * H, due=d + 96 * H)
    add(db, 4, "jyj-sfc", created=d + 100 * H, accept_due=W48 + 8 * 86400, due=W48 + 10 * 86400, state="assigned")
    add(db, 5, "jyj-sfc", created=W47 + 10 * H, accept_due=W47 + 30 * H, accepted=W47 + 11 * H,
        due=W48 + 48 * H, resolved=W48 + 20 * H, rating=2, rated=W48 + 30 * H, state="closed",
        close_reason="rated", closed=W48 + 30 * H)
    add(db, 6, "jyj-sfc", created=d, accept_due=d + 24 * H, accepted=d + 3 * H, due=d + 72 * H,
        resolved=d + 5 * H, state="closed", close_reason="unrated", closed=d + 80 * H)
    # Another unit: one ticket, accepted in time, still open and not yet due: 100% / — / —.
    add(db, 7, "jn-syxx", created=d, accept_due=d + 24 * H, accepted=d + H, due=W48 + 20 * 86400,
        category="burden", kind="inquiry", text="孩子作业太多，每天写到十一点")


@pytest.fixture
async def served(make_config):
    clock = FixedClock(at("2026-11-30 10:00"))  # Monday after W48, past 09:00
    application = create_app(make_config(), clock=clock)
    runner = web.AppRunner(application)
    await runner.setup()
    await pause_jobs(application)  # the tests send the digest themselves
    await application[DB].run(fixture)
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield application, port
    await runner.cleanup()


async def test_rates_match_the_hand_computed_fixture(served):
    app, port = served
    rows = await app[DB].run(tickets.created_before, W48 + 7 * 86400)
    ratings = await app[DB].run(tickets.ratings_in, W48, W48 + 7 * 86400)
    per_unit = rates.compute(rows, W48, W48 + 7 * 86400, ratings=ratings)
    fees = per_unit["jyj-sfc"]
    assert (fees.dispatched, fees.accepted_in_time) == (5, 3)
    assert fees.response == pytest.approx(3 / 5)
    assert (fees.resolved, fees.resolved_in_time, fees.open_overdue) == (4, 3, 1)
    assert fees.resolution == pytest.approx(3 / 5)
    assert (fees.rated, fees.satisfied, fees.unrated) == (3, 2, 1)
    assert fees.satisfaction == pytest.approx(2 / 3)
    school = per_unit["jn-syxx"]
    assert school.response == 1.0 and school.resolution is None and school.satisfaction is None
    assert rates.percent(school.resolution) == "—"


async def test_digest_content(served):
    app, port = served
    d = await app[DB].run(lambda db: digest.build(db, "2026-W48", app[DISPATCHER].clock.now(), TZ,
                                                  app[DISPATCHER].router.tokenizer))
    assert d.new_total == 6 and d.new_by_kind == {"complaint": 5, "inquiry": 1}
    assert d.resolved == 4
    assert [t["number"] for t in d.overdue_now] == ["JY2611-0003"]
    assert d.bottom[0].code == "jyj-sfc"
    assert ("资料费", 5) in d.topics
    assert d.repeated == [{"school": "江南区实验小学", "category": "教育收费", "count": 5}]
    text = digest.message(d, TZ, "http://x/digest")
    # 响应率 on 30 Nov: #4's 签收 window is still open, so 4 of 5 (#1, #3, #6 and #7; #2 was late) = 80%;
    # the week before only #5 (accepted in time): 100%, hence ↓20.
    assert "新增6件，办结4件，目前超期1件" in text and "响应率80%（↓20）" in text
    assert "资料费" in text.split("热点：")[1]
    assert len(text.encode()) < 2048


async def test_digest_is_sent_once_to_leaders_and_supervisors(served):
    app, port = served
    await app[DB].run(lambda db: [staff.bind(db, "o_lead", "jyj", "leader", "周局长", 0),
                                  staff.bind(db, "o_head", "jn-syxx", "supervisor", "赵校长", 0)])
    link = lambda w, s, to: digest_link(app[CONFIG], w, s, app[DISPATCHER].clock.now(), to)  # noqa: E731
    sent = await app[DB].run(app[DISPATCHER].digest_tx, "2026-W48", link)
    assert sent == 2
    assert await app[DB].run(app[DISPATCHER].digest_tx, "2026-W48", link) == 0  # never twice
    [lead] = await app[DB].run(outbox.list_for, "o_lead")
    assert "留言周报" in json.loads(lead["payload"])["content"]
    [head] = await app[DB].run(outbox.list_for, "o_head")
    content = json.loads(head["payload"])["content"]
    assert "江南区实验小学上周留言周报" in content and "新增1件" in content


async def test_digest_page_needs_the_signed_link(served):
    app, port = served
    url = digest_link(app[CONFIG], "2026-W48", "bureau", at("2026-11-30 09:00")).split("127.0.0.1:8080", 1)[1]
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as client:
        async with client.get(url) as resp:
            assert resp.status == 200
            page = await resp.text()
        assert "留言周报" in page and "<svg" in page and "市教育局教育收费管理处" in page and "JY2611-0003" in page
        assert "学校乱收资料费" not in page  # no citizen's words on a page reached by a link
        # each unit's figures open their tickets in the workbench (signed in, within the reader's scope)
        assert '<a href="/w/rates/jyj-sfc?period=2026-W48">市教育局教育收费管理处</a>' in page
        assert '<a href="/w/t/JY2611-0003">JY2611-0003</a>' in page and 'id="all-overdue"' in page
        assert "本周评价 3 件，其中满意或基本满意 2 件；超过3天未评价而结束 1 件" in page
        async with client.get("/digest/2026-W48?scope=bureau&sig=forged") as resp:
            assert resp.status == 403
        async with client.get(url.replace("scope=bureau", "scope=jn-syxx")) as resp:
            assert resp.status == 403


def _path(link: str) -> str:
    return link.split("127.0.0.1:8080", 1)[1]


async def test_digest_link_expires_and_cannot_be_altered(served):
    app, port = served
    now = app[DISPATCHER].clock.now()
    config = app[CONFIG]
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as client:
        fresh = _path(digest_link(config, "2026-W48", "bureau", now - 29 * 86400))
        async with client.get(fresh) as resp:
            assert resp.status == 200
        old = _path(digest_link(config, "2026-W48", "bureau", now - 31 * 86400))  # default: 30 days
        async with client.get(old) as resp:
            assert resp.status == 403
            assert "链接已过期" in await resp.text() and resp.content_type == "text/html"
        # Pushing the expiry forward breaks the signature.
        exp = int(old.split("exp=")[1].split("&")[0])
        async with client.get(old.replace(f"exp={exp}", f"exp={exp + 40 * 86400}")) as resp:
            assert resp.status == 403
            assert "链接无效" in await resp.text()
        async with client.get("/digest/2026-W48?scope=bureau&sig=abc") as resp:  # an old, unexpiring link
            assert resp.status == 403


async def test_digest_link_for_a_recipient_stops_when_they_are_removed(served):
    app, port = served
    await app[DB].run(lambda db: staff.bind(db, "o_lead", "jyj", "leader", "周局长", 0))
    link = _path(digest_link(app[CONFIG], "2026-W48", "bureau", app[DISPATCHER].clock.now(), "o_lead"))
    assert "o_lead" not in link  # the openid itself is not in the link
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as client:
        async with client.get(link) as resp:
            assert resp.status == 200
        await app[DB].run(staff.remove, "o_lead", staff.CONSOLE, app[DISPATCHER].clock.now())
        async with client.get(link) as resp:
            assert resp.status == 403 and "已失效" in await resp.text()


async def test_digest_sent_links_are_per_recipient_and_open(served):
    app, port = served
    await app[DB].run(lambda db: [staff.bind(db, "o_lead", "jyj", "leader", "周局长", 0),
                                  staff.bind(db, "o_lead2", "jyj", "leader", "吴副局长", 0)])
    link = lambda w, s, to: digest_link(app[CONFIG], w, s, app[DISPATCHER].clock.now(), to)  # noqa: E731
    assert await app[DB].run(app[DISPATCHER].digest_tx, "2026-W48", link) == 2
    urls = []
    for openid in ("o_lead", "o_lead2"):
        [row] = await app[DB].run(outbox.list_for, openid)
        urls.append(json.loads(row["payload"])["content"].split("127.0.0.1:8080", 1)[1].split()[0])
    assert urls[0] != urls[1]
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as client:
        for url in urls:
            async with client.get(url) as resp:
                assert resp.status == 200, url


@pytest.mark.parametrize("week", ["0001-W01", "9999-W52", "9999-W60", "2026-W00", "2026-W54", "1970-W01"])
async def test_signed_link_to_a_week_out_of_range_is_404(served, week):
    app, port = served
    url = _path(digest_link(app[CONFIG], week, "bureau", app[DISPATCHER].clock.now()))
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as client:
        async with client.get(url) as resp:
            assert resp.status == 404


def test_no_link_without_a_link_secret(make_config):
    from bot.web import LinkError
    with pytest.raises(LinkError):
        digest_link(make_config(server={"link_secret": ""}), "2026-W48", "bureau", 0)


async def test_a_low_resolution_rate_is_marked_on_the_bureaus_card_as_in_the_units_table(served):
    """A leader reads the top cards first: a 解决率 under the line the units' table marks must not stand in the
    accent green there (it did, at 7 %)."""
    import re as _re

    from bot.web import render_html
    app, port = served
    d = await app[DB].run(lambda db: digest.build(db, "2026-W48", app[DISPATCHER].clock.now(), TZ,
                                                  app[DISPATCHER].router.tokenizer))
    assert d.overall.resolution < digest.LOW_RESOLUTION <= d.overall.response
    page = render_html(d, TZ)
    cards = dict((name, cls) for cls, name in _re.findall(
        r'<div class="card( warn)?"><b>[^<]*</b><span>(响应率|解决率|满意率)</span>', page))
    assert cards == {"响应率": "", "解决率": " warn", "满意率": ""}
    fees = next(u for u in d.units if u.code == "jyj-sfc")
    assert fees.now.resolution < digest.LOW_RESOLUTION and '<td class="low">60%' in page


def test_cli_digest_renders_text_and_page(tmp_path, capsys):
    db_path = tmp_path / "d.db"
    from bot.demo import DEMO_DIRECTORY
    from tests.conftest import write_cli_config
    config = write_cli_config(tmp_path / "c.toml", db_path, directory={"csv": DEMO_DIRECTORY})
    assert main(["init-db", "--config", str(config)]) == 0
    from storage.db import Database
    db = Database(db_path).start()
    db.run_sync(fixture)
    db.close()
    out = tmp_path / "w48.html"
    assert main(["digest", "--week", "2026-W48", "--out", str(out), "--config", str(config)]) == 0
    printed = capsys.readouterr().out
    # `tingjian digest` reads the rates now: #4's 签收 window (to 1 Dec 2026) counts only once it has ended.
    response = "75%" if time.time() < W48 + 8 * 86400 else "60%"
    assert "第48周" in printed and f"市教育局教育收费管理处: 受理5 响应率{response}" in printed
    assert "<svg" in out.read_text(encoding="utf-8")
    assert main(["digest", "--week", "2026-W99", "--config", str(config)]) == 2


def test_week_arithmetic():
    assert digest.previous_week("2026-W01") == "2025-W52"
    assert digest.week_of(at("2026-11-29 23:59"), TZ) == "2026-W48"
    assert digest.week_of(at("2026-11-30 00:00"), TZ) == "2026-W49"
    with pytest.raises(ValueError):
        digest.parse_week("2026-48")


# -- 8.10: a page load costs a read of what the weekly job stored, never a build in the serving process -----------
async def test_the_weekly_job_stores_each_page_and_a_load_reads_it(served, monkeypatch):
    app, port = served
    await app[DB].run(lambda db: [staff.bind(db, "o_lead", "jyj", "leader", "周局长", 0),
                                  staff.bind(db, "o_head", "jn-syxx", "supervisor", "赵校长", 0)])
    assert await app[SCHEDULER].get_job("weekly-digest").func() == 2  # the service's own job
    from storage import digest_pages
    stored = await app[DB].read(lambda db: db.execute("SELECT week, scope FROM digest_pages").fetchall())
    assert sorted(stored) == [("2026-W48", "bureau"), ("2026-W48", "jn-syxx")]

    def no_build(*args, **kwargs):
        raise AssertionError("the page was built again on loading")
    monkeypatch.setattr(digest, "build", no_build)
    monkeypatch.setattr(digest, "build_all", no_build)
    reads, writes = [], []
    read, run = app[DB].read, app[DB].run

    async def spy_read(fn, *args):
        reads.append(fn)
        return await read(fn, *args)

    async def spy_run(fn, *args):
        writes.append(fn)
        return await run(fn, *args)
    monkeypatch.setattr(app[DB], "read", spy_read)
    monkeypatch.setattr(app[DB], "run", spy_run)
    url = _path(digest_link(app[CONFIG], "2026-W48", "jn-syxx", app[DISPATCHER].clock.now()))
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as client:
        async with client.get(url, timeout=aiohttp.ClientTimeout(total=30)) as resp:
            assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/html")
            page = await resp.text()
    assert "江南区实验小学" in page and "留言周报" in page
    assert reads.count(digest_pages.get) == 1  # one read of the stored page, on a read-only connection
    assert digest_pages.get not in writes  # never on the writer thread (the webhook's); the outbox uses it meanwhile
    from bot.web import render_html  # the stored data, rendered with the template of today
    assert render_html(digest.from_data(await app[DB].read(digest_pages.get, "2026-W48", "jn-syxx")), TZ) == page


async def test_a_week_not_stored_is_built_and_stored_pages_are_pruned_when_no_link_opens_them(served):
    app, port = served
    from storage import digest_pages
    url = _path(digest_link(app[CONFIG], "2026-W48", "bureau", app[DISPATCHER].clock.now()))
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as client:
        async with client.get(url) as resp:  # nothing stored (the job has not run): built on demand
            assert resp.status == 200 and "JY2611-0003" in await resp.text()
    now = app[DISPATCHER].clock.now()
    await app[DB].run(digest_pages.save, "2026-W40", "bureau", digest_pages.pack({"week": "old"}), now - 40 * 86400)
    await app[DB].run(digest_pages.save, "2026-W47", "bureau", digest_pages.pack({"week": "new"}), now - 7 * 86400)
    await app[SCHEDULER].get_job("prune-inbound").func()
    assert await app[DB].read(digest_pages.get, "2026-W40", "bureau") is None
    assert await app[DB].read(digest_pages.get, "2026-W47", "bureau") == {"week": "new"}


async def test_a_page_stored_before_a_template_fix_shows_the_fix_with_the_figures_as_sent(served, monkeypatch):
    """The weekly job stores each digest's data; a page opened later renders it with the template of that day (a
    fix reaches the weeks already sent) and the figures of the day it was sent (nothing is built again). A row
    stored before m054 (its HTML) is served as it is."""
    import jinja2

    import bot.web as web_
    from storage import digest_pages
    app, port = served
    await app[DB].run(lambda db: staff.bind(db, "o_lead", "jyj", "leader", "周局长", 0))
    assert await app[SCHEDULER].get_job("weekly-digest").func() == 1
    sent = await app[DB].read(digest_pages.get, "2026-W48", "bureau")
    n = sent["new_total"]
    built = await app[DB].read(lambda db: digest.build(db, "2026-W48", app[DISPATCHER].clock.now(), TZ))
    # what is stored renders the page a fresh build renders (everything the page shows is kept)
    assert web_.render_html(digest.from_data(sent), TZ) == web_.render_html(built, TZ)
    many = digest.to_data(dataclasses.replace(built, overdue_now=built.overdue_now * 200))
    assert len(many["overdue_now"]) == digest.OVERDUE_STORED and many["overdue_total"] == 200 * built.overdue_count
    assert f"另有 {200 * built.overdue_count - 20} 件" in web_.render_html(digest.from_data(many), TZ)
    # later: one more ticket in W48 (a late import), and a fix to the page's template
    await app[DB].run(lambda db: db.execute("UPDATE tickets SET created_at = ? WHERE id = (SELECT max(id) FROM "
                                            "tickets WHERE created_at < ?)", [W48 + 3600, W48]))
    rebuilt = await app[DB].read(lambda db: digest.build(db, "2026-W48", app[DISPATCHER].clock.now(), TZ))
    assert rebuilt.new_total == n + 1

    def no_build(*args, **kwargs):
        raise AssertionError("the page was built again on loading")
    monkeypatch.setattr(digest, "build", no_build)
    monkeypatch.setattr(digest, "build_all", no_build)
    source = web_.TEMPLATES.get_source(jinja2.Environment(), "digest.html")[0]
    fixed = source.replace("<span>本周新增</span>", "<span>本周新增留言</span>")
    assert fixed != source
    monkeypatch.setattr(web_, "_ENV", web_._configure(jinja2.Environment(
        loader=jinja2.DictLoader({"digest.html": fixed}), autoescape=True)))
    await app[DB].run(lambda db: db.execute(
        "INSERT INTO digest_pages (week, scope, body, built_at) VALUES ('2026-W47', 'bureau', ?, ?)",
        [zlib.compress("<p>旧页面</p>".encode()), app[DISPATCHER].clock.now() - 7 * 86400]))
    pages = {}
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as client:
        for week in ("2026-W48", "2026-W47"):
            async with client.get(_path(digest_link(app[CONFIG], week, "bureau", app[DISPATCHER].clock.now()))) as r:
                assert r.status == 200
                pages[week] = await r.text()
    assert f"<b>{n}</b><span>本周新增留言</span>" in pages["2026-W48"]  # the fix, and the figure as sent
    assert pages["2026-W47"] == "<p>旧页面</p>"
