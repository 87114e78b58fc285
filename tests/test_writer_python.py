"""The writer's per-message Python made cheaper (issue 10, branch writer7) writes and answers exactly as before.

- `storage.jsontext.encoder` writes what `json.JSONEncoder(ensure_ascii=False, separators=...).encode` writes (the
  conversation row, the inbound row and its reply, the outbox's payloads, the routing decision, the writer's frames).
- `conversations.dumps` writes a conversation row's JSON (by orjson since branch draft12, by json's C encoder for
  what orjson would write otherwise) and puts in the values that carry their own JSON as they are: text that
  reads back (json.loads, every reader's) as the same values as the code before it (kept below as the reference)
  for every draft the dialogues make, and for odd values.
- `commands._read_head` (remembered for short texts) reads a message's verb, or the ticket number it asks about,
  as `Commands.handle` did inline before.
- Whole dialogues (asides, answers, stories, commands, bare ticket numbers, from citizens and staff) handled on
  fresh databases through the new code and through the old functions give the same replies and the same stored
  conversation rows (their data as read) after every message.
"""
from __future__ import annotations

import json
import math
import random
import unicodedata

from handlers import commands, intake, messages
from storage import conversations, jsontext
from tests.test_handling_fast import ANSWERS, ASIDES, STORY, _handle_all


def old_dumps(data):
    """storage.conversations.dumps as it was before this branch (e542f05), verbatim but for the names."""
    plain, enc = conversations._PLAIN, json.JSONEncoder(ensure_ascii=False)
    ready = {k: v.json_text for k, v in data.items()
             if type(v) not in plain and getattr(v, "json_text", None) is not None}
    if not ready:
        return enc.encode(data)
    rest = enc.encode({k: v for k, v in data.items() if k not in ready})
    tail = ", ".join(f"{enc.encode(k)}: {text}" for k, text in ready.items())
    return f"{rest[:-1]}, {tail}}}" if rest != "{}" else f"{{{tail}}}"


def old_head(raw):
    """Commands.handle's first lines before this branch: (the verb and the rest, or None; the number asked)."""
    text = messages.INVISIBLE.sub("", raw).strip()
    m = commands._match(text)
    if m is None:
        asked = commands.LOOKUP.fullmatch(unicodedata.normalize("NFKC", text.strip("。.!！?？ ")))
        return None, asked.group(1) if asked else None
    return m, None


COMMANDS = ["查询", "查询 JY2611-0001", "JY2611-0001", "查一下JY2611-0005", "JY2611-0005进度怎么样了",
            "jy2611-0003 的情况", "帮助", "取消", "取消了校车", "评价 JY2611-0001 5", "回復 JY2611-0001 已处理",
            "回复", "待办", "待办 2", "签收 1-5", "签收全部", "\u200b查询", "查詢", "  查询  ", "详情 JY2611-0002",
            "JY2611-0001？", "我的留言", "菜单", "help", "HELP", "Help me", "统计", "退回 JY2611-0001 不归我们管"]


def values(text: str) -> str:
    """What a stored JSON text reads as, in one canonical text: NaN, -0.0, 1 and 1.0 and big ints told apart."""
    return json.dumps(json.loads(text), sort_keys=True, ensure_ascii=False)


