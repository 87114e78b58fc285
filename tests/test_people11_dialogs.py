"""people11: the citizen's side of the conversation, found wrong by real use -- each a short dialogue test through
the sandbox, each failing on the code before its fix."""
from __future__ import annotations

from tests.dialog import talk


# -- a bare 我要投诉 is no emergency ----------------------------------------------------------------------------------
async def test_a_bare_complaint_in_a_few_characters_is_not_urgent(dialog):
    d = dialog
    # the urgency model took 投诉老师 / 我要投诉 as dangers (诉 and 诉老师 learnt from 不许告诉家长/老师)
    for i, text in enumerate(["投诉老师", "我要投诉", "投诉你们", "我想投诉一下"]):
        await talk(d, f"o_p11_bare{i}", text, absent=["人身安全", "紧急事项", "110"])
    # a short cry for help is still found by the rules' words
    await talk(d, "o_p11_bare9", "孩子不见了", expect="紧急事项")
