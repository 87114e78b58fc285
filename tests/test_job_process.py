"""The job process (bot/digest_job.py): the weekly digest built there is the one built in the service's own
process; a child killed half-way leaves nothing written and the job is finished by its retry; a run cut short
on the writer leaves whole scopes only; and every scope goes out once, however many runs or processes race."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from concurrent.futures.process import BrokenProcessPool

import pytest

from bot import digest_job
from bot import scheduler as sched
from bot.app import DB, JOB_PROCESS, JOBS, SCHEDULER, create_app
from handlers.clock import FixedClock
from storage import digest_pages, outbox, staff, tickets
from tests.conftest import running
from tests.test_process import SMALL_RULES
from tests.test_digest import at, fixture

pytestmark = pytest.mark.slow  # each starts the job process (a child Python building a router)

WEEK = "2026-W48"
MONDAY = "2026-11-30 10:00"  # after the digest of W48 is due
PEOPLE = [("o_lead", "jyj", "leader", "周局长"), ("o_head", "jn-syxx", "supervisor", "赵校长"),
          ("o_fees", "jyj-sfc", "supervisor", "钱处长")]


def _slow_prepare(*args):
    """In the child: long enough for the test to kill it half-way."""
    time.sleep(60)
    return digest_job.prepare(*args)


async def _seed(app) -> None:
    # The service's child runs at nice 19 (the webhook first); on a machine shared with other work that makes a
    # test wait for idle CPU. What is tested here is what the child does, not its priority.
    app[JOB_PROCESS].nice = 0
    await app[DB].run(fixture)
    await app[DB].run(lambda db: [staff.bind(db, o, unit, role, name, 0) for o, unit, role, name in PEOPLE])


async def _sent(app) -> dict:
    """What the digest left in the database: the pushes per person, the stored pages and topics, the sent marks."""
    db = app[DB]
    pushes = {o: [json.loads(r["payload"])["content"] for r in await db.read(outbox.list_for, o)]
              for o, *_ in PEOPLE}
    scopes = ("bureau", "jn-syxx", "jyj-sfc")
    return {"pushes": pushes,
            "pages": {s: await db.read(digest_pages.get, WEEK, s) for s in scopes},
            "topics": {s: await db.read(tickets.topics, WEEK, s) for s in scopes},
            "sent": sorted(await db.read(tickets.digests_sent, WEEK))}


async def _run_once(make_config, tmp_path, name: str, separate: bool) -> dict:
    app = create_app(make_config(storage={"path": str(tmp_path / f"{name}.db")},
                                 digest={"separate_process": separate}), clock=FixedClock(at(MONDAY)))
    async with running(app):
        app[SCHEDULER].pause()
        await _seed(app)
        assert await app[JOBS].weekly_digest() == len(PEOPLE)
        assert app[JOB_PROCESS].spawned == (1 if separate else 0)
        return await _sent(app)


async def test_the_job_process_builds_the_same_digest_as_the_service_itself(make_config, tmp_path):
    """Same data, same clock: the texts each person gets, the stored pages and hot topics are identical whether
    the job process or a reader thread of the service built them."""
    here = await _run_once(make_config, tmp_path, "here", separate=False)
    child = await _run_once(make_config, tmp_path, "child", separate=True)
    assert child == here
    assert all(len(p) == 1 for p in child["pushes"].values()) and child["sent"] == ["bureau", "jn-syxx", "jyj-sfc"]
    assert "江南区实验小学上周留言周报" in child["pushes"]["o_head"][0]
    assert all(page and page["scope"] == scope and page["week"] == WEEK for scope, page in child["pages"].items())


async def test_a_killed_job_process_leaves_nothing_and_the_retry_sends_each_digest_once(make_config, monkeypatch):
    """SIGKILL the child in the middle of building: the run fails, nothing of the week is recorded or queued; the
    scheduler's retry starts a new child and sends every digest, once. (What each digest says is the test above's:
    here the children build their routers from the small rules.)"""
    app = create_app(make_config(digest={"separate_process": True}, routing={"rules": str(SMALL_RULES)}),
                     clock=FixedClock(at(MONDAY)))
    async with running(app):
        app[SCHEDULER].pause()
        await _seed(app)
        jobs = app[JOB_PROCESS]
        monkeypatch.setattr(digest_job, "prepare", _slow_prepare)  # pickled by name: the child runs this
        run = asyncio.ensure_future(app[JOBS].weekly_digest())
        deadline = time.monotonic() + 60
        while jobs.pid() is None:
            assert time.monotonic() < deadline and not run.done(), "no job process started"
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # the child is inside the call now
        os.kill(jobs.pid(), signal.SIGKILL)
        with pytest.raises(BrokenProcessPool):
            await run
        nothing = await _sent(app)
        assert nothing["sent"] == [] and all(p == [] for p in nothing["pushes"].values())
        assert all(v is None for v in nothing["pages"].values()) and all(v is None for v in nothing["topics"].values())

        monkeypatch.undo()
        retry = app[SCHEDULER].get_job("weekly-digest-retry")
        assert retry is not None and retry.trigger.interval.total_seconds() == sched.DIGEST_RETRY_MINUTES * 60
        assert await retry.func() == len(PEOPLE)
        assert jobs.spawned == 2  # a fresh child after the killed one
        assert await retry.func() == 0  # nothing left: one cheap read, no child call
        done = await _sent(app)
        assert done["sent"] == ["bureau", "jn-syxx", "jyj-sfc"]
        assert all(len(p) == 1 for p in done["pushes"].values())


async def test_a_run_cut_short_on_the_writer_leaves_whole_scopes_and_the_retry_finishes_it(make_config,
                                                                                            monkeypatch):
    """The parent records a few scopes per transaction. Stopped after the first (here: the second write fails),
    the first scope is complete — topics, page, sent mark, pushes — and no trace of the others; the retry sends
    the rest, and nobody gets a digest twice."""
    from bot.app import DISPATCHER
    app = create_app(make_config(), clock=FixedClock(at(MONDAY)))
    async with running(app):
        app[SCHEDULER].pause()
        await _seed(app)
        monkeypatch.setattr(sched, "JOB_WRITE_SECONDS", 0)  # one scope a write
        real = app[DISPATCHER].digest_record_some_tx
        calls = []

        def failing(db, week, items, seconds):
            out = real(db, week, items, seconds)
            calls.append([i["scope"] for i in items[:out[1]]])
            if len(calls) == 2:  # written, then the transaction fails: rolled back whole
                raise RuntimeError("the writer went away")
            return out
        monkeypatch.setattr(app[DISPATCHER], "digest_record_some_tx", failing)
        with pytest.raises(RuntimeError):
            await app[JOBS].weekly_digest()
        first = calls[0][0]
        half = await _sent(app)
        assert half["sent"] == [first]
        assert half["pages"][first] is not None and half["topics"][first] is not None
        assert all((v is None) == (s != first) for s, v in half["pages"].items())
        assert sum(len(p) for p in half["pushes"].values()) == 1

        monkeypatch.undo()
        assert await app[JOBS].weekly_digest() == len(PEOPLE) - 1
        done = await _sent(app)
        assert done["sent"] == ["bureau", "jn-syxx", "jyj-sfc"]
        assert all(len(p) == 1 for p in done["pushes"].values())


async def test_each_digest_goes_out_once_when_runs_and_writer_processes_race(make_config, tmp_path):
    """The cron run, the start-up catch-up and the retry in one process, and two services (a writer restarted
    while the old one still ran) on one file, all at once: each person gets the week's digest once."""
    config = make_config(storage={"path": str(tmp_path / "shared.db")})
    first = create_app(config, clock=FixedClock(at(MONDAY)))
    second = create_app(config, clock=FixedClock(at(MONDAY)), role="writer")
    async with running(first), running(second):
        first[SCHEDULER].pause()
        second[SCHEDULER].pause()
        await _seed(first)
        runs = [first[SCHEDULER].get_job(j).func for j in ("weekly-digest", "weekly-digest-retry")]
        runs += [second[SCHEDULER].get_job(j).func for j in ("weekly-digest", "weekly-digest-retry")]
        sent = await asyncio.gather(*(run() for run in runs))
        assert sum(sent) == len(PEOPLE)
        done = await _sent(first)
        assert all(len(p) == 1 for p in done["pushes"].values())
        assert done["sent"] == ["bureau", "jn-syxx", "jyj-sfc"]


