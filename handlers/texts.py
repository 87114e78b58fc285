"""Every sentence a person reads, in one place, so the wording can be reviewed together.

Style: polite and short, as a good civil servant writes on a phone screen; 您 for the public; no jargon.
"""
from __future__ import annotations

import re

from handlers import numbers

WELCOME = (
    "您好，欢迎关注{org}“{bot}”。\n"
    "您可以直接在这里留言：投诉、建议、咨询或表扬，我们会转给负责的部门办理，并告诉您受理编号和办结时限。\n"
    "我们的承诺：{commitment}"
)
# A parent from abroad scanning a school's code reads only this line: they may write in English.
WELCOME_ENGLISH = "English: just write your message in English, and we will answer in English."
WELCOME_UNIT = "您是通过“{unit}”的二维码进入的，留言将默认关联该单位。"
UNIT_COMMITMENT = "{unit}承诺：{text}"
SCAN_UNIT = "已切换到“{unit}”，您接下来的留言将关联该单位。"
SCAN_UNKNOWN = "这个二维码暂时无法识别所属单位，您仍可直接留言，我们会根据内容转给相关部门。"

# The lists of commands under these heads are generated from handlers/commands.TABLE.
HELP_HEAD = "直接发送文字说明您的问题即可，也可以附上图片或语音。\n常用指令（编号可只写末尾数字，如“查询 12”）："
STAFF_HELP_HEAD = "工作人员指令（编号也可用“待办”列表中的序号）："
# a staff member's text that is no command: not sent to anyone (a reply typed without 回复 would be lost)
# Said to whoever writes 不退回了, bounced or not: it states the rule, never that this person bounced something.
BOUNCE_UNDO = ("退回一经发出不能撤销，退回的留言由局值班室重新分派。如仍应由本单位办理，请联系局值班室转派回本单位；"
               "值班室转回后，它会重新出现在您的待办里。")
STAFF_NOT_SENT = "这条消息不是指令，没有发给群众。答复群众请用“回复 编号 内容”。"
STAFF_THANKS = "不客气。发送“待办”查看待办留言，“帮助”查看全部指令。"
STAFF_GREETING = "您好！可以直接问我“今天有什么紧急的吗”“这周情况怎么样”，或发送“待办”查看本单位待办。"
STAFF_GREETING_HANDLER = "您好！发送“待办”查看本单位待办留言，也可以问我“今天有什么紧急的吗”。"
STAFF_HOW = "{line}\n例如：“{example}”。发送“帮助”查看全部指令。"
CITIZEN_ONLY = "“{verb}”是群众使用的指令。工作人员请发送“帮助”查看可用指令；不属本单位职责的留言请用“退回 编号 理由”。"
RECEIVED_MEDIA = "已收到您发送的{what}。如需反映问题，请再用文字简要说明情况。"
MEDIA_NAMES = {"image": "图片", "voice": "语音", "video": "视频", "location": "位置", "link": "链接"}
UNSUPPORTED = "抱歉，暂时无法处理这类消息。请用文字描述您的问题，发送“帮助”查看使用说明。"
MENU_UNKNOWN = "这个菜单暂未开放，您可以直接留言，或发送“帮助”查看使用说明。"

HELP_WORDS = frozenset({"帮助", "help", "?", "？", "菜单", "使用说明", "怎么用"})
CANCEL_WORDS = frozenset({"取消", "cancel", "算了", "不提交了", "撤销"})
CANCEL_ASKED_FIRST = frozenset({"算了"})  # of CANCEL_WORDS, one that may be a sigh: asked before words are dropped

KIND_NAMES = {"complaint": "投诉", "suggestion": "建议", "inquiry": "咨询", "praise": "表扬"}
KIND_BY_NAME = {v: k for k, v in KIND_NAMES.items()}
STATE_NAMES = {
    "submitted": "已提交", "assigned": "已转交承办单位", "accepted": "办理中", "replied": "已答复",
    "resolved": "已办结", "closed": "已结束", "bounced": "重新分派中", "reopened": "重新办理中",
    "withdrawn": "已撤回",
}
# The same states as staff read them: a ticket sent to their unit waits for their 签收, not "passed to the unit"; one
# the citizen reopened waits for it again (lifecycle.TO_SIGN), so it reads 待签收 too, where the list counts it.
STAFF_STATE_NAMES = {**STATE_NAMES, "assigned": "待签收", "reopened": "待签收（重办）"}


def due_words(days: int, overdue: bool) -> str:
    """How near a deadline is, in calendar days from today (negative: past it): for a list read at a glance."""
    if overdue:
        return f"超期{-days}天" if days < 0 else "今天已超期"
    return {0: "今天到期", 1: "明天到期"}.get(days, f"{days}天后到期")

# -- intake conversation ----------------------------------------------------------------------------------
# 你好 / 在吗 as a first message: greeted back, with what the account is for and what to send; nothing started.
GREETING_NEXT = "请直接发送您要反映的事情，写明涉及的学校和具体情况，也可以发图片或语音。"
GREETING_BACK = "您好！您可以在这里向教育局投诉、建议、咨询或表扬。" + GREETING_NEXT
GREETING_IN_DRAFT = "您好，我在。"
# after 喂 / 在吗 / 怎么没人回 (GREETING_IN_DRAFT first): what to say, as a person at a counter would ask
CALLED_NEXT = "请问遇到了什么事？" + GREETING_NEXT
NUMBER_ALONE = "您目前没有正在填写的留言。如需反映问题，请直接用文字说明情况；查看已提交的留言请发送“查询”。"
PHONE_TAKEN = "已记下联系电话。"
PHONE_SKIPPED = "好的，不留联系电话。"
# The phone decided for an earlier message of this sitting (set aside, replaced, or just submitted): said where its
# question would come, never assumed silently (Intake._carry_phone)
PHONE_KEPT = "这条留言沿用您刚才留的联系电话（{phone}）；如需更换，请直接发送新号码。"
PHONE_NONE_KEPT = "您刚才没有留联系电话，这条也先不留；如需留，请直接发送号码。"
# a number written in the message itself (…我电话138…): it is the phone, confirmed where its question would come
PHONE_READ = "已记下您留的联系电话（{phone}）；如需更换，请直接发送新号码。"
# declined while the matter was not urgent; now it is: asked once more, saying why
PHONE_AGAIN_URGENT = ("您之前选择不留电话。这件事关系到人身安全，建议留下联系电话，便于工作人员尽快与您联系（号码仅工作人员可见）。\n"
                      "直接回复号码；仍不留请回复 0。")
OK_LEAD = "好的，"  # what PHONE_SKIPPED and ANONYMITY_TAKEN_EARLY begin with: said once when both are
ASK_TO_OFFICER = "您是想就留言 {number} 继续问承办人员吗？\n1 是，转给承办人员\n2 不是，这是新的问题"
GIVE_UP_ASK = "您的留言还没有提交。如决定不反映了，请回复“取消”；如要继续，请接着回答："
FEAR_NOTE = "如担心孩子受影响：您可以选择不让学校知道您的身份，那样只有教育局能看到是谁反映的。"
CARRY_ON = "好的，我们继续。"
# 不说了 / 当我没说 with no message begun: nothing started, nothing kept
TAKEN_BACK = "好的，没关系。想好了随时在这里留言就行。"
# 等一下 我还想说 / 我还没说完: more is coming -- listened for, never kept as words of the message
MORE_PLEASE = "好的，您请说。"
MORE_PLEASE_DRAFT = "好的，您接着说，补充的内容会加到留言里；说完再回答上面的问题就行。"
# the matter asked for again (an aside, or a second reply that still tells none): what is missing, not the same words
MATTER_MISSING = "还需要您说说具体是什么事：发生了什么、什么时候、涉及哪所学校。"
MATTER_MISSING_SCHOOL = "还需要您说说具体是什么事：发生了什么、什么时候。"
MATTER_EXAMPLE = "不好写的话，可以这样说：“孩子在某某小学三年级，老师让每人交300元资料费，不给收据。”也可以直接发语音。"
HOLD_ON = "不着急，想好了再回复就行。没有提交的留言会为您保存，下次可以接着填写："
EDIT_LATER = "好的。要补充或更正的内容可以直接发送；提交前会请您核对全部内容，届时回复 2 可以重新填写。"
SYMBOLS_ONLY = "收到。如需反映问题，请直接用文字说明情况，也可以发图片或语音。"
THANKS_IN_DRAFT = "不客气。您的留言还没有提交，请接着回答："
THANKS_BACK = "不客气！如有其他问题，欢迎随时留言。"
ACK_BACK = "好的。如有其他问题，欢迎随时留言。"  # 是的 with no question on screen
CHEERED_BACK = "谢谢您的鼓励！如有问题或建议，欢迎随时在这里留言。"
# 这个你们能管吗？ asked at a question: yes, and where it goes; then the question again (never part of the story)
WE_HANDLE_IT = "可以。学校和教育方面的事都可以在这里反映，我们会转给负责的部门办理并按时限答复。"
VOICE_WELCOME = "没关系，您可以发语音：点输入框左边的话筒图标，按住说话，语音会附在留言里一并转给承办单位。"
ASK_WHAT_HAPPENED = "请说说您要反映的具体事情，比如发生了什么、什么时候，我们会转给对口部门办理。"
ACK = "好的。"  # leads a question only when nothing was said before it (好的，涉及学校：… is acknowledgement enough)
ASK_MATTER = ACK + ASK_WHAT_HAPPENED
# a remark nothing places (还行吧，但是希望能坚持下去): which matter it is about, before it goes anywhere
ASK_WHICH_MATTER = "请问您说的是哪方面的事情？请具体说说，比如涉及哪所学校、发生了什么，我们好转给对口部门办理。"
ASK_MORE = "请再具体说说情况，比如时间、地点、涉及的学校或人员，以便我们转给对口部门办理。"
# 我要投诉你们: a complaint about the bureau itself -- what happened, and that the office complained of will not handle it
ABOUT_BUREAU_ASK = ("好的，按投诉办理。请说说具体情况：涉及局里哪个部门或哪位工作人员，什么时候、发生了什么。"
                    "对教育局自身的投诉，由{who}办理，不交给被投诉的部门自己处理。")
ASK_DESCRIPTION_AFTER_MEDIA = "已收到您发来的{what}。请再用文字简要说明您要反映的情况。"
ATTACHED = "已附上{what}。"
# A file over the size kept (bot/media.py), told to its sender as soon as it is refused.
MEDIA_TOO_LARGE = "您刚才发送的{what}超过{mb}MB，未能保存。请剪短后重新发送，或改发截图和文字说明。"
SCHOOL_TAKEN = "好的，涉及学校：{school}。"
# How to send pictures, voice and video in the account's chat (WeChat's own input bar), and where they go.
MEDIA_HOW_STEPS = "发图片或视频：点输入框右边的“＋”，选“相册”或“拍摄”。\n发语音：点输入框左边的话筒图标，按住说话。"
MEDIA_HOW = MEDIA_HOW_STEPS + "\n发来的图片、语音和视频会附在您正在填写的留言里，已写的内容不变。"
MEDIA_HOW_NEW = MEDIA_HOW_STEPS + "\n请先用文字说明情况，再发图片、语音或视频，它们会附在您的留言里，一并转给承办单位。"
SUPPLEMENTED = "已补充到留言内容。"
CORRECTION_TAKEN = "好的，已记下您的更正。"
REPEATED = "这段话已经收到了，不用再发。"
REPEATED_FILED = "这段话刚才已经提交了（编号 {number}），不用再发；办理进展会通知您。如有新情况，请直接说明。"
REACH_PERSON = ("这里的每条留言都由工作人员办理，不是机器答复了事：请直接写下您要反映的事情，提交后会转给负责的人员；"
                "需要时他们会打电话联系您（请在留言时留下号码）。")
REACH_HOTLINE = "如想直接通话，可拨打教育局热线 {phone}。"
# Nobody bound may act on the message (Desk.nobody_on_duty, the one rule): no deadline is promised anywhere the
# citizen would read one (the summary, 多久能处理, the filing reply, the watch, their web page), only these words.
ON_DUTY_NONE = "目前暂无工作人员值守，工作人员到岗后将尽快办理"
# 多久能处理？ while writing: the time limit, counted from the moment it is submitted
DRAFT_DUE_WAITING = "这条留言提交后会记录在案。" + ON_DUTY_NONE + "，暂时无法确定办结时限。"
DRAFT_DUE = "这条留言提交后，{days}个工作日内办结（{due}前）。"
DRAFT_DUE_KINDS = "提交后开始计时：投诉和建议{complaint}个工作日内办结，咨询{inquiry}个工作日内答复。"
ASK_KIND = "请问您这次是：\n1 投诉\n2 建议\n3 咨询\n4 表扬\n请回复数字。"
# Praise that also tells of a teacher's conduct (打骂, 体罚, 收红包…): said plainly where it goes, then asked.
ASK_CONDUCT = ("您的留言里除了表扬，还反映了老师的行为问题。这类问题由教育局直接调查处理，不会转给学校。\n"
               "1 作为投诉，请教育局调查处理（表扬的话一并转交）\n2 只是表扬，没有要反映的问题（也由教育局转达）\n请回复数字。")
PRAISE_VIA_BUREAU = "留言提到老师的行为问题，由教育局转达，不直接转给学校。"
WHY_ABOUT_BUREAU = "这是对教育局自身工作的投诉，请督办核实，不要交给被投诉的部门自己办理。"
PRAISE_ACCUSES_NOTE = "注意：留言中提到了教师的行为问题，按规定未转学校，请核实后再转达。"
# Praise kept as praise that also accuses a teacher: open at the bureau until someone checks the conduct part.
WHY_PRAISE_CONDUCT = ("这是一条表扬，但留言中还反映了教师的行为问题（按规定未转学校）。请签收并核实，"
                      "核实后发送“办结 编号 核实情况”结案；群众只选择了表扬，不会请其评价。")
PRAISE_CHECKED_NOTE = "教师行为问题已核实，表扬件结案"
PRAISE_CHECKED_OK = "已记录{number}的核实情况并结案（表扬件，不请群众评价）。"
ASK_KIND_AGAIN = "请回复数字 1–4：1 投诉，2 建议，3 咨询，4 表扬。"
# 啥意思 / 不懂 at the kind question: what each kind means, in a line each
KIND_EXPLAINED = ("请选一下这条留言属于哪一类：\n1 投诉：对学校或工作人员的做法不满意，希望处理\n2 建议：提出改进的意见\n"
                  "3 咨询：询问政策或办事方法\n4 表扬：感谢好老师、好做法\n请回复数字。")
OUT_OF_SCOPE = (
    "您反映的问题可能不属于教育部门的职责，建议拨打12345政务服务便民热线，由对应部门更快办理。\n"
    "如仍希望提交给教育局，请回复 1；不提交请回复 2。"
)
OUT_OF_SCOPE_OPEN = "如果是问您已提交的留言 {number}：发送“查询 {number}”可看办理进度，发送“回复 {number} 您的话”可转给承办人员。"
OUT_OF_SCOPE_DONE = "好的，本次不提交。感谢您的反映，如有教育方面的问题欢迎随时留言。"
CHOOSE_1_2 = "请回复 1 或 2。"
CHOOSE_N = "请回复 1 至 {n} 中的一个数字。"  # an answer that is none of the numbered choices: what to send
OUT_OF_SCOPE_CHOICES = "1 仍提交给教育局\n2 不提交（可拨打12345）"
SIMILAR_CHOICES = "1 补充到原留言 {number}\n2 作为新留言提交"
CHOOSE_1_3 = "请回复 1 提交，2 修改内容，3 取消。"
ASK_SCHOOL = "请问涉及哪所学校或幼儿园？请发送名称；不涉及具体学校请回复 0。"
SCHOOL_WHY = "您的留言会转给负责的单位办理；写明学校，能更快转到学校或它的主管部门。"
# 为什么要问这个？ at each question (Step.why): why it is asked, in a sentence; the question follows.
DESCRIBE_WHY = "写清楚发生了什么，负责的单位才能核实和办理。"
OUT_OF_SCOPE_WHY = "这类事由其他部门主管，拨打12345能更快转到对口部门；如您仍希望由教育局转办，也可以提交。"
KIND_WHY = "投诉、建议、咨询和表扬的办理方式和时限不同，选好类型，才能按相应的方式和时限办理。"
CONDUCT_WHY = "老师的行为问题按规定由教育局直接调查，不转学校，所以要请您确认是反映问题，还是只是表扬。"
FOCUS_WHY = "几件事都会写在同一条留言里，最要紧的那件决定由哪个单位牵头办理。"
FOCUS_APART = "如想分开反映，可以先选一件提交，再把另一件单独发来，我们另行登记。"
SIMILAR_WHY = "同一件事补充到原留言，由原承办单位一并办理，不必重新登记、重新计时；新的情况就作为新留言。"
CONFIRM_WHY = "提交前请您再看一遍，确认无误后才会转给承办单位。"
NEW_MATTER_WHY = "不同的事分开登记，才能各自转给负责的单位、各自计算时限。"
RESUME_WHY = "您上次有一条留言没有提交，先问一下是接着填写还是放弃，以免和这次的内容混在一起。"
OFFICER_WHY = "您有一条留言正在办理，先确认这句话是说给承办人员的，还是一个新的问题。"
CHANGE_WHY = "刚才写的和现在说的像是两件事，请您选一下怎么处理，以免提交您不想提交的内容。"
SCHOOL_NAME_WANTED = "请问涉及哪所学校或幼儿园？这里需要发送它的名称，如“江南区实验小学”；不涉及具体学校请回复 0。"
SCHOOL_IN_PLACE = "请问是{place}的哪所学校或幼儿园？请发送学校名称；不涉及具体学校请回复 0。"
SCHOOL_NOT_FOUND = "没有找到这所学校，请发送完整名称（如“江南区实验小学”）；不涉及具体学校请回复 0。"
SIMILAR = (
    "您在{date}反映过同一学校的同类问题（编号 {number}，{state}）。\n"
    "1 补充到原留言\n2 作为新留言提交"
)
GOES_ON_ASK = "这是对刚提交的留言 {number} 的补充吗？"
APPENDED = "已将您的补充内容加入留言 {number}，承办单位会一并办理。发送“查询 {number}”可查看进度。"
ASK_PHONE_URGENT = "请留下联系电话，便于工作人员尽快与您联系（号码仅工作人员可见）。\n直接回复号码；不留请回复 0。"
URGENT_KIND = "紧急求助"
ASK_PHONE = (
    "如方便，请留下联系电话，便于承办人员与您联系（号码仅工作人员可见，并隐去中间四位）。\n"
    "直接回复号码；不留请回复 0。"
)
PHONE_INVALID = "号码格式不对，请发送11位手机号或带区号的固定电话；不留请回复 0。"
PHONE_PIECE = "已收到前几位：{piece}。请接着发送其余的数字；不留请回复 0。"
PHONE_PLEASE = "好的，请直接发送号码（11位手机号或带区号的固定电话）；不留请回复 0。"
PHONE_NOT_A_CHOICE = "这一步不用选数字，请直接发送电话号码（11位手机号或带区号的固定电话）；不留请回复 0。"
NO_PHONE = "未留"
ASK_ANONYMITY = "是否同意让学校知道您的身份？\n1 同意\n2 不同意（仅教育局可见，也不由学校办理）"
SUMMARY_HEAD = "请核对您的留言："
SUMMARY_CHOICES = "回复 1 提交，2 修改内容，3 取消。"
SUBMITTED = (
    "提交成功！\n受理编号：{number}\n承办单位：{unit}\n办结时限：{due}前\n"
    "办理进展会及时通知您，也可发送“查询”查看。"
)
# nobody bound may act on it (a fresh install, everyone gone): recorded, no deadline promised (Services.submit)
SUBMITTED_WAITING = ("提交成功！\n受理编号：{number}\n承办单位：{unit}\n您的留言已记录在案。" + ON_DUTY_NONE
                     + "，并及时告知您办理进展。也可发送“查询”查看。")
