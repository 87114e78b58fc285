"""Demo mode: the service, the local WeChat sandbox and the simulator in one process, with no credentials."""
from __future__ import annotations

import csv
import json
import os
import secrets
from pathlib import Path
from urllib.parse import urlparse

from aiohttp import web

from bot.config import Config, load_config
from handlers.clock import Clock

SANDBOX = web.AppKey("sandbox", object)  # the Sandbox, for tests that act as WeChat (e.g. keep windows open)
DEMO_DIRECTORY = Path(__file__).with_name("demo") / "directory.csv"
# Staff already bound in the demo, so a newcomer can play every role in the simulator at once.
DEMO_STAFF = Path(__file__).with_name("demo") / "staff.csv"
DEMO_OVERSIGHT = "jyj-dcs"  # the demo's 督查室 (routing.oversight_office), its staff in DEMO_STAFF
DEMO_LINK_HOURS = 12
# The shipped example survey (民主测评 of schools) and common questions (issue 13).
DEMO_SURVEYS = Path(__file__).with_name("demo") / "surveys"
DEMO_FAQ = Path(__file__).with_name("demo") / "faq.toml"
DEMO_SERVICES = Path(__file__).with_name("demo") / "services.toml"  # 服务事项 on the public pages
# Public test values: the sandbox and the bot share them; nothing here is a real account.
DEMO_WECHAT = {
    "token": "tingjiandemo",
    "aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "appid": "wxd000000000demo",
    "appsecret": "demo-secret",
}


def _link_secret(data_dir: Path) -> str:
    """The demo's own random key for signed links, made once and kept in its data folder."""
    path = data_dir / "link_secret"
    if path.is_file() and len(path.read_text().strip()) >= 16:
        return path.read_text().strip()
    secret = secrets.token_hex(32)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secret + "\n")
    return secret


def _demo_values(port: int, host: str, data_dir: Path) -> dict:
    return {
        "server": {"host": host, "port": port, "link_secret": _link_secret(data_dir)},
        "wechat": {**DEMO_WECHAT, "api_base": f"http://127.0.0.1:{port}", "oauth": f"http://127.0.0.1:{port}"},
        "storage": {"path": str(data_dir / "demo.db")},
        "directory": {"csv": str(DEMO_DIRECTORY), "services": str(DEMO_SERVICES)},
        # complaints about the bureau itself (its offices, the duty office) go to the 督查室, someone bound there
        "routing": {"oversight_office": DEMO_OVERSIGHT},
        "campaign": {"surveys": str(DEMO_SURVEYS), "faq": str(DEMO_FAQ), "min_responses": 5},
        "sandbox": {"enabled": True},
        "digest": {"separate_process": False},  # a demo's week is a few tickets: no child process needed
        # After a time jump staff are outside WeChat's 48-hour window: notices then go as template messages.
        "notify": {"staff_template_id": "demo-staff-notice", "citizen_template_id": "demo-citizen-notice"},
    }


def demo_config(port: int = 8080, host: str = "127.0.0.1", data_dir: str = "data") -> Config:
    """The demo's configuration; also written to DATA/config.toml so every command can be pointed at the running
    demo (`tingjian digest --config DATA/config.toml`)."""
    folder = Path(data_dir).absolute()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    values = _demo_values(port, host, folder)
    path = folder / "config.toml"
    lines = ["# Written by `tingjian demo` at each start: the running demo's settings. Use it with any command,",
             f"# e.g. tingjian digest --config {path}", ""]
    for section, table in values.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in table.items()]
        lines.append("")
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    return load_config(path, env={})


