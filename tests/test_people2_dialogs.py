"""Rough edges found by chatting with the demo as real people do (issue 11's English replies, corrections after
submitting, English words taken for school names), each as a short dialogue through the sandbox: WeChat's
encrypted XML over real HTTP, the shipped router, the demo directory and staff. Each test failed before its fix."""
from __future__ import annotations

import re

import pytest

from handlers import names
from storage import directory, users
from tests.dialog import FEES, NUMBER, drain, file_ticket, heard, talk
from tests.test_citizen_dialogs import ticket

EXPAT = "o_expat_parent"
GRANNY = "o_granny"
# Chinese that may stay in an English message: the names of offices and schools, and the two commands an English
# text quotes for the person to copy (撤回 and 查询 have no English form the staff would recognise).
KEPT = re.compile(r"撤回|查询")


async def chinese_left(d, text: str) -> list[str]:
    """The Chinese in `text` that is neither a unit's or school's name nor a quoted command."""
    names_ = await d.db(lambda db: sorted((u["name"] for u in directory.all_units(db)), key=len, reverse=True))
    for name in names_:
        text = text.replace(name, "")
    return re.findall(r"[\u4e00-\u9fff]+", KEPT.sub("", text))


async def english(d, text: str) -> str:
    left = await chinese_left(d, text)
    assert not left, f"Chinese {left} in an English writer's message:\n{text}"
    assert not re.search(r"\d+月\d+日|周[一二三四五六日]", text), text
    return text


async def file_in_english(d, openid: str = EXPAT) -> str:
    said = [await talk(d, openid, "The school charged us 500 yuan for uniforms and gave no receipt. I want to "
                                  "complain.")]
    for answer in ("Jiangnan Experimental Primary School", "0", "2"):
        if "Please check your message" in said[-1]:
            break
        said.append(await talk(d, openid, answer))
    assert "Please check your message" in said[-1], said
    said.append(await talk(d, openid, "1", expect="Ticket number"))
    for text in said:
        await english(d, text)
    return NUMBER.search(said[-1]).group(0)


# -- 1: an English writer reads English in every message of the loop, dates included -------------------------------
async def test_an_english_writer_reads_english_through_the_whole_loop(dialog):
    d = dialog
    number = await file_in_english(d)
    summary_due = re.search(r"due ((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2})", await talk(
        d, EXPAT, "status", expect=[number, "due"]))
    assert summary_due, "the list gives the deadline as an English writer reads dates"
    await english(d, await talk(d, EXPAT, f"status {number}", expect=["Office in charge", "History"]))
    await heard(d, FEES, expect=["新留言待签收", "留言人使用英文"])  # so the officer may answer in English
    await drain(d, EXPAT, FEES)
    await talk(d, FEES, f"签收 {number}", expect="已签收")  # staff keep their Chinese
    await english(d, await heard(d, EXPAT, expect=["accepted", number]))
    await talk(d, FEES, f"回复 {number} We have asked the school about the receipt.", expect="已将答复")
    await english(d, await heard(d, EXPAT, expect=["Reply from", f"reply {number}"]))
    await english(d, await talk(d, EXPAT, f"reply {number} Thank you, I will wait.", expect="passed to the officer"))
    await talk(d, FEES, f"办结 {number} The school has refunded the 500 yuan.", expect="已办结")
    await english(d, await heard(d, EXPAT, expect=["concluded", "1 satisfied", "3 not satisfied"]))
    await english(d, await talk(d, EXPAT, "1", expect=["Thank you for your rating", number]))
    await english(d, await talk(d, EXPAT, "thank you", expect="welcome"))
    await english(d, await talk(d, EXPAT, "help", expect="status"))


async def test_the_greeting_and_thanks_in_the_middle_are_in_english(dialog):
    d = dialog
    await talk(d, EXPAT, "My son's teacher gives far too much homework every night.", expect="Hello")
    await english(d, await talk(d, EXPAT, "hello?", expect="Hello, we are here"))  # was: 您好，我在。
    await english(d, await talk(d, EXPAT, "thanks", expect="welcome"))


