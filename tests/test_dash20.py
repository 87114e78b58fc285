"""dash20: the writer's text patterns made linear give the answers the old ones gave (bench/regex_same.py keeps the
old patterns: here on random texts with long runs, and on a few long replies by their meaning); a column a
migration adds is seen on the same connection after it (storage.tickets.has_column remembers only what it saw)."""
from __future__ import annotations

import random
import sys
from pathlib import Path

from handlers import intake, names
from storage import migrations, tickets
from tests.rates_check import before_m059

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import regex_same  # noqa: E402  (bench/regex_same.py: the old patterns, and its random texts)


def test_the_linear_patterns_answer_as_the_old_ones_on_random_texts_with_long_runs():
    rng = random.Random(20)
    texts = [regex_same.text(rng) for _ in range(3000)]
    for name, (old, new) in regex_same.PAIRS.items():
        sample = [*texts, *(regex_same.text(rng, regex_same.OWN[name]) for _ in range(3000))] \
            if name in regex_same.OWN else texts
        differ = [t for t in sample if old(t) != new(t)]
        assert not differ, (name, differ[:3])


def test_long_replies_are_read_for_what_they_say():
    spaces = " " * 3000
    assert intake.may_be_aside("算了" + spaces + "我还是先问问老师")   # second thoughts, after a long run
    assert intake.may_be_aside("算了，" + spaces + "不反映了")
    assert not intake.may_be_aside("老师" + spaces + "孩子在学校被打了")
    assert intake.EMOJI_ONLY.fullmatch("🙏" * 2000 + " ！")
    assert not intake.EMOJI_ONLY.fullmatch("🙏" * 2000 + "谢谢")
    assert intake.bare("好的" + "~" * 2000) == "好"
    assert intake.bare("好" + "~" * 2000 + "吗") == "好" + "~" * 2000 + "吗"
    assert names._beside_place("的" * 2000 + "实验小学" + "的吧" * 1000) == "实验小学"


def test_a_column_a_migration_adds_is_seen_on_the_same_connection(tmp_path):
    db = before_m059(tmp_path / "t.db", "jn-yyxx", "m067_kept_resolutions")
    assert tickets.has_column(db, "unit_misses", "ticket_id")
    assert not tickets.has_column(db, "unit_misses", "resolved_at")  # not yet: m067 adds it
    migrations.migrate(db)
    assert tickets.has_column(db, "unit_misses", "resolved_at")
    assert not tickets.has_column(db, "unit_misses", "no_such_column")
