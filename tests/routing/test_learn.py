"""Learning from staff corrections: route-suggest on a real SQLite file with recorded 转派, and route-eval on
corrections and with --by-length/--by-style. Nothing may change the live rules."""
from __future__ import annotations

import csv
import json
import time
import tomllib

import pytest

from bot.cli import main
from bot.demo import DEMO_DIRECTORY
from handlers.routing import DEFAULT_RULES, Router
from handlers.routing.learn import add_word, gold_of, set_weight, suggest
from storage import directory, tickets
from storage.db import Database

# The bureau's staff moved these to the right office; the router had sent them elsewhere.
CORRECTED = [
    ("孩子学校的研学旅行一个人收两千，不去不行", "fees", "jyj-sfc"),
    ("学校组织研学旅行收费太高，家长没得选", "fees", "jyj-sfc"),
    ("研学旅行费用三千，学校说是自愿的", "fees", "jyj-sfc"),
    ("孩子作业写到十一点", "burden", "jyj-jjc"),  # only the unit changed, the category was right
]


@pytest.fixture
def config_with_corrections(tmp_path):
    db_path = tmp_path / "c.db"
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[storage]\npath = "{db_path}"\n', encoding="utf-8")
    db = Database(db_path).start()
    try:
        db.run_sync(directory.upsert, directory.read_csv(DEMO_DIRECTORY))
        units = {u["code"]: u for u in db.run_sync(lambda d: list(d.query("SELECT * FROM units")))}
        assert all(code in units for _t, _c, code in CORRECTED), "demo directory changed"

        def fill(d):
            for n, (text, _cat, to_unit) in enumerate(CORRECTED):
                wrong = "burden"  # what the router had said
                # the decision as it was made then, stored on the ticket (the router may know better by now)
                then = json.dumps({"category": wrong, "explanation": [
                    {"word": "研学" if n < 3 else "作业", "category": wrong, "weight": 6.0}]}, ensure_ascii=False)
                d.execute("INSERT INTO tickets (number, openid, kind, category, unit_code, text, state, created_at, "
                          "routing) VALUES (?, 'o1', 'complaint', ?, 'jyj-bgs', ?, 'assigned', ?, ?)",
                          [f"T{n}", wrong, text, time.time(), then])
                tid = d.execute("SELECT id FROM tickets WHERE number = ?", [f"T{n}"]).fetchone()[0]
                ticket = {"id": tid, "category": wrong, "unit_code": "jyj-bgs", "text": text}
                tickets.record_correction(d, ticket, "o_staff", to_unit, time.time(), "转派")
        db.run_sync(fill)
    finally:
        db.close()
    return cfg


def test_gold_of_a_correction():
    assert gold_of({"category": "burden", "to_categories": ["fees"]}) == "fees"
    assert gold_of({"category": "fees", "to_categories": ["fees", "tutoring"]}) == "fees"  # unit-only change
    assert gold_of({"category": "burden", "to_categories": ["fees", "tutoring"]}) is None  # cannot be judged
    assert gold_of({"category": "burden", "to_categories": []}) is None


def test_rules_file_edits_keep_it_valid():
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    edited = add_word(set_weight(text, "burden", "作业", 1.5), "fees", "研学旅行", 2)
    rules = tomllib.loads(edited)
    assert rules["categories"]["burden"]["words"]["作业"] == 1.5
    assert rules["categories"]["fees"]["words"]["研学旅行"] == 2
    assert rules["categories"]["fees"]["words"]["乱收费"] == tomllib.loads(text)["categories"]["fees"]["words"]["乱收费"]