def test_the_conversation_json_reads_as_the_same_values_as_before():
    rng = random.Random(7)
    routing = intake.Routing({"category": "burden", "confidence": 0.937, "scores": {"burden": 1.5, "fees": 0.0},
                              "explanation": [{"word": "放学", "category": "burden", "weight": 1.5}],
                              "matters": [], "urgent": False, "urgent_score": 0.001})
    cases = [{}, {"a": 1}, {"routing": routing}, {"r": routing, "s": routing},
             {"x": float("nan"), "y": math.inf, "z": -0.0, "k": 1e-7, "big": 10 ** 30},
             {"nested": {"a": [1, 2.5, None, True, {"b": "引号\"\n\t\u2028"}]}, 1: "int key", None: "none key"},
             {"emoji": "👍🏻", "ctrl": "\x00\x1f", "lone": "\ud800"}]
    for _ in range(200):  # drafts of every shape the intake stores
        d = intake.Draft(openid=f"o{rng.random()}", parts=[rng.choice(STORY) for _ in range(rng.randint(0, 3))],
                         kind=rng.choice([None, "complaint", "inquiry"]), insist=rng.random() < 0.5,
                         anonymous=rng.choice([None, True, False]), held=rng.choice([None, "还有\n一件事"]),
                         shelved=rng.choice([None, {"parts": ["旧的"], "kind": None}]),
                         routing=rng.choice([{}, routing, dict(routing)]))
        cases.append(d.to_dict())
    for data in cases:
        assert values(conversations.dumps(data)) == values(old_dumps(data)), data
    try:
        conversations.dumps({"bad": object()})
    except TypeError as exc:  # what json says of a value it cannot write, as before
        assert "not JSON serializable" in str(exc)
    else:
        raise AssertionError("an object that is no JSON was written")


ODD = [None, True, False, 0, -1, 10 ** 30, 1.5, -0.0, 1e-7, 1e300, float("nan"), float("inf"), -float("inf"), "",
       "引号\"\\\n\t\u2028", "👍🏻", "\x00\x1f", "\ud800", [], {}, [1, [2, [3, {"a": None}]]], (1, "tuple"),
       {1: "int key", 2.5: "float key", True: "bool key", None: "none key"}, {"routing": {"scores": {"a": 0.1}}}]


def test_the_shared_encoder_writes_what_json_writes():
    for separators in ((", ", ": "), (",", ":")):
        encode, reference = jsontext.encoder(separators), json.JSONEncoder(ensure_ascii=False, separators=separators)
        for value in ODD + [{"k": v} for v in ODD] + [ODD]:
            assert encode(value) == reference.encode(value), value
        for bad in (object(), {"a": {1, 2}}, {(1, 2): "tuple key"}):
            try:
                reference.encode(bad)
            except TypeError as exc:
                expected = str(exc)
            try:
                encode(bad)
            except TypeError as exc:
                assert str(exc) == expected
            else:
                raise AssertionError(f"{bad!r} was written")


def test_the_head_of_a_message_is_read_as_before():
    texts = COMMANDS + ASIDES + ANSWERS + STORY + ["", " ", "查", "JY", "JY2611-", "看看JY2611-0009吗", "x" * 40]
    for text in texts * 2:  # the second time from the memory
        assert commands._read_head(text) == old_head(text), text


async def test_whole_dialogues_answer_and_store_the_same_through_the_old_functions_and_the_new(
        make_config, monkeypatch, tmp_path):
    rng = random.Random(11)
    pool = ASIDES + ANSWERS + STORY + COMMANDS
    messages = [(f"o_w7{rng.randrange(20):02d}", rng.choice(pool)) for _ in range(280)]
    messages += [("o_hp", text) for text in COMMANDS]  # the school's handler (tests.test_handling_fast binds one)
    new = await _handle_all(make_config, messages, tmp_path / "new.db")
    assert any(row and "routing" in row[2] for _r, row in new)  # drafts with a routing decision were stored
    monkeypatch.setattr(conversations, "dumps", old_dumps)
    monkeypatch.setattr(commands, "_read_head", old_head)
    old = await _handle_all(make_config, messages, tmp_path / "old.db")
    assert len(new) == len(old) == len(messages)
    assert any(a and a[2] != b[2] for (_r, a), (_s, b) in zip(new, old))  # two forms of text, read alike below
    for (openid, text), (replies, row), (old_replies, old_row) in zip(messages, new, old):
        assert replies == old_replies, (openid, text)
        assert (row and (*row[:2], values(row[2]))) == (old_row and (*old_row[:2], values(old_row[2]))), (openid, text)
