"""people23: a parent on a phone typing messily -- each a short dialogue test through the sandbox (WeChat's encrypted
XML over real HTTP, the shipped router, the demo directory), each failing on main 19e526d unless marked a guard."""
from __future__ import annotations

from storage import tickets
from tests.dialog import NUMBER, file_ticket, talk
from tests.test_people14_dialogs import summary
from tests.test_people22_dialogs import told

FEES = "江南区实验小学收资料费每人300元 不给收据 老师说不交就不发书"


# -- 1. 喂喂喂…怎么没人回: a person at the counter says "I'm here" and asks what happened -----------------------------
async def test_calls_for_attention_and_nobody_answering_get_i_am_here_and_what_happened(dialog):
    d, p = dialog, "o_p23_wei"
    await talk(d, p, "喂", expect="请问遇到了什么事")
    # 30 喂 and 怎么没人回 was the 12345 question (a matter outside education)
    await talk(d, p, "喂" * 30 + "怎么没人回", expect=["您好，我在。", "请问遇到了什么事"], absent=["12345", "请回复 1"])
    await talk(d, p, "怎么没人回", expect="您好，我在。", absent="请再具体说说")  # (was the start of a message)
    await talk(d, p, "在吗在吗", expect=["您好，我在。", "请问遇到了什么事"], absent="投诉、建议、咨询或表扬")
    await talk(d, p, "你好", expect="投诉、建议、咨询或表扬")  # a guard: a greeting is greeted as before
    reply = await summary(d, p, await talk(d, p, FEES))
    assert told(reply) == FEES, reply  # nothing of the calls is in the message


async def test_nobody_answering_with_a_message_in_hand_is_told_where_it_is(dialog):
    d, p = dialog, "o_p23_wait"
    number = await file_ticket(d, p, FEES)
    await talk(d, p, "喂喂 怎么还没人回", expect=["您好，我在。", number], absent=["12345", "请问遇到了什么事"])
    assert [t["number"] for t in await d.db(tickets.for_citizen, p)] == [number]  # nothing new started
