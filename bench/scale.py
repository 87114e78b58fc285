"""Years of data: what the periodic jobs, lists and pages cost on databases of 10k, 100k and 1M tickets.

    python bench/scale.py                      # 10k, 100k and 1M (built once, cached in --data)
    python bench/scale.py --sizes 10000 100000 --repeat 5
    python bench/scale.py --sizes 100000 --webhook-seconds 20

Each database is built through a bulk path (`build`) with a realistic mix — about 200 units, ~600 citizens per
1,000 tickets, tickets arriving at 100,000 a year (so 10k spans a year of weeks, 1M ten years), kinds,
categories, states by age, the events each state implies, outbox rows, reminders, digests already sent — and
tests/test_scale.py checks the bulk path against the project's own storage code (same schema, the same events
and columns as real conversations produce, the same rates). Built files are cached under --data (outside the
repo); each measurement runs on a fresh copy.

For each size it prints the median of --repeat runs of: the deadline sweep (as the scheduler runs it), the weekly
digest job (all scopes), the digest page (HTTP, bureau), one unit's rates for a week, a submission (the final
"1"), 待办 for a handler / supervisor / leader, 查询 and 详情; start-up; the file size; and the webhook's p50/p99
(wrk, 50 connections, distinct encrypted messages) while the sweep and the digest job run in the same process.
"""
from __future__ import annotations

import argparse
import gc
import asyncio
import datetime as dt
import itertools
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import common  # (bench/common.py: this checkout on sys.path, after PYTHONPATH: an old checkout can be measured)
from storage import tickets as tickets_store  # noqa: E402  (the bulk path writes what its functions write)

TZ = ZoneInfo("Asia/Shanghai")
# The bench's "now": Monday 10:00, an hour after the weekly digest is due.
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=TZ).timestamp()
PER_YEAR = 100_000
YEAR = 365 * 86400
BUILD_VERSION = 5  # bump when the generated mix changes (cached files are rebuilt)

OFFICE_FOR = {  # category -> the demo directory's office
    "preschool": "jyj-xqc", "admission": "jyj-zsc", "fees": "jyj-sfc", "burden": "jyj-jjc",
    "tutoring": "jyj-pxc", "ethics": "jyj-sdc", "teachers": "jyj-jsc", "safety": "jyj-aqc", "exams": "jyj-ksy",
    "planning": "jyj-ghc", "vocational": "jyj-zjc", "other_edu": "jyj-bgs"}
SCHOOL_CATEGORIES = {"burden", "safety"}           # the school itself (routing.school_categories default)
DISTRICT_CATEGORIES = {"ethics", "admission", "teachers"}
CATEGORY_WEIGHTS = {"fees": 14, "burden": 16, "safety": 8, "ethics": 7, "admission": 10, "teachers": 6,
                    "tutoring": 7, "preschool": 6, "exams": 6, "planning": 4, "vocational": 3, "other_edu": 13}
