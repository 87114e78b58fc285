"""Copies of the images, voice and video messages people send, taken from WeChat before it forgets them (3 days).

The receiver asks for a copy (storage.media.want) in the transaction that stores the message, so a media_id
accepted is never missed; this fetcher, one task per process, woken when something is asked and polling
otherwise, downloads through media/get -- off the webhook's path, never delaying a passive reply -- checks the
size and that the bytes are what they claim to be (an image, a voice recording, an MP4 video), and writes the file
into a private folder (0700, files 0600) named by its SHA-256, so the same picture sent twice is stored once. A
failure is retried with backoff until WeChat's 3 days are over; then the attachment is shown as expired. A file
too large to keep is refused, and its sender told at once (they can still send a shorter one).

Media that never became part of a ticket (a draft abandoned) are deleted after storage.retention_days (`prune`).
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import sqlite3
from pathlib import Path

import aiohttp

from bot.background import DueWorkLoop
from bot.channels.wechat.api import TOO_LARGE, WechatApi, WechatApiError
from bot.config import MediaConfig
from handlers import texts
from handlers.clock import Clock
from storage import media, outbox
from storage.db import Database

log = logging.getLogger(__name__)

INVALID_MEDIA_ID = 40007  # WeChat no longer has it (or never had)
# What the bytes must start with, per kind: the type is read from the file, never taken from the platform's header.
SIGNATURES = {
    "image": ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"GIF87a", "image/gif"),
              (b"GIF89a", "image/gif"), (b"BM", "image/bmp")),
    "voice": ((b"#!AMR-WB\n", "audio/amr-wb"), (b"#!AMR\n", "audio/amr"), (b"OggS", "audio/ogg"),
              (b"ID3", "audio/mpeg"), (b"\xff\xfb", "audio/mpeg"), (b"\xff\xf3", "audio/mpeg")),
}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/bmp": "bmp", "image/webp": "webp",
              "audio/amr": "amr", "audio/amr-wb": "amr", "audio/ogg": "ogg", "audio/mpeg": "mp3",
              "video/mp4": "mp4", "video/3gpp": "3gp"}


def sniff(kind: str, body: bytes) -> str | None:
    """The content type of a file of this kind, read from its first bytes; None if it is not one."""
    if kind == "image" and body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "image/webp"
    if kind == "video" and body[4:8] == b"ftyp":  # ISO media (MP4, and 3GP from older phones): the ftyp box first
        return "video/3gpp" if body[8:11] == b"3gp" else "video/mp4"
    return next((ctype for magic, ctype in SIGNATURES.get(kind, ()) if body.startswith(magic)), None)


class MediaStore:
    """Files named by SHA-256 under a private folder (two-character subfolders keep directories small)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def _private_dir(self, path: Path) -> None:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256")
        return self.folder / sha256[:2] / sha256

    def put(self, body: bytes) -> str:
        """Write the file once (atomically, fsync'd); returns its SHA-256."""
        sha = hashlib.sha256(body).hexdigest()
        final = self.path(sha)
        if final.exists() and final.stat().st_size == len(body):
            return sha
        self._private_dir(self.folder)
        self._private_dir(final.parent)
        tmp = final.with_name(f".{sha}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(body)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
        return sha

    def read(self, sha256: str) -> bytes | None:
        try:
            return self.path(sha256).read_bytes()
        except (OSError, ValueError):
            return None


class MediaFetcher(DueWorkLoop):
    name = "media-fetcher"

    def __init__(self, db: Database, api: WechatApi, store: MediaStore, config: MediaConfig,
                 clock: Clock | None = None):
        self.db, self.api, self.store, self.config = db, api, store, config
        self.clock = clock or Clock()
        super().__init__()
        self.stored = 0

    @property
    def poll_seconds(self) -> float:
        return self.config.poll_seconds

    async def one_pass(self) -> int:
        return await self.fetch_due()

    async def fetch_due(self, limit: int = 5) -> int:
        """Copy what is due now; returns how many were tried."""
        rows = await self.db.run(media.claim_due, self.clock.now(), limit)
        for row in rows:
            await self._fetch(row)
        return len(rows)

    async def _fetch(self, row: dict) -> None:
        media_id = row["media_id"]
        limit = self.config.max_video_bytes if row["kind"] == "video" else self.config.max_bytes
        try:
            body, _platform_type = await self.api.get_media(media_id, max_bytes=limit)
        except WechatApiError as exc:
            if exc.errcode == INVALID_MEDIA_ID:
                await self._record(media.mark_ended, media_id, "expired", str(exc))
            elif exc.errcode == TOO_LARGE:
                log.info("media %s (%s) refused: over %d bytes", media_id[:8], row["kind"], limit)
                await self._record(refused_too_large, row, str(exc), limit, self.clock.now())
            else:
                await self._retry(row, str(exc))
            return
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
            await self._retry(row, f"{type(exc).__name__}: {exc}")
            return
        ctype = sniff(row["kind"], body)
        if ctype is None:
            log.warning("media %s (%s) refused: not a %s file", media_id[:8], row["kind"], row["kind"])
            await self._record(media.mark_ended, media_id, "refused", f"not a {row['kind']} file")
            return
        try:
            sha = await asyncio.get_running_loop().run_in_executor(None, self.store.put, body)
        except OSError as exc:  # disk full, permissions: try again later, like a network error
            await self._retry(row, f"storing: {exc}")
            return
        await self._record(media.mark_stored, media_id, sha, ctype, len(body), self.clock.now())
        if not self.store.path(sha).exists():  # pruned meanwhile as another message's copy: the row now keeps it
            await asyncio.get_running_loop().run_in_executor(None, self.store.put, body)
        self.stored += 1

    async def _retry(self, row: dict, error: str) -> None:
        now = self.clock.now()
        if now >= row["received_at"] + media.KEPT_SECONDS:
            log.warning("media %s expired after %d attempt(s): %s", row["media_id"][:8], row["attempts"] + 1, error)
            await self._record(media.mark_ended, row["media_id"], "expired", error)
            return
        wait = min(self.config.backoff_base_seconds * 2 ** row["attempts"], self.config.backoff_max_seconds)
        await self._record(media.mark_retry, row["media_id"], error, now + wait)

    async def _record(self, fn, *args) -> None:
        """Record the outcome, waiting while another process holds the write lock."""
        while True:
            try:
                await self.db.run(fn, *args)
                return
            except sqlite3.OperationalError as exc:
                log.warning("media: recording %s waits for the database (%s)", str(args[0])[:8], exc)
                await asyncio.sleep(1.0)


def refused_too_large(db, row: dict, error: str, limit: int, now: float) -> None:
    """A file over the size we keep: refused, and its sender told in the same transaction (they have just written,
    so WeChat's 48-hour window is open)."""
    media.mark_ended(db, row["media_id"], "refused", error)
    what = texts.MEDIA_NAMES.get(row["kind"], "文件")
    text = texts.MEDIA_TOO_LARGE.format(what=what, mb=max(1, limit // (1024 * 1024)))
    outbox.enqueue_replies(db, [{"text": text, "to": row["openid"]}], row["openid"], now, source="media")


def prune(db, store: MediaStore, before: float, limit: int = 200) -> int:
    """Forget up to `limit` media received before `before` that belong to no ticket: their rows, and their files
    where no other row still names the same file. Runs on the writer thread, so the fetcher's record of a new copy
    of the same file comes before or after, never between the check and the unlink (and the fetcher writes the
    file again if it finds it gone once its row is recorded). Returns the rows dealt with (deleted, or marked kept
    as a ticket's): call again while it returns `limit`."""
    dealt, files = media.prune_unattached(db, before, limit)
    for sha in files:
        try:
            store.path(sha).unlink(missing_ok=True)
        except (OSError, ValueError) as exc:
            log.warning("media: could not delete %s: %s", sha[:12], exc)
    return dealt


def mirror(src: str | Path, dest: str | Path) -> int:
    """Copy the files of one media folder into another (a backup's, or back at a restore): files are named by
    their content and never change, so only the missing ones are copied. Returns how many were copied."""
    src, target = Path(src), MediaStore(dest)
    if not src.is_dir():
        return 0
    copied = 0
    for path in sorted(src.glob("??/*")):
        if path.name.startswith(".") or len(path.name) != 64:
            continue  # a download in progress
        if not target.path(path.name).exists():
            target.put(path.read_bytes())
            copied += 1
    return copied
