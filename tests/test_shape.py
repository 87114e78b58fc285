"""The declared shape: one command table, one lifecycle table, one source per vocabulary — and everything that
is generated from them (help, README) or must agree with them (texts, rules file, directory) does."""
from __future__ import annotations

import csv
import re
import time
import tomllib
from pathlib import Path

import pytest
import sqlite_utils

from bot.demo import DEMO_DIRECTORY
from handlers import commands, texts
from handlers.desk import MAY, VERBS
from handlers.routing import DEFAULT_RULES
from handlers.vocabulary import CATEGORIES, KINDS, ROLES, STAFF_ROLES
from storage import lifecycle, staff, tickets
from storage.migrations import migrate

README = Path(__file__).resolve().parents[1] / "README.md"
CITIZEN = {"role": "citizen"}
LEADER = {"role": "leader", "unit_code": "jyj"}
DUTY = {"role": "handler", "unit_code": "jyj-bgs"}
HANDLER = {"role": "handler", "unit_code": "jn-syxx"}


@pytest.mark.parametrize("user", [CITIZEN, LEADER, DUTY, HANDLER], ids=["citizen", "leader", "duty", "handler"])
def test_help_lists_every_command_the_person_may_use_and_no_other(user):
    text = commands.help_text(user, "jyj-bgs")
    lines = [line for line in text.splitlines() if line.startswith("· ")]
    listed = {line[2:].split(" — ")[0].split()[0] for line in lines}
    expected = {c.verb for c in commands.TABLE if c.admits(user, "jyj-bgs") and not c.hidden}
    assert listed == expected
    assert len(lines) == len(expected)  # each verb once


def test_the_leader_sees_every_staff_command_and_citizens_every_citizen_command():
    leader = commands.help_text(LEADER, "jyj-bgs")
    for verb in ("待办", "详情", "签收", "回复", "办结", "退回", "转派", "延期", "同意延期", "不同意延期", "督办", "催办",
                 "超期", "周报", "备注"):
        assert f"· {verb} " in leader or f"· {verb}\n" in leader + "\n", verb
    citizen = commands.help_text(CITIZEN, "jyj-bgs")
    for verb in ("帮助", "取消", "查询", "回复", "撤回", "评价"):
        assert f"· {verb}" in citizen, verb
    assert "转派" not in commands.help_text(HANDLER, "jyj-bgs")
    assert "转派" in commands.help_text(DUTY, "jyj-bgs")  # the duty office re-dispatches


def test_no_word_means_two_commands_to_the_same_person():
    for role in ROLES:
        user = {"role": role, "unit_code": "jyj-bgs"}
        seen: dict[str, str] = {}
        for c in commands.TABLE:
            if not c.admits(user, "jyj-bgs"):
                continue
            for w in c.words:
                assert seen.setdefault(w.lower(), c.verb) == c.verb, (role, w)


def test_staff_commands_take_their_permission_from_the_desk():
    by_verb = {c.verb: c for c in commands.TABLE if c.who & STAFF_ROLES}
    for action, verb in VERBS.items():
        if verb in by_verb:
            assert by_verb[verb].who == MAY[action], verb


def test_readme_shows_the_command_table_and_the_lifecycle_as_generated():
    readme = README.read_text(encoding="utf-8")
    assert "<!-- commands:start -->\n" + commands.markdown() + "\n<!-- commands:end -->" in readme
    assert "```mermaid\n" + lifecycle.mermaid() + "\n```" in readme


# -- the lifecycle -----------------------------------------------------------------------------------------------

def test_open_and_watched_states_derive_from_the_table():
    assert set(lifecycle.OPEN) == set(lifecycle.STATES) - {"resolved", "closed", "withdrawn"}
    assert tickets.OPEN_STATES == lifecycle.OPEN
    assert "bounced" in lifecycle.CLOCK and "bounced" not in lifecycle.ACTIVE
    for action, (starts, to) in lifecycle.ACTIONS.items():
        assert set(starts) <= set(lifecycle.STATES), action
        assert to == lifecycle.SAME or to in lifecycle.STATES, action
    for final in lifecycle.FINAL:
        assert not any(lifecycle.allowed(a, final) for a in lifecycle.ACTIONS), final


def test_storage_refuses_a_transition_the_table_does_not_allow(tmp_path):
    db = sqlite_utils.Database(tmp_path / "t.db")
    migrate(db)
    db.execute("INSERT INTO units (code, name, kind) VALUES ('u', '单位', 'office')")
    t = tickets.create(db, openid="o", kind="complaint", category="fees", unit_code="u", school_code=None,
                       text="x", attachments=[], contact_phone=None, anonymous=True, routing={}, now=time.time(),
                       due_at=time.time() + 86400, tz=None)
    t = tickets.transition(db, t, "withdrawn", "o", time.time(), "withdraw")
    with pytest.raises(lifecycle.TransitionError):
        tickets.transition(db, t, "assigned", "boss", time.time(), "transfer")
    with pytest.raises(lifecycle.TransitionError):
        tickets.record(db, t, "supervise", "boss", time.time(), "快办")
    with pytest.raises(lifecycle.TransitionError):  # an action may not lead somewhere the table does not say
        tickets.transition(db, {**t, "state": "accepted"}, "closed", "x", time.time(), "resolve")
    assert tickets.get(db, t["number"])["state"] == "withdrawn"


# -- one source per vocabulary -------------------------------------------------------------------------------------

def test_texts_rules_file_and_directory_agree_with_the_vocabulary():
    rules = tomllib.loads(DEFAULT_RULES.read_text(encoding="utf-8"))
    assert set(rules["categories"]) == set(CATEGORIES)
    assert set(texts.CATEGORY_NAMES) == set(CATEGORIES)
    for code, section in rules["categories"].items():
        assert section["name"] == texts.CATEGORY_NAMES[code], code  # one name for a category, wherever shown
    with open(DEMO_DIRECTORY, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for code in filter(None, re.split(r"[;,]", row["categories"] or "")):
                assert code in CATEGORIES, (row["code"], code)
    assert set(texts.KIND_NAMES) == set(KINDS)
    assert set(texts.ROLE_NAMES) == set(STAFF_ROLES) == set(staff.ROLES)
    assert set(texts.STATE_NAMES) == set(lifecycle.STATES)
    named = set(texts.EVENT_NAMES) | {"extension_request"}
    assert set(lifecycle.ACTIONS) <= named, set(lifecycle.ACTIONS) - named
    assert set(texts.CITIZEN_EVENT_NAMES) <= set(lifecycle.ACTIONS)
