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
UNIT_COMMITMENT = "{unit}承诺：{text}"
SCAN_UNIT = "已切换到“{unit}”，您接下来的留言将关联该单位。"
SCAN_UNKNOWN = "这个二维码暂时无法识别所属单位，您仍可直接留言，我们会根据内容转给相关部门。"

HELP = (
    "直接发送文字说明您的问题即可，也可以附上图片或语音。\n"
    "常用指令：\n"
    "· 帮助 — 查看本说明\n"
    "· 查询 — 查看我的留言办理进度\n"
    "· 取消 — 放弃正在填写的留言"
)
RECEIVED_MEDIA = "已收到您发送的{what}。如需反映问题，请再用文字简要说明情况。"
MEDIA_NAMES = {"image": "图片", "voice": "语音", "video": "视频", "location": "位置", "link": "链接"}
UNSUPPORTED = "抱歉，暂时无法处理这类消息。请用文字描述您的问题，发送“帮助”查看使用说明。"
MENU_UNKNOWN = "这个菜单暂未开放，您可以直接留言，或发送“帮助”查看使用说明。"

HELP_WORDS = frozenset({"帮助", "help", "?", "？", "菜单", "使用说明", "怎么用"})
CANCEL_WORDS = frozenset({"取消", "cancel", "算了", "不提交了", "撤销"})
QUERY_WORDS = ("查询", "进度", "查进度", "我的留言")

KIND_NAMES = {"complaint": "投诉", "suggestion": "建议", "inquiry": "咨询", "praise": "表扬"}
KIND_BY_NAME = {v: k for k, v in KIND_NAMES.items()}
STATE_NAMES = {
    "submitted": "已提交", "assigned": "已转交承办单位", "accepted": "办理中", "replied": "已答复",
    "resolved": "已办结", "closed": "已结束", "bounced": "重新分派中", "reopened": "重新办理中",
    "withdrawn": "已撤回",
}

# -- intake conversation ----------------------------------------------------------------------------------
ASK_MORE = "请再具体说说情况，比如时间、地点、涉及的学校或人员，以便我们转给对口部门办理。"
ASK_DESCRIPTION_AFTER_MEDIA = "已收到附件。请再用文字简要说明您要反映的情况。"
ATTACHED = "已附上{what}。"
SUPPLEMENTED = "已补充到留言内容。"
ASK_KIND = "请问您这次是：\n1 投诉\n2 建议\n3 咨询\n4 表扬\n请回复数字。"
ASK_KIND_AGAIN = "请回复数字 1–4：1 投诉，2 建议，3 咨询，4 表扬。"
OUT_OF_SCOPE = (
    "您反映的问题可能不属于教育部门的职责，建议拨打12345政务服务便民热线，由对应部门更快办理。\n"
    "如仍希望提交给教育局，请回复 1；不提交请回复 2。"
)
OUT_OF_SCOPE_DONE = "好的，本次不提交。感谢您的反映，如有教育方面的问题欢迎随时留言。"
CHOOSE_1_2 = "请回复 1 或 2。"
CHOOSE_1_3 = "请回复 1 提交，2 修改内容，3 取消。"
ASK_SCHOOL = "请问涉及哪所学校或幼儿园？请发送名称；不涉及具体学校请回复 0。"
SCHOOL_NOT_FOUND = "没有找到这所学校，请发送完整名称（如“江南区实验小学”）；不涉及具体学校请回复 0。"
SIMILAR = (
    "您在{date}反映过同一学校的同类问题（编号 {number}，{state}）。\n"
    "1 补充到原留言\n2 作为新留言提交"
)
APPENDED = "已将您的补充内容加入留言 {number}，承办单位会一并办理。发送“查询 {number}”可查看进度。"
ASK_PHONE = (
    "如方便，请留下联系电话，便于承办人员与您联系（号码仅工作人员可见，并隐去中间四位）。\n"
    "直接回复号码；不留请回复 0。"
)
PHONE_INVALID = "号码格式不对，请发送11位手机号或带区号的固定电话；不留请回复 0。"
NO_PHONE = "未留"
ASK_ANONYMITY = "是否同意让学校知道您的身份？\n1 同意\n2 不同意（仅教育局可见）"
SUMMARY_HEAD = "请核对您的留言："
SUMMARY_CHOICES = "回复 1 提交，2 修改内容，3 取消。"
SUBMITTED = (
    "提交成功！\n受理编号：{number}\n承办单位：{unit}\n办结时限：{due}前\n"
    "办理进展会及时通知您，也可发送“查询”查看。"
)
ASK_REWRITE = "好的，请重新发送留言内容。"
CANCELLED = "已取消，本次留言未提交。需要时可随时重新留言。"
NOTHING_TO_CANCEL = "当前没有正在填写的留言。直接发送文字即可开始留言。"
EXPIRED = "您之前未完成的留言已超过{minutes}分钟未操作，已自动取消。"

# -- queries ----------------------------------------------------------------------------------------------
NO_TICKETS = "您还没有提交过留言。直接发送文字即可开始留言。"
MY_TICKETS_HEAD = "您最近的留言："
MY_TICKET_LINE = "{number} {kind}｜{state}｜{due}前办结"
MY_TICKETS_FOOT = "发送“查询 编号”查看详情。"
TICKET_NOT_FOUND = "没有找到编号为 {number} 的留言，请核对后再试。"
TICKET_DETAIL = "编号：{number}\n类型：{kind}\n状态：{state}\n承办单位：{unit}\n办结时限：{due}前\n内容：{excerpt}"
TICKET_HISTORY_HEAD = "办理记录："


def excerpt(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
INTERNAL_ERROR = "抱歉，系统刚才处理您的消息时出了点问题，您的消息已保存。请稍后再试，或发送“帮助”。"
