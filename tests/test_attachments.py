"""Every attachment viewable by the staff who may see the ticket (issue 9 item 16): the signed 30-minute link in
详情, the page and image route behind it, the workbench's session access, and the sandbox's media/get."""
from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import asyncio
import dataclasses
import os
import stat
import time

from bot.app import API, CONFIG, DISPATCHER, MEDIA
from bot.demo import SANDBOX
from bot.web import recipient_tag
from handlers import texts
from storage import media, staff, websessions
from tests.dialog import FEES, LEADER, SCHOOL, file_ticket, heard, send, talk
from tests.test_web import browser, sign_in

PARENT = "o_parent_attach"
LINK = re.compile(r"http://127\.0\.0\.1:\d+(/a/JY\d{4}-\d+\?\S+)")
IMG = re.compile(r'<img class="shot" src="([^"]+)"')
# A real 1x1 PNG, as a parent's phone would send some picture.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


async def copied(d, count: int, status: str = "stored", timeout: float = 60.0) -> list[dict]:
    """Wait until `count` media rows have `status` (the fetcher works in the background); returns all rows."""
    deadline = time.monotonic() + timeout
    while True:
        rows = await d.db(lambda db: list(db.query("SELECT * FROM media ORDER BY received_at, media_id")))
        if sum(r["status"] == status for r in rows) >= count or time.monotonic() > deadline:
            break
        d.app[MEDIA].wake()
        await asyncio.sleep(0.05)
    assert sum(r["status"] == status for r in rows) >= count, rows
    return rows


