"""Issue 10 (branch jobs9): what the jobs and the leaders' questions add to the webhook's tail.

A leader's figures question (本月满意率多少) is read off the writer thread (handlers.messages.ReadFirst): the same
answers; at once when the read is quick, pushed once when it is not; a process killed between the message's record
and its answer leaves it to recovery, never lost. The jobs' writes are short: the digest records scopes, and the
sweep merges each person's reminders, a few milliseconds' worth a write (bot/scheduler.py JOB_WRITE_SECONDS)."""
from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

from bot.app import DB, DISPATCHER, RECEIVER
from bot.receiver import _Answer
from handlers import deadlines, figures
from handlers.clock import FixedClock
from handlers.messages import Inbound, ReadFirst
from tests.dialog import DISTRICT_HEAD, FEES, LEADER, at, file_ticket, settle, talk

# bench/figures.py's questions, and one no row of handlers/figures.QUESTIONS answers
QUESTIONS = ["这周收到几件投诉？", "哪个学校投诉最多", "上周办结了几件", "哪个学校超期最多？", "超期几件了",
             "本月满意率多少", "哪个单位解决率最低", "上个月三率怎么样", "上周各单位情况怎么样"]
_ids = iter(range(10**9, 2 * 10**9))


def _text(openid: str, text: str, now: float) -> Inbound:
    return Inbound(openid=openid, kind="text", text=text, created_at=int(now), msg_id=str(next(_ids)))


async def _seed(d) -> None:
    await file_ticket(d, "o_j9_1", "学校食堂饭菜太难吃了，孩子每天都吃不饱", scene="school:jn-syxx")
    await file_ticket(d, "o_j9_2", "实验小学放学太晚，作业太多孩子写到十一点", scene="school:jn-syxx")
    await file_ticket(d, "o_j9_3", "建议学校门口早上安排老师维持秩序", scene="school:jn-syxx", kind="suggestion")


def _spy(monkeypatch) -> list[str]:
    """The threads figures.answer runs on."""
    threads: list[str] = []
    real = figures.answer

    def answer(*args, **kw):
        threads.append(threading.current_thread().name)
        return real(*args, **kw)
    monkeypatch.setattr(figures, "answer", answer)
    return threads


async def _pushed(d, openid: str, source: str) -> list[str]:
    rows = await d.db(lambda db: db.execute("SELECT payload FROM outbox WHERE openid = ? AND channel = 'wechat' "
                                            "AND source = ?", [openid, source]).fetchall())
    return [json.loads(r[0])["content"] for r in rows]


async def test_a_leaders_figures_are_read_off_the_writer_and_the_answers_are_the_same(dialog, monkeypatch):
    d = dialog
    await _seed(d)
    d.advance(9 * 86400)  # overdue by now: the 超期 rows have something to count
    threads = _spy(monkeypatch)
    dispatcher = d.app[DISPATCHER]
    for who in (LEADER, DISTRICT_HEAD):
        for question in QUESTIONS:
            threads.clear()
            said = await talk(d, who, question, expect="周报")  # through WeChat's XML, the passive reply
            read_on = list(threads)
            threads.clear()
            inline = await dispatcher.handle(_text(who, question, d.clock.now()))  # on the writer, as before
            assert said == inline[0].text, question
            if figures.answerable(question):
                assert read_on and all(t.startswith("sqlite-reader") for t in read_on), (question, read_on)
                assert threads == ["sqlite-writer"], threads
            else:
                assert read_on == threads == [], question  # nothing to read: answered on the writer at once
    # each question's message was stored and handled once
    rows = await d.db(lambda db: db.execute("SELECT status, count(*) FROM inbound WHERE openid IN (?, ?) "
                                            "GROUP BY status", [LEADER, DISTRICT_HEAD]).fetchall())
    assert rows == [("done", 2 * len(QUESTIONS))]


