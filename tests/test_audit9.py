"""The ninth trust audit: the figures that feed a unit's performance review and who may act on tickets. First the
items audit8 left open, then holes found afresh as an adversary. Through the sandbox's WeChat XML over real HTTP,
raw signed XML where the sandbox cannot say it, and real SQLite files. Each behaviour test failed before its fix.
"""
from __future__ import annotations

from bot.app import DB, create_app
from handlers import review
from tests import wx
from tests.dialog import DUTY, TZ, file_ticket, talk
from tests.test_audit5 import HOMEWORK
from tests.test_webhook import inbound_count, post

UNIT = "jn-syxx"
ABSENT = "jn-yyxx"   # 江南区育英小学: nobody bound in the demo (its tickets go to the duty office: 代收)


async def _month(d, period: str = "2026-11"):
    now = d.clock.now()
    return await d.app[DB].read(lambda c: review.build(c, period, TZ, review.Weights(), now=now))


async def _withdraw(d, openid: str, number: str) -> None:
    await talk(d, openid, f"撤回 {number}", expect="确认撤回")
    await talk(d, openid, f"确认撤回 {number}", expect="已撤回")


# -- events: the spec's key, and different events in one second ------------------------------------------------------
async def test_two_different_events_in_one_second_are_both_handled_and_retries_still_once(aiohttp_client,
                                                                                           make_config):
    """Events have no MsgId: WeChat's key is FromUserName + CreateTime. The key also held the event's name, but
    not its key: two menu items tapped within one second (or a LOCATION report beside a click, both 'other' or
    'click') were one event, and the second tap was dropped unanswered. The event's own name and key join the
    spec's pair: a retry (the same XML, a new nonce) is still handled once."""
    bot = await aiohttp_client(create_app(make_config(wechat={"allow_plaintext": True})))
    t = 1700000100
    sent = [wx.event_xml("o_two", "CLICK", "help", created=t), wx.event_xml("o_two", "CLICK", "survey", created=t),
            wx.event_xml("o_two", "LOCATION", None, created=t), wx.event_xml("o_two", "subscribe", "", created=t),
            wx.event_xml("o_two", "VIEW", "http://example.com/a", created=t),
            wx.event_xml("o_two", "VIEW", "http://example.com/b", created=t)]
    for xml in sent:
        assert (await post(bot, xml, wx.signed_query("o_two"))).status == 200
    assert await inbound_count(bot) == len(sent)
    for xml in sent:                                     # WeChat's retries: each a new signature, the same body
        assert (await post(bot, xml, wx.signed_query("o_two"))).status == 200
    assert await inbound_count(bot) == len(sent)
    keys = await bot.app[DB].run(lambda db: [r[0] for r in db.execute("SELECT key FROM inbound")])
    assert all(k.startswith("wechat:evt:o_two:1700000100:") for k in keys), keys


# -- 在岗: withdrawn 代收 tickets ----------------------------------------------------------------------------------------
async def test_a_withdrawn_ticket_at_a_unit_with_nobody_bound_does_not_lower_its_staffed_score(dialog):
    """在岗 counts the tickets that reached a unit while nobody was bound there (代收). A ticket its writer withdrew
    at once still counted, though it had left 派发 (audit8): fresh accounts filing and withdrawing could drive a
    school's 在岗 to 0 at no cost. Withdrawn before its 签收 window lapsed, it is no longer counted; one whose
    window lapsed first (nobody signed it in time) stays a miss, as in 响应率."""
    d = dialog
    for i in range(3):
        number = await file_ticket(d, f"o_rival_{i}", HOMEWORK, scene=f"school:{ABSENT}", consent="1")
        await _withdraw(d, f"o_rival_{i}", number)
    kept = await file_ticket(d, "o_parent_yy", HOMEWORK, scene=f"school:{ABSENT}", consent="1")
    await talk(d, DUTY, f"签收 {kept}", expect="签收")
    lapsed = await file_ticket(d, "o_parent_lapse", HOMEWORK, scene=f"school:{ABSENT}", consent="1")
    d.advance(3 * 86400)                                 # past every 签收 window, unsigned
    await _withdraw(d, "o_parent_lapse", lapsed)
    assert (await _month(d)).unit(ABSENT).figures.unattended == 2
