"""people7: what people typed to the bot, and what they met — each a short dialogue test through the sandbox."""
from __future__ import annotations

from storage import tickets
from tests.dialog import send, talk
from tests.test_people6_dialogs import finish


async def _canteen_story(d, p: str) -> None:
    await send(d, p, type="scan", scene="school:jn-syxx")
    await talk(d, p, "食堂饭菜太难吃了，孩子每天都吃不饱", expect="请问您这次是")


# -- a first 你们是谁 -----------------------------------------------------------------------------------------------
async def test_who_are_you_as_a_first_message_is_the_welcome_once_not_the_welcome_and_who_we_are(dialog):
    d, p = dialog, "o_p7_who_first"
    # it was the welcome (欢迎关注市教育局“听见”…投诉、建议、咨询或表扬) and then 这里是市教育局的公众号“听见”，受理…投诉、建议…
    reply = await talk(d, p, "你们是谁", expect=["欢迎关注市教育局“听见”", "由工作人员办理和答复", "请直接发送您要反映的事情"])
    assert reply.count("听见") == 1 and reply.count("建议、咨询") == 1, reply  # the account named, its kinds listed, once
    # asked again later, it is answered in full (there is no welcome above it now)
    await talk(d, p, "你们是谁？", expect="这里是市教育局的公众号“听见”", absent="欢迎关注")


# -- at the question "what kind is this": a few more words, or a feeling -------------------------------------------
async def test_how_often_typed_at_the_kind_question_is_kept_with_the_story_and_the_question_asked_whole(dialog):
    d, p = dialog, "o_p7_often"
    await _canteen_story(d, p)
    # it was "请回复数字 1–4：1 投诉，2 建议，3 咨询，4 表扬。" and 经常这样 was dropped
    await talk(d, p, "经常这样", expect=["已补充到留言内容", "请问您这次是：\n1 投诉"], absent="请回复数字 1–4")
    reply = await talk(d, p, "1")
    number, _ = await finish(d, p, reply)
    assert "经常这样" in (await d.db(tickets.get, number))["text"]


async def test_praying_hands_at_the_kind_question_get_the_question_whole_and_nothing_is_added(dialog):
    d, p = dialog, "o_p7_emoji"
    await _canteen_story(d, p)
    # it was the curt "请回复数字 1–4：1 投诉，2 建议，3 咨询，4 表扬。"
    reply = await talk(d, p, "🙏🙏", expect="请问您这次是：\n1 投诉\n2 建议\n3 咨询\n4 表扬", absent=["请回复数字 1–4", "已补充"])
    assert reply.startswith("请问您这次是")
    reply = await talk(d, p, "1")
    number, _ = await finish(d, p, reply)
    assert "🙏" not in (await d.db(tickets.get, number))["text"]
