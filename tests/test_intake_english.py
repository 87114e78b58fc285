"""A person who writes in English is answered in English (welcome, questions, referral, summary, confirmation)."""
from __future__ import annotations

import re

from tests.test_intake import Person, all_tickets, env  # noqa: F401  (env is a fixture)


async def test_english_complaint_is_answered_in_english(env):  # noqa: F811
    app, _ = env
    p = Person(app, "o_en1")
    await p.scan("school:jn-syxx")
    reply = await p.say("The school charges 300 yuan for materials every term and gives no receipt")
    assert "thank you for writing to the education bureau" in reply
    assert "Is your message" in reply and "投诉" not in reply
    reply = await p.say("1")
    assert "phone number" in reply
    reply = await p.say("0")
    assert "May the school know who you are" in reply
    reply = await p.say("2")
    assert "Please check your message" in reply and "Type: complaint" in reply
    assert "Office in charge: 市教育局教育收费管理处" in reply and "on duty" in reply  # nobody bound: no deadline (audit22)
    reply = await p.say("1")
    assert "Submitted." in reply
    number = re.search(r"JY\d{4}-\d{4}", reply).group(0)
    [t] = await all_tickets(app)
    assert t["number"] == number and t["category"] == "fees" and t["routing"]["lang"] == "en"


async def test_english_out_of_scope_is_referred_in_english(env):  # noqa: F811
    app, _ = env
    p = Person(app, "o_en2")
    reply = await p.say("My landlord won't return my deposit, what can I do?")
    assert "12345" in reply and "may not be the education bureau's responsibility" in reply
    reply = await p.say("2")
    assert "nothing has been submitted" in reply
    assert await all_tickets(app) == []


async def test_chinese_stays_chinese(env):  # noqa: F811
    app, _ = env
    p = Person(app, "o_zh")
    reply = await p.say("小区物业乱收停车费，请问怎么办？")
    assert "12345" in reply and "responsibility" not in reply
