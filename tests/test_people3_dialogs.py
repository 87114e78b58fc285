"""Rough edges found by chatting with the demo as real people (issue: the people who use it, third round): a school
named in English at any question, English for every text an English writer receives, a kind changed after
submitting, and a withdrawal that must not end a check on a teacher's conduct or a child's safety. Each test
failed before its fix."""
from __future__ import annotations

import re

import pytest

from bot.demo import SANDBOX
from storage import directory, users
from tests.dialog import DISTRICT, FEES, drain, heard, talk
from tests.test_citizen_dialogs import ticket
from tests.test_people2_dialogs import english, file_in_english

EXPAT = "o_expat_parent3"


# -- 1: a school's name in English or pinyin, at whatever question it is typed --------------------------------------
@pytest.mark.parametrize("name", ["Wenchang Primary School", "It's wenchang xiaoxue", "No. 1 Middle School please"])
async def test_a_school_named_in_english_at_another_question_is_the_school(dialog, name):
    d = dialog
    await talk(d, EXPAT, "My son's teacher gives far too much homework every night.", expect="Is your message")
    reply = await english(d, await talk(d, EXPAT, name, expect="School noted"))
    assert "Please reply with a number" not in reply
    reply = await talk(d, EXPAT, "2", absent="Which school")
    while "Please check your message" not in reply:
        reply = await talk(d, EXPAT, "0" if "phone" in reply else "2")
    assert ("江北区文昌小学" if "ench" in name else "市第一中学") in reply


async def test_a_school_named_in_english_at_the_phone_question_is_not_a_refusal_of_the_phone(dialog):
    d = dialog
    await talk(d, EXPAT, "The canteen food at my daughter's school is always cold. I want to complain.")
    await talk(d, EXPAT, "0", expect="phone number")  # no school yet, then it comes to mind
    reply = await talk(d, EXPAT, "No. 1 Middle School", expect=["School noted: 市第一中学", "phone number"])
    await english(d, reply)


async def test_an_english_name_that_fits_two_schools_is_asked_about_in_english(dialog):
    d = dialog
    await d.db(directory.upsert, [{"code": "jb-syxx", "name": "江北区实验小学", "kind": "school", "district": "江北区",
                                   "parent": "jb-jyj"}])
    await talk(d, EXPAT, "The school charges 300 yuan for materials every term and gives no receipt.")
    await talk(d, EXPAT, "Experimental Primary School", expect=["School noted", "Is your message"])  # kept
    reply = await english(d, await talk(d, EXPAT, "1", expect=["Did you mean", "江南区实验小学", "江北区实验小学"]))
    line = next(x for x in reply.splitlines() if "江北区实验小学" in x)
    reply = await talk(d, EXPAT, line.split()[0], absent="Did you mean")
    while "Please check your message" not in reply:
        reply = await talk(d, EXPAT, "0" if "phone" in reply else "2")
    assert "School: 江北区实验小学" in reply


async def test_a_kind_of_school_without_its_name_is_asked_which_one(dialog):
    d = dialog
    await talk(d, EXPAT, "The school charges 300 yuan for materials every term and gives no receipt.",
               expect="Is your message")
    await talk(d, EXPAT, "1", expect="Which school")
    await english(d, await talk(d, EXPAT, "the primary school", expect="Which one?"))
    await talk(d, EXPAT, "Yuying", expect="phone")


# -- 2: English in every text an English writer receives ------------------------------------------------------------
async def test_a_template_message_outside_the_48_hour_window_is_in_english(dialog):
    d = dialog
    number = await file_in_english(d, EXPAT)
    await drain(d, EXPAT)
    d.app[SANDBOX].follow(EXPAT, at=d.clock.now() - 3 * 86400)  # silent for three days: templates only
    await talk(d, FEES, f"签收 {number}", expect="已签收")
    pushed = await heard(d, EXPAT, expect=["Message accepted", number, "being handled", "Open the education bureau"])
    assert not re.search(r"[\u4e00-\u9fff]", pushed), pushed


async def test_an_english_writer_takes_the_survey_in_english(dialog):
    d = dialog
    await d.db(users.set_lang, EXPAT, "en", d.clock.now())
    reply = await english(d, await talk(d, EXPAT, "survey Wenchang Primary School",
                                        expect=["2026 public evaluation of schools", "Question 1 of 7",
                                                "5 very satisfied"]))
    assert "江北区文昌小学" in reply
    for answer, then in (("5", "Question 2 of 7"), ("quickly", "Question 3 of 7"), ("4", "Question 4"),
                         ("very satisfied", "Question 5"), ("5 stars", "Question 6"), ("parent", "Question 7"),
                         ("no", "Thank you for rating")):
        await english(d, await talk(d, EXPAT, answer, expect=then))
    await english(d, await talk(d, EXPAT, "survey", expect="Which school or kindergarten would you like to rate"))
    await english(d, await talk(d, EXPAT, "wenchang xiaoxue", expect=["You rated", "1 Rate again"]))


async def test_an_english_writer_gets_an_english_instant_answer_or_a_person(dialog):
    d = dialog
    await d.db(users.set_lang, EXPAT, "en", d.clock.now())
    await english(d, await talk(d, EXPAT, "What documents do I need to enrol my child in primary school?",
                                expect=["household register", "Did this answer your question"]))
    await english(d, await talk(d, EXPAT, "2", expect="a person will answer you"))
    await talk(d, EXPAT, "cancel")
    # a common question with no English answer: a person answers, never a Chinese text they cannot read
    await d.db(users.set_lang, "o_zh_parent", "zh", d.clock.now())
    await talk(d, "o_zh_parent", "中考报名时间是什么时候？", expect="这个回答解决了您的问题吗")
    reply = await talk(d, EXPAT, "When is the registration for the senior high school entrance exam?",
                       absent="Did this answer")
    await english(d, reply)
