import asyncio, re
from tests.test_conversation import *
from tests.conftest import *
async def main(tmp):
    from bot.config import load_config
    from tests import wx
    from bot.demo import DEMO_DIRECTORY
    cfg = load_config(None, env={}, overrides={"wechat": {"token": wx.TOKEN, "aes_key": wx.AES_KEY, "appid": wx.APPID, "appsecret": "secret","api_base": "http://127.0.0.1:9", "check_timestamp": False},"storage": {"path": tmp + "/t.db"},"directory": {"csv": str(DEMO_DIRECTORY)}})
    clock = FixedClock(MONDAY)
    async with running(create_app(cfg, clock=clock)) as app:
        app[SCHEDULER].pause()
        app[DISPATCHER].router = StubRouter(app[DISPATCHER].router)
        await app[DB].run(lambda db: [staff.bind(db, "o_fees", "jyj-sfc", "handler", "李老师", 0)])
        w = World(app, clock)
        import sys
        for line in sys.argv[1:]:
            if line.startswith("@"):
                who, text = line[1:].split(":", 1)
            else:
                who, text = "o_p", line
            print(">>", who, text); print(await w.say(who, text))
import tempfile, sys
asyncio.run(main(tempfile.mkdtemp()))