KIND_WEIGHTS = {"complaint": 55, "inquiry": 25, "suggestion": 14, "praise": 6}
DAYS = {"inquiry": 3, "complaint": 7, "suggestion": 7, "praise": 7}
TOPIC_TEXT = {
    "fees": ["要求每个学生交{n}元资料费，还不给收据", "收取校服费{n}元，没有征求家长意见", "课后服务费按月收{n}元，不参加也要交"],
    "burden": ["作业太多，孩子每天写到晚上十一点", "周末补课，占用休息时间", "家庭作业要家长批改打卡"],
    "safety": ["食堂饭菜里吃出了虫子", "校门口上下学时段交通混乱，没有人疏导", "体育课器材老化，孩子受伤"],
    "ethics": ["班主任收家长红包和购物卡", "老师在校外有偿补课，暗示学生参加", "老师体罚学生，罚站一整节课"],
    "admission": ["今年小学招生划片范围怎么确定", "随迁子女入学需要什么材料", "学区房政策是否有变化"],
    "teachers": ["代课老师频繁更换，教学没有连续性", "教师职称评审结果没有公示"],
    "tutoring": ["校外培训机构收费后跑路，退费无门", "培训机构周末违规上课"],
    "preschool": ["幼儿园伙食费不公示", "普惠性幼儿园收费标准是多少"],
    "exams": ["中考体育考试项目怎么选", "高考报名时间和所需材料"],
    "planning": ["新建小区配套学校什么时候开工", "建议增加学位，班额太大"],
    "vocational": ["职业学校实习被安排到工厂流水线", "中职学生补助什么时候发放"],
    "other_edu": ["学生资助申请流程不清楚", "教育局网站信息更新不及时"],
}
NAMES = ["王老师", "张小明", "李华", "刘伟", "陈静"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- the bulk build ----------------------------------------------------------------------------------------------

def directory_rows(seed: int = 1) -> list[dict]:
    """The demo directory (bureau, offices, two districts, a few schools) grown to about 200 units."""
    from storage import directory
    from bot.demo import DEMO_DIRECTORY
    rows = directory.read_csv(DEMO_DIRECTORY)
    districts = ["jn-jyj", "jb-jyj"]
    for i, name in enumerate(["城东区", "城西区", "高新区", "开发区"]):
        code = f"d{i}-jyj"
        rows.append({"code": code, "name": f"{name}教育局", "kind": "district", "district": name, "parent": "jyj",
                     "categories": None, "commitment": None})
        districts.append(code)
    rng = random.Random(seed)
    kinds = ["school"] * 4 + ["kindergarten"]
    for i in range(200 - len(rows)):
        parent = rng.choice(districts)
        kind = rng.choice(kinds)
        name = f"第{i + 1}{'幼儿园' if kind == 'kindergarten' else rng.choice(['小学', '中学', '实验学校'])}"
        rows.append({"code": f"s{i:03d}", "name": name, "kind": kind, "district": None, "parent": parent,
                     "categories": None, "commitment": None})
    return rows


class _NoDb:
    """storage.tickets._record_miss writes its unit_misses rows through db.execute and returns them: the bulk
    path keeps what it would insert (every column, on the schema the migrations made) and writes it itself
    (with the event that names them)."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def execute(self, sql, args=()):
        if sql.startswith("PRAGMA table_info(unit_misses)"):
            return [(0, c) for c in MISS_COLUMNS]
        if sql.startswith("INSERT INTO unit_misses"):
            self.rows.append(dict(zip(sql[sql.index("(") + 1:sql.index(")")].split(", "), args)))
        return None

    def take(self) -> list[dict]:
        rows, self.rows = self.rows, []
        return rows


MISS_COLUMNS = ("ticket_id", "unit_code", "at", "action", "response", "overdue", "accept_due_at", "due_at",
                "open_from", "resolved_at")
_NO_DB = _NoDb()


class Builder:
    """Generates N tickets with their history and writes them with executemany, in id order."""

    def __init__(self, path: Path, n: int, seed: int = 1):
        from handlers.workdays import WorkCalendar
        self.path, self.n, self.rng = path, n, random.Random(seed)
        self.cal = WorkCalendar()
        self.span = max(YEAR, n / PER_YEAR * YEAR)
        self._due: dict[tuple, float] = {}

    def due(self, ts: float, days: int) -> float:
        key = (int((ts + 8 * 3600) // 86400), days)  # the local date decides
        if key not in self._due:
            self._due[key] = self.cal.due(ts, days)
        return self._due[key]

    def build(self) -> None:
        import sqlite_utils
        from storage import directory, staff
        from storage.db import Database
        Database(self.path).start().close()  # the project's schema, through its migrations
        conn = sqlite3.connect(self.path, isolation_level=None)
        # A file nobody else uses yet: no WAL for the bulk load (one huge transaction in a WAL is slow to write
        # and to checkpoint); WAL again at the end, as the service expects.
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-400000")
        conn.execute("BEGIN")
        db = sqlite_utils.Database(conn)
        units = directory_rows()
        directory.upsert(db, units)
        by_code = {u["code"]: u for u in units}
        self.schools = [u["code"] for u in units if u["kind"] in ("school", "kindergarten")]
        # Staff: a handler at every unit, a supervisor at every school and district, three leaders.
        self.handler, self.supervisor = {}, {}
        for u in units:
            if u["kind"] == "bureau":
                continue
            self.handler[u["code"]] = f"os_{u['code']}_h"
            staff.bind(db, self.handler[u["code"]], u["code"], "handler", f"{u['name']}·办理人", NOW - self.span)
            if u["kind"] in ("school", "kindergarten", "district"):
                self.supervisor[u["code"]] = f"os_{u['code']}_s"
                staff.bind(db, self.supervisor[u["code"]], u["code"], "supervisor", f"{u['name']}·负责人",
                           NOW - self.span)
        for i in range(3):
            staff.bind(db, f"os_leader{i}", "jyj", "leader", f"局领导{i}", NOW - self.span)
        self.by_code = by_code
        self._citizens(conn)
        self._tickets(conn)
        self._digests(conn)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.close()

    def _citizens(self, conn) -> None:
        count = max(50, self.n * 6 // 10)
        self.citizens = [f"o{i:08x}Bench{self.rng.getrandbits(48):012x}" for i in range(count)]
        rows = []
        for openid in self.citizens:
            first = NOW - self.rng.random() * self.span
            rows.append((openid, "school:" + self.rng.choice(self.schools), first, first))
        conn.executemany("INSERT INTO users (openid, scene, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?)", rows)

    def _unit(self, category: str, school: str) -> str:
        if category in SCHOOL_CATEGORIES:
            return school
        parent = self.by_code[self.by_code[school]["parent"]]
        if category in DISTRICT_CATEGORIES and parent["kind"] == "district":
            return parent["code"]
        return OFFICE_FOR[category]

    def _tickets(self, conn) -> None:
        rng, n = self.rng, self.n
        kinds, kind_w = zip(*KIND_WEIGHTS.items())
        cats, cat_w = zip(*CATEGORY_WEIGHTS.items())
        start = NOW - self.span
        created = sorted(start + rng.random() * (self.span - 600) for _ in range(n))
        seq: dict[str, int] = {}
        tickets, events, outbox, reminders, misses = [], [], [], [], []
        tid = eid = 0
        cols = ("id", "number", "openid", "kind", "category", "unit_code", "school_code", "text", "attachments",
                "contact_phone", "anonymous", "routing", "state", "created_at", "dispatched_at", "due_at",
                "accept_due_at", "accepted_by", "accepted_at", "resolved_at", "resolution", "rating",
                "rating_comment", "rated_at", "reopens", "closed_at", "close_reason", "bounces", "rated_unit")
        insert_t = f"INSERT INTO tickets ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        insert_e = ("INSERT INTO ticket_events (id, ticket_id, at, actor, from_state, to_state, note, action, "
                    "unit_code, kept, misses) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        insert_m = f"INSERT INTO unit_misses ({', '.join(MISS_COLUMNS)}) VALUES ({', '.join('?' * len(MISS_COLUMNS))})"
        insert_o = ("INSERT INTO outbox (openid, kind, payload, source, status, attempts, created_at, "
                    "next_attempt_at, sent_at) VALUES (?, 'text', ?, ?, ?, ?, ?, ?, ?)")
        insert_r = "INSERT OR IGNORE INTO reminders (ticket_id, kind, due_at, sent_at) VALUES (?, ?, ?, ?)"

        def flush():
            conn.executemany(insert_t, tickets)
            conn.executemany(insert_e, events)
            conn.executemany(insert_o, outbox)
            conn.executemany(insert_r, reminders)
            conn.executemany(insert_m, misses)
            tickets.clear(), events.clear(), outbox.clear(), reminders.clear(), misses.clear()

        for c in created:
            tid += 1
            kind = rng.choices(kinds, kind_w)[0]
            category = rng.choices(cats, cat_w)[0]
            school = rng.choice(self.schools)
            unit = self._unit(category, school)
            month = dt.datetime.fromtimestamp(c, TZ).strftime("%y%m")
            seq[month] = seq.get(month, 0) + 1
            number = f"JY{month}-{seq[month]:04d}"
            openid = rng.choice(self.citizens)
            text = self._text(category, school, rng)
            days = 1 if (kind == "complaint" and category == "safety") else DAYS[kind]
            due, accept_due = self.due(c, days), self.due(c, 1)
            t = dict(id=tid, number=number, openid=openid, kind=kind, category=category, unit_code=unit,
                     school_code=school, text=text, attachments="[]",
                     contact_phone=f"13{rng.randrange(10**9):09d}" if rng.random() < 0.6 else None,
                     anonymous=int(rng.random() < 0.7),
                     routing=json.dumps({"category": category, "confidence": 0.8, "school": school, "explanation": [
                         {"word": "收费" if category == "fees" else "学校", "weight": 2.0, "category": category}]},
                         ensure_ascii=False),
                     state="assigned", created_at=c, dispatched_at=c, due_at=due, accept_due_at=accept_due,
                     accepted_by=None, accepted_at=None, resolved_at=None, resolution=None, rating=None,
                     rating_comment=None, rated_at=None, reopens=0, closed_at=None, close_reason=None, bounces=0,
                     response_unit=None, resolve_unit=None, rated_unit=None, stood_in=0)
            # (at, actor, from, to, note, action, unit_code, kept, misses): as storage.tickets.create writes them
            ev = [(c, openid, None, "submitted", "留言提交", "submit", None, None, None),
                  (c, "system", "submitted", "assigned", f"分派至 {unit}", "assign", unit, tickets_store.kept(t), None)]
            push = [(self.handler[unit], c, "新留言待签收")]
            self._life(t, ev, push, rng)
            # reminders the watch sent on the way (a ticket resolved late passed its 50%/80% marks)
            end = t["resolved_at"] or NOW
            length = (due - c) or 1
            for kind_r, share in (("half", 0.5), ("eighty", 0.8), ("urge", 1.0)):
                if end - c > share * length:
                    reminders.append((tid, kind_r, due, c + share * length))
            tickets.append(tuple(t[k] for k in cols))
            for at, actor, fr, to, note, action, unit_code, kept, missed in ev:
                eid += 1
                record = [[m["unit_code"], m["response"], m["overdue"]] for m in missed or ()]
                events.append((eid, tid, at, actor, fr, to, note, action, unit_code, kept,
                               json.dumps(record, separators=(",", ":")) if record else None))
                misses += [tuple({**m, "ticket_id": tid}.get(c) for c in MISS_COLUMNS) for m in missed or ()]
            for who, at, title in push:
                status = "sent" if at < NOW - 60 else "pending"
                outbox.append((who, json.dumps({"content": f"【{title}】{number}：{text[:40]}"}, ensure_ascii=False),
                               f"inbound:wechat:msg:{tid}{len(outbox)}", status, int(status == "sent"), at, at,
                               at + 1 if status == "sent" else None))
            if len(tickets) >= 20000:
                flush()
        flush()
        # The month counters the numbering keeps (storage.tickets._next_number), where the schema has them.
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'ticket_counters'").fetchone():
            conn.executemany("INSERT INTO ticket_counters (month, last) VALUES (?, ?) "
                             "ON CONFLICT(month) DO UPDATE SET last = max(last, excluded.last)", list(seq.items()))

    def _text(self, category: str, school: str, rng) -> str:
        body = rng.choice(TOPIC_TEXT[category]).format(n=rng.choice([200, 300, 450, 600, 1200]))
        extra = ""
        r = rng.random()
        if r < 0.08:
            extra = f"，{rng.choice(NAMES)}也知道这件事"
        elif r < 0.12:
            extra = f"，我的电话13{rng.randrange(10**9):09d}"
        return f"{self.by_code[school]['name']}{body}{extra}，希望尽快处理。"

    @staticmethod
    def _move(t: dict, ev: list, at: float, actor: str, fr: str, to: str, note: str | None, action: str,
              **fields) -> None:
        """One change of the ticket and its event, as storage.tickets.transition writes them: the unit that held it
        (a rating's: the unit rated), the KEPT columns when the change moved one, and the late departure it keeps
        (unit_misses, m029) — worked out by the storage code's own functions."""
        tickets_store._record_miss(_NO_DB, {**t, "id": 0}, to, at, action, fields)
        missed = _NO_DB.take()  # the rows it would insert, as it would insert them
        before = tickets_store.kept(t)
        unit = (fields.get("rated_unit") or t["unit_code"]) if action in tickets_store.RATING_ACTIONS \
            else t["unit_code"]
        t.update(fields, state=to)
        after = tickets_store.kept(t)
        ev.append((at, actor, fr, to, note, action, unit, after if after != before else None, missed or None))

    def _life(self, t: dict, ev: list, push: list, rng) -> None:
        """Move the ticket along the path its age makes likely, as the desk and the follow-up would."""
        move = self._move
        c, age = t["created_at"], NOW - t["created_at"]
        staff = self.handler[t["unit_code"]]
        horizon = min(age, 21 * 86400)
        r = rng.random()
        if age > 21 * 86400 and r < 0.003:
            stop = rng.choice(["assigned", "accepted", "replied"])  # forgotten: still open, long overdue
        elif age > 21 * 86400:
            stop = "closed"
        else:
            stop = rng.choices(["assigned", "accepted", "replied", "resolved", "closed"],
                               [1, 2, 1, 1, 3 if age > 4 * 86400 else 0.2])[0]
        if r > 0.97:  # the citizen withdraws it early
            at = c + rng.random() * min(horizon, 86400)
            move(t, ev, at, t["openid"], "assigned", "withdrawn", None, "withdraw", closed_at=at,
                 close_reason="withdrawn")
            push.append((staff, at, "群众撤回"))
            return
        if stop == "assigned":
            return
        accept = c + rng.random() * min(horizon, 36 * 3600)
        move(t, ev, accept, staff, "assigned", "accepted", "办理人", "accept", accepted_by=staff, accepted_at=accept)
        push.append((t["openid"], accept, "留言已签收"))
        if stop == "accepted":
            return
        state = "accepted"
        if stop == "replied" or rng.random() < 0.4:
            at = accept + rng.random() * min(max(horizon - (accept - c), 1), 2 * 86400)
            move(t, ev, at, staff, "accepted", "replied", "您好，已核实，正在处理。", "reply")
            push.append((t["openid"], at, "留言有新答复"))
            state, accept = "replied", at
            if stop == "replied":
                return
        limit = (t["due_at"] - c) * (1.3 if rng.random() < 0.15 else 0.9)
        resolved = min(accept + rng.random() * limit, NOW - 60)
        if stop == "resolved" and NOW - resolved > 3 * 86400:
            resolved = NOW - rng.random() * 3 * 86400  # still within its rating window
        move(t, ev, resolved, staff, state, "resolved", "已督促学校整改。", "resolve", resolved_at=resolved,
             resolution="已督促学校整改。")
        push.append((t["openid"], resolved, "留言已办结"))
        if stop == "resolved":
            return
        x = rng.random()
        if x < 0.3:  # no rating within 3 days: closed as 未评价 by the sweep
            at = resolved + 3 * 86400 + rng.random() * 300
            move(t, ev, at, "system", "resolved", "closed", "未评价", "close", closed_at=at, close_reason="unrated")
            return
        rated = resolved + rng.random() * 2 * 86400
        if x < 0.38 and t["kind"] != "praise":  # 不满意 once: redone by the same unit, then rated again
            redo_due = self.due(rated, 3)
            move(t, ev, rated, t["openid"], "resolved", "reopened", "不满意：还是没解决", "reopen", rating=3,
                 rating_comment="还是没解决", rated_at=rated, reopens=1, due_at=redo_due,
                 rated_unit=tickets_store.credit(t)[1], resolved_at=None, resolve_unit=None, stood_in=0)
            again = rated + rng.random() * (redo_due - rated) * 0.8
            move(t, ev, again, staff, "reopened", "accepted", "办理人", "accept", accepted_by=staff, accepted_at=again)
            move(t, ev, again + 60, staff, "accepted", "resolved", "已重新办理。", "resolve", resolved_at=again + 60,
                 resolution="已重新办理。")
            rated = again + 60 + rng.random() * 86400
        score = rng.choices([1, 2, 3], [60, 28, 12])[0] if t["reopens"] == 0 else rng.choice([1, 2])
        if score == 3:  # dissatisfied, then rated again after the redo: keep the mix simple (one redo path)
            score = 2
        move(t, ev, rated, t["openid"], "resolved", "closed", {1: "满意", 2: "基本满意"}[score], "rate", rating=score,
             rating_comment=None, rated_at=rated, rated_unit=tickets_store.credit(t)[1], closed_at=rated,
             close_reason="rated")

    def _digests(self, conn) -> None:
        """Every week before the last was already sent (bureau and each supervisor's unit)."""
        from handlers import digest
        scopes = ["bureau", *sorted(self.supervisor)]
        week = digest.previous_week(digest.week_of(NOW, TZ))
        rows = []
        t = NOW - self.span
        while True:
            w = digest.week_of(t, TZ)
            if w >= week:
                break
            rows += [(w, s, digest.bounds(w, TZ)[1] + 9 * 3600) for s in scopes]
            t += 7 * 86400
        conn.executemany("INSERT OR IGNORE INTO digests (week, scope, sent_at) VALUES (?, ?, ?)", rows)


def cached(data: Path, n: int) -> Path:
    """The built database for n tickets, building it once."""
    data.mkdir(parents=True, exist_ok=True)
    path = data / f"scale-{n}-v{BUILD_VERSION}.db"
    if not path.exists():
        tmp = path.with_suffix(".building")
        for p in data.glob(tmp.name + "*"):
            p.unlink()
        t0 = time.perf_counter()
        Builder(tmp, n).build()
        for suffix in ("-wal", "-shm"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        tmp.rename(path)
        log(f"built {n:,} tickets in {time.perf_counter() - t0:.0f} s: {path} ({path.stat().st_size / 1e6:.0f} MB)")
    return path


# -- measuring --------------------------------------------------------------------------------------------------

class OffsetClock:
    """Real time moved to the bench's NOW: the server runs as if it were Monday 10:00."""

    def __init__(self):
        self.offset = NOW - time.time()

    def now(self) -> float:
        return time.time() + self.offset


def _longest(db) -> str:
    """What the longest write batch ran, and its CPU time on the writer thread against its wall time."""
    calls = ", ".join(f"{name} ×{n}" for name, n in sorted(getattr(db, "longest_batch_calls", {}).items(),
                                                           key=lambda kv: -kv[1]))
    return f"{calls}; {getattr(db, 'longest_batch_cpu', 0) * 1000:.1f} ms CPU of {db.longest_batch * 1000:.1f}"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def http_workers(app, path: Path, port: int, workers: int):
    """`serve --workers N`'s shape around this process: it becomes the writer process (its Receiver served on a
    unix socket, bot/writer.py; the jobs below run here, as they run in the writer) and N HTTP worker processes
    listen on `port`. Returns a function that stops them."""
    import multiprocessing
    import urllib.request
    from bot.app import RECEIVER, SENDER
    from bot.cli import _run_worker
    from bot.config import load_config
    from bot.writer import WriterServer
    from tests import wx
    folder = Path(tempfile.mkdtemp(prefix="scale-writer-"))
    server = WriterServer(app[RECEIVER], app[SENDER].wake)
    await server.start(folder / "writer.sock")
    config = load_config(None, env={}, overrides=with_settings({
        "wechat": {"token": wx.TOKEN, "aes_key": wx.AES_KEY, "appid": wx.APPID, "appsecret": "benchsecret",
                   "api_base": "http://127.0.0.1:9", "check_timestamp": False},
        "server": {"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}",
                   "link_secret": "bench-link-secret-0123456789abcdef", "log_level": "WARNING"},
        "storage": {"path": str(path)}}))
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_run_worker, args=(config, True, None, str(folder / "writer.sock")))
             for _ in range(workers)]
    for proc in procs:
        proc.start()
    deadline = time.monotonic() + 120
    while True:
        try:
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read())
            break
        except OSError:
            if time.monotonic() > deadline or not all(p.is_alive() for p in procs):
                raise SystemExit("the HTTP workers did not start")
            await asyncio.sleep(0.2)
    await asyncio.sleep(2)  # every worker up, not only the first
    log(f"  {workers} HTTP worker process(es) on port {port}, this process is their writer")

    async def stop():
        for proc in procs:
            proc.terminate()
        for proc in procs:
            await asyncio.get_running_loop().run_in_executor(None, proc.join, 15)
        await server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return stop


