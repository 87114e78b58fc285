"""A conversation row's JSON (storage/conversations.dumps), written by orjson since branch draft12: every reader of
`conversations.data` reads it with json.loads, and must read the values the draft held -- from rows written now,
from rows written by json before (no migration rewrites them), and from a table holding both.

orjson writes other bytes than json (no spaces, other float forms) for the same values; where it would write other
*values* (NaN and infinities as null) or refuses (ints past 64 bits, keys that are not strings, lone surrogates:
which SQLite refuses in turn), json writes the row as before; a value JSON cannot hold (an object, a datetime, which orjson would write as text)
is refused with json's TypeError and nothing is stored."""
from __future__ import annotations

import datetime as dt
import json
import math
import random

import orjson
import pytest
from hypothesis import example, given, settings, strategies as st

from handlers import intake
from storage import conversations
from storage.db import Database

TTL = 1800.0
NOW = 1000.0


def values(text: str) -> str:
    """What a stored text reads as, canonical: NaN, -0.0, 1 and 1.0, True and 1, big ints all told apart."""
    return json.dumps(json.loads(text), sort_keys=True, ensure_ascii=False)


def written_before(data: dict) -> str:
    """The row's text as the previous version wrote it (json, ", " and ": ", a routing decision's text last)."""
    ready = {k: v.json_text for k, v in data.items() if getattr(v, "json_text", None) is not None}
    enc = json.JSONEncoder(ensure_ascii=False)
    rest = enc.encode({k: v for k, v in data.items() if k not in ready})
    tail = ", ".join(f"{enc.encode(k)}: {text}" for k, text in ready.items())
    return rest if not ready else f"{rest[:-1]}, {tail}}}" if rest != "{}" else f"{{{tail}}}"


ROUTING = intake.Routing({"category": "burden", "confidence": 0.937, "scores": {"burden": 1.5, "fees": 0.0},
                          "explanation": [{"word": "作业", "category": "burden", "weight": 1.5}],
                          "matters": ["burden"], "urgent": False, "urgent_score": 1e-7})

PLAIN = {  # what orjson writes: text, numbers as a draft holds them, nesting
    "parts": ["孩子作业太多，晚上十一点还在写", "引号\"反斜杠\\换行\n制表\t", "👍🏻 \u2028\u2029 \x00\x1f\x7f", ""],
    "kind": None, "insist": True, "alerted": False, "count": 0, "negative": -(2 ** 63), "large": 2 ** 64 - 1,
    "floats": [0.1, 0.1 + 0.2, 1e-7, 1e16, 1e22, -0.0, 5e-324, 1.7976931348623157e308, 2.5, 100.0],
    "attachments": [{"media_id": "MID_1", "kind": "image", "size": 12345}], "empty": {}, "nothing": [],
    "pair": ("元组", 1), "shelved": {"parts": ["旧的"], "routing": {"scores": {"a": 0.25}}, "kind": "complaint"},
}

ODD = [  # what orjson would write as other values, or refuses: json writes these rows, as before
    {"routing": {"confidence": float("nan"), "scores": {"a": math.inf, "b": -math.inf}}},
    {"parts": ["x"], "score": float("nan")},
    {"big": 2 ** 64, "small": -(2 ** 63) - 1, "huge": [10 ** 30]},
    {"keys": {1: "int", 2.5: "float", True: "bool", None: "none"}},
    {"deep": [[{"x": [float("-inf")]}]]},
]


@pytest.fixture
async def db(tmp_path):
    database = Database(tmp_path / "c.db").start()
    yield database
    database.close()


def _put(openid: str, data: dict):
    return lambda d: conversations.put(d, openid, "intake", "describe", data, NOW, TTL)


def _text(openid: str):
    return lambda d: d.conn.execute("SELECT data FROM conversations WHERE openid = ?", [openid]).fetchone()[0]


async def _read_after_restart(tmp_path, openid: str):
    """Through the module, from the file (a new writer: nothing remembered)."""
    again = Database(tmp_path / "c.db").start()
    try:
        return await again.run(lambda d: conversations.read(d, openid))
    finally:
        again.close()


async def test_plain_drafts_are_written_by_orjson_and_read_back_as_the_same_values(db, tmp_path):
    data = {**PLAIN, "routing": ROUTING}
    await db.run(_put("o1", data))
    text = await db.run(_text("o1"))
    # the fast form was written: orjson's own text, the routing decision's text put in as it is, in its place
    assert text == orjson.dumps({**PLAIN, "routing": orjson.Fragment(ROUTING.json_text)}).decode()
    assert list(json.loads(text)) == list(data)
    assert values(text) == values(written_before(data))
    row = await _read_after_restart(tmp_path, "o1")
    assert values(json.dumps(row[2], ensure_ascii=False)) == values(written_before(data))
    assert row[2]["pair"] == ["元组", 1]  # a tuple comes back a list, as from json's text
    assert repr(row[2]["floats"]) == repr(PLAIN["floats"]) and row[2]["large"] == 2 ** 64 - 1
    assert row[2]["parts"] == PLAIN["parts"] and row[2]["routing"] == dict(ROUTING)