async def test_the_overdue_list_is_read_off_the_writer_and_the_answers_are_the_same(dialog, monkeypatch):
    """超期 (the command, and 有哪些超期的 in words) reads the whole bureau's overdue list for a leader (~0.3 s of
    CPU at a million tickets, bench/staff_reads.py): on a reader, the same answer as read on the writer."""
    from handlers.desk import Desk
    d = dialog
    await _seed(d)
    d.advance(9 * 86400)  # overdue by now
    threads: list[str] = []
    real = Desk.overdue

    def overdue(self, *args, **kw):
        threads.append(threading.current_thread().name)
        return real(self, *args, **kw)
    monkeypatch.setattr(Desk, "overdue", overdue)
    dispatcher = d.app[DISPATCHER]
    for who in (LEADER, DISTRICT_HEAD, FEES):
        for asked in ("超期", "有哪些超期的"):
            threads.clear()
            said = await talk(d, who, asked)  # through WeChat's XML, the passive reply
            read_on = list(threads)
            threads.clear()
            inline = await dispatcher.handle(_text(who, asked, d.clock.now()))  # on the writer, as before
            assert said == inline[0].text, (who, asked)
            if who == FEES:  # not theirs to ask: refused on the writer, nothing read
                assert read_on == threads == [] and not said.startswith("超期未办结"), said
                continue
            assert said.startswith("超期未办结") and "JY" in said, said
            assert len(read_on) == 1 and read_on[0].startswith("sqlite-reader"), (who, asked, read_on)
            assert threads == ["sqlite-writer"], threads
    rows = await d.db(lambda db: db.execute("SELECT status, count(*) FROM inbound WHERE openid IN (?, ?, ?) "
                                            "GROUP BY status", [LEADER, DISTRICT_HEAD, FEES]).fetchall())
    assert rows == [("done", 6)]


async def test_a_slow_read_is_answered_by_one_push_and_a_retry_gets_no_second(dialog, monkeypatch):
    d = dialog
    await _seed(d)
    receiver, dispatcher = d.app[RECEIVER], d.app[DISPATCHER]
    monkeypatch.setattr(receiver, "reply_timeout", 0.3)
    real = dispatcher.read_for

    def slow(db, need):
        time.sleep(1.0)  # longer than the webhook waits
        return real(db, need)
    monkeypatch.setattr(receiver, "read_first", slow)
    inbound = _text(LEADER, "本月满意率多少", d.clock.now())
    assert await receiver.receive(inbound) is None  # 'success': the answer comes later
    assert await settle(d, LEADER)
    expected = (await dispatcher.handle(_text(LEADER, "本月满意率多少", d.clock.now())))[0].text
    source = f"inbound:{inbound.dedupe_key}"
    assert await _pushed(d, LEADER, source) == [expected]
    # WeChat's retry of the same message: answered 'success', nothing handled or pushed again
    assert await receiver.receive(inbound) is None
    assert await settle(d, LEADER)
    assert await _pushed(d, LEADER, source) == [expected]
    status = await d.db(lambda db: db.execute("SELECT status, deferred FROM inbound WHERE key = ?",
                                              [inbound.dedupe_key]).fetchone())
    assert status == ("done", 1)


async def test_a_process_killed_before_the_read_leaves_the_question_to_recovery(dialog):
    d = dialog
    await _seed(d)
    receiver, dispatcher, db = d.app[RECEIVER], d.app[DISPATCHER], d.app[DB]
    inbound = _text(LEADER, "上个月三率怎么样", d.clock.now())
    key = inbound.dedupe_key
    # the first handling (as the webhook's, in an optimistic batch): stored, and the read asked for
    need = await db.run_redoable(receiver._claim_and_handle, key, inbound, _Answer(passive_ok=True))
    assert isinstance(need, ReadFirst) and need.what == "figures"
    assert await d.db(lambda c: c.execute("SELECT status FROM inbound WHERE key = ?", [key]).fetchone()) == \
        ("received",)
    # ...the process dies here. The next one (or the orphans job) finds it unhandled and answers it by push.
    assert await receiver.recover(received_before=d.clock.now() + 1) == 1
    assert await settle(d, LEADER)
    expected = (await dispatcher.handle(_text(LEADER, "上个月三率怎么样", d.clock.now())))[0].text
    assert await _pushed(d, LEADER, f"inbound:{key}") == [expected]
    assert await receiver.recover(received_before=d.clock.now() + 1) == 0
    assert await _pushed(d, LEADER, f"inbound:{key}") == [expected]