async def measure(path: Path, repeat: int, port: int, webhook_seconds: int, skip: set[str] = frozenset(),
                  connections: int = 50, page_pause_ms: int = 0, workers: int = 1, webhook_rounds: int = 1,
                  page_path: str | None = None, phases: frozenset = frozenset({"alone", "jobs", "pages"})) -> dict:
    from aiohttp import web
    from bot.app import CLOCK, DB, DISPATCHER, SCHEDULER
    from bot.cli import _serving_app
    from bot.config import load_config
    from handlers.clock import Clock
    from handlers.messages import Inbound

    from tests import wx
    config = load_config(None, env={}, overrides=with_settings({
        "wechat": {"token": wx.TOKEN, "aes_key": wx.AES_KEY, "appid": wx.APPID, "appsecret": "benchsecret",
                   "api_base": "http://127.0.0.1:9", "check_timestamp": False},
        "server": {"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}",
                   "link_secret": "bench-link-secret-0123456789abcdef"},
        "storage": {"path": str(path)}}))
    clock = type("BenchClock", (OffsetClock, Clock), {})()
    out: dict = {}
    # Desk.rehome (audit12: complaints about the bureau left at an office that may be accused, handed on) runs
    # inside start-up, on the writer: timed on its own, wall and the writer thread's CPU
    from handlers.desk import Desk
    real_rehome = Desk.rehome

    def timed_rehome(self, db_, _real=real_rehome):
        t, c = time.perf_counter(), time.thread_time()
        try:
            return _real(self, db_)
        finally:
            out["rehome_ms"] = (time.perf_counter() - t) * 1000
            out["rehome_cpu_ms"] = (time.thread_time() - c) * 1000
    Desk.rehome = timed_rehome
    t0 = time.perf_counter()
    # as `serve` makes it: with the process's own settings (the collector's freeze after start-up, bot/runtime.py);
    # without them every full collection walked jieba's dictionary and the router with the GIL held (170-380 ms)
    app = _serving_app(config, clock)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    out["startup_ms"] = (time.perf_counter() - t0) * 1000
    Desk.rehome = real_rehome
    app[SCHEDULER].pause()
    from bot.app import SENDER
    # Nothing is delivered in the bench (the API is a closed port): without the sender, its retries of every push
    # the jobs queue do not mix into the writer's figures.
    await app[SENDER].stop()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    db, d = app[DB], app[DISPATCHER]
    read = getattr(db, "read", None) or db.run
    if PROBE is not None:
        PROBE.install(db)
    global JOB_PID
    from bot.app import JOB_PROCESS
    JOB_PID = app[JOB_PROCESS].pid if JOB_PROCESS in app else None
    # The jobs' own writes, timed inside the writer (a batch also holds the messages grouped with them): how long
    # each of their calls holds the write lock.
    own, own_cpu = {}, {}
    # (digest_record_some_tx: the digest's writes since jobs9; the older code's are digest_record_tx)
    for name in ("digest_record_tx", "digest_record_some_tx", "sweep_some_tx", "gather_some_tx", "drafts_tx"):
        real = getattr(d, name, None)
        if real is None:
            continue

        def timed_call(db_, *args, _real=real, _name=name):
            t, m, c = time.perf_counter(), time.monotonic(), time.thread_time()
            try:
                return _real(db_, *args)
            finally:
                own.setdefault(_name, []).append(time.perf_counter() - t)
                own_cpu.setdefault(_name, []).append(time.thread_time() - c)
                if PROBE is not None:
                    PROBE.mark(_name, m)
        timed_call.__qualname__ = name  # the writer's longest batch names the job's call
        setattr(d, name, timed_call)
    try:
        # wait for what start-up set going (catch-up sweep and digest) so the figures below are steady-state
        await asyncio.sleep(0.5)
        jobs = {j.id: j.func for j in app[SCHEDULER].get_jobs()}
        sweep_job, digest_job = jobs["deadlines"], jobs["weekly-digest"]
        if "upgrade-fill" in jobs:  # m062: m060's back-fill after start-up, in short writes
            from storage import tickets as tickets_
            left = await read(lambda c: c.execute("SELECT count(*) FROM resolve_since_todo").fetchone()[0])
            out["resolve_since_left"] = left
            recredit = await read(tickets_.recredit_range)
            out["recredit_left"] = recredit[1] - recredit[0] - 1 if recredit else 0
            kept = await read(tickets_.kept_resolved_range)  # m067: 办结 cleared by a 不满意 before the upgrade
            out["kept_resolved_left"] = kept[1] - kept[0] - 1 if kept else 0
            if left or recredit or kept:
                from handlers import digest as digest_
                from handlers import rates as rates_
                w_start, w_end = digest_.bounds(digest_.previous_week(digest_.week_of(NOW, TZ)), TZ)
                t = time.perf_counter()
                await read(rates_.for_period, w_start, w_end, ["jyj-sfc"])  # a unit's week read during the fill
                out["rates_unit_pending_ms"] = (time.perf_counter() - t) * 1000
                t = time.perf_counter()
                await read(rates_.for_period, w_start, w_end, None)
                out["rates_all_pending_ms"] = (time.perf_counter() - t) * 1000
                store, some, writes = tickets_.resolve_since_store, tickets_.recredit_store, []
                keep = tickets_.kept_resolved_store

                def timed_write(db_, arg, _real):
                    t_, c_ = time.perf_counter(), time.thread_time()
                    try:
                        return _real(db_, arg)
                    finally:
                        writes.append((time.perf_counter() - t_, time.thread_time() - c_))
                tickets_.resolve_since_store = lambda db_, done: timed_write(db_, done, store)
                tickets_.recredit_store = lambda db_, *args: timed_write(db_, args, lambda d_, a: some(d_, *a))
                tickets_.kept_resolved_store = lambda db_, *args: timed_write(db_, args, lambda d_, a: keep(d_, *a))
                db.longest_batch = 0.0
                t, c = time.perf_counter(), time.process_time()
                await jobs["upgrade-fill"]()
                while await read(tickets_.resolve_since_pending) or await read(tickets_.recredit_range) or \
                        await read(tickets_.kept_resolved_range):
                    await asyncio.sleep(0.1)  # the scheduler's own run, if it had begun
                out["resolve_since_fill_ms"] = (time.perf_counter() - t) * 1000
                out["resolve_since_fill_cpu_ms"] = (time.process_time() - c) * 1000
                tickets_.resolve_since_store, tickets_.recredit_store = store, some
                tickets_.kept_resolved_store = keep
                out["resolve_since_fill_writes"] = len(writes)
                out["resolve_since_fill_write_max_ms"] = max(w for w, _ in writes) * 1000 if writes else None
                out["resolve_since_fill_write_cpu_max_ms"] = max(c_ for _, c_ in writes) * 1000 if writes else None
                out["resolve_since_fill_lock_ms"] = db.longest_batch * 1000
                t = time.perf_counter()
                await read(rates_.for_period, w_start, w_end, ["jyj-sfc"])
                out["rates_unit_filled_ms"] = (time.perf_counter() - t) * 1000
                t = time.perf_counter()
                await read(rates_.for_period, w_start, w_end, None)
                out["rates_all_filled_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        db.longest_batch = 0.0
        await sweep_job()
        out["sweep_first_ms"] = (time.perf_counter() - t) * 1000
        out["sweep_first_lock_ms"] = db.longest_batch * 1000
        out["sweep_first_lock_what"] = _longest(db)

        async def timed(fn, n=repeat):
            log(f"  {getattr(fn, '__name__', 'step')} ×{n}")
            samples = []
            for _ in range(n):
                t = time.perf_counter()
                await fn()
                samples.append(time.perf_counter() - t)
            return median_ms(samples)

        out["sweep_ms"] = await timed(sweep_job)
        from handlers import digest
        week = digest.previous_week(digest.week_of(NOW, TZ))

        async def digest_once():
            await db.run(lambda c: c.execute("DELETE FROM digests WHERE week = ?", [week]))
            db.longest_batch = 0.0
            await digest_job()
            if db.longest_batch * 1000 >= out.get("digest_job_lock_ms", 0):
                out["digest_job_lock_ms"] = db.longest_batch * 1000
                out["digest_job_lock_what"] = _longest(db)
        if "digest_job" not in skip:
            out["digest_job_ms"] = await timed(digest_once, max(1, min(repeat, 3)))
        sent = await read(lambda c: c.execute("SELECT count(*) FROM digests WHERE week = ?", [week]).fetchone()[0])
        out["digest_scopes"] = sent

        import aiohttp
        from bot.web import digest_link
        url = digest_link(config, week, "bureau")
        async with aiohttp.ClientSession() as session:
            async def page():
                pages = getattr(__import__("bot.web", fromlist=["PAGES"]), "PAGES", None)
                if pages is not None:
                    app[pages].clear()  # a build each time, not the minute's cached page
                async with session.get(url) as resp:
                    assert resp.status == 200, resp.status
                    await resp.read()
            out["digest_page_ms"] = await timed(page)
            if not sent and "topic-terms" in jobs:
                # No stored digest: the page is built live. The built files hold no ticket's hot-topic terms (a
                # service cuts each new ticket's within the minute, and after an upgrade the last TERMS_DAYS once,
                # newest first): the figure above is the page's cost before that, this one after the job's run.
                def week_terms(c):
                    return c.execute("SELECT count(*), count(w.ticket_id) FROM tickets t LEFT JOIN ticket_terms w "
                                     "ON w.ticket_id = t.id WHERE t.created_at >= ? AND t.created_at < ?",
                                     digest.bounds(week, TZ)).fetchone()
                if await read(lambda c: c["ticket_terms"].exists()):
                    t = time.perf_counter()
                    out["terms_backlog_n"] = await jobs["topic-terms"]()
                    out["terms_backlog_ms"] = (time.perf_counter() - t) * 1000
                    total_, stored_ = await read(week_terms)
                    out["terms_week_stored"] = f"{stored_} of {total_}"
                    out["digest_page_terms_ms"] = await timed(page)

        unit = "jyj-sfc"
        start, end = digest.bounds(week, TZ)
        from handlers import rates
        if hasattr(rates, "for_period"):
            async def unit_rates():
                await read(rates.for_period, start, end, [unit])
        else:
            from storage import tickets

            async def unit_rates():
                rows = await db.run(tickets.created_before, end)
                rates.compute([r for r in rows if r["unit_code"] == unit], start, end)
        out["rates_unit_ms"] = await timed(unit_rates)

        n = [0]

        async def say(openid, text=None, **kw):
            n[0] += 1
            kind = "event" if "event" in kw else "text"
            return "\n".join(r.text for r in await d.handle(Inbound(
                openid=openid, kind=kind, text=text or "", created_at=int(clock.now()) + n[0],
                msg_id=None if kind == "event" else f"bench{n[0]}{time.time_ns()}", **kw)))

        submit = []
        for i in range(repeat):
            who = f"o_bench_submit_{i}_{time.time_ns()}"
            await say(who, event="subscribe", scene="school:jn-syxx")
            reply = await say(who, "学校要求每个学生交300元资料费，还不给收据，我要投诉")
            for answer in ("跳过", "2", "2"):
                if "1" in reply and ("提交" in reply or "确认" in reply) and "承办单位" in reply:
                    break
                reply = await say(who, answer)
            t = time.perf_counter()
            reply = await say(who, "1")
            submit.append(time.perf_counter() - t)
            assert "JY" in reply, reply
        out["submit_ms"] = median_ms(submit)

        for role, who in (("handler", "os_jyj-sfc_h"), ("supervisor", "os_jn-jyj_s"), ("leader", "os_leader0")):
            out[f"todo_{role}_ms"] = await timed(lambda who=who: say(who, "待办"))
        citizen, number = await read(lambda c: c.execute(
            "SELECT openid, number FROM tickets WHERE unit_code = 'jyj-sfc' ORDER BY id DESC LIMIT 1").fetchone())
        out["query_ms"] = await timed(lambda: say(citizen, "查询"))
        out["detail_ms"] = await timed(lambda: say("os_jyj-sfc_h", f"详情 {number}"))
        stop_workers = None
        if webhook_seconds and workers > 1:
            stop_workers = await http_workers(app, path, port + 1, workers)
            port += 1  # the webhook and the page readers below go to the HTTP workers, as they would
            url = url.replace(f"127.0.0.1:{port - 1}/", f"127.0.0.1:{port}/")
        if webhook_seconds:
            async def idle(deadline):
                await asyncio.sleep(max(0.0, deadline - time.monotonic()))
                return "nothing else"

            async def jobs(deadline):
                runs = {"sweeps": 0, "digests": 0}
                while time.monotonic() < deadline:
                    m = time.monotonic()
                    await sweep_job()
                    PROBE and PROBE.mark("sweep", m)
                    runs["sweeps"] += 1
                    if "digest_job" not in skip:
                        m = time.monotonic()
                        await digest_once()
                        PROBE and PROBE.mark("digest", m)
                        runs["digests"] += 1
                    await asyncio.sleep(0.05)
                return f"{runs['sweeps']} sweeps, {runs['digests']} digest jobs"
            # warm up first (jieba's dictionary, the router's caches, SQLite's pages), or the reference pays for it
            await webhook_under_load(port, 2, idle, connections, db)
            # --gc-threshold2 / --refreeze: the collector's settings after the warm-up, the caches filled
            if GC_TUNING.get("refreeze"):
                from bot import runtime
                log(f"  gc: {runtime.freeze()} objects frozen again after the warm-up")
            if GC_TUNING.get("threshold2") or GC_TUNING.get("threshold0"):
                now = gc.get_threshold()
                gc.set_threshold(GC_TUNING.get("threshold0") or now[0], now[1], GC_TUNING.get("threshold2") or now[2])
                log(f"  gc: thresholds {gc.get_threshold()}")
            # The reference and the jobs' phase alternate (--rounds), so each pair shares its minutes on this
            # shared machine: the jobs' own share is the difference within a pair.
            rounds = []
            for _ in range(max(1, webhook_rounds) if phases & {"alone", "jobs"} else 0):
                alone = await webhook_under_load(port, webhook_seconds, idle, connections, db)
                during = await webhook_under_load(port, webhook_seconds, jobs, connections, db) \
                    if "jobs" in phases else alone
                rounds.append({"alone": alone, "jobs": during})
                log(f"  webhook p50/p99 alone {alone['webhook_p50_ms']:.1f}/{alone['webhook_p99_ms']:.1f} ms, "
                    f"during jobs {during['webhook_p50_ms']:.1f}/{during['webhook_p99_ms']:.1f} ms "
                    f"({during['webhook_background']}); longest write {during['webhook_longest_write']}; "
                    f"RSS {during['webhook_rss_mb']:.0f} MB; server's run-queue wait a message alone "
                    f"{alone['webhook_runq_us']:.0f} µs, during jobs {during['webhook_runq_us']:.0f} µs; job child "
                    f"{during['webhook_cores_child']:.2f} core; objects a full collection walks "
                    f"{during['webhook_gc_tracked']:,}; load {os.getloadavg()[0]:.1f}")
            for key in ("webhook_rps", "webhook_p50_ms", "webhook_p99_ms", "webhook_errors", "webhook_cores_server",
                        "webhook_cores_busy", "webhook_runq_us", "webhook_cores_child") if rounds else ():
                out[key.replace("webhook_", "webhook_alone_")] = statistics.median(r["alone"][key] for r in rounds)
                out[key] = statistics.median(r["jobs"][key] for r in rounds)
            out["webhook_rounds"] = rounds

            async def pages(deadline, readers=4):
                # Four people reloading the page back to back, from another process (wrk, 4 connections), as
                # browsers are: in this process their own HTTP client work would take the server's GIL.
                # --page-pause-ms: each reader waits that long between loads (0: back to back, a stress test)
                lua = Path(tempfile.mkdtemp(prefix="scale-pages-")) / "pause.lua"
                lua.write_text(f"function delay() return {page_pause_ms} end\n", encoding="utf-8")
                target = f"http://127.0.0.1:{port}{page_path}" if page_path else url
                cmd = ["wrk", "-t1", f"-c{readers}", f"-d{max(1, round(deadline - time.monotonic()))}s",
                       "--timeout", "10s", "-s", str(lua), target]
                proc = await asyncio.create_subprocess_exec(*cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                text = (await proc.communicate())[0].decode()
                loads = re.search(r"(\d+) requests in", text)
                latency = re.search(r"Latency\s+(\S+)", text)
                statuses = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
                return (f"{loads.group(1) if loads else '?'} loads of {page_path or 'the digest page'} by {readers} "
                        f"readers (wrk, mean {latency.group(1) if latency else '?'}; "
                        f"{statuses.group(1) if statuses else 0} not 2xx/3xx)")
            if "pages" in phases:
                paged = await webhook_under_load(port, webhook_seconds, pages, connections, db)
                out.update({k.replace("webhook_", "webhook_pages_"): v for k, v in paged.items()})
        if stop_workers is not None:
            await stop_workers()
        for name, took in own.items():
            out[f"{name}_max_ms"] = max(took) * 1000
            out[f"{name}_p50_ms"] = statistics.median(took) * 1000
            out[f"{name}_calls"] = len(took)
            out[f"{name}_cpu_max_ms"] = max(own_cpu[name]) * 1000  # the writer thread's own CPU in the longest
        if PROBE is not None:  # what a full collection walks at the end, by type (its 8 largest shares)
            from collections import Counter
            kinds = Counter(type(o).__qualname__ for o in gc.get_objects())
            log(f"  gc: {sum(kinds.values()):,} tracked objects not frozen; {kinds.most_common(8)}")
            # whose they are: the lists and tuples by what they hold, and the caches' sizes (functools.lru_cache)
            shapes = Counter((type(o).__name__, type(o[0]).__name__ if len(o) else "-") for o in gc.get_objects()
                             if type(o) in (list, tuple))
            log(f"  gc: lists and tuples by their first item's type {shapes.most_common(8)}")
            caches = {}
            for mod in [m for name, m in list(sys.modules.items()) if name.split(".")[0] in ("handlers", "bot", "storage")]:
                for name, fn in vars(mod).items():
                    info = getattr(fn, "cache_info", None)
                    if callable(info) and info().currsize:
                        caches[f"{mod.__name__}.{name}"] = info().currsize
            log(f"  gc: lru caches in use {sorted(caches.items(), key=lambda kv: -kv[1])[:10]}")
    finally:
        await runner.cleanup()
    return out


class Probe:
    """--timeline: what the server process did on the clock of wrk's send times (time.monotonic()): each writer
    batch (wall and the writer thread's CPU, messages), each WAL checkpoint (the thread's pass or the writer's
    catch-up), each garbage collection, each job step. The slow answers of a phase are then laid beside them."""

    def __init__(self):
        self.events: list[tuple] = []  # (kind, start, seconds, detail)
        self.db = None

    def install(self, db) -> None:
        import gc
        import threading
        self.db = db
        started = [0.0, 0.0]

        def on_gc(phase, info):
            if phase == "start":
                started[:] = time.monotonic(), time.thread_time()
            else:
                self.events.append((f"gc{info['generation']}", started[0], time.monotonic() - started[0],
                                    time.thread_time() - started[1]))  # wall, and the collecting thread's CPU
        gc.callbacks.append(on_gc)
        run_batch = db._run_batch

        def _run_batch(conn, batch, _run=run_batch):
            t, cpu = time.monotonic(), time.thread_time()
            _run(conn, batch)
            names = {}
            for call in batch:
                n = getattr(call.fn, "__qualname__", "?").rsplit(".", 1)[-1]
                names[n] = names.get(n, 0) + 1
            self.events.append(("batch", t, time.monotonic() - t,
                                (len(batch), time.thread_time() - cpu, names)))
        db._run_batch = _run_batch
        events = self.events

        class Timed:
            def __init__(self, lock):
                self.lock = lock

            def acquire(self, blocking=True):
                ok = self.lock.acquire(blocking)
                if ok:
                    self.t, self.cpu = time.monotonic(), time.thread_time()
                return ok

            def release(self):
                # the writer's catch-up (between two batches: every message waits) apart from the thread's pass
                kind = "catch-up" if threading.current_thread().name == "sqlite-writer" else "checkpoint"
                events.append((kind, self.t, time.monotonic() - self.t, time.thread_time() - self.cpu))
                self.lock.release()

            def __enter__(self):
                self.acquire()
                return self

            def __exit__(self, *exc):
                self.release()
        db._checkpointing = Timed(db._checkpointing)

    def mark(self, kind: str, t: float, detail=None) -> None:
        self.events.append((kind, t, time.monotonic() - t, detail))

    def report(self, samples: list[tuple[float, float]], label: str) -> dict:
        """The phase's per-second p50/p99/max, and for its slowest 1 % of answers what overlapped them."""
        import webhook as wh
        if not samples:
            return {}
        lo, hi = samples[0][0], max(s + lat for s, lat in samples)
        ev = [e for e in self.events if e[1] + e[2] >= lo and e[1] <= hi]
        tail = wh.tail_summary(samples)
        rows = wh.timeline(samples)
        cut = tail["p99_ms"] / 1000
        slow = [(s, lat) for s, lat in samples if lat >= cut]
        batches = sorted((e for e in ev if e[0] == "batch"), key=lambda e: e[1])
        # what each slow answer overlapped: the longest writer batch in its wait, and any collection, checkpoint,
        # job step
        why: dict[str, int] = {}
        for s, lat in slow:
            over = [e for e in ev if e[1] < s + lat and e[1] + e[2] > s]
            kinds = set()
            longest = max((e for e in over if e[0] == "batch"), key=lambda e: e[2], default=None)
            if longest is not None and longest[2] > 0.02:
                kinds.add("batch>20ms")
            for e in over:
                if e[0] != "batch":
                    kinds.add(e[0] if e[0] != "checkpoint" or e[2] > 0.005 else "checkpoint<5ms")
            key = "+".join(sorted(kinds)) or "none"
            why[key] = why.get(key, 0) + 1
        # the same per kind, against every answer: a kind that overlaps 60 % of the slow answers but also 60 % of
        # all answers is not their cause ("slow / all")
        import bisect
        kinds = {"batch>20ms": lambda e: e[0] == "batch" and e[2] > 0.02, "gc2": lambda e: e[0] == "gc2",
                 "gc1": lambda e: e[0] == "gc1", "checkpoint>5ms": lambda e: e[0] == "checkpoint" and e[2] > 0.005,
                 "catch-up": lambda e: e[0] == "catch-up",
                 "sweep": lambda e: e[0] == "sweep", "digest job": lambda e: e[0] == "digest",
                 "digest_record_tx": lambda e: e[0] in ("digest_record_tx", "digest_record_some_tx"),
                 "sweep_some_tx": lambda e: e[0] in ("sweep_some_tx", "gather_some_tx", "drafts_tx")}
        lift = {}
        for name, want in kinds.items():
            spans = sorted((e[1], e[1] + e[2]) for e in ev if want(e))
            if not spans:
                continue
            starts = [a for a, _ in spans]
            reach, top = [], 0.0
            for _, end in spans:
                top = max(top, end)
                reach.append(top)

            def hit(s, lat):
                i = bisect.bisect_left(starts, s + lat)
                return i > 0 and reach[i - 1] > s
            lift[name] = (round(100 * sum(hit(s, lat) for s, lat in slow) / max(1, len(slow))),
                          round(100 * sum(hit(s, lat) for s, lat in samples) / len(samples)))
        walls = sorted(e[2] for e in batches)
        cpus = sorted(e[3][1] for e in batches)
        summary = {"label": label, "tail": tail, "per_second": rows, "slow_overlaps": why, "overlap_pct_slow_vs_all": lift,
                   "batches": {"n": len(batches), "wall_p50_ms": 1000 * wh.pct(walls, 50),
                               "wall_p99_ms": 1000 * wh.pct(walls, 99), "wall_max_ms": 1000 * (walls[-1] if walls else 0),
                               "cpu_p50_ms": 1000 * wh.pct(cpus, 50), "cpu_p99_ms": 1000 * wh.pct(cpus, 99),
                               "msgs_p50": wh.pct(sorted(e[3][0] for e in batches), 50),
                               # the writer thread's CPU a message, over the phase (robust to the machine's load)
                               "cpu_us_a_msg": round(1e6 * sum(e[3][1] for e in batches)
                                                     / max(1, sum(e[3][0] for e in batches)), 1),
                               "msgs_max": max((e[3][0] for e in batches), default=0)},
                   "longest_batches": [(round(1000 * e[2], 1), round(1000 * e[3][1], 1), e[3][0], e[3][2])
                                       for e in sorted(batches, key=lambda e: -e[2])[:5]],
                   "gc": {k: (sum(1 for e in ev if e[0] == k), round(1000 * max((e[2] for e in ev if e[0] == k), default=0), 1),
                              round(1000 * max((e[3] for e in ev if e[0] == k), default=0), 1),
                              round(1000 * sum(e[2] for e in ev if e[0] == k), 1),
                              round(1000 * sum(e[3] for e in ev if e[0] == k), 1)) for k in ("gc0", "gc1", "gc2")},
                   "checkpoints": (sum(1 for e in ev if e[0] == "checkpoint"),
                                   round(1000 * max((e[2] for e in ev if e[0] == "checkpoint"), default=0), 1),
                                   # the checkpoint thread's own CPU in all of them (the process's share too)
                                   round(1000 * sum(e[3] for e in ev if e[0] == "checkpoint"), 1)),
                   "catch_ups": (sum(1 for e in ev if e[0] == "catch-up"),
                                 round(1000 * max((e[2] for e in ev if e[0] == "catch-up"), default=0), 1)),
                   "jobs": {k: (sum(1 for e in ev if e[0] == k), round(1000 * max((e[2] for e in ev if e[0] == k), default=0), 1))
                            for k in ("sweep", "digest", "sweep_some_tx", "gather_some_tx", "drafts_tx",
                                      "digest_record_tx", "digest_record_some_tx")}}
        log(f"  [{label}] tail mean {tail['mean_ms']:.1f} p50 {tail['p50_ms']:.1f} p99 {tail['p99_ms']:.1f} "
            f"max {tail['max_ms']:.1f} ms; per-second p99 median {tail['p99_of_seconds_median_ms']:.1f} worst "
            f"{tail['p99_of_seconds_worst_ms']:.1f}")
        log("    per second " + "  ".join(f"{r['t']:.0f}s {r['n']}/{r['p50_ms']:.0f}/{r['p99_ms']:.0f}/{r['max_ms']:.0f}"
                                         for r in rows))
        log(f"    writer batches {summary['batches']}; longest {summary['longest_batches']}")
        log(f"    gc (n, max ms wall, max ms CPU, total ms wall, total ms CPU) {summary['gc']}; checkpoints (n, max ms wall, total ms CPU) {summary['checkpoints']}; writer's WAL catch-ups {summary['catch_ups']}; jobs {summary['jobs']}")
        log(f"    the slowest 1 % ({len(slow)} answers ≥ {1000 * cut:.0f} ms) overlapped: {why}")
        log(f"    % of the slowest 1 % / of all answers overlapping each: {lift}")
        return summary


PROBE: Probe | None = None
# --set SECTION.KEY=VALUE: settings for the measured server, merged into each section the bench sets itself
SETTINGS: dict = {}
GC_TUNING: dict = {}  # --gc-threshold2, --refreeze


def with_settings(overrides: dict) -> dict:
    return {**overrides, **{section: {**overrides.get(section, {}), **keys} for section, keys in SETTINGS.items()}}


_phases = itertools.count()


def _cpu() -> tuple[float, float, float]:
    """(this process's CPU seconds, the machine's busy CPU seconds, wall clock)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    busy = (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait
    t = os.times()
    return t.user + t.system, busy, time.monotonic()


def _sched(pid: int | None = None) -> tuple[float, float]:
    """(seconds the threads of `pid` (this process) waited on a run queue, seconds they ran), from
    /proc/PID/task/*/schedstat: the wait is what the machine, the jobs' child and wrk cost the server in time,
    whatever its own CPU; 0, 0 for a process that is gone."""
    waited = ran = 0
    for task in Path(f"/proc/{pid or 'self'}/task").glob("*"):
        try:
            fields = (task / "schedstat").read_text().split()
        except OSError:
            continue
        ran, waited = ran + int(fields[0]), waited + int(fields[1])
    return waited / 1e9, ran / 1e9


JOB_PID = None  # measure(): the app's job process's pid when one runs (JobProcess.pid)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def webhook_under_load(port: int, seconds: int, background, connections: int = 50, db=None) -> dict:
    """wrk at `connections` (the issue's 50 by default) against this process's /wechat while `background(deadline)`
    runs. Each call sends MsgIds of its own (a repeated MsgId would be a retry, answered from storage); with `db`,
    also the longest write batch of the phase."""
    import webhook as wh  # bench/ is on sys.path: common came from there
    from tests import wx
    work = Path(tempfile.mkdtemp(prefix="scale-wrk-"))
    phase = next(_phases)
    try:
        n = int(seconds * 1500)
        wh.build_requests(n, 2000, port, work, wh.WRK_THREADS, seed=time.time_ns() + phase,
                          msg_base=wh.MSG_ID_BASE + phase * 10_000_000 + os.getpid() % 1000 * 10_000_000_000)
        (work / "webhook.lua").write_text(wh.LUA, encoding="utf-8")
        cmd = ["wrk", f"-t{wh.WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s",
               "-s", str(work / "webhook.lua"), f"http://127.0.0.1:{port}/wechat", "--", str(work)]
        if db is not None:
            db.longest_batch = 0.0
        before, sched_before, child = _cpu(), _sched(), {}
        proc = await asyncio.create_subprocess_exec(*cmd, cwd=work, stdout=subprocess.PIPE,
                                                    stderr=subprocess.STDOUT)

        async def watch_child():  # the job child's CPU, summed over the children seen (one spawned mid-phase too)
            while True:
                pid = JOB_PID() if JOB_PID else None
                if pid:  # (its run time at first sight, its run time now)
                    ran = _sched(pid)[1]
                    child[pid] = (child.get(pid, (ran,))[0], ran)
                await asyncio.sleep(0.2)
        watcher = asyncio.ensure_future(watch_child())
        done = await background(time.monotonic() + seconds)
        text = (await proc.communicate())[0].decode()
        watcher.cancel()
        after, sched_after = _cpu(), _sched()
        for pid in child:
            child[pid] = (child[pid][0], max(child[pid][1], _sched(pid)[1]))
        line = next((x for x in text.splitlines() if x.startswith("BENCH_RESULT")), "")
        fields = dict(kv.split("=", 1) for kv in line.split()[1:])
        if not fields:
            raise SystemExit("wrk gave no result:\n" + text[-2000:])
        errors = sum(int(fields[k]) for k in ("non2xx", "err_connect", "err_read", "err_write", "err_timeout"))
        wall = after[2] - before[2]
        timeline = PROBE.report(wh.latencies(work), f"{getattr(background, '__name__', '?')} {phase}") \
            if PROBE is not None else None
        return {"webhook_rps": int(fields["requests"]) / (int(fields["duration_us"]) / 1e6),
                "webhook_p50_ms": int(fields["p50_us"]) / 1000, "webhook_p99_ms": int(fields["p99_us"]) / 1000,
                "webhook_errors": errors, "webhook_background": done,
                "webhook_wraps": int(fields.get("wraps", 0)),
                # cores used: by this process (server, jobs' parent side), and by everything on the machine
                "webhook_cores_server": round((after[0] - before[0]) / wall, 2),
                "webhook_cores_busy": round((after[1] - before[1]) / wall, 2),
                "webhook_rss_mb": _rss_mb(),  # this process (the server) at the phase's end
                # the server's threads' wait on a run queue per message (µs): the CPU others took from it
                "webhook_runq_us": (sched_after[0] - sched_before[0]) / max(1, int(fields["requests"])) * 1e6,
                "webhook_cores_child": round(sum(ran - ran0 for ran0, ran in child.values()) / wall, 2),
                # what a full collection walks (the objects frozen after start-up excluded)
                "webhook_gc_tracked": len(gc.get_objects()),
                **({"webhook_timeline": timeline} if timeline else {}),
                **({"webhook_longest_write": _longest(db), "webhook_longest_write_ms": db.longest_batch * 1000}
                   if db is not None else {})}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def retained(path: Path) -> dict:
    """Run the retention job's deletes (sent pushes older than 90 days) to the end, VACUUM, and measure."""
    from storage import inbound, outbox
    conn = sqlite3.connect(path, isolation_level=None)
    import sqlite_utils
    db = sqlite_utils.Database(conn)
    t = time.perf_counter()
    batches = 0
    for prune in (outbox.prune_sent, inbound.prune):
        cutoff = NOW - (90 if prune is outbox.prune_sent else 3) * 86400
        while True:
            conn.execute("BEGIN IMMEDIATE")
            n = prune(db, cutoff, 500)
            conn.execute("COMMIT")
            batches += 1
            if n < 500:
                break
    prune_s = time.perf_counter() - t
    t = time.perf_counter()
    conn.execute("VACUUM")
    vacuum_s = time.perf_counter() - t
    tables = {r[0]: r[1] / 1e6 for r in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")}
    conn.close()
    return {"retention_prune_s": prune_s, "retention_batches": batches, "vacuum_s": vacuum_s,
            "size_retained_mb": path.stat().st_size / 1e6, "tables_mb": {k: round(v, 1) for k, v in sorted(
                tables.items(), key=lambda kv: -kv[1])[:12]}}


ROWS = [("webhook_alone_p50_ms", "webhook p50, nothing else running (reference)"),
        ("webhook_alone_p99_ms", "webhook p99, nothing else running (reference)"),
        ("webhook_alone_rps", "webhook messages/s, nothing else running (reference)"),
        ("webhook_alone_cores_server", "  cores used by the server process"),
        ("webhook_alone_cores_busy", "  cores used on the whole machine"), ("migrate_ms", "migrations (once, on the copy)"), ("startup_ms", "start-up (app ready)"),
        ("resolve_since_left", "  m062: tickets left for resolve_since's fill after start-up"),
        ("kept_resolved_left", "  m067: events left for the fill of 办结 cleared by a 不满意"),
        ("recredit_left", "  m062: events left for the look for older 代收 ratings"),
        ("rates_unit_pending_ms", "  rates, one unit and week, before the fill (values read from events)"),
        ("rates_all_pending_ms", "  rates, every unit, week, before the fill"),
        ("resolve_since_fill_ms", "  the fills after start-up: wall"), ("resolve_since_fill_cpu_ms", "  the fill: the process's CPU"),
        ("resolve_since_fill_writes", "  the fill's writes"), ("resolve_since_fill_write_max_ms", "  the fill's writes: longest"),
        ("resolve_since_fill_write_cpu_max_ms", "  the fill's writes: most CPU in one"),
        ("resolve_since_fill_lock_ms", "  longest write transaction while it ran"),
        ("rates_unit_filled_ms", "  rates, one unit and week, after the fill"), ("rates_all_filled_ms", "  rates, every unit, week, after the fill"),
        ("rehome_ms", "  Desk.rehome in it (complaints about the bureau handed on)"), ("rehome_cpu_ms", "  Desk.rehome: the writer's CPU"), ("sweep_first_ms", "deadline sweep, first after start"),
        ("sweep_first_lock_ms", "  longest write transaction in it"),
        ("sweep_ms", "deadline sweep (steady)"), ("digest_job_ms", "weekly digest job, all scopes"),
        ("digest_job_lock_ms", "  longest write transaction in it"),
        ("digest_record_tx_max_ms", "  the digest's own writes (10 scopes each, before jobs9): longest"),
        ("digest_record_tx_p50_ms", "  the digest's own writes: median"),
        ("digest_record_tx_cpu_max_ms", "  the digest's own writes: most CPU in one"),
        ("digest_record_some_tx_max_ms", "  the digest's own writes (JOB_WRITE_SECONDS of scopes each): longest"),
        ("digest_record_some_tx_p50_ms", "  the digest's own writes: median"),
        ("digest_record_some_tx_cpu_max_ms", "  the digest's own writes: most CPU in one"),
        ("sweep_some_tx_max_ms", "  the sweep's own writes: longest"),
        ("sweep_some_tx_cpu_max_ms", "  the sweep's own writes: most CPU in one"),
        ("gather_some_tx_max_ms", "  the sweep's merges of reminders: longest"),
        ("gather_some_tx_cpu_max_ms", "  the sweep's merges of reminders: most CPU in one"),
        ("drafts_tx_max_ms", "  the sweep's unfinished-message reminders: longest"),
        ("drafts_tx_cpu_max_ms", "  the sweep's unfinished-message reminders: most CPU in one"),
        ("digest_page_ms", "digest page (bureau, HTTP)"),
        ("terms_backlog_ms", "  no digest stored: the hot-topic terms job's first run (the built files have none)"),
        ("terms_backlog_n", "  tickets it cut"), ("terms_week_stored", "  the week's tickets with terms stored"),
        ("digest_page_terms_ms", "  digest page (bureau, HTTP) after it"), ("rates_unit_ms", "rates, one unit and week"),
        ("submit_ms", "submit (the final 1)"), ("todo_handler_ms", "待办 handler"),
        ("todo_supervisor_ms", "待办 supervisor"), ("todo_leader_ms", "待办 leader"), ("query_ms", "查询"),
        ("detail_ms", "详情"), ("size_mb", "database size (MB)"),
        ("size_retained_mb", "database size after retention (90 days) and VACUUM (MB)"), ("webhook_p50_ms", "webhook p50 during jobs"),
        ("webhook_p99_ms", "webhook p99 during jobs"), ("webhook_rps", "webhook messages/s during jobs"),
        ("webhook_cores_server", "  cores used by the server process (jobs' parent side included)"),
        ("webhook_cores_busy", "  cores used on the whole machine (the jobs' child, wrk, other sessions)"),
        ("webhook_cores_child", "  cores used by the jobs' child process"),
        ("webhook_alone_runq_us", "  the server's threads' run-queue wait a message, alone (µs)"),
        ("webhook_runq_us", "  the server's threads' run-queue wait a message, during jobs (µs)"),
        ("webhook_pages_p50_ms", "webhook p50 while 4 readers reload the digest page"),
        ("webhook_pages_p99_ms", "webhook p99 while 4 readers reload the digest page"),
        ("webhook_pages_rps", "webhook messages/s while pages load")]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--data", type=Path, default=common.SCALE_DATA)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--port", type=int, default=18510)
    p.add_argument("--webhook-seconds", type=int, default=15, help="0 skips the webhook measurement")
    p.add_argument("--webhook-connections", type=int, default=50,
                   help="wrk connections for the webhook measurements (the issue's target is at 50)")
    p.add_argument("--rounds", type=int, default=1,
                   help="webhook alone / during the jobs this many times, alternating (medians in the table)")
    p.add_argument("--page-pause-ms", type=int, default=0,
                   help="each of the 4 page readers waits this long between loads (0: back to back)")
    p.add_argument("--page-path", help="the page the 4 readers load, e.g. /u/jyj-sfc (default: the bureau's "
                   "digest page, by its signed link)")
    p.add_argument("--phases", nargs="+", choices=["alone", "jobs", "pages"], default=["alone", "jobs", "pages"],
                   help="the webhook phases to measure: alone (the reference), during the jobs, while pages load")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="a config setting for the server, as TOML (repeatable): --set server.pages_per_batch=0")
    p.add_argument("--gc-threshold0", type=int,
                   help="after the warm-up, the collector's first threshold (allocations between young collections)")
    p.add_argument("--gc-threshold2", type=int,
                   help="after the warm-up, the collector's third threshold (CPython's default: 10)")
    p.add_argument("--refreeze", action="store_true",
                   help="after the warm-up (caches filled), freeze what the process holds again (bot/runtime.freeze)")
    p.add_argument("--workers", type=int, default=1,
                   help="webhook measured through N HTTP worker processes with this process as their writer "
                        "(serve --workers N's shape; the jobs run in the writer, as they do there)")
    p.add_argument("--built", type=Path,
                   help="measure this database (a copy of it) instead of the one built for the size: a file built "
                        "by an older BUILD_VERSION, or one already migrated (the copy's migrations are then quick)")
    p.add_argument("--timeline", action="store_true",
                   help="each webhook phase's per-second p50/p99/max, and what its slowest 1 %% of answers "
                        "overlapped: writer batches, checkpoints, garbage collections, job steps")
    p.add_argument("--build-only", action="store_true")
    p.add_argument("--skip", nargs="*", default=[], choices=["digest_job"],
                   help="leave out a measurement too slow to repeat (the old code's digest job at 100k)")
    p.add_argument("--vacuum", action="store_true", help="also prune as the hourly job does, VACUUM, and report")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args()
    import tomllib
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep or "." not in name:
            p.error(f"--set {item!r}: expected SECTION.KEY=VALUE")
        section, key = name.split(".", 1)
        SETTINGS.setdefault(section, {})[key] = tomllib.loads(f"v = {value}")["v"]
    GC_TUNING.update(threshold2=args.gc_threshold2, threshold0=args.gc_threshold0, refreeze=args.refreeze)
    import logging
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bot.outbox").setLevel(logging.ERROR)  # the API is a closed port: every push fails
    try:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    if args.timeline:
        global PROBE
        PROBE = Probe()
    results = {}
    for n in args.sizes:
        built = args.built or cached(args.data, n)
        if args.build_only:
            continue
        work = args.data / f"work-{n}-{os.getpid()}.db"
        log(f"measuring {n:,} tickets on a copy ({work})")
        migrate_ms = common.working_copy(built, work)  # the code's migrations, once: not part of a start-up
        log(f"  migrations: {migrate_ms / 1000:.1f} s")
        r = asyncio.run(measure(work, args.repeat, args.port, args.webhook_seconds, set(args.skip),
                                args.webhook_connections, args.page_pause_ms, args.workers, args.rounds,
                                args.page_path, frozenset(args.phases)))
        r["size_mb"] = work.stat().st_size / 1e6
        r["migrate_ms"] = migrate_ms
        if args.vacuum:  # what the file shrinks to once retention has run (sent pushes > 90 days) and VACUUM
            r.update(retained(work))
        results[n] = r
        log(json.dumps(r, ensure_ascii=False))
        common.remove_db(work)
    if not results:
        return 0
    print(f"| operation (median of {args.repeat}) | " + " | ".join(f"{n:,} tickets" for n in results) + " |")
    print("|---|" + "---:|" * len(results))
    for key, name in ROWS:
        cells = []
        for n in results:
            v = results[n].get(key)
            cells.append("—" if v is None else f"{v:,.1f}" if isinstance(v, float) else str(v))
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
