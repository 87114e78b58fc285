"""The twenty-second trust audit: no deadline promised anywhere while nobody is on duty (the summary, 多久能处理,
the citizen's page: the filing reply's rule, Desk.nobody_on_duty); a phone number in the message's own words
shown to staff as contact_phone is (masked, the whole number for whoever may call back)."""
from __future__ import annotations

from tests.dialog import NUMBER, answer_until, send, talk
from tests.test_attachments import CITIZEN_LINK, get
from tests.test_audit20 import nobody_bound

PARENT = "o_parent_audit22"
STORY = "实验小学收资料费300元不给收据"


async def to_summary(d, openid: str = PARENT) -> str:
    await send(d, openid, type="scan", scene="school:jn-syxx")
    reply = await talk(d, openid, STORY)
    assert "多久" not in reply
    reply = await answer_until(d, openid, reply, "请核对")
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


# -- 2. a phone number in the message's own words ------------------------------------------------------------------
WORDS = "学校收资料费300元不给收据，班主任王老师的电话13912345678，说不交就不让上课"
MASKED, WHOLE = "139****5678", "13912345678"


async def test_a_phone_number_in_the_text_is_masked_for_staff_as_contact_phone_is(dialog):
    """people22: the number given at the phone question is masked in every staff view (138****5678), but one in the
    message's own words was shown whole -- in the WeChat push, 详情, the workbench page and the export. Now it is
    masked the same way, in each; the citizen still sees their own words as written."""
    from tests.dialog import FEES, LEADER, file_ticket, heard
    from tests.test_web import browser, sign_in
    d = dialog
    number = await file_ticket(d, PARENT, WORDS, phone="13812345678")
    pushed = await heard(d, FEES, expect=number)
    assert MASKED in pushed and WHOLE not in pushed, pushed
    detail = await talk(d, FEES, f"详情 {number}")
    assert MASKED in detail and WHOLE not in detail and "138****5678" in detail, detail
    await talk(d, PARENT, f"回复 {number} 也可以打他办公室电话0571-88776655")
    told = await heard(d, FEES, expect=number)
    assert "057****" in told and "88776655" not in told, told
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        page = await (await s.get(f"/w/t/{number}")).text()
        assert MASKED in page and WHOLE not in page and "88776655" not in page, page
    async with browser(d) as s:
        await sign_in(d, s, FEES)
        listed = await (await s.get("/w/")).text()
        assert number in listed and "班主任王老师的电话139****" in listed and WHOLE not in listed, listed
        body = (await (await s.get("/w/export/tickets.csv", params={"state": "all"})).read()).decode("utf-8-sig")
        assert MASKED in body and WHOLE not in body
    own = await talk(d, PARENT, f"查询 {number}")
    assert WHOLE in own  # the citizen's own words, as they wrote them


async def test_a_phone_number_where_a_notice_cuts_the_text_short_shows_none_of_its_digits(dialog):
    """The new-ticket push shows the first 60 characters: a number across that cut lost its end, was no longer a
    phone number to mask, and its first seven digits were shown."""
    from tests.dialog import FEES, file_ticket, heard
    d = dialog
    story = "学校收资料费300元不给收据，说不交就不让上课，家长都很有意见，已经好几个星期了，我们真没办法了，老师的电话是"
    assert len(story) == 55  # the number from the 56th character: the 59 shown cut it after 4 digits
    number = await file_ticket(d, PARENT, story + WHOLE + "，请尽快处理", phone="13812345678")
    pushed = await heard(d, FEES, expect=number)
    assert "电话是1" not in pushed and "老师的电话是…" in pushed, pushed
