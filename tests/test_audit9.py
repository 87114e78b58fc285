"""The ninth trust audit: the figures that feed a unit's performance review and who may act on tickets. First the
items audit8 left open, then holes found afresh as an adversary. Through the sandbox's WeChat XML over real HTTP,
raw signed XML where the sandbox cannot say it, and real SQLite files. Each behaviour test failed before its fix.
"""
from __future__ import annotations

from bot.app import DB, create_app
from tests import wx
from tests.test_webhook import inbound_count, post


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