DUE_WAITING = "暂时无法确定"  # the deadline while nobody is on duty (Desk.citizen_due), wherever a date would stand
SUMMARY_WAITING = "办结时限：" + DUE_WAITING + "（" + ON_DUTY_NONE + "）"
ASK_REWRITE = "好的，请重新发送留言内容。"
CANCELLED = "已取消，本次留言未提交。需要时可随时重新留言。"
NOTHING_TO_CANCEL = "当前没有正在填写的留言。直接发送文字即可开始留言。"
EXPIRED = "您之前的留言超过{minutes}分钟没有继续，还没有提交。"
DRAFT_REMIND = "您的留言还没有提交。请回复下面的问题继续；{minutes}分钟内没有回复，我们会先为您保存，下次可以接着填写。\n{prompt}"
RESUME = "您上次没有提交的留言：\n「{text}」\n1 继续填写这条留言\n2 放弃它"
# a draft set aside minutes ago for a new matter, taken up when that one is done (as NEW_MATTER_STARTED said)
SHELVED_GOES_ON = "接着填写您之前那条留言（不需要了请回复“取消”）：\n「{text}」"
ONLY_MEDIA = "（仅附件）"
RESUME_CHOICES = "1 继续填写上次的留言\n2 放弃它"
RESUMED = "好的，接着填写上次的留言。"
DISCARDED = "好的，上次的留言已放弃。需要时直接发送文字即可开始新的留言。"
DISCARDED_START = "好的，上次的留言已放弃，现在记录您刚才发送的内容。"
# the one dropped had set an older one aside ("这条提交后接着填写"): that one is offered now, never lost unsaid
DISCARDED_ONE = "好的，这条已放弃。"
RESUME_OLDER = "您还有一条更早没有提交的留言：\n「{text}」\n1 继续填写这条留言\n2 放弃它"
NEW_MATTER = (
    "这条消息像是另一件事（{category}）。这是新的问题吗？\n"
    "1 作为新留言（当前这条稍后接着填写）\n2 补充到当前留言"
)
NEW_MATTER_CHOICES = "1 作为新留言\n2 补充到当前留言"
NEW_MATTER_STARTED = "好的，作为一条新留言。您之前那条留言已保存，这条提交后接着填写。"
# "不对，其实我想问…" in the middle of a message: instead of it, beside it, or a correction of it?
CHANGE_ASK = "您是想改说另一件事吗？刚才写的是：\n「{old}」"
CHANGE_CHOICES = "1 改说这件事（刚才写的不提交）\n2 两件都要反映\n3 是对刚才内容的补充或更正"
CHANGE_REPLACED = "好的，刚才写的「{old}」已撤下，不会提交。下面记录您现在说的这件事。"
CHANGE_WITH_MEDIA = "（连同发来的附件）"
# 你们是谁？ 这是哪里 你是机器人吗: said in two lines, then the question on screen again.
WHO_WE_ARE = ("这里是{org}的公众号“{bot}”，受理对教育工作的投诉、建议、咨询和表扬。"
              "提问由系统自动发出，您的留言会转给负责的部门，由工作人员办理和答复。")
# 你们是谁 as a first message: the welcome above it says who we are; this says who answers.
WHO_HANDLES = "这里的提问由系统自动发出，您的留言由工作人员办理和答复。"
ASK_FOCUS = "您的留言涉及几件事：\n{lines}\n请问哪一件最要紧？请回复数字。其他的会写在同一条留言里，一并转给承办单位。"
FOCUS_CHOICES = "{lines}\n请问哪一件最要紧？"
SCAN_DRAFT = "已将您正在填写的留言关联到“{unit}”。"
DRAFT_KEPT = "您正在填写的留言还在，可以接着填写。"
HELD_TOO = "已记下，和刚才那条放在一起。请先回复数字："
KIND_GUESSED = "（按您的描述归类；如不对，可回复“{other}”等）"
KIND_CHANGED = "已改为{kind}。"
# 改为建议 just after submitting: the ticket is with the office already; what the person can do.
KIND_CHANGE_FILED = ("您的留言 {number} 已按{old}提交，承办单位已经签收办理，类型不能再改。如需按{new}办理，请发送"
                     "“回复 {number} 请按{new}办理”，我们会转告承办人员；如要重新留言，可先发送“撤回 {number}”。")
# Before anyone has signed it, the citizen may correct the kind (not to or from praise, which is handled apart).
KIND_CHANGED_FILED = "好的，留言 {number} 已改为{new}，办结时限相应调整为{due}前。"
# Each citizen's text that names {due} has a twin _WAITING said while nobody is on duty (Desk.citizen_says).
KIND_CHANGED_FILED_WAITING = "好的，留言 {number} 已改为{new}。" + ON_DUTY_NONE + "，暂时无法确定办结时限。"
KIND_CHANGED_NOTICE = "【群众更改类型】留言 {number} 由{old}改为{new}（签收前），办结时限改为{due}。"
KIND_CHANGE_PRAISE = ("您的留言 {number} 已按{old}提交。表扬和其他类型的办理方式不同，不能直接更改；如需按{new}办理，"
                      "请先发送“撤回 {number}”撤回，再重新留言。")
KIND_SAME_FILED = "您的留言 {number} 已按{kind}提交，无需更改。"
KIND_TAKEN = "好的，按{kind}办理。"
SCHOOL_WHICH_ONE = "请问是哪一所？请发送学校的名称；不涉及具体学校请回复 0。"
SCHOOL_OPTIONS_NOTED = "学校名称已记下，稍后请您确认是哪一所。"
SCHOOL_SUGGEST = "您是指以下哪所学校？\n{lines}\n请回复数字；都不是请发送完整名称，不涉及具体学校请回复 0。"
SCHOOL_NOT_IN_PLACE = "{place}没有查到这个名字的学校。"  # before the city's near matches (实验小学 江北那个)
SCHOOL_SUGGEST_ONE = "是这所学校吗？\n{lines}\n是请回复 1；不是请发送学校的完整名称，不涉及具体学校请回复 0。"
PHONE_WHY = "留电话是为了承办人员需要核实情况时能联系到您，号码只有工作人员可见，且隐去中间四位；不留也可以正常办理。"
ANONYMITY_LATER = "稍后会问您是否同意让学校知道您的身份；选“不同意”，只有教育局能看到是谁反映的，学校不会知道。"
ANONYMITY_TAKEN_EARLY = "好的，不让学校知道您的身份，只有教育局能看到是谁反映的。"
# 电话会给学校吗 / 老师会打给我吗: who sees the number; whether the school does is the consent question's
# (the phone question itself says who sees it: there only the school's part is said)
PHONE_SEEN = "号码只有办理留言的工作人员能看到，且隐去中间四位。"
PHONE_ANY_NUMBER = "可以，家人的号码也行，能联系到您就好。"  # 我没有手机 用的我老公的: whose it is does not matter
PHONE_ANY_ACCOUNT = "可以，用家人的微信留言、留家人的电话都行。"  # 用的是我老公的微信
PHONE_SHORT = "请直接发送联系电话；不方便留请回复 0。"  # the phone question again just after a remark on it was answered
PHONE_SCHOOL_LATER = "稍后会问您是否同意让学校知道您的身份；选“不同意”，留言由教育局办理，学校看不到您的号码和身份。"
PHONE_SCHOOL_NOW = "选“不同意”，留言由教育局办理，学校看不到您的号码和身份。"
PHONE_SCHOOL_HIDDEN = "您已选择不让学校知道身份，学校看不到您的号码。"
PHONE_SCHOOL_SHOWN = "您已同意让学校知道您的身份，办理的学校能看到号码；如想改为对学校保密，请回复“不同意”。"
# 匿名可以吗 once the consent question is answered
ANONYMITY_KEPT = "学校不会知道是您反映的，只有教育局能看到。"
ANONYMITY_GIVEN = "您已同意让学校知道您的身份；如想改为对学校保密，请回复“不同意”。"
ANONYMITY_WHY = (
    "选“同意”，学校可以直接联系您、更快解决；选“不同意”，您的身份只有教育局可见，"
    "留言也不会交给这所学校办理，而由教育局办理。无论选哪一项，其他同学和家长都看不到您的留言和身份。"
)
SUBMITTED_PRAISE_VIA = "感谢您的表扬！您的留言已转交“{unit}”，由教育局核实后转达。\n编号：{number}"
SUBMITTED_PRAISE = (
    "感谢您的表扬！我们已将您的留言转达给“{unit}”及其主管部门，并记入该单位的表扬。\n编号：{number}"
)
URGENT_SUMMARY = "紧急事项：提交后将同时报告主管负责人。"
URGENT_SUBMITTED = "已同时报告主管负责人。{hotlines}"
# an urgent matter a school handles: the bureau's office for it was copied too (Dispatcher._office_sees)
URGENT_SUBMITTED_OFFICE = "已同时报告主管负责人，{office}也已收到，会一并关注。{{hotlines}}"
URGENT_OFFICE_TOLD = "{office}已收到此事，会一并关注。"
# The numbers, checked against public notices (2026-11): 110 police and 120 ambulance (emergency lines, never merged
# into 12345); 12345 政务服务便民热线 (国务院办公厅《关于进一步优化地方政务服务便民热线的指导意见》, 2021); 12355
# 青少年服务台, the Communist Youth League's line for minors' rights and psychological help (gqt.org.cn, 2005);
# 12356 全国统一心理援助热线 (国家卫生健康委《关于应用“12356”全国统一心理援助热线电话号码的通知》, Dec 2024, every
# region connected by 1 May 2025); 12315 市场监管 complaints, food safety included (the old food and drug line
# 12331 is no longer given).
HOTLINE_DANGER = "如孩子正面临危险，请立即拨打110。"
HOTLINE_INJURY = "孩子受了伤，请先带孩子就医（情况紧急请拨打120），并保留病历和伤情照片。"
HOTLINE_YOUTH = "如孩子受到欺凌或需要心理支持，可拨打12355青少年服务台。"
HOTLINE_FOOD = "如出现食物中毒症状，请立即就医；食品安全问题也可拨打12315。"
HOTLINE_LIFE = "如有人有轻生的念头或已经伤害自己，请立即拨打120或110，并请身边的人陪着；心理援助可拨打12356心理援助热线。"
HOTLINE_FIRE = "如有火情、有人被困或房屋出现险情，请立即拨打119，并尽快让孩子撤到安全地带。"
HOTLINE_BUREAU = "教育局热线：{phone}。"
# Said at once when a message is urgent, before any question: help should not wait for the form to be filled in.
URGENT_AT_ONCE = "您说的情况关系到人身安全。{hotlines}\n您的留言将作为紧急事项办理。"
# Which hotline fits an urgent matter, by the words that made it urgent (the router's urgent_words).
HOTLINE_WORDS = {
    HOTLINE_LIFE: ("不想活", "活不下去", "没意思", "想死", "寻死", "去死", "自杀", "自残", "轻生", "割腕", "跳楼",
                   "跳河", "跳桥", "安眠药", "农药", "kill", "die", "live", "suicid", "self"),
    # 119 is fire and rescue: fire, smoke, people trapped, water rising, a building cracking or falling.
    HOTLINE_FIRE: ("火", "烟", "被困", "困在", "淹", "水已经", "齐腰", "到腰", "倒塌", "塌", "裂", "fire", "smoke",
                   "trapped", "flood", "collaps", "crack"),
    HOTLINE_DANGER: ("打", "殴", "伤", "威胁", "恐吓", "刀", "性侵", "猥亵", "强奸", "侵害", "骚扰", "失踪", "跳楼",
                     "不见", "丢了", "走失", "离家出走", "没回家", "找不到", "knife", "knives", "gun", "stab",
                     "missing", "find my", "ran away", "run away", "hit", "beat", "hurt", "injur", "abus", "rape", "molest",
                     "threat",
                     "囚禁", "关", "体罚", "危险", "暴力"),
    HOTLINE_INJURY: ("血", "伤", "骨折", "肿", "紫", "晕", "injur", "bleed", "broken", "hurt"),
    # (and a child kept from school by what was done to them, people13: the rules' {refuses}, see hotlines)
    HOTLINE_YOUTH: ("霸凌", "欺凌", "欺负", "抑郁", "心理", "孤立", "勒索", "外号", "绰号", "bull"),
    HOTLINE_FOOD: ("食物中毒", "中毒", "变质", "发霉", "虫", "过期", "食品", "食堂", "饭菜", "肚子", "呕吐", "腹泻",
                   "poison", "vomit", "diarrh", "吐了", "发烧", "头晕", "恶心", "不适", "threw up", "throwing up"),
}

# -- queries ----------------------------------------------------------------------------------------------
NO_TICKETS = "您还没有提交过留言。直接发送文字即可开始留言。"
# 查询 while writing the first one: not "start one" (they are)
NO_TICKETS_WHILE_WRITING = "您还没有提交过留言；正在填写的这条提交后即可查询。"
PROGRESS_HEAD = "承办单位会在办结时限前办理，每一步进展都会通知您。"
PROGRESS_HEAD_WAITING = "您的留言都已记录在案，每一步进展都会通知您。"  # one of them waits for someone on duty
NOTHING_MORE_NEEDED = "留言已经提交，不需要您再做什么。"
MY_TICKETS_HEAD = "您最近的留言："
MY_TICKET_LINE = "{number} {kind}｜{state}{due}"
MY_TICKET_DUE = "｜{due}前办结"
MY_TICKET_DUE_WAITING = "｜暂无工作人员值守，到岗后尽快办理"
MY_TICKETS_FOOT = "发送“查询 编号”查看详情。"
MY_TICKET_TO_RATE = "｜待您评价"
MY_TICKETS_RATE_FOOT = "评价请发送“评价 编号 数字”，如“评价 {number} 1”（1 满意，2 基本满意，3 不满意）。"
TICKET_NOT_FOUND = "没有找到编号为 {number} 的留言，请核对后再试。"
TICKET_NOT_FOUND_NONE = "没有找到编号为 {number} 的留言。" + NO_TICKETS  # (ends as NO_TICKETS: said otherwise while writing)
TICKET_NOT_FOUND_MINE = "没有找到编号为 {number} 的留言。您的留言编号：{mine}。\n请核对后再发送，例如“{usage}”。"
WHICH_TICKET = "您有多件留言的编号以这个数字结尾：{numbers}。请发送完整编号。"
TICKET_DETAIL_TEXT = "内容："
TICKET_RESOLUTION = "办理结果："
TICKET_DETAIL_DUE = "办结时限：{due}前"
TICKET_DETAIL_DUE_WAITING = SUMMARY_WAITING
TICKET_DETAIL = "编号：{number}\n类型：{kind}\n状态：{state}\n承办单位：{unit}"
TICKET_HISTORY_HEAD = "办理记录："


def hotlines(words: list[str], category: str, bureau: str = "", lang: str | None = "zh",
             refusals: re.Pattern | None = None) -> str:
    """The hotlines for an urgent matter: those its words call for, then the bureau's own. `refusals`: a child's
    refusal of school (the rules' {refuses} group, a pattern): support for the child, 12355."""
    said = " ".join(words).lower()
    refused = bool(refusals and refusals.search(said))
    lines = [line for line, keys in HOTLINE_WORDS.items()
             if any(k in said for k in keys) or line == HOTLINE_YOUTH and refused]
    if not lines:
        lines = [HOTLINE_FOOD if category == "safety" and not said else HOTLINE_DANGER]
    if bureau:
        lines.append(HOTLINE_BUREAU)
    if lang == "en":
        return " ".join(HOTLINES_EN[line] for line in lines).format(phone=bureau)
    return "".join(lines).format(phone=bureau)


# a number's characters, as privacy.PHONE_WRITTEN reads them (spoken digits, full-width, a space or dash between)
_NUMBER_CHARS = frozenset("0123456789０１２３４５６７８９- －—–.·" + numbers.SPOKEN)


