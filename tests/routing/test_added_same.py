"""A draft routed again as the person adds to it (已补充) reads its lines' rule matches, model features and near-miss
readings remembered from the routings before it (branch hot18). The decision must be the one the reference router
(tests/routing/test_fast_same.py: every fast path replaced by the code before it, the whole text read at once, nothing
remembered) makes of the joined text from scratch: over many drafts told in several messages, and at the edges
where the line break between two parts matters."""
from __future__ import annotations

import random
import re

import pytest

from handlers.routing import Router
from handlers.routing import normalise as N
from handlers.routing.linear import MODEL_CHARS, features, known_features
from tests.routing.test_fast_same import SCHOOLS, ReferenceRouter, _labelled
from tests.test_routing_mix_same import GRADE, PROBLEM, TAIL, WHO

# what people add at a question (bench/webhook.py's short mix is made of such lines)
ADDED = ["我想反映个情况", "麻烦问一下", "谢谢", "孩子在三年级", "已经好几次了", "希望尽快处理", "老师也不管",
         "学校乱收废", "请问怎么办", "还有校车经常超载", "另外食堂饭菜很差", "the fee is too high", "孩子不想上学了"]


def _drafts(n: int, seed: int = 18) -> list[list[str]]:
    """Drafts of two to six parts: labelled messages cut at their sentences (a story told in several messages),
    routing-mix sentences, and the lines people add."""
    rng = random.Random(seed)
    labelled = [t for t in _labelled() if len(t) >= 8]
    out = []
    for i in range(n):
        if i % 3 == 0:
            parts = [p for p in re.split(r"(?<=[。！？!?；，,])", rng.choice(labelled)) if p.strip()]
        elif i % 3 == 1:
            parts = [f"{rng.choice(WHO)}{rng.choice(GRADE)}{rng.choice(PROBLEM)}，{rng.choice(TAIL)}"
                     for _ in range(rng.randint(1, 2))]
        else:
            parts = [rng.choice(labelled)[:rng.randint(6, 80)]]
        parts = parts[:5] + [rng.choice(ADDED) for _ in range(rng.randint(0 if len(parts) > 1 else 1, 2))]
        out.append(parts[:6])
    return out


# the edges: a word cut by the line break, 甲……乙 across parts and at its 60-character reach, English words
# across lines, a slip and the model's characters at and past the 300-character windows, the single characters
# of drafts of at most and more than 20 Han characters
FILLER = "我们家长都很关心这件事情希望学校能够认真对待"
EDGES = [
    ["学校收取补", "课费三百元"],
    ["老师让孩子在走廊罚站", "孩子现在不想去学校了"],
    ["孩子的事", "my kid goes to day", "care and the fee is high"],
    ["作业太多", "怎么办"],
    ["作业太多了孩子每天写到很晚", "老师也不管怎么办呢真着急"],
    [FILLER * 13, "学校乱收废", "孩子不想上学了"],
    [FILLER * 12 + "学校", "乱收废", "孩子不想上学了"],
    [FILLER * 14, "学校乱收废"],
    [(FILLER * 14)[:296], "乱收废"],  # the slip's last character is the 300th
    [(FILLER * 14)[:297], "乱收废"],  # one further: past the window
]


def _reach(gap: int) -> list[str]:
    """罚站……{refuses} with `gap` characters between the two (the line breaks among them)."""
    first, last = "老师让孩子罚站", "不想去学校了"
    middle = (FILLER * 4)[:gap - 2]
    return [first, middle, last]


@pytest.fixture(scope="module")
def routers() -> tuple[Router, Router]:
    return Router.from_toml(schools=SCHOOLS), ReferenceRouter.from_toml(schools=SCHOOLS)


def _routed_as_added(fast: Router, parts: list[str]):
    """The draft's decision as the service reaches it: each shorter draft routed before, the added part checked
    alone (the another-matter check), then the joined draft."""
    for k in range(1, len(parts)):
        fast.route("\n".join(parts[:k]))
    fast.category(parts[-1])
    return fast.route("\n".join(parts))


def _same(fast: Router, reference: Router, parts: list[str]):
    got = _routed_as_added(fast, parts)
    want = reference.route("\n".join(parts))
    assert repr(got) == repr(want) and got.explain(99) == want.explain(99), parts
    return got


def test_drafts_routed_again_decide_as_the_joined_text(routers):
    fast, reference = routers
    drafts = _drafts(900)
    decisions = [_same(fast, reference, parts) for parts in drafts]
    # the drafts reach what the comparison must cover: several lines, every kind of decision
    assert sum(len(p) >= 3 for p in drafts) > 300
    assert len({d.category for d in decisions}) >= 10 and any(d.urgent for d in decisions)
    assert any(d.fixes for d in decisions) and any(len(d.matters) > 1 for d in decisions)
    assert any(d.school for d in decisions)


def test_the_edges_of_a_line_break(routers):
    fast, reference = routers
    got = {tuple(parts): _same(fast, reference, parts) for parts in EDGES}
    words = {k: [e["word"] for e in d.explanation] for k, d in got.items()}
    # a rule word cut by the break is no word (补课费 read whole is)
    assert "补课费" not in words[tuple(EDGES[0])] and "补课费" in [
        e["word"] for e in fast.route("学校收取补课费三百元").explanation]
    # 罚站……不想去学校: found across the two parts, not in the first alone
    assert any("罚站\n" in w for w in got[tuple(EDGES[1])].urgent_words)
    assert not fast.route(EDGES[1][0]).urgent
    # English words across lines of the body are one entry (day care)
    assert "day care" in words[tuple(EDGES[2])]
    # a slip is read within the first 300 characters only
    assert got[tuple(EDGES[5])].fixes and got[tuple(EDGES[8])].fixes
    assert not got[tuple(EDGES[7])].fixes and not got[tuple(EDGES[9])].fixes


def test_urgent_across_parts_at_its_reach(routers):
    fast, reference = routers
    found = {gap: _same(fast, reference, _reach(gap)).urgent_words for gap in (59, 60, 61, 62)}
    assert any(w.startswith("罚站") for w in found[60]) and not any(w.startswith("罚站") for w in found[61])


def test_the_model_features_are_the_lines_put_together(routers):
    fast, _reference = routers
    joint = fast._joint_table()
    table = joint[2]
    for parts in [*EDGES, *_drafts(300, seed=5)]:
        t = fast.prepare("\n".join(parts))
        want = [f for f in features(t, fast._cut) if f in table]
        assert known_features(t, fast._cut, table, joint[3], joint[4]) == want, parts
        assert known_features(t, fast._cut, table, joint[3]) == want, parts  # (nothing remembered: the same)
    short = fast.prepare("\n".join(EDGES[3]))
    longer = fast.prepare("\n".join(EDGES[4]))
    assert any(f.startswith("c:") for f in features(short, fast._cut))
    assert not any(f.startswith("c:") for f in features(longer, fast._cut))
    assert len(fast.prepare("\n".join(EDGES[7]))) > MODEL_CHARS


def test_near_misses_read_line_by_line_as_whole(routers):
    fast, _reference = routers
    from tests.routing.test_fast_same import ref_near_misses
    nz = fast._normalise
    for parts in [*EDGES, *_drafts(300, seed=7)]:
        t = N.nfkc("\n".join(parts)).lower()
        assert nz._fix_near_misses(t) == ref_near_misses(nz, t), parts


def test_a_rule_word_with_a_line_break_is_refused():
    with pytest.raises(ValueError, match="line break"):
        Router({"categories": {"fees": {"words": {"乱\n收费": 3}}}})
