"""The routing model: its features, training, the weights file, and its combination with the rules."""
from __future__ import annotations

import json

import pytest

from handlers.routing import CATEGORIES, Router
from handlers.routing.linear import WEIGHTS, LinearModel, features, fit
from handlers.routing.train import DATA, DESIGNS, main, rows_of


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.from_toml()


def test_features_are_words_character_ngrams_and_english_stems(router):
    f = features(router.prepare("學校亂收費"), router.tokenizer)  # read as simplified first
    assert {"w:乱收费", "乱收", "收费", "乱收费", "c:费"} <= set(f)
    assert "c:的" not in features("我的孩子", router.tokenizer)  # filler characters are no evidence
    long = features("关于学校收费的问题，" * 5, router.tokenizer)
    assert not any(x.startswith("c:") for x in long)  # single characters only in short messages
    assert {"e:teacher", "e:slapp"} <= set(features("the teachers slapped him", router.tokenizer))


def test_fit_learns_and_the_weights_survive_a_round_trip(router, tmp_path):
    labels = ("fees", "out_of_scope")
    rows = [("学校乱收费", 0), ("学校收资料费", 0), ("学校收补课费", 0),
            ("小区停车乱收费", 1), ("物业收停车费", 1), ("停车场乱收费", 1)]
    docs = [(features(router.prepare(t), router.tokenizer), y) for t, y in rows]
    model = fit(docs, labels, epochs=30, min_count=1)
    probs, known = model.predict(router.prepare("学校收费太乱"), router.tokenizer)
    assert probs[0] > probs[1] and known
    probs, _ = model.predict(router.prepare("小区停车收费"), router.tokenizer)
    assert probs[1] > probs[0]
    path = tmp_path / "w.json"
    model.save(path, {"note": "test"})
    again = LinearModel.load(path)
    for text in ("学校收费太乱", "小区停车收费", "完全无关"):
        a, _ = model.predict(text, router.tokenizer)
        b, _ = again.predict(text, router.tokenizer)
        assert a == pytest.approx(b, abs=1e-3)
    assert model.why(known, 0, 1)  # the features that favour fees, without their prefixes
    assert all(":" not in w for w, _v in model.why(known, 0, 1))


def test_the_shipped_weights_are_trained_on_the_shipped_data():
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    assert tuple(data["labels"]) == CATEGORIES
    assert data["meta"]["trained_on"] == [p.name for p in DATA]
    # training.csv edited without retraining: run `python -m handlers.routing.train`
    assert data["meta"]["messages"] == len(rows_of(DATA))


def test_the_shipped_rules_use_the_cross_validated_design(router):
    chosen = dict(DESIGNS)["fuse l=2, long l=3 oos.75 unless other"]
    assert {k: router.model_settings[k] for k in chosen} == chosen
    assert isinstance(router.model, LinearModel)


def test_a_clear_long_letter_is_the_rules_and_a_short_message_the_fused_decision(router):
    rules_only = Router.from_toml(train=False)
    letter = "关于某中学乱收费的反映\n该校每学期收取资料费三百元，没有收据，家长意见很大。"
    assert router.route(letter).category == rules_only.route(letter).category == "fees"
    d = router.route("俺们村的小学说要合并到镇上，娃儿那么小咋个走那么远")
    assert d.category == "planning"


@pytest.mark.slow
def test_the_trainer_writes_weights_that_route(tmp_path, capsys):
    out = tmp_path / "w.json"
    assert main(["--out", str(out), "--epochs", "1"]) == 0
    model = LinearModel.load(out)
    assert model.labels == CATEGORIES and len(model.index) > 1000


def test_a_copy_of_the_rules_elsewhere_uses_the_shipped_weights(tmp_path):
    from handlers.routing import DEFAULT_RULES
    copy = tmp_path / "rules.toml"
    copy.write_text(DEFAULT_RULES.read_text(encoding="utf-8"), encoding="utf-8")
    assert isinstance(Router.from_toml(copy).model, LinearModel)