async def test_an_http_worker_runs_no_jobs(make_config):
    """serve --workers N: only the writer process schedules the jobs; an HTTP worker has no scheduler."""
    app = create_app(make_config(), clock=FixedClock(at(MONDAY)), role="http-0")
    async with running(app):
        assert SCHEDULER not in app and JOBS not in app


async def test_the_job_process_is_reused_then_retired_when_idle(make_config):
    """Two calls, one child (the router is built once); unused for idle_seconds it exits, and the next call
    starts another. (The child's router is built from the small rules: its life is what is looked at.)"""
    from bot.app import CONFIG
    app = create_app(make_config(digest={"separate_process": True}, routing={"rules": str(SMALL_RULES)}),
                     clock=FixedClock(at(MONDAY)))
    async with running(app):
        app[SCHEDULER].pause()
        await _seed(app)
        jobs = app[JOB_PROCESS]
        jobs.idle_seconds = 0.5
        now = at(MONDAY)
        pages = [await digest_job.render_async(jobs, app[CONFIG], WEEK, scope, now) for scope in ("bureau", "jyj-sfc")]
        assert all("留言周报" in p for p in pages) and jobs.spawned == 1
        pid = jobs.pid()
        await asyncio.sleep(1.5)
        assert jobs.pid() is None
        deadline = time.monotonic() + 10
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            await asyncio.sleep(0.1)  # the retired child exits on its own
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
        assert await jobs.call(os.getpid) not in (pid, os.getpid())  # a new child
        assert jobs.spawned == 2


