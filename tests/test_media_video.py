"""Video messages are copied like images and voice (media/get answers a video with a video_url, which is
downloaded), with a size cap told to the sender; and media that never became part of a ticket are deleted after
storage.retention_days, rows and files, in small batches -- never a ticket's. Through the sandbox, over HTTP."""
from __future__ import annotations

import base64
import dataclasses
import hashlib

from bot import scheduler
from bot.app import API, CONFIG, JOBS, MEDIA
from storage import media
from tests.dialog import FEES, LEADER, file_ticket, heard, send, talk
from tests.test_attachments import PNG, copied, get
from tests.test_web import browser, sign_in

PARENT = "o_parent_video"
# The start of an MP4 file (ftyp box), and some bytes of "video" after it.
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 8


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_sandbox_answers_a_video_with_a_video_url_as_the_official_api(dialog):
    d = dialog
    sent = await d.session.post("/sandbox/send", json={"openid": PARENT, "type": "shortvideo",
                                                       "video_base64": b64(MP4)})
    media_id = (await sent.json())["media_id"]
    token = await d.app[API].access_token()
    async with d.session.get("/cgi-bin/media/get", params={"access_token": token, "media_id": media_id}) as resp:
        url = (await resp.json())["video_url"]
    assert url.startswith("http://127.0.0.1:")
    assert await d.app[API].get_media(media_id) == (MP4, "video/mp4")


async def test_a_video_is_copied_on_arrival_and_plays_from_our_copy(dialog):
    d = dialog
    number = await file_ticket(d, PARENT, "学校收资料费300元不给收据，这是老师在班上说的视频", scene="school:jn-syxx",
                               attachments=[{"type": "video", "video_base64": b64(MP4)}])
    await heard(d, FEES, expect=number)
    [row] = await copied(d, 1)
    assert row["kind"] == "video" and row["content_type"] == "video/mp4" and row["size"] == len(MP4)
    d.advance(4 * 86400)  # WeChat has forgotten it; our copy plays, in parts as phones ask for it
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        page = (await get(d, f"/a/{number}", s))[2].decode()
        assert f'<video class="shot" controls preload="metadata" src="/a/{number}/1"' in page
        async with s.get(f"/a/{number}/1", headers={"Range": "bytes=0-99"}) as resp:
            assert resp.status == 206 and resp.headers["Content-Type"] == "video/mp4"
            assert await resp.read() == MP4[:100]


async def test_a_video_too_large_is_not_kept_and_its_sender_is_told(dialog):
    d = dialog
    fetcher = d.app[MEDIA]
    fetcher.config = dataclasses.replace(fetcher.config, max_video_bytes=1024)
    await talk(d, PARENT, "学校收资料费300元不给收据，我要投诉")
    await send(d, PARENT, type="video", video_base64=b64(MP4))
    [row] = await copied(d, 1, status="refused")
    assert row["error"].startswith("-2")
    await heard(d, PARENT, expect=["视频", "超过1MB", "未能保存", "剪短"])


async def test_media_of_no_ticket_are_deleted_after_the_retention_days_and_a_tickets_never(dialog, monkeypatch):
    d = dialog
    monkeypatch.setattr(scheduler, "MEDIA_BATCH", 2)  # several batches, the first ones full of a ticket's media
    number = await file_ticket(d, PARENT, "学校收资料费300元不给收据，这是收费通知的照片", scene="school:jn-syxx",
                               attachments=[{"type": "image", "image_base64": b64(PNG)}, {"type": "voice"},
                                            {"type": "video", "video_base64": b64(MP4)}])
    d.advance(60)
    # Never part of a ticket: a draft abandoned with two pictures (one the same file as the ticket's), a video alone.
    other = PNG + b"another picture"
    await talk(d, "o_parent_gone", "食堂饭菜经常是凉的")
    await send(d, "o_parent_gone", type="image", image_base64=b64(other))
    await send(d, "o_parent_gone", type="image", image_base64=b64(PNG))
    await send(d, "o_parent_gone", type="video", video_base64=b64(MP4 + b"x"))
    rows = await copied(d, 6)
    store = d.app[MEDIA].store
    sha = {r["media_id"]: r["sha256"] for r in rows}
    d.advance(30 * 86400)
    await d.app[JOBS].prune()  # within the retention period: nothing goes
    assert len(await d.db(lambda db: list(db.query("SELECT * FROM media")))) == 6
    # A draft still open then is not touched either.
    d.advance(d.app[CONFIG].storage.retention_days * 86400)
    await talk(d, "o_parent_open", "学校门口的路灯坏了很久了")
    await send(d, "o_parent_open", type="image", image_base64=b64(PNG + b"open"))
    await copied(d, 7)
    assert await d.app[JOBS].prune_media(d.clock.now() + 1) >= 6
    left = await d.db(lambda db: {r["media_id"]: r for r in db.query("SELECT * FROM media")})
    assert sorted(r["openid"] for r in left.values()) == sorted([PARENT] * 3 + ["o_parent_open"])
    assert all(r["kept"] == 1 for r in left.values() if r["openid"] == PARENT)
    files = {p.name for p in store.folder.rglob("*") if p.is_file()}
    assert {r["sha256"] for r in left.values()} == files  # the draft's own files are gone; the shared one stays
    assert hashlib.sha256(PNG).hexdigest() in files and len(set(sha.values()) - files) == 2
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        status, _, body = await get(d, f"/a/{number}/1", s)
        assert status == 200 and body == PNG
    assert not await d.db(media.want, next(iter(left)), PARENT, "image", d.clock.now())
