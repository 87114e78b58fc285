"""The router on the project's own labelled messages (tests/routing/data, handlers/routing/training.csv).

own_heldout2.csv was written before the model and its combination with the rules were designed, and is never
trained or tuned on: it stands for messages the router has not seen. own_heldout.csv was held out the same way
before; once spent it joined the training data (handlers/routing/train.py DATA). The floors here guard against
regressions; the figures themselves are reported by `tingjian route-eval` and `python -m handlers.routing.train`.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from handlers.routing import CATEGORIES, Router
from handlers.routing.evaluate import breakdown, evaluate, format_report, read_csv, read_styles
from handlers.routing.model import TRAINING
from handlers.routing.train import DATA

HELD_OUT = Path(__file__).with_name("data") / "own_heldout2.csv"
SPENT = Path(__file__).with_name("data") / "own_heldout.csv"
# written for issue 11's second round (board-style letters, out of scope naming a school in passing), held out
HELD_OUT3 = Path(__file__).with_name("data") / "own_heldout3.csv"
# issue 11's third round: letters naming a school in passing across many other offices, set aside before the rules'
# [demand] step and the training messages h…, j…, b… were written
HELD_OUT4 = Path(__file__).with_name("data") / "own_heldout4.csv"


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.from_toml()


def test_files_are_well_formed():
    for path in (HELD_OUT, SPENT, TRAINING):
        rows = read_csv(path)
        assert len(rows) >= 120
        assert {label for _i, _t, label in rows} == set(CATEGORIES)
        assert len({i for i, _t, _l in rows}) == len(rows)
    assert HELD_OUT not in DATA and TRAINING in DATA
    held = {t for _i, t, _l in read_csv(HELD_OUT)}
    trained = {t for path in DATA for _i, t, _l in read_csv(path)}
    assert not held & trained, "a held-out message leaked into training"


@pytest.mark.parametrize("path", [HELD_OUT, HELD_OUT3, HELD_OUT4])
def test_held_out_floor(router, path):
    report = evaluate(router, read_csv(path))
    assert report.accuracy >= 0.9, format_report(report)
    assert report.f1("out_of_scope") >= 0.9, format_report(report)


@pytest.mark.parametrize("path", [HELD_OUT3, HELD_OUT4])
def test_the_later_held_out_sets_never_trained_on(path):
    rows = read_csv(path)
    assert len(rows) >= 80 and {label for _i, _t, label in rows} == set(CATEGORIES)
    assert path not in DATA
    trained = {t for p in DATA for _i, t, _l in read_csv(p)}
    assert not {t for _i, t, _l in rows} & trained


def test_held_out_by_style_floor(router):
    rows = read_csv(HELD_OUT)
    styles = read_styles(HELD_OUT)
    assert {"short", "formal", "traditional", "english", "typo", "colloquial"} <= set(styles.values())
    parts = breakdown(evaluate(router, rows), rows, lambda i, _t: styles[i])
    for style in ("traditional", "english", "typo", "colloquial"):
        assert parts[style].accuracy >= 0.8, (style, parts[style].accuracy)


def test_the_model_explains_itself_and_never_overrules_a_clear_letter(router):
    d = router.route("孩子作业写到十一点")  # a clear rule decision, the model agreeing: no model words shown
    assert d.category == "burden" and not any(e["word"].startswith("模型") for e in d.explanation)
    rules_only = Router.from_toml(train=False)
    for _i, text, _l in read_csv(HELD_OUT):
        d, r = router.route(text), rules_only.route(text)
        by_model = any(e["word"].startswith("模型") for e in d.explanation)
        if d.category != r.category:
            assert by_model, text  # a decision the rules did not take names the model's words
        if not any(r.scores.values()):
            assert d.confidence <= 0.5, text  # the model alone is never sure
        if "\n" in text and r.confidence >= router.model_settings["unsure_below"]:
            assert d.category == r.category, text  # a long letter with a clear rule decision stays with it


def test_no_signal_takes_the_model_with_low_confidence(router):
    d = router.route("那条街晚上黑黢黢的灯也不亮")  # no rule word at all
    assert d.category == "out_of_scope" and d.confidence <= 0.5
    assert any(e["word"].startswith("模型") for e in d.explanation)


# issue 11, English: 30 messages written the way the city's Chinese families write English, set aside before the
# English table was generalised (word forms, synonym families, requests addressed to other departments) and
# never tuned on; own_english_dev.csv holds the 30 that were.
ENGLISH_HELD_OUT = Path(__file__).with_name("data") / "own_english_heldout.csv"
ENGLISH_DEV = Path(__file__).with_name("data") / "own_english_dev.csv"
# 30 more, written after the English families were built and scored once (0.900; main before them 0.767)
ENGLISH_HELD_OUT2 = Path(__file__).with_name("data") / "own_english_heldout2.csv"


@pytest.mark.parametrize("path,floor", [(ENGLISH_HELD_OUT, 0.9), (ENGLISH_HELD_OUT2, 0.85)])
def test_english_held_out_floor(router, path, floor):
    rows = read_csv(path)
    assert len(rows) == 30 and {label for _i, _t, label in rows} == set(CATEGORIES)
    assert path not in DATA
    assert not {t for _i, t, _l in rows} & {t for p in DATA for _i, t, _l in read_csv(p)}
    assert not {t for _i, t, _l in rows} & {t for _i, t, _l in read_csv(ENGLISH_DEV)}
    report = evaluate(router, rows)
    assert report.accuracy >= floor, format_report(report)
    assert report.f1("out_of_scope") >= 0.85, format_report(report)


def test_english_dev_floor(router):
    report = evaluate(router, read_csv(ENGLISH_DEV))
    assert report.accuracy >= 0.95, format_report(report)


# issue 11, route4: English (all 13 labels, British/American/Indian/Chinglish) and board letters naming a school in
# passing, written together and split before the router was run (third, sixth … row of each label held out); the
# held-out files are never tuned on. Their figures are in tests/routing/data/README.md.
ROUTE4_HELD_OUT = [Path(__file__).with_name("data") / n for n in ("own_english_heldout3.csv", "own_oos_heldout.csv",
                                                                   "own_english_heldout4.csv")]
ROUTE4_DEV = [Path(__file__).with_name("data") / n for n in ("own_english_dev2.csv", "own_oos_dev.csv", "own_english_dev3.csv")]


def test_route4_sets_are_apart():
    trained = {t for p in DATA for _i, t, _l in read_csv(p)}
    dev = {t for p in ROUTE4_DEV for _i, t, _l in read_csv(p)}
    for path in ROUTE4_HELD_OUT:
        held = {t for _i, t, _l in read_csv(path)}
        assert path not in DATA and not held & trained and not held & dev


@pytest.mark.parametrize("path,floor", [(ROUTE4_HELD_OUT[0], 0.85), (ROUTE4_HELD_OUT[1], 0.85), (ROUTE4_HELD_OUT[2], 0.85),
                                        (ROUTE4_DEV[0], 0.9), (ROUTE4_DEV[1], 0.95), (ROUTE4_DEV[2], 0.9)])
def test_route4_floor(router, path, floor):
    report = evaluate(router, read_csv(path))
    assert report.accuracy >= floor, format_report(report)
