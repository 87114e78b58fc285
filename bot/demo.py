"""Demo mode: the service, the local WeChat sandbox and the simulator in one process, with no credentials."""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.config import Config, load_config
from handlers.clock import Clock

DEMO_DIRECTORY = Path(__file__).with_name("demo") / "directory.csv"
# Public test values: the sandbox and the bot share them; nothing here is a real account.
DEMO_WECHAT = {
    "token": "tingjiandemo",
    "aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "appid": "wxd000000000demo",
    "appsecret": "demo-secret",
}


def demo_config(port: int = 8080, host: str = "127.0.0.1", data_dir: str = "data") -> Config:
    base = f"http://127.0.0.1:{port}"
    return load_config(None, overrides={
        "server": {"host": host, "port": port},
        "wechat": {**DEMO_WECHAT, "api_base": base},
        "storage": {"path": str(Path(data_dir) / "demo.db")},
        "directory": {"csv": str(DEMO_DIRECTORY)},
        "sandbox": {"enabled": True},
    })


def mount_sandbox(app: web.Application, config: Config, clock: Clock) -> None:
    """Serve the stand-in for api.weixin.qq.com and the simulator from the bot's own app."""
    from bot.sandbox.platform import Sandbox
    from bot.sandbox.simulator import add_simulator_routes
    from storage import directory

    sandbox = Sandbox(token=config.wechat.token, aes_key=config.wechat.aes_key, appid=config.wechat.appid,
                      appsecret=config.wechat.appsecret, webhook_url=f"{config.public_url}/wechat",
                      clock=clock.now)
    sandbox.add_routes(app)

    async def units():
        from bot.app import DB
        rows = await app[DB].run(directory.all_units)
        return [{"code": r["code"], "name": r["name"], "kind": r["kind"], "scene": directory.scene_for(r)}
                for r in rows]

    add_simulator_routes(app, units)