async def test_a_failing_read_is_read_on_the_writer_and_still_answered(dialog, monkeypatch):
    d = dialog
    await _seed(d)
    receiver = d.app[RECEIVER]

    def broken(db, need):
        raise RuntimeError("reader gone")
    monkeypatch.setattr(receiver, "read_first", broken)
    threads = _spy(monkeypatch)
    said = await talk(d, LEADER, "这周收到几件投诉？", expect=["全局收到投诉2件", "周报"])
    assert threads == ["sqlite-writer"] and said


async def test_the_digest_records_a_few_scopes_a_write_each_once(make_config, monkeypatch):
    """Each write of the weekly job records as many scopes as fit in JOB_WRITE_SECONDS (each whole, at least
    one): with a scope's record made to cost 4 ms, no write holds more than two, and every scope is sent once."""
    import bot.scheduler as sched
    from bot.app import JOBS, SCHEDULER, create_app
    from storage import digest_pages
    from tests.conftest import running
    from tests.test_job_process import MONDAY, PEOPLE, _seed as seed_digest, _sent
    app = create_app(make_config(), clock=FixedClock(at(MONDAY)))
    async with running(app):
        app[SCHEDULER].pause()
        await seed_digest(app)
        real_save, real_some = digest_pages.save, app[DISPATCHER].digest_record_some_tx
        writes = []

        def slow_save(*args, **kw):
            time.sleep(0.004)
            return real_save(*args, **kw)

        def some(db, week, items, seconds):
            out = real_some(db, week, items, seconds)
            writes.append(out[1])
            return out
        monkeypatch.setattr(digest_pages, "save", slow_save)
        monkeypatch.setattr(app[DISPATCHER], "digest_record_some_tx", some)
        assert sched.JOB_WRITE_SECONDS <= 0.005
        assert await app[JOBS].weekly_digest() == len(PEOPLE)
        assert max(writes) <= 2 and sum(writes) == 3, writes
        done = await _sent(app)
        assert done["sent"] == ["bureau", "jn-syxx", "jyj-sfc"]
        assert all(len(p) == 1 for p in done["pushes"].values())


@pytest.mark.parametrize("held_delete", [2000, 5])
async def test_a_person_holding_many_reminders_gets_the_same_one_push_read_from_the_first_of_each_kind(
        make_config, monkeypatch, held_delete):
    """The merge reads how many of each kind a person holds and only the first MERGED_LINES of each (a leader
    holds thousands after the first sweep of an upgrade); the push is what merging every row gave. The merged
    rows are deleted HELD_DELETE a write (here also 5: over several writes), never merged again."""
    from bot.app import SCHEDULER, create_app
    from storage import outbox, staff
    from tests.conftest import running
    from tests.test_digest import add
    monkeypatch.setattr(outbox, "HELD_DELETE", held_delete)
    app = create_app(make_config(), clock=FixedClock(at("2026-11-30 10:00")))
    async with running(app):
        app[SCHEDULER].pause()
        d = app[DISPATCHER]
        now = d.clock.now()

        def setup(db):
            staff.bind(db, "o_h", "jyj-sfc", "handler", "办理人", 0)
            staff.bind(db, "o_s", "jyj-sfc", "supervisor", "处长", 0)
            for n in range(1, 41):  # accept due, 80 %, overdue and escalated: every kind, 40 tickets
                due = now + (5 - n % 4 * 3) * 86400
                add(db, n, "jyj-sfc", created=now - 10 * 86400 + n * 60, accept_due=now - 86400 * (n % 2),
                    due=due, state="assigned" if n % 3 else "accepted")
            db.execute("UPDATE tickets SET check_at = 0")
        await app[DB].run(setup)
        ids = await app[DB].read(lambda db: [r[0] for r in db.execute("SELECT id FROM tickets")])
        await app[DB].run(d.sweep_some_tx, ids, 60)  # the visits hold each reminder
        held = await app[DB].run(lambda db: db.execute(
            "SELECT id, openid, payload, source FROM held_pushes ORDER BY id").fetchall())
        by_person: dict[str, list] = {}
        for id_, openid, payload, source in held:
            by_person.setdefault(openid, []).append({"id": id_, "payload": json.loads(payload), "source": source})
        assert max(len(rows) for rows in by_person.values()) > 2 * deadlines.MERGED_LINES
        expected = {}
        for openid, rows in by_person.items():  # what merging every row (the code before) made
            rows.sort(key=lambda r: (deadlines.URGENCY.index(r["payload"]["hold"]["kind"]),
                                     r["payload"]["hold"].get("at") or 0))
            expected[openid] = rows[0]["payload"]["content"] if len(rows) == 1 else \
                deadlines.merged_text([r["payload"]["hold"] for r in rows])
        steps = 1
        while (await app[DB].run(d.gather_some_tx, 0))[1]:
            steps += 1
        assert steps > len(expected) if held_delete == 5 else steps == len(expected)
        pushes = await app[DB].run(lambda db: db.execute(
            "SELECT openid, payload FROM outbox WHERE source = 'deadlines' AND channel = 'wechat'").fetchall())
        assert sorted(o for o, _ in pushes) == sorted(expected)  # one push a person
        for openid, payload in pushes:
            assert json.loads(payload)["content"] == expected[openid]
        assert await app[DB].run(lambda db: db.execute("SELECT count(*) FROM held_pushes").fetchone()[0]) == 0
        assert await app[DB].run(lambda db: db.execute("SELECT count(*) FROM held_merged").fetchone()[0]) == 0