async def tried(d, timeout: float = 60.0) -> dict:
    """The pending media row, once the fetcher has tried it (in the background: a fixed 0.3 s pause read it
    untried on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = await d.db(lambda db: list(db.query("SELECT * FROM media WHERE status = 'pending'")))
        if len(rows) == 1 and rows[0]["attempts"] >= 1 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    [row] = rows
    return row


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
    # The voice message is kept too, offered as a download (browsers do not play AMR); a 9th does not exist.
    await copied(d, 2)
    status, headers, body = await get(d, src.replace("/2?", "/1?"))
    assert status == 200 and body.startswith(b"#!AMR\n") and headers["Content-Type"] == "audio/amr"
    assert headers["Content-Disposition"] == f'attachment; filename="{number}-1.amr"'
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
    await d.db(lambda db: d.app[DISPATCHER].desk.remove_staff(db, FEES, staff.CONSOLE))
    status, _, body = await get(d, path)
    assert status == 403 and texts.ATTACH_LINK_GONE[0] in body.decode()
    status, _, body = await get(d, path.replace("?", "/2?", 1))
    assert status == 403 and body != PNG


async def test_media_api_errors_are_a_polite_page_not_a_500(dialog):
    d = dialog
    await d.app[MEDIA].stop()  # no copy yet: the picture is fetched live from WeChat
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


# -- copies: WeChat forgets media after 3 days; the ticket keeps them -----------------------------------------------
CITIZEN_LINK = re.compile(r"http://127\.0\.0\.1:\d+(/t/JY\d{4}-\d+\?\S+)")


async def test_images_and_voice_are_copied_on_arrival_into_a_private_folder(dialog):
    d = dialog
    number = await ticket_with_image(d)
    rows = await copied(d, 2)
    assert {r["kind"] for r in rows} == {"image", "voice"} and all(r["openid"] == PARENT for r in rows)
    image = next(r for r in rows if r["kind"] == "image")
    assert image["content_type"] == "image/png" and image["size"] == len(PNG)
    store = d.app[MEDIA].store
    path = store.path(image["sha256"])
    assert path.read_bytes() == PNG
    assert stat.S_IMODE(os.stat(store.folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert str(store.folder).startswith(os.path.dirname(d.app[CONFIG].storage.path))  # beside the database
    # Four days on, WeChat has forgotten the picture: staff and the parent still see our copy.
    d.advance(4 * 86400)
    token = await d.app[API].access_token()
    async with d.session.get("/cgi-bin/media/get", params={"access_token": token,
                                                          "media_id": image["media_id"]}) as resp:
        assert (await resp.json())["errcode"] == 40007
    page = (await get(d, await link_in_detail(d, FEES, number)))[2].decode()
    src = IMG.search(page).group(1).replace("&amp;", "&")
    status, headers, body = await get(d, src)
    assert status == 200 and body == PNG and headers["Content-Type"] == "image/png"
    assert "下载语音" in page and "已过期" not in page
    reply = await talk(d, PARENT, f"查询 {number}")
    citizen = CITIZEN_LINK.search(reply).group(1)
    status, _, body = await get(d, citizen)
    page = body.decode()
    assert status == 200 and f"/t/{number}/a/2?" in page and "已过期" not in page, page
    own = re.search(rf'src="(/t/{number}/a/2\?[^"]+)"', page).group(1).replace("&amp;", "&")
    status, headers, body = await get(d, own)
    assert status == 200 and body == PNG and headers["Cache-Control"] == "private, no-store"
    # The signature is the citizen's page's: changed, or for another ticket, it opens nothing.
    assert (await get(d, own.replace("sig=", "sig=0")))[0] == 403
    other = await file_ticket(d, "o_parent_other", "食堂饭菜经常是凉的，孩子吃了肚子疼", scene="school:jn-syxx")
    assert (await get(d, own.replace(number, other)))[0] == 403


async def test_the_same_message_retried_asks_for_one_copy_and_the_same_picture_is_stored_once(dialog):
    d = dialog
    for openid in (PARENT, "o_parent_other"):
        await send(d, openid, type="image", image_base64=base64.b64encode(PNG).decode())
    rows = await copied(d, 2)
    assert len(rows) == 2 and rows[0]["sha256"] == rows[1]["sha256"]
    files = [p for p in d.app[MEDIA].store.folder.rglob("*") if p.is_file()]
    assert len(files) == 1
    assert not await d.db(media.want, rows[0]["media_id"], PARENT, "image", d.clock.now())  # already asked


async def test_a_failed_download_is_retried_and_after_three_days_shown_as_expired(dialog):
    d = dialog
    sandbox, fetcher = d.app[SANDBOX], d.app[MEDIA]
    number = await ticket_with_image(d)
    await copied(d, 2)
    sandbox.outage = True                       # the API is down when a picture arrives
    await send(d, PARENT, type="image")
    row = await tried(d)
    assert row["attempts"] >= 1 and "-1" in row["error"] and row["next_try"] > d.clock.now()
    sandbox.outage = False
    d.advance(10 * 60)                           # past the backoff: tried again, and kept
    await copied(d, 3)
    # A ticket whose picture cannot be fetched for WeChat's whole 3 days: shown as expired, not as an error.
    await fetcher.stop()
    other = await file_ticket(d, "o_parent_late", "食堂饭菜经常是凉的，孩子吃了肚子疼，这是照片",
                              scene="school:jn-syxx", attachments=[{"type": "image"}])
    sandbox.outage = True
    fetcher.start()
    row = await tried(d)
    assert row["attempts"] >= 1
    d.advance(3 * 86400 + 60)
    await copied(d, 1, status="expired")
    sandbox.outage = False
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        page = (await get(d, f"/w/t/{other}", s))[2].decode()
        assert "已过期" in page and f'src="/a/{other}/1"' not in page
        status, _, body = await get(d, f"/a/{other}/1", s)
        assert status == 410 and texts.ATTACH_EXPIRED[0] in body.decode()
        status, _, body = await get(d, f"/a/{number}/2", s)
        assert status == 200 and body == PNG       # the first one was kept


async def test_files_too_large_or_not_what_they_claim_are_not_kept(dialog):
    d = dialog
    fetcher = d.app[MEDIA]
    fetcher.config = dataclasses.replace(fetcher.config, max_bytes=2048)
    big = PNG + bytes(4096)
    await send(d, PARENT, type="image", image_base64=base64.b64encode(big).decode())
    await send(d, PARENT, type="image", image_base64=base64.b64encode(b"<html><script>x</script></html>").decode())
    await send(d, PARENT, type="voice", voice_base64=base64.b64encode(PNG).decode())  # a "voice" that is a PNG
    rows = await copied(d, 3, status="refused")
    assert sorted(r["error"][:6] for r in rows) == sorted(["-2 fil", "not a ", "not a "]), rows
    assert not [p for p in fetcher.store.folder.rglob("*") if p.is_file()] if fetcher.store.folder.exists() else True


async def test_a_slow_media_download_never_delays_the_reply(dialog):
    d = dialog
    fetcher = d.app[MEDIA]
    started, cut = asyncio.Event(), []

    async def hangs(media_id, max_bytes=None):
        started.set()
        try:
            await asyncio.sleep(3600)  # WeChat's media/get stuck
        except asyncio.CancelledError:
            cut.append(media_id)
            raise
    real = fetcher.api.get_media
    fetcher.api.get_media = hangs
    try:
        await talk(d, PARENT, "学校收资料费300元不给收据，这是收费通知的照片", expect="1 投诉")
        reply = await send(d, PARENT, type="image")
        # Answered with the download still hanging, never cut short for the answer (not timed: a bound of 2 s
        # was the machine's load to pass)
        assert "已附上图片" in reply and not cut
        await asyncio.wait_for(started.wait(), 60)  # while the download hangs in the background
        [row] = await d.db(lambda db: list(db.query("SELECT * FROM media")))
        assert row["status"] == "pending"
    finally:
        fetcher.api.get_media = real
        await fetcher.stop()
