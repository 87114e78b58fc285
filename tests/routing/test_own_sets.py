"""The router on the project's own labelled messages (tests/routing/data, handlers/routing/training.csv).

own_heldout.csv was written before any tuning and is never tuned on: it stands for messages the router has not
seen. Its floors guard against regressions; the figures themselves are reported by `tingjian route-eval`.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from handlers.routing import CATEGORIES, Router
from handlers.routing.evaluate import breakdown, evaluate, format_report, read_csv, read_styles
from handlers.routing.model import TRAINING

HELD_OUT = Path(__file__).with_name("data") / "own_heldout.csv"


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.from_toml()


def test_files_are_well_formed():
    for path in (HELD_OUT, TRAINING):
        rows = read_csv(path)
        assert len(rows) >= 130
        assert {label for _i, _t, label in rows} == set(CATEGORIES)
        assert len({i for i, _t, _l in rows}) == len(rows)
    held = {t for _i, t, _l in read_csv(HELD_OUT)}
    assert not held & {t for _i, t, _l in read_csv(TRAINING)}, "a held-out message leaked into training"


def test_held_out_floor(router):
    report = evaluate(router, read_csv(HELD_OUT))
    assert report.accuracy >= 0.85, format_report(report)
    assert report.f1("out_of_scope") >= 0.85, format_report(report)


def test_held_out_by_style_floor(router):
    rows = read_csv(HELD_OUT)
    styles = read_styles(HELD_OUT)
    assert {"short", "formal", "traditional", "english", "typo", "colloquial"} <= set(styles.values())
    parts = breakdown(evaluate(router, rows), rows, lambda i, _t: styles[i])
    for style in ("traditional", "english"):
        assert parts[style].accuracy >= 0.8, (style, parts[style].accuracy)


def test_model_only_decides_where_rules_are_unsure(router):
    # a clear rule decision is never overruled, and a model decision says so in the explanation
    d = router.route("孩子作业写到十一点")
    assert not any(e["word"].startswith("模型") for e in d.explanation)
    for _i, text, _l in read_csv(HELD_OUT):
        d = router.route(text)
        if any(e["word"].startswith("模型") for e in d.explanation):
            assert d.confidence <= 0.6