async def test_a_routing_decision_inside_a_shelved_draft_is_written_from_its_own_text(db, tmp_path):
    shelved = intake.Draft(openid="o1", parts=["先前的一件事"], routing=ROUTING).to_dict()
    data = intake.Draft(openid="o1", parts=["另一件事"], shelved=shelved, routing=ROUTING).to_dict()
    await db.run(_put("o1", data))
    text = await db.run(_text("o1"))
    assert text.count(ROUTING.json_text) == 2
    assert values(text) == values(written_before(data))
    row = await _read_after_restart(tmp_path, "o1")
    assert row[2]["shelved"]["routing"] == dict(ROUTING) and row[2]["shelved"]["parts"] == ["先前的一件事"]


@pytest.mark.parametrize("data", ODD, ids=["nan-routing", "nan", "big-ints", "keys", "deep-inf"])
async def test_values_orjson_would_change_are_written_by_json_as_before(db, tmp_path, data):
    await db.run(_put("o1", data))
    text = await db.run(_text("o1"))
    assert text == json.dumps(data, ensure_ascii=False)  # byte for byte the previous version's
    row = await _read_after_restart(tmp_path, "o1")
    assert json.dumps(row[2], sort_keys=True, ensure_ascii=False) == values(text)
    if "score" in data:
        assert math.isnan(row[2]["score"])
    if "big" in data:
        assert row[2]["big"] == 2 ** 64 and row[2]["huge"] == [10 ** 30] and type(row[2]["big"]) is int


@pytest.mark.parametrize("bad", [object(), dt.datetime(2026, 11, 30, 8, 0), {1, 2}, b"bytes"])
async def test_a_value_json_cannot_hold_is_refused_and_nothing_is_stored(db, tmp_path, bad):
    await db.run(_put("o1", {"parts": ["已存的"]}))
    with pytest.raises(TypeError, match="not JSON serializable"):  # json's words (orjson writes a datetime)
        await db.run(_put("o1", {"parts": ["新的"], "when": bad}))
    assert json.loads(await db.run(_text("o1"))) == {"parts": ["已存的"]}
    assert (await _read_after_restart(tmp_path, "o1"))[2] == {"parts": ["已存的"]}


async def test_rows_written_before_and_now_read_alike_in_one_table(db, tmp_path):
    """No migration rewrites the old rows: a table holds both forms, and every reader reads them alike."""
    drafts = {f"o{n}": intake.Draft(openid=f"o{n}", parts=[f"第{n}条：作业太多"], kind="complaint",
                                    routing=ROUTING if n % 2 else {}).to_dict() for n in range(6)}
    for openid, data in drafts.items():
        await db.run(_put(openid, data))
    old = {openid: written_before(data) for openid, data in drafts.items() if int(openid[1:]) < 3}
    for openid, text in old.items():  # as the previous version left them
        await db.run(lambda d, o=openid, t=text: d.execute("UPDATE conversations SET data = ? WHERE openid = ?",
                                                           [t, o]))
    texts = {openid: await db.run(_text(openid)) for openid in drafts}
    assert all(texts[o] == old[o] for o in old) and all(", " not in texts[o][:40] for o in drafts if o not in old)
    for openid, data in drafts.items():  # the module's read, from the file
        row = await _read_after_restart(tmp_path, openid)
        assert values(json.dumps(row[2], ensure_ascii=False)) == values(written_before(data)), openid
    # the sweep's reminder reads the rows itself
    due = await db.run(lambda d: conversations.to_remind(d, NOW + TTL * 0.9))
    assert {r["openid"]: values(json.dumps(r["data"], ensure_ascii=False)) for r in due} == \
        {openid: values(written_before(data)) for openid, data in drafts.items()}
    # a message carries on from either form, and writes the new one
    for openid in ("o1", "o4"):
        row = await db.run(lambda d, o=openid: conversations.read(d, o))
        draft = intake.Draft.from_dict(row[2])
        draft.parts.append("补充一句")
        await db.run(_put(openid, draft.to_dict()))
        text = await db.run(_text(openid))
        assert text.startswith(f'{{"openid":"{openid}"') and json.loads(text)["parts"][-1] == "补充一句"


_keys = st.one_of(st.text(max_size=5), st.integers(-3, 3), st.booleans(), st.none(),
                  st.floats(allow_nan=False, width=16))
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2 ** 70), 2 ** 70), st.floats(),
                     st.text(max_size=8),
                     st.sampled_from(["\ud800", "\udfff x", "作业", "👍🏻", "\u2028"]))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner), st.dictionaries(_keys, inner, max_size=4)), max_leaves=20)


def _reads_back_as_json_wrote_it(data) -> bool:
    """Whatever the draft holds, its text reads back as the values of json's text (or both refuse it alike)."""
    try:
        expected = json.JSONEncoder(ensure_ascii=False).encode(data)
    except (TypeError, ValueError) as exc:
        with pytest.raises(type(exc)):
            conversations.dumps(data)
        return False
    assert values(conversations.dumps(data)) == values(expected), data
    return True


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _values, max_size=6))
@example({"a": [float("nan"), {"b": float("inf")}], "c": 2 ** 64, "d": "\ud800"})
@example({"a": (1.5, -0.0), "b": {"作业": [None, True, 2 ** 63 - 1]}})
def test_any_value_reads_back_as_json_would_have_written_it(data):
    _reads_back_as_json_wrote_it(data)


