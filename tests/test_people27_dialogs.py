"""people27: a parent on a phone, messily -- each a short dialogue test through the sandbox (WeChat's encrypted XML
over real HTTP, the shipped router, the demo directory), each failing on main unless marked a guard."""
from __future__ import annotations

import re

from tests.dialog import DISTRICT, NUMBER, heard, talk, talk_all

MISSING = "孩子放学到现在还没回家，班主任电话也打不通，急死了"


async def page(d, detail: str) -> str:
    """The citizen's own web page, from the link 查询 编号 gave."""
    link = re.search(r"http://[^/]+(/t/\S+)", detail).group(1)
    async with d.session.get(link) as resp:
        assert resp.status == 200, await resp.text()
        return re.sub(r"\s+", " ", await resp.text())


# -- 1. one word for the kind: the summary's 紧急求助 everywhere, and the page says it is urgent --------------------
async def test_a_call_for_help_is_named_alike_in_the_summary_the_list_the_detail_the_page_and_for_staff(dialog):
    d, p = dialog, "o_p27_urgent"
    await talk(d, p, MISSING, expect="110")
    await talk(d, p, "江南区育英小学")
    await talk(d, p, "13912345678")
    await talk(d, p, "1", expect="类型：紧急求助")
    number = NUMBER.search(await talk(d, p, "1", expect="受理编号")).group(0)
    # it was 投诉 in 查询's list, its detail, the web page (which did not say it was urgent) and for staff
    await talk(d, p, "查询", expect=f"{number} 紧急求助", absent="投诉")
    detail = await talk_all(d, p, "查询 " + number, expect="类型：紧急求助", absent="类型：投诉")
    html = await page(d, detail)
    assert "<dd>紧急求助</dd>" in html and "已同时报告主管负责人" in html and "投诉" not in html, html
    await heard(d, DISTRICT, expect="类型：紧急求助", absent="类型：投诉")
    await talk(d, DISTRICT, "待办", expect=f"{number}｜紧急求助", absent="｜投诉")
    await talk_all(d, DISTRICT, "详情 " + number, expect="紧急求助", absent="投诉·")


async def test_an_ordinary_complaint_is_still_a_complaint_everywhere(dialog):  # a guard
    d, p = dialog, "o_p27_plain"
    await talk(d, p, "江南区实验小学收资料费每人300元 不给收据")
    await talk(d, p, "1")
    await talk(d, p, "0")
    await talk(d, p, "2", expect="类型：投诉")
    number = NUMBER.search(await talk(d, p, "1", expect="受理编号")).group(0)
    html = await page(d, await talk_all(d, p, "查询 " + number, expect="类型：投诉"))
    assert "<dd>投诉</dd>" in html and "紧急" not in html, html