async def test_a_jobs_write_waits_for_the_messages_in_hand(tmp_path):
    """Database.idle: at once when the writer has nothing in hand; while a write runs, until its batch is done
    (or the timeout)."""
    from storage.db import Database
    db = Database(tmp_path / "idle.db").start()
    try:
        assert await db.idle(0.01) is True
        hold = threading.Event()
        running = asyncio.ensure_future(db.run(lambda _db: hold.wait(60)))  # (set below, however loaded)
        await asyncio.sleep(0.05)
        assert await db.idle(0.05) is False  # the write is still in hand
        waiting = asyncio.ensure_future(db.idle(5))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        hold.set()
        assert await waiting is True
        await running
    finally:
        db.close()


async def test_unfinished_messages_are_chosen_on_a_reader_and_reminded_a_few_a_write_once(dialog, monkeypatch):
    """The sweep's unfinished messages: who is due a reminder, and whose message expired, are read on a reader
    (a scan of the day's conversations); the writer reminds or keeps DRAFTS_BATCH people a write, each checked
    again, each reminded once."""
    import bot.scheduler as sched
    from bot.app import SCHEDULER
    from tests.dialog import heard, quiet
    d = dialog
    people = [f"o_j9_draft{i}" for i in range(3)]
    for p in people:
        await talk(d, p, "我要投诉有的学校以资料费名义乱收费", expect="哪所学校")
    monkeypatch.setattr(sched, "DRAFTS_BATCH", 1)
    dispatcher, real = d.app[DISPATCHER], d.app[DISPATCHER].drafts_tx
    writes = []

    def drafts_tx(db, remind=None, expire=None):
        writes.append((list(remind or []), list(expire or [])))
        return real(db, remind, expire)
    monkeypatch.setattr(dispatcher, "drafts_tx", drafts_tx)
    sweep = d.app[SCHEDULER].get_job("deadlines").func
    d.advance(21 * 60)
    await sweep()
    assert sorted(w[0][0] for w in writes) == sorted(people) and all(len(r) + len(e) <= 2 for r, e in writes)
    for p in people:
        await heard(d, p, expect=["还没有提交", "哪所学校"])
    writes.clear()
    await sweep()
    assert writes == []  # reminded once: nobody is chosen again
    for p in people:
        await quiet(d, p)
    d.advance(10 * 60)
    await sweep()
    assert sorted(e[0] for _, e in writes) == sorted(people)  # expired: kept, silently
    flows = await d.db(lambda db: db.execute(
        f"SELECT DISTINCT flow FROM conversations WHERE openid IN ({','.join('?' * len(people))})", people).fetchall())
    assert flows == [("kept",)]
    for p in people:
        await quiet(d, p)