async def test_a_backlog_of_topic_terms_is_cut_in_the_job_process_as_the_service_would(make_config, tmp_path,
                                                                                        monkeypatch):
    """After an upgrade the hot-topic terms of a year of tickets are cut: full batches go to the job process
    (minutes of jieba away from the webhook's GIL), the last short one on a reader. Every ticket's stored terms
    are what the service's own tokenizer cuts."""
    from bot.app import DISPATCHER
    from handlers import topics
    from tests.test_digest import add
    monkeypatch.setattr(sched, "TERMS_BATCH", 20)
    words = ["食堂饭菜太差", "课外辅导班收费太高", "校车超载很危险", "作业太多写到半夜", "资料费不给收据"]
    app = create_app(make_config(digest={"separate_process": True}), clock=FixedClock(at(MONDAY)))
    async with running(app):
        app[SCHEDULER].pause()
        app[JOB_PROCESS].nice = 0
        await app[DB].run(lambda db: [add(db, i, "jyj-sfc", created=at("2026-11-20 10:00") + i,
                                          accept_due=at("2026-11-21 10:00"), due=at("2026-11-27 10:00"), text=f"{words[i % 5]}，第{i}次反映，{words[(i * 3) % 5]}")
                                      for i in range(1, 51)])
        calls = []
        real = app[JOB_PROCESS].call
        monkeypatch.setattr(app[JOB_PROCESS], "call", lambda fn, *a: calls.append(fn.__name__) or real(fn, *a))
        assert await app[JOBS].topic_terms() == 51  # 50 tickets and the end-of-the-way-back row
        assert calls == ["cut_terms", "cut_terms"]  # two full batches there, the last 10 here
        stored = await app[DB].read(lambda db: dict(db.execute(
            "SELECT ticket_id, terms FROM ticket_terms WHERE ticket_id > 0").fetchall()))
        texts_ = await app[DB].read(lambda db: dict(db.execute("SELECT id, text FROM tickets").fetchall()))
        tokenizer = app[DISPATCHER].router.tokenizer
        assert len(stored) == 50
        assert {i: " ".join(t) for i, t in zip(texts_, topics.terms_of(list(texts_.values()), tokenizer))} == stored
        assert any("食堂饭菜" in t for t in stored.values())


async def test_the_retry_runs_on_the_digests_day_only(make_config):
    """On Wednesday the retry leaves last week's digest alone (a supervisor bound since would get a stale one);
    the start-up catch-up still sends what is missing, as before."""
    clock = FixedClock(at("2026-12-02 10:00"))  # Wednesday after W48's digest was due
    app = create_app(make_config(), clock=clock)
    async with running(app):
        app[SCHEDULER].pause()
        await _seed(app)
        assert await app[SCHEDULER].get_job("weekly-digest-retry").func() == 0
        assert (await _sent(app))["sent"] == []
        clock.at = at("2026-12-01 08:59")  # within a day of Monday 09:00
        assert await app[SCHEDULER].get_job("weekly-digest-retry").func() == len(PEOPLE)


async def test_the_search_backlog_is_segmented_in_the_job_process_and_stored_alike(make_config, tmp_path,
                                                                                    monkeypatch):
    """After an upgrade the tickets older than the search index are segmented in the job process (jieba over a
    year of tickets, away from the webhook's GIL), a batch at a time, and stored on the writer: the index then
    holds for every ticket what the reader path (storage.search.backfill_documents in the service) gives. With
    nothing to backfill, the job is one read and starts no process."""
    from storage import search
    from tests.test_search_backfill import _as_before_the_upgrade, _make
    monkeypatch.setattr(sched, "SEARCH_BATCH", 20)
    app = create_app(make_config(digest={"separate_process": True}), clock=FixedClock(at(MONDAY)))
    async with running(app):
        app[SCHEDULER].pause()
        app[JOB_PROCESS].nice = 0
        jobs = app[JOB_PROCESS]
        calls = []
        real = jobs.call
        monkeypatch.setattr(jobs, "call", lambda fn, *a: calls.append(fn.__name__) or real(fn, *a))
        assert await app[JOBS].search_backfill() == 0 and calls == []  # a new database: nothing to do
        ids = await app[DB].run(_make, 45)
        await app[DB].run(_as_before_the_upgrade)
        expected = dict((await app[DB].read(search.backfill_documents, 100))[0])  # the reader path's documents
        assert await app[JOBS].search_backfill() == 45
        assert calls == ["search_documents"] * 3  # 20 + 20 + 5 (the end of the way back needs no call)
        stored = await app[DB].read(lambda db: dict(db.execute(
            "SELECT rowid, words FROM tickets_fts").fetchall()))
        assert stored == expected and set(stored) == set(ids)
        assert await app[DB].read(search.backfill_pending) is None
        calls.clear()
        assert await app[JOBS].search_backfill() == 0 and calls == []  # done: one read, no call
