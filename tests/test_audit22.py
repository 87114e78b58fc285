"""The twenty-second trust audit: no deadline promised anywhere while nobody is on duty (the summary, 多久能处理,
the citizen's page: the filing reply's rule, Desk.nobody_on_duty); a phone number in the message's own words
shown to staff as contact_phone is (masked, the whole number for whoever may call back)."""
from __future__ import annotations

from tests.dialog import _ANSWERS, KINDS, NUMBER, send, talk
from tests.test_attachments import CITIZEN_LINK, get
from tests.test_audit20 import nobody_bound

PARENT = "o_parent_audit22"
STORY = "实验小学收资料费300元不给收据"


async def to_summary(d, openid: str = PARENT) -> str:
    await send(d, openid, type="scan", scene="school:jn-syxx")
    reply = await talk(d, openid, STORY)
    assert "多久" not in reply
    while "请核对" not in reply:
        answer = next(a for key, a in _ANSWERS if key in reply and a)
        reply = await talk(d, openid, answer.format(kind=KINDS["complaint"], phone="0", consent="2"))
    return reply


async def page_of(d, number: str, openid: str = PARENT) -> str:
    reply = await talk(d, openid, f"查询 {number}")
    status, _, body = await get(d, CITIZEN_LINK.search(reply).group(1))
    assert status == 200
    return body.decode()


# -- 1. no deadline with nobody on duty -----------------------------------------------------------------------
async def test_with_nobody_on_duty_the_summary_the_time_asked_and_the_page_promise_no_deadline(dialog):
    """Nobody bound anywhere: the filing reply already said so (audit21), but the summary before it showed
    办结时限：N个工作日, 多久能处理 gave a date, and the citizen's page said the office had it and would conclude it
    by a date. Now all three say what the filing reply says: on record, handled when staff are on duty."""
    d = dialog
    await nobody_bound(d)
    summary = await to_summary(d)
    assert "目前暂无工作人员值守" in summary and "个工作日" not in summary, summary
    asked = await talk(d, PARENT, "多久能处理")
    assert "目前暂无工作人员值守" in asked and "个工作日" not in asked and "前）" not in asked, asked
    reply = await talk(d, PARENT, "1")
    number = NUMBER.search(reply).group(0)
    assert "目前暂无工作人员值守" in reply
    page = await page_of(d, number)
    assert "目前暂无工作人员值守" in page and "前办结" not in page and "暂时无法确定" in page, page


async def test_the_time_asked_before_the_kind_is_known_promises_nothing_with_nobody_on_duty(dialog):
    d = dialog
    await nobody_bound(d)
    await send(d, PARENT, type="scan", scene="school:jn-syxx")
    reply = await talk(d, PARENT, STORY)
    assert "请问您这次是" in reply, reply
    asked = await talk(d, PARENT, "多久能处理")
    assert "目前暂无工作人员值守" in asked and "个工作日" not in asked, asked


async def test_with_someone_on_duty_the_summary_the_time_asked_and_the_page_keep_the_deadline(dialog):
    d = dialog
    summary = await to_summary(d)
    assert "办结时限：" in summary and "个工作日" in summary and "值守" not in summary, summary
    asked = await talk(d, PARENT, "多久能处理")
    assert "个工作日内办结" in asked and "值守" not in asked, asked
    number = NUMBER.search(await talk(d, PARENT, "1")).group(0)
    page = await page_of(d, number)
    assert "前办结" in page and "值守" not in page, page