def mount_sandbox(app: web.Application, config: Config, clock: Clock) -> None:
    """Serve the stand-in for api.weixin.qq.com and the simulator from the bot's own app."""
    from bot.sandbox.platform import Sandbox
    from bot.sandbox.simulator import add_simulator_routes
    from storage import directory, staff

    sandbox = Sandbox(token=config.wechat.token, aes_key=config.wechat.aes_key, appid=config.wechat.appid,
                      appsecret=config.wechat.appsecret, webhook_url=f"{config.public_url}/wechat",
                      clock=clock.now, oauth_domain=urlparse(config.public_url).hostname)
    sandbox.add_routes(app)
    app[SANDBOX] = sandbox
    from bot.menu import default_menu
    sandbox.set_menu(default_menu())  # as if `tingjian menu push` had run: the simulator shows the menu bar

    async def units():
        from bot.app import DB, DISPATCHER
        rows = await app[DB].read(directory.all_units)  # pages read off the writer
        surveys = app[DISPATCHER].campaign.p.surveys.values()
        out = []
        for r in rows:
            unit = {"code": r["code"], "name": r["name"], "kind": r["kind"], "scene": directory.scene_for(r)}
            open_ = [s for s in surveys if s.is_open(clock.now()) and s.covers(r)]
            if open_:  # the unit's survey code (评议码), printed on its survey poster
                unit["survey_scene"], unit["survey_title"] = open_[0].scene(r["code"]), open_[0].title
            out.append(unit)
        return out

    async def roles():
        from bot.app import DB
        from bot.sandbox.simulator import DEFAULT_ROLES
        rows = await app[DB].read(staff.list_staff)
        return DEFAULT_ROLES + [{"openid": r["openid"], "name": r["name"], "group": "工作人员"} for r in rows]

    async def seed_staff(app: web.Application):
        from bot.app import DB
        rows = list(csv.DictReader(open(DEMO_STAFF, encoding="utf-8")))
        await app[DB].run(lambda db: [staff.bind(db, r["openid"], r["unit"], r["role"], r["name"], clock.now())
                                      for r in rows])
        for r in rows:  # they have "written to the account" recently, so customer-service messages reach them
            sandbox.follow(r["openid"])
        print(await app[DB].run(signin_links, config, rows, clock.now()), flush=True)
        yield

    add_simulator_routes(app, units, roles)
    app.cleanup_ctx.append(seed_staff)

    async def clock_state(request: web.Request) -> web.Response:
        return web.json_response(_clock_state(request.app, clock))

    async def move_clock(request: web.Request) -> web.Response:
        return await _move_clock(request, clock)

    app.router.add_get("/sandbox/clock", clock_state)
    app.router.add_post("/sandbox/clock", move_clock)


MAX_JUMP_SECONDS = 60 * 86400
WEEKDAYS = "一二三四五六日"


def _clock_state(app: web.Application, clock: Clock) -> dict:
    import datetime as dt
    from zoneinfo import ZoneInfo
    from bot.app import CONFIG
    now = dt.datetime.fromtimestamp(clock.now(), ZoneInfo(app[CONFIG].bot.timezone))
    return {"now": clock.now(), "text": now.strftime("%Y-%m-%d %H:%M") + f" 周{WEEKDAYS[now.weekday()]}",
            "speed": getattr(clock, "speed", 1.0)}


async def _move_clock(request: web.Request, clock: Clock) -> web.Response:
    """Demo only: move time forward ({"hours": n}, {"days": n} or {"seconds": n}) and run every sweep at once,
    so reminders, 催办, escalation, 未评价 closing and the Monday digest can be seen without waiting."""
    from bot.app import JOBS
    try:
        body = await request.json()
        units = {"seconds": 1, "hours": 3600, "days": 86400}
        (unit, value), = [(k, v) for k, v in body.items() if k in units]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError
        seconds = float(value) * units[unit]
    except (ValueError, TypeError, AttributeError):
        return web.json_response({"error": 'give one of {"hours": n}, {"days": n} or {"seconds": n}'}, status=400)
    if not 0 < seconds <= MAX_JUMP_SECONDS:
        return web.json_response({"error": "time moves forward only, at most 60 days at once"}, status=400)
    if not hasattr(clock, "advance"):
        return web.json_response({"error": "this service's clock cannot be moved"}, status=409)
    clock.advance(seconds)
    ran = await request.app[JOBS].run_all()
    return web.json_response({**_clock_state(request.app, clock), "ran": ran})


def signin_links(db, config: Config, rows: list[dict], now: float) -> str:
    """One workbench sign-in link per demo staff member, so a newcomer can play every role in the browser too.
    Demo links stay valid for DEMO_LINK_HOURS (real ones: 5 minutes); each still works once, and 登录 in the
    simulator gives a fresh one."""
    from storage import websessions
    lines = [f"Workbench sign-in links (each works once, for {DEMO_LINK_HOURS} hours; send 登录 in the simulator "
             "for a new one):"]
    for r in rows:
        token = websessions.create_signin(db, r["openid"], now, DEMO_LINK_HOURS * 3600)
        lines.append(f"  {r['name']:<24} {config.public_url}/w/signin/{token}")
    return "\n".join(lines)