def excerpt(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = limit - 1
    while cut > 0 and text[cut - 1] in _NUMBER_CHARS and text[cut] in _NUMBER_CHARS:
        cut -= 1  # never half a number: a phone cut short is no longer one that staff views mask (for_staff)
    return text[:cut] + "…"
INTERNAL_ERROR = "抱歉，系统刚才处理您的消息时出了点问题。您的消息已保存，系统会自动重新处理，结果会发送给您，无需重复发送。"
# To the duty office when a message could not be handled after every automatic retry.
HANDLING_FLAGGED = ("【待人工处理】用户 {who} 于 {at} 发来的一条消息，系统多次自动处理均未成功，请人工查看并回复。\n"
                    "消息内容：{text}\n（管理员可用 tingjian inbound failed 查看详情）")

CATEGORY_NAMES = {
    "preschool": "学前教育", "admission": "招生入学", "fees": "教育收费", "burden": "课业负担与教学管理",
    "tutoring": "校外培训", "ethics": "师德师风", "teachers": "教师队伍与待遇", "safety": "校园安全与后勤",
    "exams": "考试与考风", "planning": "教育资源与学校建设", "vocational": "职业与高等教育",
    "other_edu": "其他教育事务", "out_of_scope": "非教育事务",
}
CATEGORY_NAMES_EN = {
    "preschool": "preschool education", "admission": "school admission", "fees": "school fees",
    "burden": "homework and teaching", "tutoring": "off-campus tutoring", "ethics": "a teacher's conduct",
    "teachers": "teachers and their pay", "safety": "safety and school services", "exams": "exams",
    "planning": "school places and buildings", "vocational": "vocational and higher education",
    "other_edu": "other education matters", "out_of_scope": "not an education matter",
}

# The workbench: a form sent from a page loaded before the ticket last changed.
WEB_STALE_FORM = ("未执行：您打开页面后，留言 {number} 已有新的办理记录（当前状态：{state}）。请先查看下方最新情况，"
                  "需要时再操作；您填写的内容没有发出。")
WEB_STALE_TEXT = "\n您填写的内容（可复制后再用）：{text}"
ANSWER_TOO_SHORT = ("未{verb}：群众会看到这段答复，请写明办理情况或结果（至少3个字），"
                    "如“{verb} {number} 已责令学校退还资料费”。")

# -- staff: binding ------------------------------------------------------------------------------------------
BOUND = "绑定成功！您好，{name}。您已作为“{unit}”的{role}接收留言。\n发送“待办”查看需要办理的留言，发送“帮助”查看指令。"
BIND_ERRORS = {
    "unknown": "绑定码不正确，请核对后重新发送“绑定 绑定码”。",
    "used": "这个绑定码已经使用过了。如需重新绑定，请联系管理员生成新的绑定码。",
    "expired": "这个绑定码已过期，请联系管理员重新生成。",
    "revoked": "这个绑定码已被撤销，请联系管理员重新生成。",
    "limited": "绑定码输错次数过多，请一小时后再试，或联系管理员。",
    # refused by the rule of who may grant which role (storage.staff.allow): the code stays good for whom it is meant
    "self": "不能使用自己生成的绑定码绑定自己。如需调整岗位，请其他领导或管理员为您生成绑定码。",
    "admin_only": "您是管理员：只有管理员才能授予或取消管理员角色，这个绑定码不能用于您的账号。请联系另一位管理员。",
    "granted_by_non_admin": "这个绑定码的生成人已无权授予管理员角色，请联系管理员重新生成。",
    "last_admin": "您是唯一的管理员，改绑为其他角色后将没有人能管理系统。请先为另一位同事生成管理员绑定码。",
}
# The 人员 pages and the console refusing a change of who is staff (storage.staff.allow's reasons)
STAFF_REFUSED = {
    "not_inviter": "您已无权管理人员。",
    "admin_only": "只有管理员才能授予或取消管理员角色。",
    "last_admin": "这是唯一的管理员，不能取消其管理员角色或解除其绑定。请先绑定另一位管理员。",
}
# who holds a unit's tickets while nobody is bound there (Desk.stand_in_words): the 单位 pages, an unbinding
STAND_IN_BY = "由{to}代收"
STAND_IN_NOBODY = "暂无人可以代收（目前没有任何工作人员绑定），请尽快绑定"
UNBOUND_KEPT = "已解除绑定，其未办结的留言已交回所在单位。"
UNBOUND_EMPTY = "已解除绑定。所在单位已无人绑定，其未办结的留言{stand_in}。"
# the last admin unfollowed the account (Desk.remove_staff): unbound, a fact; the leaders must know who can add one
LAST_ADMIN_LEFT_NOTICE = ("【请注意】管理员{name}已取消关注本公众号，绑定随之解除，目前系统中没有管理员。"
                          "局领导仍可管理其他人员；增设管理员，请系统运维人员在服务器上运行"
                          "“tingjian staff invite --role admin”生成管理员绑定码。")
# the 人员 pages (and the hub) with no admin bound: only an admin (or the server's console) may make one
NO_ADMIN = ("目前系统中没有管理员。局领导仍可管理其他人员，但增设管理员只能在服务器上进行：请系统运维人员运行",
            "tingjian staff invite --unit {unit} --role admin --name 姓名",
            "再把生成的绑定码交给新管理员，由其在公众号中发送“绑定 绑定码”。")  # before, the command, after
STAFF_SELF = {"role": "不能更改自己的角色。", "remove": "不能解除自己的绑定。"}
ROLE_NAMES = {"handler": "承办人", "supervisor": "负责人", "leader": "局领导", "admin": "管理员"}
STAFF_ONLY = "抱歉，该功能仅限已绑定的工作人员使用。如需反映问题，直接发送文字即可。"


# -- staff: notices ------------------------------------------------------------------------------------------
WRITES_ENGLISH = "留言人使用英文，系统通知已用英文发给对方；答复请尽量用英文或中英文对照。"
NEW_TICKET = (
    "【新留言待签收】{number}\n类型：{kind}｜{category}\n{school_line}内容：{excerpt}\n{sign_line}办结时限：{due}前\n"
    "发送“详情 {number}”查看，“签收 {number}”签收。"
)
# What a ticket waiting for 签收 says of its window, and what missing it does (deadlines.Watch: a 签收提醒 to the unit,
# copied to its head; handlers/rates.py: not signed in time, against the unit's 响应率).
# (A 代收 ticket's 签收 is in no unit's rates: handlers/rates.py, proxied.)
SIGN_BY = "签收时限：{sign}前（逾期将提醒单位负责人，并影响本单位响应率）\n"
SIGN_BY_PROXY = "签收时限：{sign}前（逾期将再次提醒；代收件不计入本单位响应率）\n"
NEW_TICKET_MANY = "本单位待签收的留言共{n}件，可发送“签收全部”一次签收。"
# An urgent matter (someone's safety): the first words staff read, in the chat list's preview and the template's title.
URGENT_FIRST = "【紧急·涉及人身安全】请立即处理。\n"
URGENT_NEW_TITLE = "紧急留言待签收"
URGENT_MARK = "【紧急】"
UNATTENDED_NOTE = "“{unit}”暂无绑定的工作人员，已转{to}。"
UNATTENDED_PREFIX = "【代收】“{unit}”尚未绑定工作人员，请代为签收或转派。\n"
WHY_TRANSFER = "【转派】由{who}转来，理由：{reason}"
WHY_REVIEW = "群众对原承办单位的办理两次不满意，最近意见：{comment}"
SUPPLEMENT_NOTICE = "【群众补充】留言 {number}：\n{text}"
RELEASE_NOTE = "原承办人{name}已解除绑定"
RELEASED_NOTICE = "【请接手办理】留言 {number} 的原承办人{name}已解除绑定，请本单位接手：发送“详情 {number}”查看。"
# the person is still bound, in a role that no longer reaches the ticket (Desk.change_role)
RELEASE_ROLE_NOTE = "原承办人{name}已改任{role}"
RELEASED_ROLE_NOTICE = "【请接手办理】留言 {number} 的原承办人{name}已改任{role}，请本单位接手：发送“详情 {number}”查看。"
# Why a unit has none of its own people now ({left} below): its last one was unbound, or given a role that does not
# handle its tickets (Desk.change_role).
LEFT_UNBOUND = "{name}已解除绑定，“{unit}”现无人绑定"
LEFT_ROLE = "{name}已改任{role}，“{unit}”现无承办人员"
# A unit's tickets left with nobody while nobody could stand in (no duty office, leader or admin bound), taken now
# the first leader or admin bound after nobody was (Desk.waited): the 超期督办 that reached nobody meanwhile
WAITED_NOTICE = ("【超期督办】此前无人值守期间，{count}件留言已超过办结时限，当时无人可以督办：{numbers}。"
                 "请督促尽快办理；发送“超期”按单位查看。")
LEFT_EARLIER = "“{unit}”无人绑定"
LEFT_EMPTY_NOTICE = ("【请代收办理】{left}。其{count}件未办结的留言转由您代收办理：{numbers}。"
                     "发送“详情 编号”查看；该单位有人绑定后，留言自动交回。")
ATTENDED_NOTE = "承办单位已有工作人员绑定，代收结束"
ABOUT_BUREAU_HOME_NOTE = "对教育局自身工作的投诉不由值班室代收，代收结束"
ATTENDED = "本单位有{count}件留言此前由{by}代收，现已转给您：{numbers}。发送“待办”查看。"
PRESS_TITLE = {"supervise": "督办", "urge": "催办"}
PRESS_NOTICE = {
    "supervise": "【督办】{who}督办“{unit}”的留言 {number}，办结时限{due}。{text}\n请抓紧办理，并及时答复群众。",
    "urge": "【催办】{who}催办“{unit}”的留言 {number}，办结时限{due}。{text}\n请尽快办理。",
}
PRESSED_OK = {"supervise": "已督办 {number}，已通知承办单位及负责人（{count}人）。",
              "urge": "已催办 {number}，已通知承办单位及负责人（{count}人）。"}
NOTED_OK = "已为 {number} 添加内部备注（群众看不到）。"
ARBITRATION = "【需局里裁定】留言 {number} 已被退回两次，请确定承办单位：发送“转派 {number} 单位”。\n最近退回理由：{reason}"
BOUNCED_TO_DUTY = "【退回待重新分派】{number} 被“{unit}”退回：{reason}\n请发送“转派 {number} 单位”重新分派。"
INSIDER_RATINGS_NOTICE = (
    "【评价不计入提醒】{name}刚绑定为“{unit}”的工作人员。该账号此前以群众身份评价过{count}件留言（{numbers}），"
    "涉及{units}。工作人员的评价不计入满意率，这{count}件的评价已不再计入。")
INSIDER_RATING_NOTICE = (
    "【评价不计入提醒】留言{number}的留言人是（或曾是）工作人员：账号曾绑定为工作人员，或留言时登记的是工作人员电话。"
    "其评价（{rating}）不计入“{unit}”的满意率。")
PRAISE_BURST_NOTICE = (
    "【表扬异常提醒】“{unit}”在一小时内收到{count}人次表扬，超过{limit}人次的正常上限。其中{aside}人次来自一天内新关注"
    "公众号的账号，已单独标记、不计入表扬数；其余{kept}人次照常计入。请核实是否存在集中刷表扬。")
PRAISE_PACED_NOTICE = (
    "【表扬异常提醒】“{unit}”今天收到{count}个一天内新关注公众号的账号的表扬，超过每天{limit}个的正常上限，像是分时段集中刷表扬。"
    "这些表扬已单独标记、不计入表扬数；关注较久的群众的表扬照常计入。请核实。")
PRAISE_NOTICE = "【群众表扬】{number}｜{unit}\n{school_line}{text}\n群众的肯定已记入本单位，请转达相关人员。"
URGENT_COPY = "【紧急留言抄送】{number}｜{category}｜{unit}\n{excerpt}\n须在{due}前办结，请督促立即处理。"
CITIZEN_REPLIED = "【群众回复】{number}：\n{text}"

# -- staff: answers to their commands --------------------------------------------------------------------------
NO_TODO = "本单位目前没有待办留言。"
NO_TODO_ALL = "全局目前没有待办留言。"
TODO_HEAD = "待办留言共{total}件（按办结时限排序）："
TODO_HEAD_MANY = "待办留言较多，以下为最紧急的{total}件（按办结时限排序）："
TODO_MORE = "第{page}/{pages}页，发送“待办 {next}”看下一页。"
TODO_PAST_END = "待办只有{pages}页，没有第{asked}页，以下是第{pages}页。"
# Forty look alike by number and category: the first words of each tell them apart (its unit only when not one's own).
TODO_LINE = "{i}. {urgent}{number}{unit}｜{kind}·{category}｜{state}｜{due}前{flags}\n   {excerpt}"
TODO_FOOT = "发送“详情 序号”查看，例如“详情 1”；“签收 1-5”或“签收全部”可一次签收多件。"
OVERDUE = "（已超期）"
FLAG_ARBITRATION = "（待裁定）"
FLAG_UNATTENDED = "（代收）"
# The trace of a unit's figures (/w/rates): a span it cannot read, said as the page's answer.
TRACE_BAD_DATES = "请按“2026-09-01”的格式填写起止日期。"
TRACE_REVERSED = "结束日期早于开始日期，请重新选择。"
TRACE_TOO_LONG = "一次最多查看{days}天（约半年）的明细，请缩短时间范围，或分季度查看。"
TRACE_BAD_PERIOD = "没有这个期间。请选择周（2026-W47）、月（2026-11）、季度（2026-Q4），或填写起止日期。"
# Beside a unit's figures: its tickets a stand-in signed or resolved while nobody was bound (not scored for it).
STOOD_IN = "（代收{n}件）"
# Beside a stand-in's figures: the 代收 it did for units with nobody bound (or a unit below), not in its rates.
PROXIED_LINE, PROXIED_DONE_LINE, PROXIED_LATE_LINE = "代收，不计入", "代收办结，不计入", "代收超期，不计入"
PROXIED_SLOW_LINE = "代收超时签收，不计入"
PROXIED = "（代收他单位留言，不计入本单位三率：本期收到{n}件{slow}，办结{resolved}件，超期{late}件含往期收到的）"
PROXIED_LATE_SIGN = "，超时签收{n}件"
# `tingjian verify-rates`: the counters checked against the tickets (storage.integrity)
COUNT_NAMES = {"dispatched": "派发数", "accepted_in_time": "按时签收数", "resolved": "办结数",
               "resolved_in_time": "按时办结数", "rated": "评价数", "satisfied": "满意数", "unrated": "未评价数",
               "praised": "表扬件数", "stood_in": "代收数", "proxied": "代收他单位件数",
               "proxied_resolved": "代收办结数", "proxied_late": "代收超期数",
               "proxied_late_response": "代收超时签收数", "response_due": "应签收数", "open_overdue": "超期未办结数",
               "first_rated": "首次评价数", "first_satisfied": "首次满意数", "dissatisfied": "不满意次数"}
VERIFY_HEAD = "核对{period}（{first}至{last}）：按留言记录逐日重算各单位计数，与计数表和发布的三率比对。"
VERIFY_COUNTER = "  {day} {unit}（{code}）{count}：计数表 {kept}，按留言重算 {recounted}"
VERIFY_COUNTERS_BAD = "计数表与留言记录不一致 {n} 处："
VERIFY_PUBLISHED_BAD = "发布的数字与按留言重算不一致 {n} 个单位："
VERIFY_PUBLISHED = "  {unit}（{code}）：{changes}"
VERIFY_OK = "核对无误：{units}个单位、{days}天的计数与留言记录一致，留言的派发、签收、办结、评价、时限和超时记录都与操作记录相符，发布的三率与按留言重算相同。"
VERIFY_BAD = ("结论：发现不一致，以上单位的三率不可信。可运行 tingjian verify-rates --period {period} --repair "
              "按留言记录重算这些天的计数（只改计数表，不改留言）。")
VERIFY_REPAIRED = "已按留言记录重算 {n} 行计数。再次核对："
VERIFY_UNBACKED_BAD = "留言上的时间、时限、评价或超时记录与其操作记录不符 {n} 件（可能被直接改过数据库，--repair 不会修改留言）："
VERIFY_UNBACKED = "  {number}：{what}"
VERIFY_UNCHECKED = "另有{n}件留言的操作记录早于本版本（升级前），其办结时限、签收时限和计入单位没有记录可核，未核对。"
VERIFY_MORE = "  ……另有 {n} 处"
VERIFY_UNBACKED_END = "结论：以上留言的计数依据不可信，请核查数据库的修改来源；计数表与留言一致，无需 --repair。"
_NO_EVENT = "没有对应的操作记录"
_CHANGED = "与操作记录不符"
UNBACKED_NAMES = {"dispatched_at": "派发时间" + _NO_EVENT, "accepted_at": "签收时间" + _NO_EVENT,
                  "resolved_at": "办结时间" + _NO_EVENT, "rating": "评价（时间或满意与否）" + _NO_EVENT,
                  "unrated": "未评价关闭时间" + _NO_EVENT,
                  "accept_due_at": "签收时限" + _CHANGED, "due_at": "办结时限" + _CHANGED,
                  "unit_code": "承办单位" + _CHANGED, "response_unit": "签收计入的单位" + _CHANGED,
                  "resolve_unit": "办结计入的单位" + _CHANGED, "rated_unit": "评价计入的单位" + _CHANGED,
                  "stood_in": "代收标记" + _CHANGED, "miss": "超时记录（退回、转派或撤回前已超时）" + _CHANGED,
                  "withdrawn": "撤回" + _NO_EVENT, "by_insider": "评价是否计入满意率与留言人是否工作人员不符",
                  "praise_by_insider": "表扬是否计入与留言人是否工作人员不符",
                  "resolve_since": "转入现承办单位的时间" + _CHANGED + "（决定往期超期未办结计入哪个单位）",
                  "open_from": "超时记录的超期起算时间" + _CHANGED + "（决定转出前各期的超期未办结）",
                  "kept_resolved": "被“不满意”退回的办结记录" + _CHANGED + "（决定该次办结计入哪一期）",
                  "case": "转出前保留的派发与签收记录" + _CHANGED + "（决定往期的派发和响应率）",
                  "response_since": "转入现承办单位后的签收起算时间" + _CHANGED + "（决定派发计入哪一期）",
                  "rating_redo": "“不满意”及其后评价的清单" + _CHANGED + "（决定趋势图各期的满意率）",
                  "departure": "升级前的转出记录（转派、退回、撤回）清单缺失或" + _CHANGED + "（用于核对往期保留的派发与签收）",
                  "departure_days": "当天升级前转出记录的计数与清单不符（计数或清单被改过）",
                  "event_gone": "缺失（操作记录只增不删、编号连续，缺号即有记录被删除，所涉留言的计数不可信）"}
STOOD_IN_NOTE = ("代收{n}件：本单位尚无工作人员绑定期间由值班室代为签收或办结（或由上级单位代办）。代收件单独列出，"
                 "不计入本单位的三率，也不计入代办单位的三率。")
FLAG_REVIEW = "（复核）"
NO_OVERDUE = "目前没有超期未办结的留言。"
# 今天有什么紧急的吗 (staff): urgent first, then the overdue by unit, then what falls due today
PRESSING_NONE = "目前没有紧急事项，也没有超期未办结或今天到期的留言。"
PRESSING_URGENT = "紧急事项{count}件："
PRESSING_URGENT_LINE = "· {number}｜{unit}｜{state}｜{due}前{late}\n   {excerpt}"
PRESSING_NO_URGENT = "目前没有紧急事项。"
PRESSING_OVERDUE = "超期未办结{count}件：{units}。"
PRESSING_MORE_UNITS = "等{units}个单位"
PRESSING_TODAY = "今天到期{count}件。"
PRESSING_FOOT = "发送“详情 编号”查看全文，“超期”查看超期清单。"
PRESSING_FOOT_NO_LATE = "发送“详情 编号”查看全文，“待办”查看全部待办。"
PRESSING_FOOT_TODO = "发送“待办”查看全部待办。"
OVERDUE_HEAD = "超期未办结的留言共{total}件："
OVERDUE_UNIT = "【{unit}】{count}件"
OVERDUE_LINE = "· {number}｜{state}｜时限{due}"
OVERDUE_UNIT_MORE = "· ……另有{count}件"
OVERDUE_MORE_UNITS = "另有{units}个单位共{count}件超期。"
OVERDUE_ON_WORKBENCH = "完整列表请在工作台“超期”中查看（发送“登录”获取链接）。"
OVERDUE_FOOT = "发送“督办 编号”或“催办 编号”通知承办单位。"
WEEKLY = "{week}周报：{link}"
WEEKLY_BOTH = "上周（{last}）周报：{last_link}\n本周（{week}）至今：{link}"
WEEKLY_NONE = "周报链接暂不可用，请联系管理员。"
NOT_YOURS = "留言 {number} 不在您的办理范围内。"
NO_SUCH_TICKET = "没有找到留言 {number}，请核对编号，或发送“待办”查看列表。"
NO_SUCH_LINE = "“待办”列表中没有第{line}条，请先发送“待办”查看列表。"
LINES_NEED_TODO = ("序号是“待办”列表里的第几条，现在没有打开的列表，这次没有签收任何留言。请先发送“待办”，再按序号签收；"
                   "也可以直接写编号，如“签收 JY2611-0003”。")
NEED_TICKET = "请写明留言编号，例如“{usage}”。"
WITHDRAW_WHILE_WRITING = ("您正在填写的这条留言还没有提交，不需要撤回；不想提交的话，请回复“取消”。"
                          "如要撤回已提交的留言，请写明编号，例如“撤回 JY2611-0001”。")
NEED_TEXT = "请写上{what}，例如“{usage}”。"
ROLE_ONLY = "“{verb}”需由{who}使用。"
TRANSFER_BY_BOUNCE = "如这件不属本单位职责，请发送“退回 编号 理由”，由局值班室重新分派。"
DUTY_NAME = "局值班室"
ROLE_REFUSED = "您的账号不能{verb}留言，请联系本单位负责人。"
ACCEPTED_ON_BEHALF = "（值班室代为签收；承办单位有人绑定后将转回该单位）"
WRONG_STATE = "留言 {number} 当前状态为“{state}”，不能{verb}。"
ACCEPTED_OK = "已签收 {number}。请在{due}前办结，可发送“回复 {number} 内容”答复群众。"
ACCEPTED_MANY_HEAD = "已签收 {count} 件："
ACCEPTED_GROUP = "{due}前办结（{count}件）：\n{numbers}"
ACCEPTED_MANY_FOOT = "发送“回复 编号 内容”答复群众。"
ACCEPT_ALL_HEAD = "已签收本单位待签收的留言 {count} 件："
ACCEPT_ALL_MORE = "还有 {count} 件待签收，请再发送“签收全部”。"
ACCEPT_ALL_NONE = "本单位目前没有待签收的留言。发送“待办”可查看正在办理的留言。"
ALREADY_ACCEPTED = "留言 {number} 已签收，无需重复签收。"
REPLIED_OK = "已将答复发送给群众（{number}）。"
RESOLVED_OK = "已办结 {number}，办理结果已告知群众。"
BOUNCED_OK = "已退回 {number}，局值班室将重新分派。"
DUTY_CANNOT_BOUNCE = "值班室收到的留言请直接转派给承办单位：发送“转派 {number} 单位”。"
TRANSFER_ROLE = "转派需由负责人或局领导操作。"
ARBITRATION_ROLE = "该留言已退回两次，需由局领导确定承办单位。"
UNIT_NOT_FOUND = "没有找到单位“{query}”，请发送单位全称或代码。"
UNIT_AMBIGUOUS = "“{query}”对应多个单位：{names}。请发送全称或代码。"
UNIT_SUGGEST = "没有找到单位“{query}”。您要找的是不是：\n{lines}\n请发送全称或括号里的代码。"
TRANSFERRED_OK = "已将 {number} 转派给“{unit}”。"
# 转派 back to a unit that held the ticket before: its old deadline, not a new clock (Desk.transfer)
TRANSFER_KEPT_DUE = "“{unit}”此前承办过此件，仍按原办结时限{due}前办结{late}，不重新计时。"
WHY_KEPT_DUE = "此件贵单位此前承办过，仍按原办结时限{due}前办结{late}，请抓紧办理。"
KEPT_DUE_LATE = "（已超期）"
TRANSFER_NOTE = "转派至{unit}{reason}"
# What a school's or kindergarten's people cannot do (handlers/desk.py NOT_AT_SCHOOLS), and what they do instead.
NOT_AT_SCHOOL = {"transfer": "学校、幼儿园不能转派{what}。如不属本校职责，请发送“退回 {number} 理由”，由局值班室重新分派。"}
TRANSFER_SAME = "留言 {number} 已在“{unit}”办理，无需转派。"
TRANSFER_REJECTED_UNIT = "留言 {number} 是因群众对“{unit}”的办理两次不满意而复核的，请转派给其他单位，或由局里直接办结。"
TRANSFER_NOT_SCHOOL = ("留言 {number} 涉及教师或校领导的师德问题，不能转给学校或幼儿园办理。"
                       "请转给主管的区县教育局或局机关处室。")
# The admin page while routing.oversight_office is empty (bot/app.OVERSIGHT_UNSET says it at start-up).
OVERSIGHT_UNSET = ("尚未设置督查部门：对局机关处室和办公室（值班室）的投诉，目前由局领导办理。"
                   "请管理员在配置文件 [routing] 中填写 oversight_office（督查室或纪检监察的单位代码）。")
TO_KEEPER_NOTE = "“{unit}”已无在岗人员，这件对教育局自身工作的投诉改由“{to}”办理。"
TO_KEEPER_NOTICE = ("【请办理】{left}。对教育局自身工作的投诉 {number} 改由{to}办理，"
                     "发送“详情 {number}”查看。")
# A complaint about the bureau with nobody bound who may act on it (Desk.holders): the admins are told.
NOBODY_FOR_BUREAU_PREFIX = ("【请管理员处理】下面这件对教育局自身工作的投诉目前无人可以办理：局领导尚未绑定，督查部门"
                            "也未绑定工作人员或正是被投诉的部门。请尽快邀请局领导绑定；您也可以直接办理。\n")
NOBODY_FOR_BUREAU_NOTICE = ("【请管理员处理】{left}。对教育局自身工作的投诉 {number} "
                            "目前无人可以办理：局领导尚未绑定，督查部门也未绑定工作人员或正是被投诉的部门。"
                            "请尽快邀请局领导绑定；您也可以直接办理。")
NOBODY_FOR_BUREAU_ADMIN = ("有{count}件对教育局自身工作的投诉暂无人办理：局领导尚未绑定，督查部门也未绑定工作人员或正是"
                           "被投诉的部门。请尽快邀请局领导绑定。")
TRANSFER_ABOUT_BUREAU_NOBODY = ("留言 {number} 是对教育局自身工作的投诉，“{unit}”目前没有绑定工作人员，转过去将无人办理，"
                                "暂不能转派。请先邀请该单位人员绑定。")
BOUNCE_ABOUT_BUREAU_NOBODY = ("留言 {number} 是对教育局自身工作的投诉，目前没有其他可以办理的人（局领导尚未绑定），"
                              "暂不能退回，请继续办理。如确需协调，请联系管理员邀请局领导绑定。")
TRANSFER_ABOUT_BUREAU = ("留言 {number} 是对教育局自身工作的投诉，只由督查部门或局领导办理，不能转给“{unit}”。"
                         "需要有关部门说明情况的，请向其了解后由本单位答复。")
TRANSFER_ANONYMOUS_NOT_SCHOOL = ("留言 {number} 的留言人选择不让学校知道身份，我们已承诺不由学校办理，不能转给“{unit}”。"
                                 "如需学校配合，请向学校了解情况后由本单位答复。")
# to the unit a ticket left by a hand-over it did not make (Desk.moved_away)
MOVED_AWAY = "留言 {number} 已改由“{unit}”办理，本单位无需再办。"
WHY_CONDUCT = "群众补充的内容涉及教师师德，按规定不由学校办理，转由你单位办理。"
TRANSFER_NOBODY = "注意：“{unit}”尚未绑定工作人员，留言暂由{to}代收，请督促该单位尽快绑定。"
DETAIL = (
    "{number}｜{kind}·{category}｜{state}{flags}\n承办单位：{unit}\n{school_line}提交时间：{created}\n"
    "办结时限：{due}前\n{identity}\n内容：{text}"
)
DETAIL_ROUTING = "分类依据：{why}"
DETAIL_HISTORY = "办理记录："
DETAIL_ACTIONS = "可用指令（后接编号 {number}）：{verbs}"
DETAIL_MORE = "（第{page}/{pages}页，发送“详情 {number} {next}”看下一页）"
DETAIL_PAGE = "{number} 内容（第{page}/{pages}页）："
ATTACHMENTS_HEAD = "附件{count}个："
ATTACHMENTS_LINK = "查看附件（30分钟内有效）：{link}"
# The attachments page (bot/web/attachments.py): (title, detail) of each refusal, and the page's own lines.
ATTACH_LINK_BAD = ("链接无效", "这个链接不完整或已被改动。请在公众号中重新发送「详情 编号」获取新链接。")
ATTACH_LINK_EXPIRED = ("链接已过期", "附件链接30分钟内有效。请在公众号中重新发送「详情 编号」获取新链接。")
ATTACH_LINK_GONE = ("链接已失效", "这个链接所属的账号已不是工作人员账号。如有疑问请联系管理员。")
ATTACH_NOT_FOUND = ("没有找到附件", "没有这件留言或这个附件，或它已不在您的办理范围内。")
ATTACH_MEDIA_FAILED = ("图片暂时无法取回",
                       "暂时无法从微信取回这张图片。群众发送的图片微信只保存3天；如发送不久，请稍后刷新重试。")
ATTACH_EXPIRED = ("附件已过期", "群众发送的图片、语音和视频微信只保存3天，这个附件在此期间未能保存下来。")
ATTACH_REFUSED = ("附件未保存", "这个文件过大或格式不对，未予保存。")
ATTACH_FETCHING = ("附件正在保存", "这个附件正在从微信取回，请稍后刷新。")
ATTACH_STATE = {"stored": "", "fetching": "正在保存", "expired": "已过期（微信只保存3天，未能保存）",
                "refused": "未保存（文件过大或格式不对）"}
ATTACH_DOWNLOAD = "下载语音"
ATTACH_TITLE = "留言 {number} 的附件"
ATTACH_NO_TEXT = "（没有识别出文字）"
ATTACH_VIDEO = "视频正在保存，请稍后刷新；也可在微信公众平台后台查看。"
ATTACH_VIDEO_DOWNLOAD = "下载视频"
ATTACH_MAP = "地图"
ATTACH_NONE = "这件留言没有附件。"
IDENTITY_HIDDEN = "留言人：匿名（群众要求对学校保密）"
IDENTITY_SHOWN = "留言人：{who}｜电话：{phone}"

# -- citizen: updates -------------------------------------------------------------------------------------------
CITIZEN_ACCEPTED = "您的留言 {number} 已由“{unit}”受理，正在办理，将于{due}前办结。"
CITIZEN_ACCEPTED_WAITING = "您的留言 {number} 已由“{unit}”受理，正在办理。"
CITIZEN_STAFF_REPLY = "【{unit}答复】留言 {number}：\n{text}\n如需回复，请发送“回复 {number} 您的内容”。"
CITIZEN_RESOLVED = "您的留言 {number} 已办结。\n办理结果：{text}\n感谢您的监督！"
CITIZEN_TRANSFERRED = "您的留言 {number} 已转由“{unit}”办理，将于{due}前办结。"
CITIZEN_TRANSFERRED_LATE = "您的留言 {number} 已转由“{unit}”办理。办结时限（{due}）已过，我们将督促尽快办结，请您谅解。"
CITIZEN_TRANSFERRED_WAITING = "您的留言 {number} 已转由“{unit}”办理。" + ON_DUTY_NONE + "，并及时告知您办理结果。"
CITIZEN_TRANSFERRED_LATE_WAITING = CITIZEN_TRANSFERRED_WAITING
CITIZEN_REPLY_SENT = "已将您的回复转给承办人员（{number}）。"
# nobody bound may act on it yet (Desk.handlers_of found nobody): kept on the ticket for whoever takes it up
CITIZEN_REPLY_KEPT = "您的回复已记录在留言 {number} 中。目前暂无工作人员值守，工作人员到岗后会第一时间看到并处理。"
# nobody bound may act on it when a deadline came (Watch._unheard): once, with no promise of the deadline
CITIZEN_WAITING = "您的留言 {number} 已记录在案。" + ON_DUTY_NONE + "，并及时告知您办理结果。给您带来不便，敬请谅解。"
CITIZEN_REPLY_WHICH = "请写明留言编号，例如“回复 JY2611-0001 您的内容”。"
CITIZEN_TICKET_CLOSED = "留言 {number} {state}，如有新的问题请直接留言。"
# What CITIZEN_TICKET_CLOSED says of each state that takes no more replies ("已办结" of a withdrawn one was untrue).
CLOSED_AS = {"withdrawn": "已撤回"}
EVENT_NAMES = {
    "submit": "提交", "assign": "分派", "accept": "签收", "reply": "答复", "citizen_reply": "群众回复",
    "resolve": "办结", "bounce": "退回", "transfer": "转派", "supplement": "群众补充", "unattended": "代收",
    "recredit": "代收部分单独计数",
    "extension_request": "申请延期", "extension_approved": "同意延期", "extension_rejected": "不同意延期",
    "rate": "群众评价", "reopen": "不满意，重新办理", "review": "不满意，提交复核", "close": "结束",
    "withdraw": "群众撤回", "supervise": "督办", "urge": "催办", "note": "内部备注", "release": "承办人解除绑定",
    "attended": "代收结束", "praise": "表扬已转达", "withdraw_kept": "群众撤回（核实继续）", "kind_change": "群众更改类型",
}
# What the citizen sees of the history: plain steps, not the staff's verbs; internal events are not shown.
CITIZEN_EVENT_NAMES = {
    "submit": "您提交了留言", "assign": "已转交承办单位", "accept": "承办单位已受理", "reply": "承办单位答复",
    "citizen_reply": "您的回复", "resolve": "办理完毕", "bounce": "重新确定承办单位", "transfer": "转交其他单位办理",
    "supplement": "您补充了内容", "extension_approved": "办理时限延长", "rate": "您的评价", "reopen": "重新办理",
    "review": "提交市教育局复核", "close": "结束", "withdraw": "您撤回了留言",
    "praise": "表扬已转达",
}

# -- deadlines: reminders to staff ----------------------------------------------------------------------------
REMIND = {
    "accept": "【签收提醒】留言 {number} 已超过签收时限（{sign}），请尽快签收：发送“签收 {number}”。",
    "half": "【办理提醒】留言 {number} 已过办理时限的一半，请于{due}前办结。",
    "eighty": "【办理提醒】留言 {number} 将于{due}到期，请抓紧办理。",
    "urge": "【催办】留言 {number} 已到办结时限（{due}），尚未办结。请尽快办结，或申请延期说明情况。",
    "escalate": "【超期督办】“{unit}”的留言 {number} 已超过办结时限（{due}）一个工作日仍未办结，请督办。",
}
URGE_COPY = "【催办抄送】“{unit}”的留言 {number} 已到办结时限（{due}），尚未办结，请督促办理。"
# Several reminders of one sweep for one person: one message, the most urgent group first.
REMIND_MANY_HEAD = "【办理提醒】您有{count}件留言需要处理，最急的在前："
REMIND_MANY_KIND = {
    "escalate": "超期督办{count}件（超过办结时限一个工作日以上）：",
    "urge": "催办{count}件（已到办结时限，尚未办结）：",
    "copy": "催办抄送{count}件（本单位已到办结时限，请督促）：",
    "accept": "待签收{count}件（已超过签收时限）：",
    "new": "新留言待签收{count}件：",
    "eighty": "即将到期{count}件：",
    "half": "已过时限一半{count}件：",
}
# Within a group the tickets sharing a deadline stand under it, said once (deadlines.grouped): a phone line a ticket.
REMIND_MANY_DEADLINE = {"sign": "签收时限{date}：", "resolve": "办结时限{date}："}
REMIND_MANY_LINE = "· {number}"
REMIND_MANY_LINE_UNIT = "· {number} {unit}"  # 超期督办 reaches a leader: whose ticket it is
REMIND_MANY_LINE_NEW = "· {number}｜{excerpt}"
# New tickets that arrived close together (Desk.dispatch_notices holds them): one push
NEW_MANY_HEAD = "【新留言待签收】又有{count}件新留言："
NEW_MANY_TITLE = "新留言待签收（{count}件）"
REMIND_MANY_MORE = "· 另有{count}件，发送“待办”查看"
REMIND_MANY_FOOT = (
    (("urge", "accept", "eighty", "half"),
     "发送“待办”查看全部；“签收 编号”签收，“回复 编号 内容”答复；确需延期请在时限前发送“延期 编号 天数 理由”。"),
    (("escalate", "copy"), "发送“超期”按单位查看，“催办 编号 要求”催促办理。"),
    (("new",), "发送“详情 编号”查看，“签收全部”一次签收本单位待签收的留言。"),
)
REMIND_MANY_TITLE = "办理提醒（{count}件）"
REMIND_MANY_TICKET = "{number} 等{count}件"

# -- extension --------------------------------------------------------------------------------------------
EXTENSION_NEEDS = "请写明延长的工作日数和理由，例如“延期 {number} 3 需要现场核查”。"
EXTENSION_TOO_LATE = ("留言 {number} 已超过办结时限（{due}），不能再申请延期，请尽快办结；"
                      "延期须在时限届满前申请。")
EXTENSION_ONCE = "留言 {number} 已申请过延期，每件留言只能延期一次。"
EXTENSION_SENT = "延期申请已提交上级负责人审批（{number}，延长{days}个工作日），审批结果会通知您。"
EXTENSION_NOBODY = ("留言 {number} 的延期申请暂时无人可以审批（上级单位负责人和局领导均未绑定），申请未提交。"
                    "请按原时限（{due}）办理，或请局办公室尽快绑定负责人后再申请。")
EXTENSION_NO_SUPERVISOR = "上级尚无负责人绑定，延期申请已转局领导审批。"
EXTENSION_REQUEST = (
    "【延期申请】留言 {number}（{unit}）申请延长{days}个工作日，理由：{reason}\n"
    "同意请发送“同意延期 {number}”，不同意请发送“不同意延期 {number}”。"
)
EXTENSION_NONE = "留言 {number} 没有待审批的延期申请。"
EXTENSION_ROLE = "这件延期申请需由承办单位的上级负责人或局领导审批。"
EXTENSION_OWN = "不能审批自己提出的延期申请，已由上级负责人或局领导审批。"
EXTENSION_APPROVED = "已同意延期，留言 {number} 的办结时限改为{due}。"
EXTENSION_REJECTED = "已不同意延期，留言 {number} 仍须在{due}前办结。"
EXTENSION_TO_HANDLER_OK = "【延期已同意】留言 {number} 的办结时限改为{due}。"
EXTENSION_TO_HANDLER_NO = "【延期未同意】留言 {number} 仍须在{due}前办结。"
CITIZEN_EXTENDED = "您的留言 {number} 因{reason}，办结时限延长至{due}，给您带来不便，敬请谅解。"
CITIZEN_EXTENDED_WAITING = "您的留言 {number} 因{reason}需延长办理时间。" + ON_DUTY_NONE + "。给您带来不便，敬请谅解。"

# -- follow-up (回访) -------------------------------------------------------------------------------------------
RATE_ASK = "请您评价办理结果，回复：\n1 满意\n2 基本满意\n3 不满意（可在数字后空一格写上意见，如“3 还没退费”）"
RATE_THANKS = "感谢您的评价！留言 {number} 已结束。"
RATE_REOPENED = "很抱歉办理结果未能让您满意。留言 {number} 已退回承办单位重新办理，将于{due}前再次答复您。"
RATE_REOPENED_WAITING = "很抱歉办理结果未能让您满意。留言 {number} 将重新办理。" + ON_DUTY_NONE + "，并及时答复您。"
RATE_REVIEW = "很抱歉仍未让您满意。留言 {number} 已提交市教育局复核，复核结果会告诉您。"
RATE_THIS = "您的留言 {number}（{excerpt}）已办结。\n{ask}"
RATE_LIST = "您有以下留言待评价：\n{lines}\n请发送“评价 编号 数字”，如“评价 {number} 1”（1 满意，2 基本满意，3 不满意）。"
RATE_WHICH = "您有多件留言待评价，请发送“评价 编号 数字”，例如“评价 {number} 1”。"
RATE_CHOICES = "请回复 1 满意、2 基本满意 或 3 不满意。"
RATE_REMIND = "您的留言 {number} 已办结，还没有收到您的评价。\n{ask}\n明天仍未评价将按“未评价”结束。"
RATING_OR_NOT = "您是要评价留言 {number}（{score}）吗？\n1 是，评价留言 {number}\n2 {other}"
RATING_OTHER_ANSWER = "不是，这是回答上面的问题"
RATING_OTHER_NEW = "不是，这是一条新留言"
REOPENED_NOTICE = "【群众不满意，请重新办理】留言 {number}：{comment}\n请于{due}前重新办结。"
REVIEW_NOTICE = "【需复核】留言 {number}（{unit}）两次办理群众均不满意：{comment}\n请复核并转派或办结。"
RATING_NAMES = {1: "满意", 2: "基本满意", 3: "不满意"}
RATING_NAMES_EN = {1: "satisfied", 2: "fairly satisfied", 3: "not satisfied"}

# -- withdrawal -------------------------------------------------------------------------------------------------
WITHDRAW_WHICH = "请写明要撤回的留言编号，例如“撤回 JY2611-0001”。"
WITHDRAW_TOO_LATE = "留言 {number} 当前状态为“{state}”，不能撤回。"
WITHDRAW_CONFIRM = (
    "确定要撤回留言 {number}（{excerpt}）吗？撤回后承办单位将不再办理。\n"
    "确认请发送“确认撤回 {short}”；不撤回则无需回复。"
)
NOTHING_TO_RATE = "您目前没有待评价的留言。留言办结后，我们会请您评价办理结果。"
RATE_NOT_YET = "留言 {number} 当前状态为“{state}”，办结后才能评价。"
# A ticket past its rating: rated already, or ended without one (closed, withdrawn); "办结后才能评价" misled there.
RATE_DONE = "留言 {number} 已经评价过了，感谢您的评价。如还有问题，可以直接发送新的留言。"
RATE_ENDED = "留言 {number} 已{state}，不能再评价。如还有问题，可以直接发送新的留言。"
WITHDRAWN = "已撤回留言 {number}，承办单位将不再办理。如有新的问题，欢迎随时留言。"
WITHDRAWN_NOTICE = "【群众已撤回】留言 {number} 已由群众撤回，无需继续办理。"
# A teacher's conduct or a child's safety: the citizen's withdrawal ends the messages to them, not the check
# (a parent may be pressed by the school to withdraw). The bureau checks and closes it with a note.
CHECK_WHAT = {"conduct": "老师师德方面的问题", "safety": "孩子安全方面的问题"}
WITHDRAW_CONFIRM_KEPT = (
    "确定要撤回留言 {number}（{excerpt}）吗？\n撤回后，我们不再就这件留言给您发消息，也不请您评价。"
    "但留言反映的{what}，按规定由教育局继续核实，不因撤回而结束；学校不会知道您撤回了留言。\n"
    "确认请发送“确认撤回 {short}”；不撤回则无需回复。"
)
WITHDRAWN_KEPT = (
    "已撤回留言 {number}，今后不再就它给您发消息。您反映的{what}由教育局继续核实，学校不会知道您撤回了留言。\n"
    "如有人因这件事向您或孩子施加压力，请发送“回复 {number} 具体情况”告诉我们，教育局会严肃处理。"
)
WITHDRAWN_ALREADY = "留言 {number} 已撤回，不再给您发消息。如有新的情况，请发送“回复 {number} 具体情况”。"
WITHDRAWN_KEPT_NOTICE = (
    "【群众已撤回，核实继续】留言 {number} 的留言人已撤回。留言涉及{what}，按规定不随撤回结束，请继续核实；"
    "核实后发送“办结 {number} 核实情况”结案（不再通知群众，也不请群众评价）。请勿向学校透露群众已撤回。"
)
WITHDRAWN_CHECKED_NOTE = "群众已撤回，教育局核实后结案"
WITHDRAWN_CHECKED_OK = "已记录{number}的核实情况并结案（群众已撤回，不通知群众，也不请群众评价）。"
REPLY_WITHDRAWN = ("留言 {number} 的留言人已撤回，答复不会再发给群众。核实后请发送“办结 {number} 核实情况”结案；"
                   "过程可用“备注 {number} 内容”记录。")

# -- one step, two channels ---------------------------------------------------------------------------------------
# Staff texts say what to send in WeChat; the workbench (its notification list, the answer shown after a button)
# says what to click instead. Each WeChat instruction is written once above; here, beside its wording, what the
# same step is on the web. `for_web` rewrites a text for the workbench; tests/test_bureau10.py checks that no
# notice the workbench shows still says 发送“…”.
WEB_STEPS = (
    ("发送“详情 {number}”查看，“签收 {number}”签收。", "请打开留言页查看并签收。"),
    ("可发送“签收全部”一次签收。", "可在“待办”列表点“全部签收”一次签收。"),
    ("请再发送“签收全部”。", "请再点“全部签收”。"),
    ("：发送“详情 {number}”查看。", "：请打开留言页查看。"),
    ("发送“详情 编号”查看；", "可在“待办”列表中查看；"),
    ("发送“待办”可查看正在办理的留言。", "“待办”列表中可查看正在办理的留言。"),
    ("发送“待办”查看全部；“签收 编号”签收，“回复 编号 内容”答复；确需延期请在时限前发送“延期 编号 天数 理由”。",
     "在“待办”列表查看全部，在留言页签收、答复群众；确需延期请在时限前在留言页点“申请延期”。"),
    ("发送“超期”按单位查看，“催办 编号 要求”催促办理。", "在“待办”列表的“超期”中查看，在留言页点“催办”催促办理。"),
    ("发送“待办”查看。", "请在“待办”列表中查看。"),
    ("，发送“待办”查看", "，在“待办”列表中查看"),
    ("：发送“转派 {number} 单位”。", "：在留言页点“转派”选择单位。"),
    ("请发送“转派 {number} 单位”重新分派。", "请在留言页点“转派”重新分派。"),
    ("可发送“回复 {number} 内容”答复群众。", "可在留言页点“答复群众”填写答复。"),
    ("发送“回复 编号 内容”答复群众。", "在留言页点“答复群众”填写答复。"),
    ("请发送“退回 {number} 理由”", "请在留言页点“退回”并写明理由"),
    ("请发送“退回 编号 理由”", "请在留言页点“退回”并写明理由"),
    ("请尽快签收：发送“签收 {number}”。", "请尽快签收：打开留言页点“签收”。"),
    ("同意请发送“同意延期 {number}”，不同意请发送“不同意延期 {number}”。", "请在留言页点“同意延期”或“不同意延期”。"),
    ("核实后发送“办结 {number} 核实情况”结案", "核实后在留言页点“办结”填写核实情况结案"),
    ("核实后请发送“办结 {number} 核实情况”结案；过程可用“备注 {number} 内容”记录。",
     "核实后请在留言页点“办结”填写核实情况结案；过程可用“内部备注”记录。"),
    ("请写明延长的工作日数和理由，例如“延期 {number} 3 需要现场核查”。", "请填写延长的工作日数（1至30）和理由。"),
)


def _step_pattern(wechat: str) -> "re.Pattern[str]":
    import re
    out, seen = [], set()
    for literal, field, _spec, _conv in __import__("string").Formatter().parse(wechat):
        out.append(re.escape(literal))
        if field:
            out.append(f"(?P={field})" if field in seen else f"(?P<{field}>[A-Za-z0-9-]+)")
            seen.add(field)
    return re.compile("".join(out))


_WEB_STEPS = [(_step_pattern(w), web) for w, web in WEB_STEPS]


def for_web(text: str) -> str:
    """A staff text as the workbench says it: each WeChat instruction (WEB_STEPS) as the click it is there."""
    if "“" not in text:
        return text
    for pattern, web in _WEB_STEPS:
        text = pattern.sub(lambda m, web=web: web.format(**m.groupdict()), text)
    return text


# -- the web workbench -------------------------------------------------------------------------------------------
DIGEST_TITLE = "每周办理情况"
# The weekly WeChat digest (handlers/digest.py message): each rate on a line of its own, with what it counts.
DIGEST_HEAD = "【{who}留言周报】{period}（第{week}周）"
DIGEST_RATES = {  # rate: (name, what is counted, of what, said when there is nothing to count)
    "response": ("响应率", "按时签收", "应签收", "本周没有到签收时限的留言"),
    "resolution": ("解决率", "按时办结", "应办结", "本周没有应办结的留言"),
    "satisfaction": ("满意率", "满意和基本满意", "评价", "本周没有群众评价"),
}
DIGEST_RATE = "{name}{value}{change}：{counted}{part}件/{base_name}{base}件{extra}"
DIGEST_RATE_NONE = "{name}—：{none}"
# A leader's question for figures in plain words (handlers/figures.py), answered above the 周报 links.
FIG_HEAD = "{period}{scope}："
FIG_NEW = "{period}{scope}收到留言{n}件：{parts}。"
FIG_NEW_KIND = "{period}{scope}收到{what}{n}件（全部留言{total}件）。"
FIG_NEW_NONE = "{period}{scope}还没有收到{what}。"
FIG_MOST_SCHOOL = "{period}{scope}收到{what}最多的学校：{top}。"
FIG_RESOLVED = "{period}{scope}办结留言{n}件。"
FIG_OVERDUE = "目前{scope}超期未办结的留言{n}件。发送“超期”可按单位查看明细。"
FIG_OVERDUE_MOST = "目前{scope}超期未办结的留言{n}件，按{by}，最多的是：{top}。发送“超期”可查看明细。"
FIG_OVERDUE_NONE = "目前{scope}没有超期未办结的留言。"
FIG_RANKING = "{period}{scope}{name}{which}的单位：{top}。"
FIG_RATE_NONE = "{period}{scope}还没有可计算{name}的留言。"
FIG_OVERVIEW = "收到留言{n}件{parts}；办结{resolved}件；目前超期未办结{overdue}件。"
FIG_RATE_EMPTY = "{name}—：还没有可计算的留言"
FIG_CAN_ANSWER = ("这个问题我还答不了。可以这样问我：这周收到几件投诉？上周办结几件？哪个学校超期最多？本月满意率多少？"
                  "哪个单位解决率最低？其他数据请看周报：")
DIGEST_OPEN_OVERDUE = "（含超期未办结{n}件）"
DIGEST_CHANGE_NOTE = "（括号内为与前一周相比，单位：百分点）"
SIGNIN_LINK = ("工作台登录链接（{minutes}分钟内有效，只能使用一次，请勿转发）：\n{link}\n"
               "在手机或电脑浏览器中打开均可。")
SIGNIN_NONE = "工作台暂未开通，请联系管理员。"
CITIZEN_PAGE_LINK = "在网页上查看（{days}天内有效，仅限您本人使用）：{link}"
# The citizen's own page: what happens next, in plain words, by state (CITIZEN_NEXT_WAITING while nobody is on duty).
CITIZEN_NEXT_WAITING = "您的留言已记录在案。" + ON_DUTY_NONE + "，并及时告知您办理进展。"
CITIZEN_NEXT = {
    "submitted": "您的留言已收到，正在确定承办单位。",
    "assigned": "承办单位已收到您的留言，将尽快受理，并在{due}前办结。",
    "accepted": "承办单位正在办理，将在{due}前办结。",
    "replied": "承办单位已答复您。如有补充，可在公众号发送「回复 {number} 内容」。",
    "bounced": "正在为您重新确定承办单位，办结时限不变。",
    "reopened": "您对办理结果不满意，承办单位正在重新办理，将在{due}前办结。",
    "resolved": "已办结。请在公众号回复 1 满意、2 基本满意 或 3 不满意，评价办理结果。",
    "closed": "本件已结束。感谢您的留言。",
    "withdrawn": "您已撤回本件留言。",
}

CITIZEN_NEXT_WAITING_EN = ("Your message is on record. No officer is on duty yet; it will be handled as soon as staff "
                           "are on duty, and you will be told of every step.")
CITIZEN_NEXT_EN = {
    "submitted": "We have your message and are deciding which office will handle it.",
    "assigned": "The office in charge has your message; it will take it up soon and conclude it by {due}.",
    "accepted": "The office in charge is handling it and will conclude it by {due}.",
    "replied": "The office has answered you. To add something, send \"reply {number} your words\" in the "
               "official account.",
    "bounced": "We are finding the right office for it; the deadline stays the same.",
    "reopened": "You were not satisfied, so the office is handling it again and will conclude it by {due}.",
    "resolved": "Concluded. Please rate the result in the official account: reply 1 satisfied, 2 fairly satisfied "
                "or 3 not satisfied.",
    "closed": "This message is closed. Thank you for writing to us.",
    "withdrawn": "You have withdrawn this message.",
}
# The citizen's own page (/t/…), its headings and notes, in each language.
CITIZEN_PAGE = {"title": "留言 {number} · 听见", "heading": "我的留言 {number}", "unit": "现在由谁办理", "due": "办结时限",
                "kind": "类型", "created": "提交时间", "text": "您的留言", "history": "办理经过", "undecided": "待分派",
                "attachment": "附件", "date": "%Y年%m月%d日", "due_waiting": DUE_WAITING, "urgent": "紧急事项",
                "urgent_note": "已同时报告主管负责人",
                "hint": "本页仅供您本人查看，请勿转发。如需补充或回复，请在公众号中发送「回复 {number} 内容」。"}
CITIZEN_PAGE_EN = {"title": "Message {number}", "heading": "My message {number}", "unit": "Handled by",
                   "due": "Deadline", "kind": "Type", "created": "Sent", "text": "Your message",
                   "history": "What has happened", "undecided": "being decided", "attachment": "Attachment",
                   "date": "%-d %B %Y", "due_waiting": "not yet known", "urgent": "Urgent",
                   "urgent_note": "the supervisor in charge was told at once",
                   "hint": "This page is for you only; please do not forward it. To add something or answer, send "
                           "\"reply {number} your words\" in the official account."}
ATTACH_STATE_EN = {"stored": "", "fetching": "being saved", "expired": "expired (WeChat keeps files for 3 days only)",
                   "refused": "not saved (too large or of an unknown type)"}
# A link that does not open: said in both languages (whose link it is, is not known before it checks out).
CITIZEN_LINK_BAD = ("链接无效 · Link not valid", "这个链接不完整或已被改动。请在公众号中发送「查询 编号」获取新链接。\n"
                    "This link is incomplete or was changed. Send \"status\" and the number in the official account "
                    "for a new one.")
CITIZEN_LINK_OLD = {None: ("链接已过期", "查看链接7天内有效。请在公众号中发送「查询 编号」获取新链接。"),
                    "en": ("Link expired", "A link works for 7 days. Send \"status {number}\" in the official "
                                           "account for a new one.")}

# What the audit log's action codes (storage.websessions.audit) say on the 审计日志 page: a code, or its prefix
# before ":" with the word after it (action:reply -> 办理：答复). A code not here shows as it is (never hidden).
AUDIT_ACTIONS = {
    "signin": "登录工作台", "signout": "退出工作台", "view": "查看留言", "view_attachments": "查看附件",
    "view_audit": "查看审计日志", "action": "办理", "export": "导出", "template": "常用回复", "faq": "常见问题",
    "unit:edit": "修改单位信息", "unit:items": "修改服务事项", "review:comment": "填写考评意见",
    "review:delete": "删除考评意见", "survey:save": "保存评议问卷", "survey:refused": "评议超出每人可评单位数，未接受", "survey:day": "设定某日评议是否计入",
    "staff:invite": "生成绑定码", "staff:bind": "绑定为工作人员", "staff:revoke": "撤销绑定码",
    "staff:role": "修改角色", "staff:remove": "解除绑定", "staff:unfollow": "取消关注（解除绑定）",
    "staff:refused": "人员变更被拒绝", "verify-rates:repair": "修复统计数据",
}
AUDIT_WORDS = {
    "accept": "签收", "reply": "答复", "resolve": "办结", "bounce": "退回", "transfer": "转派",
    "extension_request": "申请延期", "approve": "同意延期", "reject": "不同意延期", "supervise": "督办",
    "urge": "催办", "note": "内部备注", "save": "保存", "delete": "删除", "retire": "停用", "restore": "恢复使用",
    "review": "考评表", "tickets.csv": "留言（CSV）", "tickets.xlsx": "留言（Excel）", "rates.csv": "统计（CSV）",
    "rates.xlsx": "统计（Excel）",
}


def audit_action(code: str) -> str:
    """The 审计日志 page's words for an audit action code (AUDIT_ACTIONS)."""
    if code in AUDIT_ACTIONS:
        return AUDIT_ACTIONS[code]
    head, _, word = code.partition(":")
    if head in AUDIT_ACTIONS and word in AUDIT_WORDS:
        return f"{AUDIT_ACTIONS[head]}：{AUDIT_WORDS[word]}"
    return code


# -- 群众评议 surveys (issue 13) --------------------------------------------------------------------------------
SURVEY_INTRO = "【{title}】\n您正在评议：{unit}。共{total}题，约1分钟，评议结果只用于改进工作，不会告知学校您的身份。\n中途可随时离开，发送“评议”接着答。"
SURVEY_RESUME = "欢迎回来！继续评议“{unit}”（{title}），从第{number}题接着答。"
SURVEY_ALREADY = (
    "您已于{date}评议过“{unit}”。本月内（评议截止前）可以重新评议，新的评议将替换原来的。\n"
    "1 重新评议\n2 保留原评议"
)
SURVEY_ALREADY_CHOICES = "1 重新评议\n2 保留原评议"
# answers sent in a month now over: counted in that month's review, never changed after it (a closed figure)
SURVEY_COUNTED = ("您已于{date}评议过“{unit}”，这次评议已计入{month}的考核结果，不能再修改。"
                  "如有新的情况或意见，欢迎直接留言，我们会转交相关单位办理。")
SURVEY_OFFER_CHOICES = "1 转为留言（对学校保密您的身份）\n2 不用了"
SURVEY_KEPT = "好的，保留您原来的评议。感谢您的参与！"
SURVEY_NOT_UNDERSTOOD = "没能识别您的回答。"
SURVEY_PAUSED = "评议已暂停，已答的题目都会保留。需要时发送“评议”接着答。"
SURVEY_PAUSED_FOR_MESSAGE = "（评议已暂停，已答的题目会保留，稍后发送“评议”可接着答。下面先处理您的留言。）"
SURVEY_THANKS = "评议完成，感谢您对“{unit}”工作的监督！评议结果将作为单位考核的重要依据。"
SURVEY_UPDATED = "评议已更新，感谢您对“{unit}”工作的监督！"
SURVEY_OFFER_TICKET = (
    "您写到的情况比较具体。是否同时转为一条留言，由承办单位在规定时限内办理并答复您？\n"
    "1 转为留言（对学校保密您的身份）\n2 不用了"
)
SURVEY_TICKET_CREATED = "已转为留言，受理编号：{number}，承办单位：{unit}，{due}前办结。发送“查询 {number}”可查看进度。"
SURVEY_TICKET_WAITING = ("已转为留言，受理编号：{number}，承办单位：{unit}。" + ON_DUTY_NONE
                         + "。发送“查询 {number}”可查看进度。")
SURVEY_CLOSED = "“{title}”已于{date}结束，感谢您的关注。如有问题，直接留言即可。"
SURVEY_NOT_YET = "“{title}”将于{date}开始，届时欢迎参与。如有问题，直接留言即可。"
SURVEY_NONE_OPEN = "目前没有正在进行的评议。如有意见或建议，直接留言即可。"
# For admins (log at start, /healthz, the workbench): a year whose official holidays are not known yet.
CALENDAR_UNKNOWN = (
    "工作日历缺少{years}年的法定节假日安排：办理时限暂按周一至周五计算（已扣除元旦、劳动节、国庆节），春节、清明、端午、"
    "中秋和调休上班日尚未计入。国务院公布安排后，请升级 chinese-calendar，或在配置文件 [deadlines] 的 holidays 和 "
    "workdays 中填写。"
)
# The same, one line on a phone (the workbench's banner; a tap opens the text above).
CALENDAR_UNKNOWN_SHORT = "{years}年节假日未录入，时限暂按周一至周五计算"
REVIEW_PRAISE_ASIDE = "另有{n}件表扬集中来自新关注公众号的账号，已单独标记、不计入"
REVIEW_UNATTENDED = "无人在岗：{n}件留言到达时本单位无人绑定、由他人代收，计入“在岗”得分"
REVIEW_UNATTENDED_FEW = "无人在岗：{n}件留言到达时本单位无人绑定、由他人代收（件数少，样本不足，暂不计分）"
# Why a unit is listed apart, unranked (handlers.review.unranked): the reason, then what a leader can do.
REVIEW_UNRANKED = {
    "unstaffed": ("无在岗人员（本期{n}件留言到达时本单位无人绑定，均由他人代收，没有本单位自己办理的件可考核）",
                  "请督促该单位尽快绑定工作人员（单位页面可生成邀请码）"),
    "no_tickets": ("本期无工单（也没有群众评议得分）", ""),
    "few": ("样本不足（各项比率所依据的件数少于{min}件，群众评议份数也不够）", ""),
}
REVIEW_UNRANKED_HEAD = "不参与排名"
# The weekly digest: units with nobody bound (their tickets go to a stand-in), the first few named.
DIGEST_UNSTAFFED = "无人绑定：{n}个单位（{names}），留言由他人代收，请督促绑定。"
DIGEST_UNSTAFFED_NOTE = "以上单位目前没有工作人员绑定，留言由他人代收办理。请督促尽快绑定工作人员（单位页面可生成邀请码）。"
SURVEY_INSIDER = ("群众评议由服务对象评价。您的微信已绑定（或曾绑定）为教育系统工作人员，或留言时登记的是工作人员电话，"
                  "不能参加对“{unit}”等单位的评议。感谢理解！")
SURVEY_NOT_COVERED = "“{unit}”不在目前进行的评议范围内。如有意见或建议，直接留言即可。"
SURVEY_UNIT_LIMIT = ("为保证评议公正，本次评议每人最多评价{cap}个单位，您已评价了{units}，不能再评价“{unit}”，感谢理解！"
                     "\n如需修改对已评单位的评价，发送“评议 单位名称”即可；对“{unit}”有意见或建议，可以直接留言。")
SURVEY_WHICH_UNIT = "正在进行：{title}（{closes}截止）。\n请问您要评议哪所学校或幼儿园？请发送名称；不评议请回复 0。"
SURVEY_UNIT_NOT_FOUND = "没有找到这所学校，请发送完整名称（如“江南区实验小学”）；不评议请回复 0。"
SURVEY_AFTER_MESSAGE = "您有一条正在填写的留言，请先回复完成提交（或发送“取消”），再发送“评议”参与评议。"
SURVEY_UNKNOWN_CODE = "这个评议二维码已失效或无法识别。如有意见或建议，直接留言即可。"
SURVEY_TEXT_ONLY = "评议请用文字或数字回答。"
SURVEY_PACED_LEFT_OUT = (
    "【评议异常提醒】“{unit}”当天收到{count}份来自一天内新关注公众号的账号的评议（{title}），超过{limit}份，且九成答案相同或只差一题，"
    "像是一人操作多个账号分时段提交。这些评议已单独标记、不计入得分，统计时分开显示；关注较久的群众的评议不受影响。请核实。"
)
SURVEY_SPREAD_LEFT_OUT = (
    "【评议异常提醒】“{unit}”本次评议（{title}）至今收到{count}份来自新关注公众号的账号的评议，分多天提交、每天都不超过{limit}份，"
    "但九成答案相同或只差一题，像是有人分时段用多个账号刷票。这些评议已单独标记、不计入得分；关注较久的群众的评议不受影响。"
    "请核实；如确属正常，可在工作台“群众评议·结果”中按天改为照常计入。"
)
SURVEY_PACED_NOTICE = (
    "【评议提醒】“{unit}”当天收到{count}份来自一天内新关注公众号的账号的评议（{title}），超过{limit}份。答案各不相同，已照常计入；"
    "如该校近日并未组织家长参评，请核实是否存在集中刷票。"
)
SURVEY_BURST_NEW_ACCOUNTS = (
    "【评议异常提醒】“{unit}”的评议码在一小时内收到{count}份评议（{title}），超过{limit}份的正常上限。"
    "其中{aside}份来自一天内新关注公众号的账号或答案几乎相同，已单独标记、不计入得分；其余{kept}份照常计入。请核实是否存在集中刷票。"
)
SURVEY_PACED_AGREES = (
    "【评议提醒】“{unit}”当天收到{count}份来自一天内新关注公众号的账号的评议（{title}），超过{limit}份。答案相近，"
    "但与关注较久的群众对该单位的评议一致，已照常计入；如该单位近日并未组织家长参评，请核实。"
)
SURVEY_BURST_NOTICE = (
    "【评议异常提醒】“{unit}”的评议码在一小时内收到{count}份评议（{title}），超过{limit}份的正常上限，"
    "这些评议已单独标记，统计时分开显示，请核实是否存在集中刷票。"
)
SURVEY_DAY_NO_UNIT = "未改动：请选择参加这次评议的单位。"
SURVEY_DAY_NO_DATE = "未改动：请填写评议期内的日期（如 2026-11-20）。"
SURVEY_DAY_NO_DECISION = "未改动：请选择“不计入”“照常计入”或“按自动检查”。"
SURVEY_DAY_NO_REASON = "未改动：请写明理由（至少4个字），理由会记入操作记录。"
SURVEY_DAY_DONE = "已将“{unit}”{date}的{n}份评议设为{decision}，得分和绩效考核随之更新，已记入操作记录。"
SURVEY_WORDS = ("评议", "参与评议", "民主测评", "survey")
SURVEY_EXIT_WORDS = frozenset({"退出", "暂停", "退出评议", "暂停评议", "稍后再答", "不答了"})
CANCELLED_FLOW = {"survey": SURVEY_PAUSED}  # what 取消 means in a flow other than a new message

# -- 常见问题 instant answers (issue 13) -------------------------------------------------------------------------
FAQ_ASK = "这个回答解决了您的问题吗？\n1 解决了\n2 还需要人工答复\n请回复数字。"
FAQ_FROM = "（答复单位：{unit}）"
FAQ_ANSWER = "{answer}\n（答复单位：{unit}）\n\n" + FAQ_ASK
FAQ_CLOSED = "好的。如有其他问题，欢迎随时留言。"
FAQ_SOLVED = "很高兴能帮到您！如有其他问题，欢迎随时留言。"
FAQ_TO_HUMAN = "好的，已为您转人工办理。"

# -- the custom menu (issue 13) ---------------------------------------------------------------------------------
MENU_WRITE = (
    "请直接发送文字，说明您要反映的情况（投诉、建议、咨询或表扬都可以），也可以附上图片或语音。\n"
    "我们会转给负责的部门，并告诉您受理编号和办结时限。"
)
MENU_PUBLIC = "【办事公开】\n{org}承诺：{commitment}"
MENU_PUBLIC_UNIT = "{unit}承诺：{text}"
MENU_PUBLIC_FOOT = "所有留言都有办结时限，超期未办结的由上级督办；办理进度可随时发送“查询”查看。"

# -- 领导点评 and the public pages (issue 13) ---------------------------------------------------------------------
REVIEW_PERIODS = "期间写 2026-11（月）、2026-Q4（季度）、2026（年）或 本月、上月、本季度、上季度。"
REVIEW_COMMENT_PERIOD = "“{period}”不是有效的期间，请写 2026-11、2026-Q4、2026，或 本月、上月、本季度、上季度。"
REVIEW_COMMENT_OK = "已记录对“{unit}”{period}的点评（{visibility}），将显示在该单位的绩效考核报告中。"
REVIEW_PUBLIC = "公开，同时显示在单位公开页面"
REVIEW_INTERNAL = "仅内部可见"
PUBLIC_PAGES = "各单位的服务承诺、服务事项和办理情况：{url}"
PUBLIC_UNIT_PAGE = "{unit}的服务事项和办理情况：{url}"
DIGEST_RANKING = "{month}各单位绩效考核排名：{url}"

# == English ================================================================================================
# Replies to a person who writes in English (the router sets lang = "en" on the draft). Only the intake's main
# steps are translated; office and school names stay as they are. Keys are the names of the Chinese texts above.
EN = {
    "WELCOME": "Hello, and thank you for writing to the education bureau. We will pass your message to the "
               "office in charge and tell you the ticket number and the deadline.",
    "ASK_KIND": "Is your message:\n1 a complaint\n2 a suggestion\n3 a question\n4 praise\nPlease reply with the "
                "number.",
    "ASK_KIND_AGAIN": "Please reply with a number 1–4: 1 complaint, 2 suggestion, 3 question, 4 praise.",
    "KIND_EXPLAINED": "Which kind of message is this?\n1 complaint: something done wrong that you want put right\n"
                      "2 suggestion: an idea for doing better\n3 question: about a policy or how to do something\n"
                      "4 praise: thanks for a good teacher or good work\nPlease reply with the number.",
    "OUT_OF_SCOPE": "This matter may not be the education bureau's responsibility. The city service hotline "
                    "12345 can pass it to the right department more quickly.\nReply 1 if you still want to send "
                    "it to the education bureau, or 2 not to send it.",
    "OUT_OF_SCOPE_DONE": "All right, nothing has been submitted. Thank you, and do write to us about any "
                         "education matter.",
    "CHOOSE_1_2": "Please reply 1 or 2.",
    "CHOOSE_N": "Please reply with a number from 1 to {n}.",
    "RATING_OR_NOT": "Do you mean to rate message {number} ({score})?\n1 Yes, rate message {number}\n2 {other}",
    "RATING_OTHER_ANSWER": "No, this answers the question above",
    "RATING_OTHER_NEW": "No, this is a new message",
    "OUT_OF_SCOPE_CHOICES": "1 send it to the education bureau anyway\n2 do not send it (call 12345)",
    "SIMILAR": "On {date} you wrote about the same kind of matter at the same school (number {number}, {state}).\n"
               "1 add this to that message\n2 send it as a new message",
    "SIMILAR_CHOICES": "1 add this to message {number}\n2 send it as a new message",
    "GOES_ON_ASK": "Is this more about the message you just sent ({number})?",
    "ASK_FOCUS": "Your message is about several matters:\n{lines}\nWhich one matters most? Please reply with its "
                 "number. The others stay in the same message and go to the same office.",
    "FOCUS_CHOICES": "{lines}\nWhich one matters most?",
    "CHOOSE_1_3": "Please reply 1 to submit, 2 to rewrite, or 3 to cancel.",
    "ASK_SCHOOL": "Which school or kindergarten is this about? Please send its name, or reply 0 if no particular "
                  "school is concerned.",
    "ASK_PHONE": "If you wish, leave a phone number so that the officer in charge can contact you (only staff "
                 "see it, with the middle digits hidden).\nReply with the number, or 0 to skip.",
    "ASK_PHONE_URGENT": "Please leave a phone number so that staff can reach you quickly (only staff see it).\n"
                        "Reply with the number, or 0 to skip.",
    "PHONE_PIECE": "We have the first digits: {piece}. Please send the rest of the number, or 0 to skip.",
    "PHONE_INVALID": "That number does not look right. Please send an 11-digit mobile number or a landline with "
                     "its area code, or 0 to skip.",
    "ASK_ANONYMITY": "May the school know who you are?\n1 Yes\n2 No (only the education bureau will see it)",
    "SUMMARY": "Please check your message:\nType: {kind}\nMessage: {excerpt}\n{school}Office in charge: {unit}\n"
               "Phone: {phone}\n{more}{deadline}Reply 1 to submit, 2 to rewrite, 3 to cancel.",
    "SUMMARY_DEADLINE": "Deadline: {days}, by {due}\n",
    "SUMMARY_WAITING": "Deadline: not yet known (no officer is on duty yet; it will be handled as soon as staff are "
                       "on duty)\n",
    "SUMMARY_ATTACHED": "Attachments: {n}",
    "SUMMARY_HIDDEN": "The school will not be told who you are.",
    "URGENT_KIND": "urgent call for help",
    "SUMMARY_URGENT": "Urgent: the supervisor in charge is told as soon as you submit.",
    "SUBMITTED": "Submitted.\nTicket number: {number}\nOffice in charge: {unit}\nDeadline: {due}\n"
                 "We will tell you of every step. Send \"status\" at any time to see the progress.",
    "SUBMITTED_WAITING": "Submitted.\nTicket number: {number}\nOffice in charge: {unit}\nNo officer is on duty yet. "
                         "Your message is on record and will be handled as soon as staff are on duty; we will tell "
                         "you of every step. Send \"status\" at any time to see the progress.",
    "SUBMITTED_PRAISE": "Thank you for your praise! It has been passed on to {unit} and the office above it, and "
                        "counts in the unit's record.\nNumber: {number}",
    "SUBMITTED_PRAISE_VIA": "Thank you for your praise! Your message has gone to {unit}; the education bureau "
                            "will check it and pass it on.\nNumber: {number}",
    "ASK_REWRITE": "All right, please send your message again.",
    "CANCELLED": "Cancelled; nothing has been submitted. You can write to us again at any time.",
    "URGENT_SUBMITTED": "The supervisor in charge has been told at once. {hotlines}",
    "URGENT_SUBMITTED_OFFICE": "The supervisor in charge has been told at once, and the education bureau's office "
                               "in charge ({office}) has it too and will follow it. {{hotlines}}",
    "URGENT_OFFICE_TOLD": "The education bureau's office in charge ({office}) has it and will follow it. ",
    "URGENT_AT_ONCE": "What you describe concerns someone's safety. {hotlines}\nYour message will be handled as "
                      "urgent.",
    "SUPPLEMENTED": "Added to your message.",
    "CORRECTION_TAKEN": "All right, your correction is noted.",
    "REPEATED": "We have that already; no need to send it again.",
    "REPEATED_FILED": "That was submitted a moment ago (number {number}); no need to send it again. We will tell you "
                      "of its progress. If something new has happened, just tell us.",
    "REACH_PERSON": "Every message here is handled by staff: write what you want to tell us, and once you submit it, "
                    "it goes to the person in charge, who can call you if you leave a number.",
    "REACH_HOTLINE": "To speak to someone now, call the bureau's hotline {phone}.",
    "DRAFT_DUE_WAITING": "Once you submit it, this message is on record. No officer is on duty yet; it will be "
                         "handled as soon as staff are on duty, so we cannot give a deadline yet.",
    "DRAFT_DUE": "Once you submit it, this message is to be handled within {days} working days (by {due}).",
    "DRAFT_DUE_KINDS": "The time runs from when you submit: complaints and suggestions within {complaint} working "
                       "days, questions answered within {inquiry}.",
    "ASK_MORE": "Please tell us a little more: when and where it happened, and the school or people concerned, so "
                "that we can pass it to the right office.",
    "SCHOOL_TAKEN": "School noted: {school}.",
    "ASK_WHAT_HAPPENED": "Please tell us what happened and when, so that we can pass it to the right office.",
    "ACK": "All right. ",
    "ABOUT_BUREAU_ASK": "All right, as a complaint. Please tell us what happened: which office or member of the bureau's "
                        "staff, when, and what. Complaints about the education bureau itself are handled by {who}, "
                        "never by the office complained of.",
    "DESCRIBE_WHY": "The office in charge can check and act on it only if it knows what happened.",
    "OUT_OF_SCOPE_WHY": "Another department is in charge of this kind of matter, and the 12345 hotline gets it there more "
                        "quickly. If you still want the education bureau to pass it on, you can send it.",
    "KIND_WHY": "Complaints, suggestions, questions and praise are handled in different ways and within different time "
                "limits: the right one gets yours handled the right way.",
    "CONDUCT_WHY": "By the rules, a teacher's conduct is looked into by the education bureau itself, not passed to the "
                   "school, so please tell us whether you are raising a problem or only giving praise.",
    "FOCUS_APART": "To send one separately, choose one now, submit, then send the other on its own: it is filed apart.",
    "FOCUS_WHY": "All the matters stay in the same message; the one that matters most decides which office leads.",
    "SIMILAR_WHY": "Added to the earlier message, it is handled with it by the same office, with no new registration "
                   "or time limit; a new matter is filed as a new message.",
    "CONFIRM_WHY": "Please check it once more: it goes to the office in charge only after you confirm.",
    "NEW_MATTER_WHY": "Different matters are filed separately, so that each goes to the office responsible with its own "
                      "time limit.",
    "RESUME_WHY": "You have an earlier message that was not sent. We ask first whether to continue it or drop it, so "
                  "that it is not mixed up with this one.",
    "OFFICER_WHY": "One of your messages is being handled: we check first whether this is for the officer handling it "
                   "or a new question.",
    "CHANGE_WHY": "What you wrote before and what you say now look like two matters. Please choose what to do, so that "
                  "nothing is sent that you did not mean to send.",
    "ASK_WHICH_MATTER": "What is this about? Please tell us a little more, for example which school and what happened, "
                        "so that we can pass it to the right office.",
    "SUMMARY_SCHOOL": "School: {school}\n",
    "SCHOOL_NAME_WANTED": "Which school or kindergarten is this about? Please send its name here (a number will not "
                          "do), or reply 0 if no particular school is concerned.",
    "SCHOOL_IN_PLACE": "Which school or kindergarten in {place}? Please send its name, or reply 0 if no particular "
                       "school is concerned.",
    "SCHOOL_NOT_FOUND": "We could not find a school by that name. Please send its name in pinyin or in Chinese "
                        "characters (for example Jiangnan Shiyan Xiaoxue, 江南区实验小学), or 0 if no particular "
                        "school is concerned.",
    "SCHOOL_OPTIONS_NOTED": "School noted; we will ask you shortly which one it is.",
    "SCHOOL_WHICH_ONE": "Which one? Please send the school's own name too (pinyin is fine), or 0 if no particular "
                        "school is concerned.",
    "SCHOOL_NOT_IN_PLACE": "We found no school by that name in {place}.",
    "SCHOOL_SUGGEST_ONE": "Is it this school?\n{lines}\nReply 1 if so. If not, send the school's name, or 0 if no "
                          "particular school is concerned.",
    "SCHOOL_SUGGEST": "Did you mean one of these?\n{lines}\nPlease reply with the number. If none of them, send the "
                      "school's name again, or 0 if no particular school is concerned.",
    "KIND_CHANGED": "Changed to {kind}.",
    "KIND_CHANGE_FILED": "Your message {number} was sent as a {old}, and the office has already accepted it, so "
                         "its type can no longer be changed. To have it treated as a {new}, send \"reply {number} "
                         "please treat this as a {new}\" and we will pass it on; to start again, first send "
                         "\"withdraw {number}\".",
    "KIND_CHANGED_FILED": "All right: message {number} is now a {new}; its deadline is now {due}.",
    "KIND_CHANGED_FILED_WAITING": "All right: message {number} is now a {new}. No officer is on duty yet; it will be "
                                  "handled as soon as staff are on duty, so its deadline is not yet known.",
    "KIND_CHANGE_PRAISE": "Your message {number} was sent as {old}. Praise is handled differently from the other "
                          "types, so it cannot simply be changed; to send it as a {new}, first send \"withdraw "
                          "{number}\", then write to us again.",
    "KIND_SAME_FILED": "Your message {number} was sent as a {kind}; nothing needs changing.",
    "GREETING_BACK": "Hello! You can write to the education bureau here: a complaint, a suggestion, a question or "
                     "praise. Please send what happened and the school concerned; photos and voice messages are "
                     "welcome too.",
    "GREETING_NEXT": "Please send what happened and the school concerned; photos and voice messages are welcome too.",
    "GREETING_IN_DRAFT": "Hello, we are here.",
    "CALLED_NEXT": "How can we help? Please send what happened and the school concerned; photos and voice messages are "
                   "welcome too.",
    "THANKS_BACK": "You're welcome! Write to us any time.",
    "TAKEN_BACK": "All right, no problem. Write to us here whenever you are ready.",
    "PHONE_READ": "We have noted your phone number ({phone}); to change it, just send the new one.",
    "SHELVED_GOES_ON": "Now back to your earlier message (reply \"cancel\" if you no longer need it):\n\"{text}\"",
    "ONLY_MEDIA": "(attachments only)",
    "CHEERED_BACK": "Thank you for the encouragement! Write to us here any time.",
    "THANKS_IN_DRAFT": "You're welcome. Your message has not been sent yet; please answer:",
    "HELD_TOO": "Noted, together with your previous message. Please reply with a number first:",
    "ASK_TO_OFFICER": "Is this for the officer handling your message {number}?\n1 Yes, pass it on\n2 No, it is a "
                      "new matter",
    "ANONYMITY_TAKEN_EARLY": "All right: the school will not know who you are; only the bureau can see it.",
    "ANONYMITY_LATER": "We will ask shortly whether the school may know who you are. If you say no, only the "
                       "education bureau sees who wrote; the school never does.",
    "PHONE_ANY_NUMBER": "A family member's number is fine, as long as it reaches you.",
    "PHONE_ANY_ACCOUNT": "That's fine: you may write from a family member's WeChat and leave their number.",
    "PHONE_SHORT": "Please just send the number, or 0 to leave none.",
    "PHONE_SEEN": "Only the staff handling your message see the number, with its middle digits hidden.",
    "PHONE_SCHOOL_LATER": "We will ask shortly whether the school may know who you are; if you say no, the bureau "
                          "handles your message and the school sees neither your number nor who you are.",
    "PHONE_SCHOOL_NOW": "If you say no, the bureau handles your message and the school sees neither your number nor "
                        "who you are.",
    "PHONE_SCHOOL_HIDDEN": "You chose not to let the school know who you are, so the school does not see your number.",
    "PHONE_SCHOOL_SHOWN": "You agreed that the school may know who you are, so the school handling it can see the "
                          "number. To keep it from the school instead, reply \"I don't agree\".",
    "ANONYMITY_KEPT": "The school will not know that you wrote; only the education bureau can see it.",
    "ANONYMITY_GIVEN": "You agreed that the school may know who you are. To keep it from the school instead, reply "
                       "\"I don't agree\".",
    "NUMBER_ALONE": "You are not writing a message at the moment. To raise a matter, please describe it in words; "
                    "send \"status\" to see the messages you have sent.",
    "NOTHING_TO_CANCEL": "You are not writing a message at the moment. Just send your words to start one.",
    "EXPIRED": "Your earlier message was left for more than {minutes} minutes and has not been sent.",
    # 群众评议 (a survey's own questions carry their English in the survey file: text_en, labels_en, options_en)
    "SURVEY_INTRO": "[{title}]\nYou are rating: {unit}. {total} questions, about a minute. The results are used only "
                    "to improve the work; the school is not told who you are.\nYou may stop at any time and send "
                    "\"survey\" to go on.",
    "SURVEY_RESUME": "Welcome back! Rating {unit} ({title}) goes on from question {number}.",
    "SURVEY_ALREADY": "You rated {unit} on {date}. Within this month (and until the survey closes) you may rate it "
                      "again; the new answers replace the old.\n1 Rate again\n2 Keep my earlier rating",
    "SURVEY_ALREADY_CHOICES": "1 Rate again\n2 Keep my earlier rating",
    "SURVEY_COUNTED": "You rated {unit} on {date}. That rating is part of the results for {month} and can no "
                      "longer be changed. If something new has happened, just write to us and we will pass it on.",
    "SURVEY_OFFER_CHOICES": "1 Yes, send it (the school will not be told who you are)\n2 No, thank you",
    "SURVEY_KEPT": "All right, your earlier rating is kept. Thank you for taking part!",
    "SURVEY_NOT_UNDERSTOOD": "Sorry, we could not read that answer.",
    "SURVEY_PAUSED": "The survey is paused; your answers so far are kept. Send \"survey\" to go on.",
    "SURVEY_PAUSED_FOR_MESSAGE": "(The survey is paused and your answers are kept; send \"survey\" later to go on. "
                                 "First, your message.)",
    "SURVEY_THANKS": "Done. Thank you for rating {unit}! The results count in the unit's annual review.",
    "SURVEY_UPDATED": "Your rating of {unit} has been updated. Thank you!",
    "SURVEY_OFFER_TICKET": "What you describe is specific. Shall we also send it as a message, for the office in "
                           "charge to handle and answer within the deadline?\n1 Yes, send it (the school will not "
                           "be told who you are)\n2 No, thank you",
    "SURVEY_TICKET_WAITING": "Sent as a message. Ticket number: {number}, office in charge: {unit}. No officer is "
                             "on duty yet; it will be handled as soon as staff are on duty. Send \"status {number}\" "
                             "to see the progress.",
    "SURVEY_TICKET_CREATED": "Sent as a message. Ticket number: {number}, office in charge: {unit}, deadline: {due}. "
                             "Send \"status {number}\" to see the progress.",
    "SURVEY_CLOSED": "\"{title}\" closed on {date}. Thank you for your interest; for any matter, just write to us.",
    "SURVEY_NOT_YET": "\"{title}\" opens on {date}; you are welcome to take part then. For any matter, just write "
                      "to us.",
    "SURVEY_NONE_OPEN": "No survey is open at the moment. For an opinion or a suggestion, just write to us.",
    "SURVEY_WHICH_UNIT": "Open now: {title} (until {closes}).\nWhich school or kindergarten would you like to rate? "
                         "Please send its name, or 0 not to take part.",
    "SURVEY_UNIT_NOT_FOUND": "We could not find that school. Please send its name in pinyin or in Chinese "
                             "characters, or 0 not to take part.",
    "SURVEY_NOT_COVERED": "{unit} is not part of the survey now open. For an opinion or a suggestion, just write "
                          "to us.",
    "SURVEY_UNIT_LIMIT": "To keep the survey fair, each person may rate at most {cap} units in it. You have rated "
                         "{units}, so you cannot rate {unit} as well. Thank you for understanding!\nTo change "
                         "what you said about one of them, send \"survey\" and its name; for an opinion on {unit}, "
                         "just write to us.",
    "SURVEY_INSIDER": "The survey is for the people the schools serve. Your WeChat is bound as education staff, "
                      "so you cannot rate {unit} or any other unit. Thank you for understanding!",
    "SURVEY_AFTER_MESSAGE": "You are writing a message. Please finish it first (or send \"cancel\"), then send "
                            "\"survey\".",
    "SURVEY_UNKNOWN_CODE": "This survey code has expired or cannot be read. For an opinion or a suggestion, just "
                           "write to us.",
    "SURVEY_TEXT_ONLY": "Please answer the survey in words or numbers.",
    # 常见问题: an instant answer (served to an English writer only where the entry has answer_en)
    "FAQ_ASK": "Did this answer your question?\n1 Yes\n2 No, I would like a person to answer\nPlease reply with the "
               "number.",
    "FAQ_CLOSED": "All right. Write to us any time.",
    "FAQ_SOLVED": "We are glad it helped! Write to us any time.",
    "FAQ_TO_HUMAN": "All right, a person will answer you.",
    "FAQ_FROM": "(Answer from: {unit})",
    # 撤回 (withdrawing a message): the commands are "withdraw 12", then "confirm withdraw 12"
    "WITHDRAW_WHICH": "Please give the number of the message to withdraw, for example \"withdraw JY2611-0001\".",
    "WITHDRAW_TOO_LATE": "Message {number} is {state}; it can no longer be withdrawn.",
    "WITHDRAW_CONFIRM": "Do you want to withdraw message {number} ({excerpt})? The office will then stop handling "
                        "it.\nTo confirm, send \"confirm withdraw {short}\"; otherwise there is no need to reply.",
    "WITHDRAW_CONFIRM_KEPT": "Do you want to withdraw message {number} ({excerpt})?\nIf you do, we will send you no "
                             "more messages about it and will not ask you to rate it. But what it says about {what} "
                             "will still be looked into by the education bureau, as the rules require; withdrawing "
                             "does not end that, and the school will not learn that you withdrew.\nTo confirm, "
                             "send \"confirm withdraw {short}\"; otherwise there is no need to reply.",
    "WITHDRAWN": "Message {number} has been withdrawn; the office will not handle it further. Write to us any time "
                 "about anything new.",
    "WITHDRAWN_KEPT": "Message {number} has been withdrawn; we will send you no more messages about it. What you "
                      "told us about {what} will still be looked into by the education bureau, and the school will "
                      "not learn that you withdrew.\nIf anyone puts pressure on you or your child over this, please "
                      "tell us: send \"reply {number}\" and what happened, and the bureau will deal with it firmly.",
    "WITHDRAWN_ALREADY": "Message {number} has been withdrawn and we send no more messages about it. If something new "
                         "happens, send \"reply {number}\" and what happened.",
    "CHECK_WHAT": {"conduct": "a teacher's conduct", "safety": "a child's safety"},
    # the intake's detours and remarks
    "DRAFT_KEPT": "The message you are writing is kept; you can go on with it.",
    "NEW_MATTER_CHOICES": "1 Send it as a new message\n2 Add it to the message I am writing",
    "CHANGE_ASK": "Do you want to write about something else instead? So far you wrote:\n\"{old}\"",
    "CHANGE_CHOICES": "1 This instead (what I wrote is not sent)\n2 Both matters\n3 It corrects or adds to what I wrote",
    "CHANGE_REPLACED": "All right: \"{old}\" has been dropped and will not be sent. Now about what you just wrote.",
    "CHANGE_WITH_MEDIA": " (with the files you sent)",
    "WHO_HANDLES": "The questions here are automatic; staff handle and answer your message.",
    "WHO_WE_ARE": "This is the education bureau's official account. You can send complaints, suggestions, questions "
                  "or praise here; the questions are automatic, and your message goes to the office in charge, "
                  "where staff handle and answer it.",
    "NEW_MATTER_STARTED": "All right, as a new message. The one you were writing is kept; we will go back to it "
                          "once this one is sent.",
    "RESUME": "Your earlier message, not sent yet:\n\"{text}\"\n1 Go on with it\n2 Drop it",
    "RESUME_CHOICES": "1 Go on with my earlier message\n2 Drop it",
    "RESUMED": "All right, back to your earlier message.",
    "DISCARDED": "All right, the earlier message has been dropped. Just write to start a new one.",
    "DISCARDED_START": "All right, the earlier message has been dropped; we are taking down what you just sent.",
    "DISCARDED_ONE": "All right, that one has been dropped.",
    "RESUME_OLDER": "You have one more message, older, not sent yet:\n\"{text}\"\n1 Go on with it\n2 Drop it",
    "PHONE_TAKEN": "Phone number noted.",
    "ACK_BACK": "All right. If there is anything else, just write to us here.",
    "PHONE_SKIPPED": "All right, no phone number.",
    "PHONE_KEPT": "This message keeps the phone number you just gave ({phone}); to change it, just send the new number.",
    "PHONE_NONE_KEPT": "You left no phone number just now, so this one has none either; to leave one, just send it.",
    "PHONE_AGAIN_URGENT": "You chose not to leave a phone number. As this concerns someone's safety, we suggest leaving "
                          "one so that staff can reach you quickly (only staff see it).\nReply with the number, or 0 "
                          "to still leave none.",
    "OK_LEAD": "All right",
    "GIVE_UP_ASK": "Your message has not been sent yet. If you have decided not to send it, reply \"cancel\"; to go "
                   "on, please answer:",
    "FEAR_NOTE": "If you are worried about your child: you can choose not to let the school know who you are; then "
                 "only the education bureau sees who wrote.",
    "CARRY_ON": "All right, let us go on.",
    "MORE_PLEASE": "Please go ahead.",
    "MORE_PLEASE_DRAFT": "Please go ahead: what you add goes into your message. Then answer the question above.",
    "MATTER_MISSING": "We still need to know what happened: what, when, and which school.",
    "MATTER_MISSING_SCHOOL": "We still need to know what happened, and when.",
    "MATTER_EXAMPLE": "If it is hard to put into words, you could write for example: \"My son is in year 3 at … "
                      "primary school; his teacher asked each child for 300 yuan for materials and gave no receipt.\"",
    "EDIT_LATER": "All right. Just send what you want to add or correct; before sending we show you the whole "
                  "message, and replying 2 there lets you write it again.",
    "HOLD_ON": "No hurry: reply when you have decided. A message not yet sent is kept for you, to go on with later:",
    "WE_HANDLE_IT": "Yes. Anything about a school or education can be raised here; we pass it to the office in "
                    "charge, which answers within the time limit.",
    "VOICE_WELCOME": "No problem: you can send a voice message. Tap the microphone to the left of the input box and "
                     "hold to talk; it is attached to your message.",
    "SCHOOL_WHY": "Your message goes to the office responsible; naming the school gets it to the school or the "
                  "office above it faster.",
    "PHONE_WHY": "The phone number lets the officer reach you if they need to check something. Only staff see it, "
                 "with the middle digits hidden; without it your message is handled all the same.",
    "PHONE_NOT_A_CHOICE": "No need to choose a number here: please send your phone number (an 11-digit mobile or a "
                          "landline with its area code), or 0 to skip.",
    "PHONE_PLEASE": "All right, please send the number (an 11-digit mobile or a landline with its area code), or 0 "
                    "to skip.",
    "ANONYMITY_WHY": "If you say yes, the school can contact you directly and sort it out sooner. If you say no, only "
                     "the education bureau sees who you are, and the bureau handles your message, not the school. "
                     "Either way, other pupils and parents never see your message or who you are.",
    "APPENDED": "Added to your message {number}; the office will handle it together. Send \"status {number}\" to "
                "see the progress.",
    "OUT_OF_SCOPE_OPEN": "If this is about your message {number}: send \"status {number}\" for its progress, or "
                         "\"reply {number} your words\" to pass them to the officer.",
    "ASK_DESCRIPTION_AFTER_MEDIA": "We have your {what}. Please also describe in a few words what happened.",
    "SCAN_DRAFT": "The message you are writing is now about {unit}.",
    "TEMPLATE_REMARK": "Open the education bureau's account in WeChat for the details.",
    "HELP_HEAD": "Write to us in English or Chinese: describe the matter and the school concerned; photos and "
                 "voice are welcome too. Commands:\n"
                 "status: your messages and their progress (status 12: one in full)\n"
                 "reply 12 your words: answer the officer handling message 12\n"
                 "cancel: drop the message you are writing\n"
                 "Then 1, 2 or 3 rates a concluded message.",
    # Pushes about a ticket, in the language its writer uses now (users.lang).
    "CITIZEN_ACCEPTED": "Your message {number} has been accepted by {unit} and is being handled; it will be "
                        "concluded by {due}.",
    "CITIZEN_ACCEPTED_WAITING": "Your message {number} has been accepted by {unit} and is being handled.",
    "CITIZEN_STAFF_REPLY": "Reply from {unit} about your message {number}:\n{text}\nTo answer, send \"reply "
                           "{number} your words\".",
    "CITIZEN_RESOLVED": "Your message {number} has been concluded.\nResult: {text}\nThank you for helping us "
                        "improve.",
    "CITIZEN_TRANSFERRED": "Your message {number} has been passed to {unit}, which will conclude it by {due}.",
    "CITIZEN_TRANSFERRED_LATE": "Your message {number} has been passed to {unit}. Its deadline ({due}) has passed; "
                                "we will press for it to be concluded as soon as possible. We are sorry for the delay.",
    "CITIZEN_EXTENDED": "The deadline for your message {number} has been extended to {due} ({reason}). We are "
                        "sorry for the delay.",
    "CITIZEN_TRANSFERRED_WAITING": "Your message {number} has been passed to {unit}. No officer is on duty yet; it "
                                   "will be handled as soon as staff are on duty, and you will be told the result.",
    "CITIZEN_TRANSFERRED_LATE_WAITING": "Your message {number} has been passed to {unit}. No officer is on duty yet; "
                                        "it will be handled as soon as staff are on duty, and you will be told the "
                                        "result.",
    "CITIZEN_EXTENDED_WAITING": "Your message {number} needs more time ({reason}). No officer is on duty yet; it "
                                "will be handled as soon as staff are on duty. We are sorry for the delay.",
    "CITIZEN_REPLY_SENT": "Your words have been passed to the officer handling {number}.",
    "CITIZEN_REPLY_KEPT": "Your words are recorded with {number}. No officer is on duty yet; the first to take it "
                          "up will read them.",
    "CITIZEN_WAITING": "Your message {number} is on record. No officer is on duty yet; it will be handled as soon "
                       "as staff are on duty, and you will be told the result. We are sorry for the wait.",
    "CITIZEN_REPLY_WHICH": "Please give the message number, for example \"reply JY2611-0001 your words\".",
    "CITIZEN_TICKET_CLOSED": "Message {number} is closed. For a new matter, just write to us.",
    "RATE_ASK": "How satisfied are you with the result? Reply:\n1 satisfied\n2 fairly satisfied\n3 not satisfied "
                "(you may add a comment after the number, e.g. \"3 no refund yet\")",
    "RATE_THANKS": "Thank you for your rating. Message {number} is now closed.",
    "RATE_REOPENED": "We are sorry the result did not satisfy you. Message {number} has gone back to the office to "
                     "be handled again; you will have an answer by {due}.",
    "RATE_REOPENED_WAITING": "We are sorry the result did not satisfy you. Message {number} will be handled again. "
                             "No officer is on duty yet; it will be handled as soon as staff are on duty, and you "
                             "will have an answer.",
    "RATE_REVIEW": "We are sorry you are still not satisfied. Message {number} has been passed to the city "
                   "education bureau for review; we will tell you the outcome.",
    "RATE_THIS": "Your message {number} ({excerpt}) has been concluded.\n{ask}",
    "RATE_REMIND": "Your message {number} has been concluded, and we have not had your rating yet.\n{ask}\n"
                   "Without a rating by tomorrow it will be closed as not rated.",
    "RATE_CHOICES": "Please reply 1 satisfied, 2 fairly satisfied or 3 not satisfied.",
    "RATE_WHICH": "You have several concluded messages; please send \"rate\", the number and your rating, e.g. "
                  "\"rate {number} 1\".",
    "RATE_NOT_YET": "Message {number} is {state}; it can be rated once it is concluded.",
    "RATE_DONE": "Message {number} has been rated already; thank you. For anything else, just write a new message.",
    "RATE_ENDED": "Message {number} is {state} and can no longer be rated. For anything else, just write a new message.",
    "NOTHING_TO_RATE": "You have no message waiting for a rating. We will ask you once one is concluded.",
    "NO_TICKETS": "You have not sent us a message yet. Just write to start one.",
    "NO_TICKETS_WHILE_WRITING": "You have not sent us a message yet; the one you are writing can be looked up once "
                                "it is submitted.",
    "PROGRESS_HEAD": "The office will handle it by the deadline, and we will tell you of every step.",
    "PROGRESS_HEAD_WAITING": "Your messages are on record, and we will tell you of every step.",
    "NOTHING_MORE_NEEDED": "Your message is submitted; nothing more is needed from you.",
    "MY_TICKETS_HEAD": "Your recent messages:",
    "MY_TICKET_LINE": "{number} {kind} | {state}{due}",
    "MY_TICKET_DUE": " | due {due}",
    "MY_TICKET_DUE_WAITING": " | no officer on duty yet; handled as soon as there is one",
    "MY_TICKETS_FOOT": "Send \"status\" and a number (e.g. \"status {short}\") for the details.",
    "MY_TICKET_TO_RATE": " | awaiting your rating",
    "MY_TICKETS_RATE_FOOT": "To rate one, send \"rate\", its number and your rating, e.g. \"rate {number} 1\" "
                            "(1 satisfied, 2 fairly satisfied, 3 not satisfied).",
    "TICKET_DETAIL": "Number: {number}\nType: {kind}\nState: {state}\nOffice in charge: {unit}",
    "TICKET_DETAIL_DUE": "Deadline: {due}",
    "TICKET_DETAIL_DUE_WAITING": "Deadline: not yet known (no officer is on duty yet; it will be handled as soon as "
                                 "staff are on duty)",
    "DUE_WAITING": "not yet known",
    "TICKET_DETAIL_TEXT": "Message: ",
    "TICKET_RESOLUTION": "Result: ",
    "TICKET_HISTORY_HEAD": "History:",
    "CITIZEN_PAGE_LINK": "On the web (for {days} days, for you only): {link}",
    "ASK_CONDUCT": "Besides the praise, your message tells of a teacher's conduct. The education bureau looks into "
                   "that itself; the school never receives it.\n1 A complaint, for the bureau to look into\n"
                   "2 Only praise, nothing to complain about\nPlease reply with the number.",
    "KIND_TAKEN": "All right: {kind}.",
    "ATTACHED": "{what} attached.",
    "MEDIA_HOW": "To send a photo or video, tap \"+\" to the right of the input box and choose Album or Camera; to "
                 "send voice, tap the microphone on the left and hold to talk. What you send is attached to the "
                 "message you are writing; your text stays as it is.",
    "MEDIA_HOW_NEW": "To send a photo or video, tap \"+\" to the right of the input box and choose Album or "
                     "Camera; to send voice, tap the microphone on the left and hold to talk. Please first describe "
                     "what happened in words; photos, voice and video you send then are attached to your message.",
}
EN["ASK_MATTER"] = EN["ACK"] + EN["ASK_WHAT_HAPPENED"]  # as ASK_MATTER is made
HOTLINES_EN = {
    HOTLINE_LIFE: "If someone is thinking of ending their life or has hurt themselves, call 120 or 110 now and stay "
                  "with them; for psychological help call the 12356 hotline.",
    HOTLINE_FIRE: "If there is a fire, people are trapped or a building is unsafe, call 119 now and get the "
                  "children to a safe place.",
    HOTLINE_DANGER: "If a child is in danger, call 110 now.",
    HOTLINE_INJURY: "If the child is hurt, take them to a doctor first (call 120 in an emergency) and keep the "
                    "medical records and photos of the injury.",
    HOTLINE_YOUTH: "If a child is bullied or needs someone to talk to, call the 12355 youth hotline.",
    HOTLINE_FOOD: "If anyone shows signs of food poisoning, see a doctor at once; food safety can also be "
                  "reported on 12315.",
    HOTLINE_BUREAU: "Education bureau hotline: {phone}.",
}
# A WeChat template message (outside the 48-hour window) to an English writer: its title and remark.
NOTICE_TITLES_EN = {"留言已受理": "Message accepted", "留言有新答复": "New reply to your message",
                    "留言已办结": "Message concluded", "留言已转办": "Message passed to another office",
                    "办结时限延长": "Deadline extended", "请评价办理结果": "Please rate the result",
                    "留言已撤回": "Message withdrawn", "留言类型已更改": "Message type changed",
                    "留言等待办理": "Message waiting for staff"}
TEMPLATE_REMARK = "请进入公众号查看详情。"
MEDIA_NAMES_EN = {"image": "Picture", "voice": "Voice message", "video": "Video", "location": "Location",
                  "link": "Link"}
KIND_NAMES_EN = {"complaint": "complaint", "suggestion": "suggestion", "inquiry": "question", "praise": "praise"}
STATE_NAMES_EN = {"submitted": "received", "assigned": "passed to the office", "accepted": "being handled",
                  "replied": "answered", "resolved": "concluded", "closed": "closed", "bounced": "being reassigned",
                  "reopened": "being handled again", "withdrawn": "withdrawn"}
CITIZEN_EVENT_NAMES_EN = {
    "submit": "You sent the message", "assign": "Passed to the office in charge", "accept": "Accepted",
    "reply": "The office answered", "citizen_reply": "Your reply", "resolve": "Concluded",
    "bounce": "Being reassigned", "transfer": "Passed to another office", "supplement": "You added to it",
    "extension_approved": "Deadline extended", "rate": "Your rating", "reopen": "Handled again",
    "review": "Passed to the city education bureau for review", "close": "Closed", "withdraw": "You withdrew it",
    "praise": "Praise passed on",
}


def names_in(kind: str, lang: str | None) -> dict:
    """A vocabulary (KIND_NAMES, STATE_NAMES, CITIZEN_EVENT_NAMES) in the person's language."""
    table = globals()[kind]
    return {**table, **globals()[kind + "_EN"]} if lang == "en" else table


def kind_name(kind: str, urgent: bool = False, lang: str | None = None) -> str:
    """The one word for a ticket's kind on every surface (the chat summary, 查询, the citizen's page, staff's
    views): a matter of someone's safety filed as a complaint is a call for help (a missing child is no 投诉 to its
    parent). `urgent`: Desk.urgent / Plan.urgent."""
    if urgent and kind == "complaint":
        return pick("URGENT_KIND", lang)
    return names_in("KIND_NAMES", lang)[kind]


def pick(name: str, lang: str | None) -> str:
    """The text called `name` in the person's language (English where translated, else Chinese)."""
    if lang == "en" and name in EN:
        return EN[name]
    return globals()[name]

# 常用回复 (reply templates of a unit)
TEMPLATE_PLACEHOLDERS_HELP = "可以使用 {编号} {截止} {单位} {学校}，使用时自动换成这件留言的编号、办结时限、承办单位和学校。"
TEMPLATE_ADDED = "已添加常用回复“{title}”。"
TEMPLATE_SAVED = "已保存常用回复“{title}”。"
TEMPLATE_DELETED = "已删除常用回复“{title}”。"
TEMPLATE_TITLE_NEEDED = "请填写常用回复的标题（不超过{limit}个字）。"
TEMPLATE_TEXT_NEEDED = "请填写常用回复的内容（不超过{limit}个字）。"
TEMPLATE_TOO_MANY = "每个单位最多保存{limit}条常用回复，请先删除不再使用的。"
TEMPLATE_REFUSED = "您不能管理该单位的常用回复。"
TEMPLATE_TEXT_EN_LONG = "英文内容请不超过{limit}个字符。"
TEMPLATE_HAS_EN = "（有英文）"
TEMPLATE_NO_ENGLISH = ("留言 {number} 的群众用英文交流，常用回复 #{n}“{title}”还没有英文内容，未发送。"
                       "请直接用英文答复，或在工作台“常用回复”页为它补上英文。")
TEMPLATE_PLACEHOLDERS_EN_HELP = "英文内容可用 {number} {due} {unit} {school}（或同样的中文占位符）。用英文留言的群众收到英文内容。"
TEMPLATE_GONE = "这条常用回复已不存在，可能已被同事删除。"
TEMPLATE_LIST_HEAD = "{unit}的常用回复（发送“回复 编号 #序号”直接答复群众）："
TEMPLATE_LIST_NONE = "{unit}还没有常用回复。请在网页工作台的“常用回复”页面添加（发送“登录”获取链接）。"
TEMPLATE_NOT_FOUND = "{unit}没有第{n}条常用回复。"

# A workbench form that was sent but not acted on (title, detail): nothing was changed, and the page says how to go on
FORM_SIGNED_OUT = ("登录已过期", "刚才的操作没有提交，没有改动任何内容。请重新登录工作台，再操作一次。")
FORM_EXPIRED = ("页面已过期", "刚才的操作没有提交，没有改动任何内容：这个页面打开后您已退出或重新登录过。"
                             "请重新打开页面，再操作一次。")

# 网页授权 sign-in to the workbench (title, detail)
OAUTH_OFF = ("未启用微信授权登录", "请在公众号中发送「登录」，打开收到的链接即可进入工作台。")
OAUTH_RESTART = ("请重新打开工作台", "微信授权登录没有完成（授权已过期或已使用）。请关闭本页，重新打开工作台；"
                                    "也可以在公众号中发送「登录」获取登录链接。")
OAUTH_NO_CODE = ("未获得微信授权", "没有收到微信的授权。请关闭本页，重新打开工作台，或在公众号中发送「登录」获取登录链接。")
OAUTH_NOT_STAFF = ("工作台仅供工作人员使用", "您的微信号还没有绑定为工作人员。如您是工作人员，请向本单位负责人索取绑定码，"
                                           "在公众号中发送「绑定 绑定码」；如您要反映问题或查询进度，请直接在公众号中留言。")