# What a value can be made of, the edges first: what orjson writes as other values or refuses (NaN, infinities, ints
# past 64 bits, lone surrogates, keys that are not strings) beside what it writes as json does.
_EDGE_SCALARS = [None, True, False, 0, -1, 2 ** 63 - 1, 2 ** 63, 2 ** 64 - 1, 2 ** 64, -(2 ** 63), -(2 ** 63) - 1,
                 10 ** 30, 0.0, -0.0, 0.1 + 0.2, 1e-7, 1e16, 1e22, 5e-324, 1.7976931348623157e308, float("nan"),
                 float("inf"), float("-inf"), "", "作业", "👍🏻", "\u2028", "\ud800", "\udfff x", "\x00\x1f", '"\\']
_EDGE_KEYS = ["", "a", "作业", "\ud800", 1, -2, True, False, None, 2.5, -0.0]


def _drawn_value(rng: random.Random, depth: int):
    r = rng.random()
    if depth < 3 and r < 0.3:
        items = [_drawn_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
        return items if r < 0.2 else tuple(items)
    if depth < 3 and r < 0.45:
        return {_drawn_key(rng): _drawn_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    if r < 0.75:
        return rng.choice(_EDGE_SCALARS)
    return rng.choice([rng.uniform(-1e6, 1e6), rng.randint(-(2 ** 70), 2 ** 70), rng.randint(-9, 9),
                       "".join(chr(rng.randint(0x20, 0x9fff)) for _ in range(rng.randint(0, 8)))])


def _drawn_key(rng: random.Random):
    return rng.choice(_EDGE_KEYS) if rng.random() < 0.3 else "".join(rng.choices("abc作业", k=rng.randint(0, 3)))


def test_drawn_values_read_back_as_json_would_have_written_them():
    """The property above on 3,000 drafts drawn here (a few µs each, where Hypothesis took ~15 ms to draw one):
    the same drafts on every run, nested three deep, each edge among them many times."""
    rng = random.Random(12)
    drafts = [{"".join(rng.choices("abc作业", k=rng.randint(0, 3))): _drawn_value(rng, 0)
               for _ in range(rng.randint(0, 6))} for _ in range(3000)]
    assert all(_reads_back_as_json_wrote_it(d) for d in drafts)
    by_json = sum(isinstance(conversations.dumps(d), str) for d in drafts)  # (orjson's are bytes)
    assert 500 < by_json < len(drafts) - 500  # both writers reached, many times


def test_an_inbound_payload_reads_back_as_the_same_inbound():
    """The inbound row's payload (every message) goes through the same rule: a message's usual fields are the same
    bytes as json's compact text; a location's odd number is json's text; each reads back as the same Inbound."""
    from handlers.messages import Inbound
    compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    usual = Inbound(openid="o_用户1", kind="text", created_at=1764460000, text="作业太多\n\"引号\"\t👍🏻", msg_id="2456")
    where = Inbound(openid="o1", kind="location", created_at=1764460001, msg_id="2457",
                    location={"lat": 39.9042, "lon": 116.4074, "scale": 15, "label": "北京市东城区"})
    odd = Inbound(openid="o1", kind="location", created_at=1764460002, msg_id="2458",
                  location={"lat": float("nan"), "lon": 1e-7, "scale": 2 ** 64, "label": ""})
    for inbound in (usual, where):
        assert inbound.to_json() == compact(inbound.__dict__)
        assert Inbound.from_json(inbound.to_json()) == inbound
    assert odd.to_json() == compact(odd.__dict__) and '"lat":NaN' in odd.to_json()
    back = Inbound.from_json(odd.to_json())
    assert math.isnan(back.location["lat"]) and back.location["scale"] == 2 ** 64 and back.location["lon"] == 1e-7


@pytest.mark.parametrize("how", ["run", "run_redoable"])
async def test_a_row_written_from_orjsons_bytes_is_stored_as_text(db, how):
    """orjson's bytes go to SQLite as they are (CAST(? AS TEXT)): the column holds TEXT, as json's str made it --
    SQL's JSON functions and every reader see the same text -- whether put at once or at an optimistic batch's end."""
    run = getattr(db, how)
    await run(_put("o1", {**PLAIN, "routing": ROUTING}))  # orjson's form
    await run(_put("o2", ODD[2]))                         # json's form (ints past 64 bits)
    rows = await db.run(lambda d: d.conn.execute(
        "SELECT openid, typeof(data), json_extract(data, '$.parts[0]') FROM conversations ORDER BY openid").fetchall())
    assert rows == [("o1", "text", PLAIN["parts"][0]), ("o2", "text", None)]
    text = await db.run(_text("o1"))
    assert text == orjson.dumps({**PLAIN, "routing": orjson.Fragment(ROUTING.json_text)}).decode()
