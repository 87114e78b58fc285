"""Every attachment viewable by the staff who may see the ticket (issue 9 item 16): the signed 30-minute link in
详情, the page and image route behind it, the workbench's session access, and the sandbox's media/get."""
from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlencode, urlsplit

from bot.app import API, CONFIG, DISPATCHER
from bot.demo import SANDBOX
from bot.web import recipient_tag
from handlers import texts
from storage import websessions
from tests.dialog import FEES, LEADER, SCHOOL, file_ticket, heard, send, talk
from tests.test_web import browser, sign_in

PARENT = "o_parent_attach"
LINK = re.compile(r"http://127\.0\.0\.1:\d+(/a/JY\d{4}-\d+\?\S+)")
IMG = re.compile(r'<img class="shot" src="([^"]+)"')
# A real 1x1 PNG, as a parent's phone would send some picture.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


async def ticket_with_image(d) -> str:
    number = await file_ticket(d, PARENT, "学校收资料费300元不给收据，这是收费通知的照片", scene="school:jn-syxx",
                               attachments=[{"type": "voice", "recognition": "老师说不交就不让上课"},
                                            {"type": "image", "image_base64": base64.b64encode(PNG).decode()}])
    await heard(d, FEES, expect=number)
    return number


async def link_in_detail(d, openid: str, number: str) -> str:
    reply = await talk(d, openid, f"详情 {number}", expect=["附件2个", "30分钟内有效"])
    return LINK.search(reply).group(1)


async def get(d, path: str, session=None):
    async with (session or d.session).get(path) as resp:
        return resp.status, resp.headers, await resp.read()


async def test_image_sent_by_a_parent_opens_from_the_detail_link(dialog):
    d = dialog
    number = await ticket_with_image(d)
    path = await link_in_detail(d, FEES, number)
    status, headers, body = await get(d, path)
    page = body.decode()
    assert status == 200, page
    assert texts.ATTACH_TITLE.format(number=number) in page and "老师说不交就不让上课" in page
    token = next(iter(d.app[SANDBOX]._tokens))
    assert token not in page and "access_token" not in page
    src = IMG.search(page).group(1).replace("&amp;", "&")
    assert src.startswith(f"/a/{number}/2?")
    seen = await d.db(lambda db: websessions.audit_rows(db, ticket=number))
    assert [(r["actor"], r["action"]) for r in seen] == [(FEES, "view_attachments")]  # who looked is on record
    status, headers, body = await get(d, src)
    assert status == 200 and body == PNG
    assert headers["Content-Type"] == "image/png" and headers["Cache-Control"] == "private, no-store"
    # The only attachment that is not an image, and one that does not exist, have no bytes to give.
    assert (await get(d, src.replace("/2?", "/1?")))[0] == 404
    assert (await get(d, src.replace("/2?", "/9?")))[0] == 404


async def test_expired_tampered_and_other_peoples_links_are_refused(dialog):
    d = dialog
    number = await ticket_with_image(d)
    path = await link_in_detail(d, FEES, number)
    url = urlsplit(path)
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    tampered = {**q, "sig": ("0" if q["sig"][0] != "0" else "1") + q["sig"][1:]}
    someone_else = {**q, "to": recipient_tag(d.app[CONFIG], SCHOOL)}
    later = {**q, "exp": str(int(q["exp"]) + 3600)}
    for query in (tampered, someone_else, later):
        status, _, body = await get(d, f"{url.path}?{urlencode(query)}")
        assert status == 403 and texts.ATTACH_LINK_BAD[0] in body.decode()
        status, _, body = await get(d, f"{url.path}/2?{urlencode(query)}")
        assert status == 403 and body != PNG
    # The same signature does not open another ticket.
    other = await file_ticket(d, PARENT, "食堂饭菜经常是凉的，孩子吃了肚子疼", scene="school:jn-syxx")
    assert (await get(d, f"/a/{other}?{url.query}"))[0] == 403
    await talk(d, FEES, f"详情 {other}", expect=other, absent="/a/")  # no attachments, no link
    assert (await get(d, path))[0] == 200
    d.advance(31 * 60)
    status, _, body = await get(d, path)
    assert status == 403 and texts.ATTACH_LINK_EXPIRED[0] in body.decode()
    assert (await get(d, path.replace("?", "/2?", 1)))[0] == 403


