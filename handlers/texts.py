"""Every sentence a person reads, in one place, so the wording can be reviewed together.

Style: polite and short, as a good civil servant writes on a phone screen; 您 for the public; no jargon.
"""
from __future__ import annotations

WELCOME = (
    "您好，欢迎关注{org}“{bot}”。\n"
    "您可以直接在这里留言：投诉、建议、咨询或表扬，我们会转给负责的部门办理，并告诉您受理编号和办结时限。\n"
    "我们的承诺：{commitment}"
)
WELCOME_UNIT = "您是通过“{unit}”的二维码进入的，留言将默认关联该单位。"
SCAN_UNIT = "已切换到“{unit}”，您接下来的留言将关联该单位。"
SCAN_UNKNOWN = "这个二维码暂时无法识别所属单位，您仍可直接留言，我们会根据内容转给相关部门。"

HELP = (
    "直接发送文字说明您的问题即可，也可以附上图片或语音。\n"
    "常用指令：\n"
    "· 帮助 — 查看本说明\n"
    "· 查询 — 查看我的留言办理进度\n"
    "· 取消 — 放弃正在填写的留言"
)
RECEIVED_TEXT = "已收到您的留言：“{excerpt}”。\n留言受理功能即将开通，感谢您的耐心。发送“帮助”查看使用说明。"
RECEIVED_MEDIA = "已收到您发送的{what}。如需反映问题，请再用文字简要说明情况。"
MEDIA_NAMES = {"image": "图片", "voice": "语音", "video": "视频", "location": "位置", "link": "链接"}
UNSUPPORTED = "抱歉，暂时无法处理这类消息。请用文字描述您的问题，发送“帮助”查看使用说明。"
MENU_UNKNOWN = "这个菜单暂未开放，您可以直接留言，或发送“帮助”查看使用说明。"

HELP_WORDS = frozenset({"帮助", "help", "?", "？", "菜单", "使用说明", "怎么用"})


def excerpt(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
INTERNAL_ERROR = "抱歉，系统刚才处理您的消息时出了点问题，您的消息已保存。请稍后再试，或发送“帮助”。"
