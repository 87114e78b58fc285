"""The local WeChat platform: a stand-in for api.weixin.qq.com and for WeChat users (platform.Sandbox), and a
browser simulator of the phone's chat screen (simulator.add_simulator_routes). Used by `tingjian demo` and tests."""
from bot.sandbox.platform import Sandbox
from bot.sandbox.simulator import add_simulator_routes

__all__ = ["Sandbox", "add_simulator_routes"]
