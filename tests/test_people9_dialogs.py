"""people9: parents, teachers and leaders on a phone -- each a short dialogue test through the sandbox, each failing
on the code before its fix."""
from __future__ import annotations

from storage import tickets
from tests.dialog import DUTY, FEES, LEADER, SCHOOL, SCHOOL_HEAD, drain, file_ticket, heard, send, talk
from tests.test_people6_dialogs import finish


# -- a teacher asking how to do what their role does not do ------------------------------------------------------
async def test_how_to_do_a_command_one_may_not_use_says_who_may_and_what_to_do_instead(dialog):
    d = dialog
    # each was "这条消息不是指令…" and the whole list (转派 is not in a handler's list)
    await talk(d, FEES, "怎么转派", expect=["“转派”需由", "退回 编号 理由"], absent=["不是指令", "签收全部"])
    await talk(d, SCHOOL_HEAD, "如何转派？", expect=["学校、幼儿园不能转派", "退回 编号 理由"], absent="不是指令")
    await talk(d, DUTY, "怎么转派", expect=["转派 编号 单位 [理由]", "例如：“转派 JY2611-0001"], absent="不是指令")
