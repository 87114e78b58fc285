"""The twenty-eighth trust audit: a bank card number in a citizen's words reached staff whole (phones and ID
numbers were masked); the citizen told their ticket waits only at its next reminder after everyone left; 我不满意
sent for a rating began a new message; a direction control showed staff the words backwards. A closed review's
rules: tests/test_review.py."""
from __future__ import annotations

import pytest

from tests.dialog import FEES, file_ticket, heard, talk

PARENT = "o_parent_audit28"
CARDS = [  # (as written, as staff read it): 16-19 digits from 3-6 whose check digit holds
    ("退费请打到我的银行卡6228480402564890018", "退费请打到我的银行卡6228***********0018"),
    ("卡号 6222 0212 3456 7890 128，户名王芳", "卡号 6222***********0128，户名王芳"),
    ("信用卡4111111111111111", "信用卡4111********1111"),
    ("电话13812345678，卡5500000000000004", "电话138****5678，卡5500********0004"),
    ("６２２８４８０４０２５６４８９００１８", "6228***********0018"),
]
NOT_CARDS = [
    "银行卡6222021234567890123",      # its check digit fails: another long number, kept as written
    "订单号123456789012345678", "缴费单号2026113012345678",  # from 1 or 2: dates and orders
    "收了300000000000000000元", "62284804025648901", "622848040256489001812",  # 17 failing the check; 21 digits
    "JY2612-0001", "三年级二班", "学号20230101",
]


def test_a_bank_card_is_masked_and_long_numbers_that_are_none_are_not():
    from handlers import privacy
    for written, shown in CARDS:
        assert privacy.numbers_masked(written) == shown, written
    for words in NOT_CARDS:
        assert privacy.numbers_masked(words) == words, words


async def staff_reads(d, number: str) -> tuple[str, str]:
    """What the unit's handler reads of a new ticket: the push, then 详情."""
    return await heard(d, FEES, expect=number), await talk(d, FEES, f"详情 {number}")


async def test_staff_read_a_card_masked_and_the_citizen_reads_it_whole(dialog):
    d = dialog
    words = "学校收资料费300元不给收据，要求退费，退到我的银行卡6228480402564890018"
    number = await file_ticket(d, PARENT, words, scene="school:jn-syxx", phone="0")
    for seen in await staff_reads(d, number):
        assert "6228480402564890018" not in seen and "6228***********0018" in seen, seen
    await talk(d, PARENT, f"查询 {number}", expect="6228480402564890018")  # their own words, as written


async def test_a_parent_is_told_at_once_when_the_last_person_who_could_act_leaves(dialog):
    """Before: with everyone gone the parent, promised a date at filing, heard it waits only when the ticket's next
    reminder fired (its 签收 window, days later for some); their 查询 already promised nothing. Now the staff change
    that leaves nobody tells them at once, once: the reminders after it do not repeat it."""
    from tests.dialog import settle
    from tests.test_audit20 import nobody_bound, pushed_to
    d = dialog
    number = await file_ticket(d, PARENT, "实验小学收资料费300元不给收据", scene="school:jn-syxx", phone="0")
    before = len(await pushed_to(d, PARENT))
    await nobody_bound(d)
    assert await settle(d, PARENT)
    told = (await pushed_to(d, PARENT))[before:]
    assert len(told) == 1 and number in told[0] and "暂无工作人员值守" in told[0], told
    for _ in range(4):
        d.advance(86400)
        await d.sweep()
        assert await settle(d, PARENT)
    assert (await pushed_to(d, PARENT))[before:] == told
    await talk(d, PARENT, f"查询 {number}", expect="暂无工作人员值守", absent="前办结")


# -- a rating said inside a line: asked about, never started as a new message ----------------------------------
SAID = [("我不满意", 3), ("对结果不满意", 3), ("不是很满意", 3), ("并不满意", 3), ("一点也不满意", 3), ("谈不上满意", 3),
        ("满意是不可能满意的", 3), ("没有那么满意", 3), ("我很满意", 1), ("对处理结果很满意", 1), ("挺满意的就是慢了点", 1),
        ("比较满意", 2), ("勉强满意", 2), ("没什么不满意的", 2), ("也不是不满意吧", 2),
        # the English names the question offers, as an English writer answers with them
        ("not satisfied", 3), ("I'm not satisfied with the result", 3), ("I am not very happy with it", 3),
        ("dissatisfied", 3), ("fairly satisfied", 2), ("satisfied", 1), ("Thanks, very happy.", 1)]


def test_satisfaction_said_in_a_line_reads_as_a_rating_to_ask_about():
    from handlers import followup
    for said, score in SAID:
        rating = followup.parse(said)
        assert rating is not None and (rating.score, rating.sure) == (score, False), said
    for words in ("满意度一般", "学校食堂的饭菜每天都很咸，孩子们吃不下去，希望改进一下，家长们都不满意，请尽快处理好吗",
                  "The canteen food is bad and the parents are not happy about it at all, please look into it"):
        assert followup.parse(words) is None, words  # the measure's name; a long message of its own


@pytest.mark.parametrize("said, score", [("我不满意", "不满意"), ("不是很满意", "不满意"), ("我很满意", "满意")])
async def test_a_rating_said_in_a_line_is_asked_about_not_started_as_a_message(dialog, said, score):
    """Before: 我不满意 sent when a rating was asked began a new message (请问您说的是哪方面的事情？); the ticket went
    unrated, a 不满意 that should have sent it back for a redo and counted in the unit's 满意率 lost."""
    from storage import tickets
    from tests.test_people27_dialogs import resolved
    d, p = dialog, "o_p28_rate"
    number = await resolved(d, p)
    await talk(d, p, said, expect=[f"评价留言 {number}（{score}）吗"], absent="哪方面")
    await talk(d, p, "1")
    assert (await d.db(tickets.get, number))["rating"] == {"满意": 1, "不满意": 3}[score]


async def test_staff_read_the_words_in_the_order_they_were_written(dialog):
    """U+202E (right-to-left override) in a message showed staff the words after it backwards: 据收给不 read as
    不给收据 in the push and 详情. Direction controls are left out of what staff read; the citizen's own 查询 keeps
    their words as typed."""
    d = dialog
    words = "学校收资料费300元\u202e据收给不\u202c，请退费"
    number = await file_ticket(d, PARENT, words, scene="school:jn-syxx", phone="0")
    for seen in await staff_reads(d, number):
        assert "学校收资料费300元据收给不，请退费" in seen and "\u202e" not in seen, seen


def test_a_link_in_a_reply_to_staff_is_never_read_as_a_number():
    """Every reply to staff passes through the one masking rule (desk.for_staff), our own signed links with it: a
    run of digits in a link's signature read as a landline (0 and ten digits) and was masked, so a 详情's
    attachments link or a digest's failed now and then (tests/test_attachments.py failed on it in CI)."""
    from handlers import privacy
    link = "http://127.0.0.1:8080/a/JY2611-0001?exp=1763254800&to=5f1c0e9a7b3d2c41&sig=a01234567890bcdef0123456789a13812345678"
    said = f"附件2个：{link}（30分钟内有效）\n家长电话13812345678，座机0571-88776655"
    assert privacy.numbers_masked(said) == f"附件2个：{link}（30分钟内有效）\n家长电话138****5678，座机057****6655"
