"""The core's one entry point: `await dispatcher.handle(inbound) -> list[Reply]`."""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass

from handlers import texts
from handlers.clock import Clock
from handlers.messages import Inbound, Reply
from storage import directory, users
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BotProfile:
    name: str = "听见"
    organisation: str = "市教育局"
    commitment: str = ""


class Dispatcher:
    def __init__(self, db: Database, clock: Clock | None = None, profile: BotProfile | None = None):
        self.db = db
        self.clock = clock or Clock()
        self.profile = profile or BotProfile()
        # One person's messages are handled one at a time, in order; different people in parallel.
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def handle(self, inbound: Inbound) -> list[Reply]:
        lock = self._locks[inbound.openid]
        async with lock:
            try:
                return await self._handle(inbound)
            finally:
                if not lock._waiters:  # noqa: SLF001 - drop idle locks so the map does not grow forever
                    self._locks.pop(inbound.openid, None)

    async def _handle(self, inbound: Inbound) -> list[Reply]:
        if inbound.kind == "event":
            return await self._event(inbound)
        if inbound.kind == "text" or (inbound.kind == "voice" and inbound.text):
            return self._text(inbound.text)
        if inbound.kind in texts.MEDIA_NAMES:
            return [Reply(texts.RECEIVED_MEDIA.format(what=texts.MEDIA_NAMES[inbound.kind]))]
        return [Reply(texts.UNSUPPORTED)]

    def _text(self, text: str) -> list[Reply]:
        stripped = text.strip()
        if not stripped or stripped.lower() in texts.HELP_WORDS:
            return [Reply(texts.HELP)]
        return [Reply(texts.RECEIVED_TEXT.format(excerpt=texts.excerpt(stripped)))]

    async def _event(self, inbound: Inbound) -> list[Reply]:
        now = self.clock.now()
        if inbound.event == "subscribe":
            await self.db.run(users.set_scene, inbound.openid, inbound.scene, now)
            welcome = texts.WELCOME.format(org=self.profile.organisation, bot=self.profile.name,
                                           commitment=self.profile.commitment)
            unit = await self._unit(inbound.scene)
            if unit:
                welcome += "\n" + texts.WELCOME_UNIT.format(unit=unit["name"])
            return [Reply(welcome)]
        if inbound.event == "scan":
            await self.db.run(users.set_scene, inbound.openid, inbound.scene, now)
            unit = await self._unit(inbound.scene)
            if unit:
                return [Reply(texts.SCAN_UNIT.format(unit=unit["name"]))]
            return [Reply(texts.SCAN_UNKNOWN)]
        if inbound.event == "unsubscribe":
            await self.db.run(users.set_subscribed, inbound.openid, False, now)
            return []  # WeChat delivers nothing to a person who has just left
        if inbound.event == "click":
            if inbound.event_key in ("help", "HELP"):
                return [Reply(texts.HELP)]
            return [Reply(texts.MENU_UNKNOWN)]
        return []  # VIEW and other notifications need no answer

    async def _unit(self, scene: str | None):
        if not scene:
            return None
        return await self.db.run(directory.by_scene, scene)