async def test_a_link_stops_working_when_its_viewer_may_no_longer_see_the_ticket(dialog):
    d = dialog
    number = await ticket_with_image(d)
    path = await link_in_detail(d, FEES, number)
    assert (await get(d, path))[0] == 200
    # Moved to another unit: the ticket is no longer theirs to see.
    unit_of = "SELECT unit_code FROM users WHERE openid = ?"
    own = await d.db(lambda db: db.execute(unit_of, [FEES]).fetchone()[0])
    school = await d.db(lambda db: db.execute(unit_of, [SCHOOL]).fetchone()[0])
    await d.db(lambda db: db.execute("UPDATE users SET unit_code = ? WHERE openid = ?", [school, FEES]))
    status, _, body = await get(d, path)
    assert status == 404 and texts.ATTACH_NOT_FOUND[0] in body.decode()
    await d.db(lambda db: db.execute("UPDATE users SET unit_code = ? WHERE openid = ?", [own, FEES]))
    assert (await get(d, path))[0] == 200
    # Removed from staff: refused, and the image too.
    await d.db(lambda db: d.app[DISPATCHER].desk.remove_staff(db, FEES))
    status, _, body = await get(d, path)
    assert status == 403 and texts.ATTACH_LINK_GONE[0] in body.decode()
    status, _, body = await get(d, path.replace("?", "/2?", 1))
    assert status == 403 and body != PNG


async def test_media_api_errors_are_a_polite_page_not_a_500(dialog):
    d = dialog
    number = await ticket_with_image(d)
    src = IMG.search((await get(d, await link_in_detail(d, FEES, number)))[2].decode()).group(1).replace("&amp;", "&")
    sandbox = d.app[SANDBOX]
    sandbox.outage = True
    status, _, body = await get(d, src)
    assert status == 502 and texts.ATTACH_MEDIA_FAILED[0] in body.decode()
    sandbox.outage = False
    sandbox._media.clear()  # WeChat keeps what users send for 3 days
    status, _, body = await get(d, src)
    assert status == 502 and texts.ATTACH_MEDIA_FAILED[0] in body.decode()


async def test_the_workbench_shows_the_attachments_to_signed_in_staff(dialog):
    d = dialog
    number = await ticket_with_image(d)
    async with browser(d) as s:
        assert (await get(d, f"/a/{number}", s))[0] == 403  # neither a link nor a session
        await sign_in(d, s, FEES)
        status, _, body = await get(d, f"/w/t/{number}", s)
        assert status == 200 and f'src="/a/{number}/2"' in body.decode()
        status, _, body = await get(d, f"/a/{number}", s)
        assert status == 200 and "老师说不交就不让上课" in body.decode() and f"/w/t/{number}" in body.decode()
        status, headers, body = await get(d, f"/a/{number}/2", s)
        assert status == 200 and body == PNG and headers["Cache-Control"] == "private, no-store"
    async with browser(d) as s:
        await sign_in(d, s, SCHOOL)  # a school's handler does not see the bureau office's ticket
        assert (await get(d, f"/a/{number}", s))[0] == 404
        assert (await get(d, f"/a/{number}/2", s))[0] == 404


async def test_sandbox_media_get_follows_the_official_answers(dialog):
    d = dialog
    sent = await d.session.post("/sandbox/send", json={"openid": "o_someone", "type": "image",
                                                       "image_base64": base64.b64encode(PNG).decode()})
    media_id = (await sent.json())["media_id"]
    body, kind = await d.app[API].get_media(media_id)
    assert body == PNG and kind == "image/png"
    token = await d.app[API].access_token()
    async with d.session.get("/cgi-bin/media/get", params={"access_token": token, "media_id": "nosuch"}) as resp:
        assert (await resp.json())["errcode"] == 40007
    async with d.session.get("/cgi-bin/media/get", params={"media_id": media_id}) as resp:
        assert (await resp.json())["errcode"] == 41001
    sent = await d.session.post("/sandbox/send", json={"openid": "o_someone", "type": "image",
                                                       "image_base64": "not base64!"})
    assert sent.status == 400


async def test_a_location_and_a_link_sent_while_writing_are_shown_with_the_attachments(dialog):
    d = dialog
    number = await file_ticket(d, PARENT, "学校门口每天放学时乱停车，孩子过马路很危险", scene="school:jn-syxx",
                               attachments=[{"type": "location", "lat": 28.123456, "lon": 112.654321,
                                             "label": "江南区实验小学东门"},
                                            {"type": "link", "title": "家长群里的通知", "url": "https://example.org/n/1"}])
    path = LINK.search(await talk(d, LEADER, f"详情 {number}", expect="附件2个")).group(1)
    status, _, body = await get(d, path)
    page = body.decode()
    assert status == 200, page
    for want in ("江南区实验小学东门", "28.123456", "112.654321", "uri.amap.com", "家长群里的通知",
                 "https://example.org/n/1"):
        assert want in page, want
    assert "<img" not in page
    # Outside a conversation a location is only acknowledged, as before: it starts no message.
    reply = await send(d, "o_parent_other", type="location", lat=1, lon=2, label="某处")
    assert reply == texts.RECEIVED_MEDIA.format(what="位置")