async def test_a_first_hello_from_someone_unknown_is_answered_in_both_languages(dialog):
    reply = await talk(dialog, EXPAT, "Hello", expect=["欢迎关注", "Hello! You can write"])
    assert reply.count("education bureau") == 1


async def test_the_rating_reminder_and_a_reopening_are_in_english(dialog):
    d = dialog
    number = await file_in_english(d)
    await talk(d, FEES, f"办结 {number} 已督促学校开具收据。", expect="已办结")
    await drain(d, EXPAT)
    d.advance(2 * 86400 + 60)
    await d.sweep()
    await english(d, await heard(d, EXPAT, expect=["not had your rating", "1 satisfied"]))
    reply = await english(d, await talk(d, EXPAT, "3 still no receipt", expect=["sorry", number]))
    assert re.search(r"by (Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d", reply), reply


async def test_a_writer_who_switches_to_chinese_gets_chinese(dialog):
    d = dialog
    number = await file_in_english(d)
    await talk(d, EXPAT, "查询", expect="Your recent messages")  # a command copied as told: still English
    await talk(d, EXPAT, "江南区实验小学")  # a name, as the English question asks for: still English
    assert await d.db(users.lang, EXPAT) == "en"
    await talk(d, EXPAT, "取消")
    await talk(d, EXPAT, "我还是用中文吧，学校食堂的饭菜不卫生。", expect="请")
    await talk(d, EXPAT, "取消", expect="已取消")
    await drain(d, EXPAT)
    await talk(d, FEES, f"签收 {number}")
    await heard(d, EXPAT, expect=["已由", "受理"], absent="accepted")


# -- 2: 改为建议 just after submitting is about that message --------------------------------------------------------
@pytest.mark.parametrize("said", ["改为建议", "不对，是建议", "说错了，应该是建议"])
async def test_a_kind_corrected_right_after_submitting_is_about_the_ticket_just_filed(dialog, said):
    d = dialog
    number = await file_ticket(d, GRANNY, "江南区实验小学收了300元资料费，没有收据，我要投诉")
    await talk(d, FEES, f"签收 {number}", expect="已签收")  # signed: the office decides now (people3)
    await talk(d, GRANNY, said, expect=[number, "按投诉提交", "已经签收", f"回复 {number} 请按建议办理"],
                       absent=["具体说说", "按建议办理。"])
    assert (await ticket(d, number))["kind"] == "complaint"
    await talk(d, GRANNY, "1", expect="没有正在填写的留言")  # nothing was started by the correction
    await talk(d, GRANNY, "改为投诉", expect="无需更改")


async def test_an_english_correction_after_submitting_is_explained_in_english(dialog):
    d = dialog
    number = await file_in_english(d)
    await talk(d, FEES, f"签收 {number}", expect="已签收")  # signed: the office decides now (people3)
    await english(d, await talk(d, EXPAT, "change it to a suggestion", expect=[number, "treat this as a suggestion"]))


# -- 3: English words are no school's name ------------------------------------------------------------------------
@pytest.mark.parametrize("query", ["I wan ", "I want to complain", "hope school", "my kid", "hello there"])
def test_english_words_do_not_sound_like_a_school(query):
    rows = [("a", "江南区希望小学"), ("b", "江南区实验小学"), ("c", "江北区文昌小学")]
    assert names.match(query, rows) == [] and names.best(query, rows) is None


@pytest.mark.parametrize("query, code", [("xiwang", "a"), ("Xi Wang xiaoxue", "a"), ("Wenchang primary", "c"),
                                         ("jiangnan shiyan", "b")])
def test_pinyin_names_still_match(query, code):
    rows = [("a", "江南区希望小学"), ("b", "江南区实验小学"), ("c", "江北区文昌小学")]
    assert names.best(query, rows).code == code


@pytest.mark.parametrize("word, pinyin", [("jiangnan", True), ("zhongxue", True), ("want", False),
                                          ("teacher", False), ("i", False), ("hello", False)])