def test_suggest_proposes_a_diff_and_changes_nothing(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text('[categories.burden.words]\n"研学" = 6\n[categories.fees.words]\n"乱收费" = 5\n',
                     encoding="utf-8")
    before = rules.read_text(encoding="utf-8")
    router = Router.from_toml(rules)
    corrections = [{"ticket_id": n, "category": "burden", "to_categories": ["fees"], "text": t}
                   for n, (t, _c, _u) in enumerate(CORRECTED[:3])]
    sug = suggest(router, before, corrections, min_count=2, rules_name="rules.toml")
    assert sug.evaluated == 3 and sug.right_now == 0
    assert ("研学", "burden", "fees", 3) in sug.misleading
    assert ("burden", "研学", 6.0, 3.0, 3) in sug.lower
    assert ("fees", "旅行", 2.0, 3) in sug.add  # in every corrected message, and no rule word of fees yet
    assert sug.diff.startswith("--- a/rules.toml\n+++ b/rules.toml")
    assert '-"研学" = 6' in sug.diff and '+"研学" = 3' in sug.diff
    assert sug.right_after == 3
    assert rules.read_text(encoding="utf-8") == before


def test_route_suggest_cli_on_a_database(config_with_corrections, tmp_path, capsys):
    patch = tmp_path / "rules.diff"
    before = DEFAULT_RULES.read_text(encoding="utf-8")
    assert main(["route-suggest", "--config", str(config_with_corrections), "--out", str(patch)]) == 0
    out = capsys.readouterr().out
    assert "corrections judged: 4" in out
    assert "words that most often preceded a correction" in out
    assert DEFAULT_RULES.read_text(encoding="utf-8") == before  # the live rules are untouched
    if patch.exists():
        assert patch.read_text(encoding="utf-8").startswith("--- a/default_rules.toml")


def test_route_suggest_with_no_corrections(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[storage]\npath = "{tmp_path / "e.db"}"\n', encoding="utf-8")
    assert main(["route-suggest", "--config", str(cfg)]) == 0
    assert "no corrections recorded yet" in capsys.readouterr().out


def test_route_eval_on_corrections(config_with_corrections, capsys):
    assert main(["route-eval", "--corrections", "--config", str(config_with_corrections)]) == 0
    out = capsys.readouterr().out
    assert "corrections from the database: 4 judged, 0 not judged" in out
    assert "messages 4" in out and "fees" in out


def test_route_eval_needs_a_file_or_corrections(tmp_path, capsys):
    assert main(["route-eval"]) == 2
    assert "--corrections" in capsys.readouterr().err
    assert main(["route-eval", str(tmp_path / "missing.csv")]) == 2


def test_route_eval_by_length_and_style(tmp_path, capsys):
    data = tmp_path / "s.csv"
    with open(data, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "label", "style"])
        w.writerow(["1", "孩子作业写到十一点", "burden", "short"])
        w.writerow(["2", "學校亂收費", "fees", "traditional"])
        w.writerow(["3", "The teacher hit my kid", "ethics", "english"])
        w.writerow(["4", "关于学校乱收费的反映\n" + "该校每学期收取资料费三百元，没有收据，家长意见很大。" * 3, "fees", "formal"])
        w.writerow(["5", "小区物业乱收停车费", "fees", "short"])  # mislabelled: shows in the short group
    assert main(["route-eval", str(data), "--by-length", "--by-style"]) == 0
    out = capsys.readouterr().out
    assert "confusion pairs" in out and "fees -> out_of_scope  1" in out
    by_length, by_style = out.split("by length")[1].split("by style")

    def groups(section):
        return {line.split()[0]: line.split() for line in section.splitlines() if line.split()}
    assert groups(by_length)["short"][1] == "4" and groups(by_length)["long"][1] == "1"
    assert groups(by_style)["short"][1] == "2" and groups(by_style)["english"][1] == "1"
    assert groups(by_style)["traditional"][2] == "1.000"


def test_suggest_lists_the_words_of_the_decision_stored_on_the_ticket():
    router = Router.from_toml()
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    then = {"category": "burden", "explanation": [{"word": "研学", "category": "burden", "weight": 12.0},
                                                  {"word": "学校", "category": "other_edu", "weight": 1.0}]}
    corrections = [{"ticket_id": n, "category": "burden", "to_categories": ["fees"], "text": t, "routing": then}
                   for n, (t, _c, _u) in enumerate(CORRECTED[:3])]
    sug = suggest(router, text, corrections)
    assert sug.misleading[0] == ("研学", "burden", "fees", 3)
