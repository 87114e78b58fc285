"""The browser simulator: a phone-sized WeChat chat screen that talks to the bot through the sandbox.

Routes: GET /simulator (the page), GET /simulator/units (schools and offices with their QR scenes, from
units_provider), GET /simulator/roles (the people one can act as), GET /simulator/static/... (JS and CSS). The page
posts to /sandbox/send, asks /sandbox/qrcode for QR images and polls /sandbox/messages, so the sandbox platform
must be mounted in the same app.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
UnitsProvider = Callable[[], Awaitable[list[dict[str, Any]]]]
RolesProvider = Callable[[], Awaitable[list[dict[str, Any]]]]

# The people the simulator can act as. Extend with a roles_provider (e.g. staff read from the directory):
# each role is {"openid", "name", "group"}; the page groups the picker by "group".
DEFAULT_ROLES: list[dict[str, str]] = [
    {"openid": "o_demo_parent_wang", "name": "家长·王女士", "group": "群众"},
    {"openid": "o_demo_parent_li", "name": "家长·李先生", "group": "群众"},
    {"openid": "o_demo_student_chen", "name": "学生·小陈", "group": "群众"},
    {"openid": "o_demo_citizen_zhao", "name": "市民·赵先生", "group": "群众"},
]


async def _default_roles() -> list[dict[str, Any]]:
    return [dict(r) for r in DEFAULT_ROLES]


def add_simulator_routes(app: web.Application, units_provider: UnitsProvider,
                         roles_provider: RolesProvider | None = None, path: str = "/simulator") -> None:
    """units_provider: async () -> [{"code", "name", "kind", "scene"}, ...].
    roles_provider: async () -> [{"openid", "name", "group"}, ...]; DEFAULT_ROLES when None."""
    roles_provider = roles_provider or _default_roles

    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "simulator.html", headers={"Cache-Control": "no-cache"})

    def listing(provider: Callable[[], Awaitable[list[dict[str, Any]]]], what: str):
        async def handler(request: web.Request) -> web.Response:
            try:
                rows = await provider()
            except Exception:  # noqa: BLE001 - the page says the list is unavailable instead of breaking
                log.exception("simulator: the %s provider failed", what)
                return web.json_response({"error": f"{what} unavailable"}, status=500)
            return web.json_response([dict(row) for row in rows])
        return handler

    app.router.add_get(path, page)
    app.router.add_get(path + "/units", listing(units_provider, "units"))
    app.router.add_get(path + "/roles", listing(roles_provider, "roles"))
    app.router.add_static(path + "/static", STATIC, append_version=False)
