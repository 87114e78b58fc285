"""Whole conversations for the staff desk and the citizen's commands (issues 8 and 9), through the sandbox."""
from __future__ import annotations

from tests.dialog import FEES, dialog, file_ticket, heard, talk  # noqa: F401  (dialog is a fixture)

PARENT = "o_parent_dialog"


async def test_a_ticket_reaches_the_office_and_the_parent_can_query_it(dialog):
    number = await file_ticket(dialog, PARENT, "学校要求每个学生交300元资料费，还不给收据，我要投诉", scene="school:jn-syxx")
    await heard(dialog, FEES, expect=["新留言待签收", number])
    await talk(dialog, PARENT, "查询 " + number, expect=["编号：" + number, "资料费"])