def test_pinyin_words_are_told_from_english(word, pinyin):
    assert names.is_pinyin(word) is pinyin


# -- found by chatting: a grandparent typing slowly --------------------------------------------------------------
STORY = "我是孩子奶奶 我孙子在实验小学读二年级 老师天天布置好多作业 做到晚上十一点 你们管管吧"


async def test_hello_on_its_own_mid_way_is_a_greeting_not_a_wrong_answer(dialog):
    await talk(dialog, GRANNY, STORY, expect="1 投诉")
    await talk(dialog, GRANNY, "喂", expect=["您好，我在", "1 投诉"], absent="请回复数字 1–4")


async def test_no_phone_said_before_it_is_asked_is_the_answer_not_part_of_the_story(dialog):
    d = dialog
    await talk(d, GRANNY, STORY, expect="1 投诉")
    await talk(d, GRANNY, "电话就不留了吧 我不太会弄", expect=["不留联系电话", "1 投诉"], absent="已补充")
    reply = await talk(d, GRANNY, "1", absent="联系电话，便于")  # the phone is not asked again
    for _ in range(6):
        if "受理编号" in reply:
            break
        assert "联系电话，便于" not in reply, reply
        reply = await talk(d, GRANNY, "江南区实验小学" if "哪所学校" in reply or "是以下哪" in reply
                           else "2" if "身份" in reply and "请核对" not in reply else "1")
    t = await ticket(d, NUMBER.search(reply).group(0))
    assert "电话" not in t["text"] and t["contact_phone"] is None


# -- found by chatting: a student at night ----------------------------------------------------------------------
async def test_dont_call_at_the_phone_question_declines_it_and_is_not_added_to_the_message(dialog):
    d = dialog
    student = "o_student_night"
    reply = await talk(d, student, "我是初二的学生 班主任每天晚上在群里发作业到11点 签不了字就罚站 江南区实验小学")
    for _ in range(3):
        if "联系电话" in reply:
            break
        reply = await talk(d, student, "江南区实验小学" if "哪所学校" in reply else "1")
    assert "联系电话" in reply, reply
    await talk(d, student, "这是我妈手机 别打", expect="身份", absent=["已补充", "号码格式不对"])


# -- found by chatting: someone who changes their mind --------------------------------------------------------------
async def test_second_thoughts_are_asked_about_not_added_to_the_message(dialog):
    d = dialog
    who = "o_changes_mind"
    # (people12: a kindergarten's matter asks which kindergarten first)
    await talk(d, who, "幼儿园收了2000元赞助费 说是自愿的 但不交就不让入园", expect="哪所学校或幼儿园")
    await talk(d, who, "算了 不反映了 怕孩子被穿小鞋", expect=["还没有提交", "取消", "只有教育局", "哪所学校"],
               absent="已补充")
    await talk(d, who, "还是反映吧", expect=["继续", "哪所学校"], absent="已补充")
    reply = await talk(d, who, "0")
    for _ in range(4):
        if "请核对" in reply:
            break
        reply = await talk(d, who, "0" if "哪所学校" in reply or "联系电话" in reply else "2")
    assert "请核对" in reply and "不反映" not in reply and "还是反映" not in reply, reply


# -- found by chatting: an expat parent asks about anonymity -----------------------------------------------------
@pytest.mark.parametrize("question", ["is this anonymous?", "Will the teacher know it was me?"])
async def test_an_english_question_about_anonymity_is_answered_in_english(dialog, question):
    d = dialog
    await talk(d, EXPAT, "The PE teacher shouted at my daughter and made her run ten laps as punishment.")
    await english(d, await talk(d, EXPAT, question, expect=["only the education bureau", "Please"],
                                absent="Please reply with a number 1–4"))


# -- found by chatting: writing again days later -----------------------------------------------------------------
async def test_asking_after_a_ticket_days_later_in_english_lists_it_not_a_new_message(dialog):
    d = dialog
    number = await file_in_english(d)
    d.advance(3 * 86400)
    await english(d, await talk(d, EXPAT, "Hello, any update on my complaint? It has been 3 days",
                                expect=[number, "Your recent messages"], absent="12345"))


# -- found by chatting: a teacher with forty tickets ---------------------------------------------------------------
async def fees_tickets(d, n: int) -> list[str]:
    return [await file_ticket(d, f"o_fee_parent{i}", f"江南区实验小学收了{i + 1}00元资料费，没有收据")
            for i in range(n)]


async def test_several_numbers_after_accept_are_all_signed_none_skipped(dialog):
    d = dialog
    numbers = await fees_tickets(d, 4)
    await talk(d, FEES, "待办")
    reply = await talk(d, FEES, "签收2、3、4", expect=["已签收 3 件：", *numbers[1:]])  # (grouped by deadline: people8)
    assert numbers[0] not in reply
    for n in numbers[1:]:
        assert (await ticket(d, n))["state"] == "accepted"
    await talk(d, FEES, "签收 1 99", expect=[f"已签收 {numbers[0]}", "没有第99条"])  # one: its own line, as always


async def test_the_todo_list_tells_forty_alike_apart_by_their_first_words(dialog):
    d = dialog
    await fees_tickets(d, 2)
    todo = await talk(d, FEES, "代办", expect=["待办留言共2件", "收了100元资料费", "收了200元资料费"])  # 代办: typed so
    first = [line for line in todo.splitlines() if line.startswith("1.")][0]
    assert "教育收费管理处" not in first  # one's own unit is not repeated on every line


async def test_extension_in_chinese_numerals_and_transfer_by_a_handler_says_what_to_do(dialog):
    d = dialog
    [number] = await fees_tickets(d, 1)
    await talk(d, FEES, f"延期 {number} 三天 需要到校核查", expect="延长3个工作日")
    await talk(d, "o_demo_staff_jn", f"转派 {number} 江南区教育局", expect="退回 编号 理由")


# -- found by chatting: a grandfather's voice-style run-on message -------------------------------------------------
async def test_the_kind_said_with_what_it_is_not_at_another_question_is_the_kind(dialog):
    d = dialog
    grandpa = "o_grandpa"
    await talk(d, grandpa, "老师你好 我是文昌小学三年级二班王小明的爷爷 孩子回来说 学校 让买 指定的 练习册 一本 八十块 "
                           "还不给 发票 这个 合理吗", expect="文昌小学")
    await talk(d, grandpa, "是投诉 不是问问题", expect=["改为投诉", "文昌小学"], absent="已补充")


# -- found by chatting: a short question just after the office answered ------------------------------------------
async def test_a_short_question_after_the_office_answered_is_offered_to_the_officer_not_12345(dialog):
    d = dialog
    grandpa = "o_grandpa"
    number = await file_ticket(d, grandpa, "江北区文昌小学让买指定练习册，一本八十块，不给发票")
    await talk(d, FEES, f"回复 {number} 王爷爷您好，我们已要求学校整改并退还费用。", expect="已将答复")
    await drain(d, FEES)
    await talk(d, grandpa, "谢谢你们 辛苦了 那钱什么时候退", expect=[number, "1 是，转给承办人员"], absent="12345")
    await talk(d, grandpa, "1", expect="已将您的回复转给承办人员")
    await heard(d, FEES, expect=["那钱什么时候退", number])


async def test_a_new_matter_after_the_office_answered_is_still_a_new_message(dialog):
    d = dialog
    grandpa = "o_grandpa"
    number = await file_ticket(d, grandpa, "江北区文昌小学让买指定练习册，一本八十块，不给发票")
    await talk(d, FEES, f"回复 {number} 我们已要求学校整改。", expect="已将答复")
    await talk(d, grandpa, "食堂饭菜太咸了", expect="1 是，转给承办人员")
    await talk(d, grandpa, "2", absent="已将您的回复")
    assert (await ticket(d, number))["state"] == "replied"
