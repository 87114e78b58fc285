"""Whole conversations for the staff desk and the citizen's commands (issues 8 and 9), through the sandbox: real
encrypted HTTP to /wechat, pushes read back from the sandbox. Staff are the demo's (bot/demo/staff.csv)."""
from __future__ import annotations

import asyncio
import re
import time

import aiohttp

from bot.cli import main as cli
from bot.app import DISPATCHER
from storage import staff, tickets
from tests.dialog import (DISTRICT_HEAD, DUTY, FEES, LEADER, SCHOOL, SCHOOL_HEAD, drain, file_ticket, heard, quiet,
                          send, talk, talk_all)

PARENT = "o_parent_dialog"
PARENT2 = "o_parent_nosch"   # never scanned a school's code
FEES_TEXT = "学校要求每个学生交300元资料费，还不给收据，我要投诉"
BURDEN_TEXT = "孩子作业太多，每天写到半夜十二点，希望减负"   # no school: 基础教育处, where nobody is bound


async def fees_ticket(d, parent=PARENT) -> str:
    number = await file_ticket(d, parent, FEES_TEXT, scene="school:jn-syxx")
    await heard(d, FEES, expect=["新留言待签收", number])
    return number


def seq(number: str) -> str:
    return number.rsplit("-", 1)[1].lstrip("0")


# -- issue 9 item 3: ticket numbers written slightly wrong ------------------------------------------------------

async def test_lenient_numbers_and_clear_errors_never_a_new_draft(dialog):
    d = dialog
    number = await fees_ticket(d)
    for ref in (number.lower(), number.replace("-0", "-"), "ＪＹ" + number[2:].replace("-", "－"), seq(number),
                "000" + seq(number), number[2:]):
        await talk(d, PARENT, f"查询 {ref}", expect=["编号：" + number, "资料费"], absent="请问您这次是")
    wrong = await talk(d, PARENT, "查询 JY2611-12", expect=["JY2611-0012", "您的留言编号：" + number],
                       absent="请问您这次是")
    assert "查询 " + number in wrong  # the example uses the citizen's own number
    await talk(d, PARENT, "查询 0012", expect=["没有找到", number])
    await talk(d, PARENT, f"评价 {number} 1", expect=["办结后才能评价"], absent="请问您这次是")
    await talk(d, PARENT, "评价 3", expect="没有待评价的留言", absent="请问您这次是")
    await talk(d, PARENT, "撤回 9", expect=["没有找到", number])
    await talk(d, "o_stranger", f"查询 {number}", expect=["没有找到", "还没有提交过留言"])  # not theirs: not found
    # None of these started a draft: a plain "1" is still nothing to answer.
    await talk(d, PARENT, "取消", expect="当前没有正在填写的留言")
    # Staff: lenient too, and a list line that does not exist is said so.
    await talk(d, FEES, f"详情 {number.lower().replace('-0', '-')}", expect=number)
    await talk(d, FEES, "详情 7", expect="没有第7条")


# -- issue 8 item 2: numbering past 9,999 ------------------------------------------------------------------------

async def test_tickets_keep_coming_past_number_9999(dialog):
    d = dialog
    await d.db(lambda db: db.execute("INSERT INTO ticket_counters (month, last) VALUES ('2611', 9998)"))
    numbers = [await file_ticket(d, f"o_parent_{i}", FEES_TEXT, scene="school:jn-syxx") for i in range(3)]
    assert numbers == ["JY2611-9999", "JY2611-10000", "JY2611-10001"]
    await talk(d, "o_parent_1", "查询 10000", expect=["编号：JY2611-10000", "资料费"])
    await talk(d, FEES, "详情 JY2611-10001", expect="JY2611-10001｜投诉")


# -- issue 9 item 5: the whole text, within WeChat's size limit ------------------------------------------------

async def test_query_shows_the_whole_text_split_within_the_limit(dialog):
    d = dialog
    long = "学校要求每个学生交300元资料费，还不给收据。" + "".join(f"第{i}条：资料费没有公示，家长多次询问无人答复。" for i in range(60))
    number = await file_ticket(d, PARENT, long, scene="school:jn-syxx")
    await drain(d, PARENT)
    reply = await send(d, PARENT, type="text", content=f"查询 {number}")
    assert len(reply.encode()) <= 2048
    rest = await heard(d, PARENT, count=2)  # about 4 KB: the passive part and two pushed (all of them, however late)
    whole = (reply + "\n" + rest).replace("\n", "")
    assert "第59条：资料费没有公示" in whole and "第0条" in whole


# -- issue 9 item 12: 撤回 asks first; no deadline once withdrawn ------------------------------------------------

async def test_withdraw_asks_first_and_a_withdrawn_ticket_shows_no_deadline(dialog):
    d = dialog
    number = await fees_ticket(d)
    await talk(d, PARENT, f"查询 {number}", expect="办结时限")
    await talk(d, PARENT, f"撤回 {seq(number)}", expect=["确定要撤回", f"确认撤回 {seq(number)}"])
    await quiet(d, FEES)
    assert (await d.db(tickets.get, number))["state"] == "assigned"
    await talk(d, PARENT, f"确认撤回 {seq(number)} 学校已经退钱了", expect="已撤回")
    await heard(d, FEES, expect="已由群众撤回")
    await talk(d, PARENT, f"查询 {number}", expect=["已撤回", "您撤回了留言"], absent="办结时限")
    await talk(d, PARENT, "查询", expect=number, absent="前办结")
    await talk(d, PARENT, f"撤回 {number}", expect="不能撤回")


# -- issue 8 item 12: every staff action checks the lifecycle table ------------------------------------------------

async def test_closed_and_withdrawn_tickets_are_refused_with_a_clear_message(dialog):
    d = dialog
    number = await fees_ticket(d)
    await talk(d, FEES, f"办结 {number} 已督促学校退还资料费", expect="已办结")
    await talk(d, PARENT, "1", expect="感谢您的评价")
    for command, verb in ((f"转派 {number} 江南区教育局", "转派"), (f"签收 {number}", "签收"),
                          (f"回复 {number} 再补充一句", "回复"), (f"退回 {number} 不归我们", "退回"),
                          (f"延期 {number} 3 需要核查", "延期"), (f"督办 {number}", "督办")):
        who = LEADER if verb in ("转派", "督办") else FEES
        await talk(d, who, command, expect=[f"当前状态为“已结束”，不能{verb}"])
    assert (await d.db(tickets.get, number))["state"] == "closed"
    # The citizen rating it again is told it was rated, not that it must be concluded first; the rating stands.
    for again in (f"评价 {number} 3", f"评价 {number.lower()} 3 还是不满意"):
        await talk(d, PARENT, again, expect=[number, "已经评价过了"], absent=["办结后才能评价", "请问您这次是"])
    assert (await d.db(tickets.get, number))["rating"] == 1
    other = await fees_ticket(d)
    await talk(d, PARENT, f"确认撤回 {other}", expect="已撤回")
    await talk(d, LEADER, f"转派 {other} 江南区教育局", expect="当前状态为“已撤回”，不能转派")
    await talk(d, PARENT, f"评价 {other} 1", expect=[other, "已撤回，不能再评价"], absent="办结后才能评价")
    assert (await d.db(tickets.get, other))["unit_code"] == "jyj-sfc"


# -- issue 8 item 14: inputs from the fuzzer --------------------------------------------------------------------

FUZZ = ["待办 ፩", "፩", "𐩀", "9" * 4300, "待办 " + "9" * 4300, "详情 ፩", "详情 " + "9" * 4300, "查询 𐩀",
        "撤回 " + "1" * 4300, "评价 ፩ ፩", "回复 ፩", "转派 ፩ ፩", "签收 ١", "延期 1 ፩ 理由", "待办 ９", "撤回 JY2611-0001"]


async def test_fuzzer_inputs_get_a_clear_answer_from_staff_and_citizens(dialog):
    d = dialog
    await fees_ticket(d)
    await talk(d, FEES, "待办")
    for text in FUZZ:
        for who in (FEES, PARENT):
            reply = await talk(d, who, text, absent=["出了点问题", "消息已保存"])
            assert reply, (who, text)
    # in the middle of writing a message: a menu answer in another script is not a number
    await talk(d, "o_fuzz", "学校食堂饭菜太贵了", absent="出了点问题")
    for text in ("፩", "𐩀", "9" * 4300, "١"):
        await talk(d, "o_fuzz", text, absent="出了点问题")


async def test_staff_withdraw_is_explained_not_an_error(dialog):
    d = dialog
    number = await fees_ticket(d)
    await talk(d, FEES, f"撤回 {number}", expect=["群众使用的指令", "退回 编号 理由"], absent="出了点问题")


# -- issue 8 item 16: citizen markup never reaches staff as markup ---------------------------------------------------

async def test_citizen_markup_is_neutralised_for_staff(dialog):
    d = dialog
    text = '学校乱收资料费300元，详见<a href="http://evil.example/x">这里</a>，不给收据'
    number = await file_ticket(d, PARENT, text, scene="school:jn-syxx")
    notice = await heard(d, FEES, expect=number, absent="<a")
    assert "＜a href" in notice
    await talk(d, FEES, f"详情 {number}", expect="＜a href", absent=["<a", "</a>"])
    await talk(d, FEES, f"回复 {number} 您好，请问收据是哪天要的？")
    await talk(d, PARENT, f"回复 {number} <script>alert(1)</script>九月一日")
    await heard(d, FEES, expect="＜script＞", absent="<script>")


# -- issue 8 item 4: recipients are always bound now; removal hands tickets back ------------------------------------

async def test_removed_staff_no_longer_hear_the_citizen_and_their_unit_is_told(dialog, tmp_path):
    d = dialog
    number = await fees_ticket(d)
    await talk(d, FEES, f"签收 {number}", expect="已签收")
    config = tmp_path / "cli.toml"
    config.write_text(f'[wechat]\ntoken = "tingjiandemo"\nappid = "wxd000000000demo"\nappsecret = "demo-secret"\n'
                      f'aes_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"\n'
                      f'[storage]\npath = "{tmp_path / "demo.db"}"\n', encoding="utf-8")
    code = await asyncio.to_thread(cli, ["staff", "remove", FEES, "--config", str(config)])
    assert code == 0
    d.advance(time.time() + 1 - d.clock.now())  # the CLI stamped its outbox rows with the real time
    # Nobody is left at the fees office: the duty office is told it stands in for its tickets (audit9: it was
    # told "请接手办理" of a ticket it was not allowed to act on).
    await heard(d, DUTY, expect=["请代收办理", number])
    await talk(d, PARENT, f"回复 {number} 孩子叫王小明，学号20261234")
    await heard(d, DUTY, expect=["群众回复", "王小明"])
    await quiet(d, FEES)
    assert (await d.db(tickets.get, number))["accepted_by"] is None


async def test_reminders_go_to_whoever_acts_for_the_unit_after_a_removal(dialog):
    d = dialog
    number = await fees_ticket(d)
    await talk(d, FEES, f"签收 {number}", expect="已签收")
    removed, _ = await d.db(d.app[DISPATCHER].desk.remove_staff, FEES, staff.CONSOLE)
    assert removed
    d.advance((await d.db(tickets.get, number))["due_at"] - d.clock.now() + 60)  # just past the deadline
    await drain(d, DUTY)
    await d.sweep()
    await heard(d, DUTY, expect=["催办", number])
    await quiet(d, FEES)


async def test_rebinding_elsewhere_releases_open_tickets_to_the_unit(dialog):
    d = dialog
    # consent="1": the school may know the parent, so the school handles it (a parent who refuses is never
    # handled by the school, issue 9.2).
    number = await file_ticket(d, PARENT, "学校食堂的饭菜里吃出了虫子，孩子回家肚子疼", scene="school:jn-syxx",
                               consent="1")
    ticket = await d.db(tickets.get, number)
    unit_staff = await d.db(staff.of_unit, ticket["unit_code"], ("handler",))
    assert unit_staff, ticket["unit_code"]
    who = unit_staff[0]
    await drain(d, who, SCHOOL_HEAD, DUTY)
    await talk(d, who, f"签收 {number}", expect="已签收")
    code = await d.db(staff.create_invite, "jb-wcxx", "handler", "调任·张老师", time.time(), 3600)
    await talk(d, who, f"绑定 {code}", expect="绑定成功")
    others = [o for o in await d.db(staff.of_unit, ticket["unit_code"]) if o != who] or [DUTY]
    await heard(d, others[0], expect=["请接手办理", number])
    await talk(d, PARENT, f"回复 {number} 孩子今天好些了")
    await heard(d, others[0], expect="孩子今天好些了")


# -- issue 8 item 11: nobody decides their own extension --------------------------------------------------------

async def test_a_supervisor_cannot_approve_their_own_extension(dialog):
    d = dialog
    number = await file_ticket(d, PARENT, "学校食堂的饭菜里吃出了虫子，孩子回家肚子疼", scene="school:jn-syxx",
                               consent="1")  # the school may know the parent: the school handles it (9.2)
    ticket = await d.db(tickets.get, number)
    assert ticket["unit_code"] == "jn-syxx", ticket["unit_code"]
    # An urgent matter is copied to both heads at once: let those copies arrive before listening for more.
    await drain(d, SCHOOL_HEAD, DISTRICT_HEAD, SCHOOL, wait=1.0)
    await talk(d, SCHOOL_HEAD, f"延期 {number} 5 需要调取监控", expect="已提交")
    await quiet(d, SCHOOL_HEAD)
    await heard(d, DISTRICT_HEAD, expect=["延期申请", number])
    await talk(d, SCHOOL_HEAD, f"同意延期 {number}", expect="不能审批自己提出的延期申请")
    fees = await fees_ticket(d, "o_parent_fees")
    await talk(d, SCHOOL_HEAD, f"同意延期 {fees}", expect="不在您的办理范围")  # not theirs: says nothing more
    assert (await d.db(tickets.get, number))["due_at"] == ticket["due_at"]
    await talk(d, DISTRICT_HEAD, f"同意延期 {number}", expect="已同意延期")
    await heard(d, SCHOOL_HEAD, expect="延期已同意")
    # A school handler's request goes above the school too (a school never extends its own deadline, audit4).
    other = await file_ticket(d, PARENT, "学校操场的篮球架松动了，随时可能倒下砸到学生", scene="school:jn-syxx",
                              consent="1")
    await drain(d, SCHOOL_HEAD, DISTRICT_HEAD, SCHOOL, wait=1.0)  # urgent too (砸到): its copies first
    await talk(d, SCHOOL, f"延期 {other} 2 等厂家维修", expect="已提交")
    await heard(d, DISTRICT_HEAD, expect=["延期申请", other])
    await talk(d, SCHOOL, f"同意延期 {other}", expect="需由负责人")
    await talk(d, SCHOOL_HEAD, f"同意延期 {other}", expect="上级负责人")
    await talk(d, DISTRICT_HEAD, f"不同意延期 {other} 请先拆除", expect="已不同意延期")


# -- issue 9 item 14: 代收 is not a dead end ---------------------------------------------------------------------

async def test_the_duty_office_can_act_on_what_it_holds_and_the_flag_clears_on_binding(dialog):
    d = dialog
    number = await file_ticket(d, PARENT2, BURDEN_TEXT)
    await heard(d, DUTY, expect=["代收", "基础教育处", number])
    await talk(d, DUTY, "待办", expect=[number, "基础教育处", "（代收）"])
    await talk(d, DUTY, "详情 1", expect=[number, BURDEN_TEXT, "签收"], absent="不在您的办理范围")
    await talk(d, DUTY, f"签收 {number}", expect=["已签收", "代为签收"])
    await heard(d, PARENT2, expect="受理", absent="签收")  # plain words for the citizen
    # Someone binds at the unit: the ticket comes home, the duty office no longer holds it.
    code = await d.db(staff.create_invite, "jyj-jjc", "handler", "基础教育处·新同事", time.time(), 3600)
    pasted = "\u200b" + "".join(chr(ord(c) + 0xFEE0) for c in code)  # full-width, with a zero-width space
    await talk(d, "o_new_jjc", f"绑定 {pasted}", expect=["绑定成功", "由市教育局办公室（值班室）代收", number])
    t = await d.db(tickets.get, number)
    assert not t["unattended"] and t["accepted_by"] is None
    await talk(d, "o_new_jjc", "待办", expect=number, absent="（代收）")
    await talk(d, DUTY, "待办", expect="没有待办")
    await talk(d, PARENT2, f"回复 {number} 老师今天又布置了三张卷子")
    await heard(d, "o_new_jjc", expect="三张卷子")


async def test_transfer_to_a_unit_with_nobody_warns_and_the_duty_office_stands_in(dialog):
    d = dialog
    number = await file_ticket(d, PARENT2, BURDEN_TEXT)
    await drain(d, DUTY)
    await talk(d, DUTY, f"转派 {number} 市教育局发展规划处 学校布局问题", expect=["已将", "尚未绑定工作人员"])
    await heard(d, DUTY, expect=["代收", "发展规划处", "由局值班室·刘主任转来", "学校布局问题"])
    await talk(d, DUTY, f"转派 {number} 江南区教育局", expect="已将")


# -- issue 9 item 15: every notice says why; the clock restarts; plain words for citizens -------------------------

async def test_a_transfer_says_by_whom_and_why_and_restarts_the_clock(dialog):
    d = dialog
    number = await fees_ticket(d)
    before = await d.db(tickets.get, number)
    d.advance(3 * 86400)
    await drain(d, PARENT)
    await talk(d, LEADER, f"转派 {number} 江南区教育局 属区管学校收费", expect="已将")
    await heard(d, "o_demo_staff_jn", expect=["【转派】由市教育局·周局长转来", "属区管学校收费", number])
    after = await d.db(tickets.get, number)
    assert after["due_at"] > before["due_at"] and after["dispatched_at"] > before["dispatched_at"]
    await heard(d, PARENT, expect=["已转由“江南区教育局”办理", "前办结"])
    await talk(d, PARENT, f"查询 {number}", expect="转交其他单位办理", absent=["转派", "签收"])


async def test_after_two_dissatisfied_ratings_the_review_keeps_its_history(dialog):
    d = dialog
    number = await fees_ticket(d)
    await talk(d, FEES, f"办结 {number} 已核实，收费合规")
    await talk(d, PARENT, "3 根本没退钱", expect="重新办理")
    await talk(d, FEES, f"办结 {number} 已再次核实")
    await talk(d, PARENT, "3 还是没退", expect="复核")
    await talk(d, LEADER, f"转派 {number} 市教育局教育收费管理处", expect="两次不满意")
    await talk(d, LEADER, f"转派 {number} 江南区教育局 请区局督促学校退费", expect="已将")
    await heard(d, "o_demo_staff_jn", expect=["【转派】", "两次不满意", "还是没退", "请区局督促学校退费"])


async def test_a_follow_up_merged_into_the_open_ticket_reaches_its_handler(dialog):
    d = dialog
    number = await fees_ticket(d)
    await talk(d, FEES, f"签收 {number}")
    reply = await talk(d, PARENT, "学校又让交200元资料费了，还是没有收据")
    for _ in range(6):
        if "同类问题" in reply:
            reply = await talk(d, PARENT, "1", expect=f"已将您的补充内容加入留言 {number}")
            break
        answer = "1" if "请问您这次是" in reply else "0" if ("电话" in reply or "学校" in reply) else "2"
        reply = await talk(d, PARENT, answer)
    else:
        raise AssertionError(reply)
    await heard(d, FEES, expect=["群众补充", number, "又让交200元"])


# -- issue 9 item 16: the whole text, every attachment, the full history -----------------------------------------

async def test_detail_pages_the_text_lists_attachments_and_keeps_every_event(dialog):
    d = dialog
    long = "学校要求每个学生交300元资料费，还不给收据。" + "".join(f"第{i}次：老师又在家长群里催交资料费。" for i in range(80))
    number = await file_ticket(d, PARENT, long, scene="school:jn-syxx",
                               attachments=[{"type": "image"}, {"type": "voice", "recognition": ""}])
    await talk(d, FEES, f"签收 {number}")
    for i in range(10):
        await talk(d, FEES, f"备注 {number} 第{i}次电话联系学校财务，对方说会在本周内给出书面说明并退还费用")
    await drain(d, FEES)
    full = await talk_all(d, FEES, f"详情 {number}", expect=["附件2个", "1. 图片", "2. 语音", f"详情 {number} 2"],
                          absent="附件：2个")
    assert full.count("内部备注") == 10 and "对方说会在本周内给出书面说明并退还费用" in full  # notes uncut
    assert "第79次" not in full
    pages = [await talk(d, FEES, f"详情 {number} {p}", expect=f"第{p}/3页") for p in (2, 3)]
    assert "第79次" in "".join(pages)
    for page in pages:
        assert len(page.encode()) <= 2048
    await talk(d, PARENT, f"查询 {number}", absent=["内部备注", "电话联系学校财务"])


# -- issue 9 item 17: leaders supervise -----------------------------------------------------------------------

async def test_leaders_supervise_urge_list_overdue_and_get_the_weekly_link(dialog):
    d = dialog
    first = await fees_ticket(d)
    second = await file_ticket(d, PARENT2, BURDEN_TEXT)
    await talk(d, LEADER, f"督办 {first} 请本周五前办结", expect=["已督办", first])
    await heard(d, FEES, expect=["【督办】", "市教育局·周局长", "请本周五前办结"])
    await talk(d, FEES, f"详情 {first}", expect="督办（市教育局·周局长）：请本周五前办结")
    await talk(d, DISTRICT_HEAD, f"催办 {first}", expect="不在您的办理范围")
    await talk(d, FEES, f"督办 {first}", expect="需由局领导")
    await talk(d, LEADER, "超期", expect="没有超期")
    d.advance(20 * 86400)
    overdue = await talk(d, LEADER, "超期", expect=["超期未办结的留言共2件", "【市教育局教育收费管理处】1件",
                                                    "【市教育局基础教育处】1件", first, second])
    assert overdue.index("基础教育处") < overdue.index(second)
    await talk(d, FEES, "超期", expect="需由负责人")
    reply = await talk(d, LEADER, "周报", expect=["周报", "/digest/"])
    link = re.search(r"https?://\S+", reply).group(0)
    async with aiohttp.ClientSession() as s, s.get(link) as resp:
        assert resp.status == 200


async def test_todo_sorts_by_deadline_marks_flags_and_names_the_unit(dialog):
    d = dialog
    fees = await fees_ticket(d)                                   # 7 working days
    d.advance(3600)
    burden = await file_ticket(d, PARENT2, "请问今年中考录取分数线是多少？")  # an inquiry: 3 days; nobody bound
    todo = await talk(d, LEADER, "待办", expect=["按办结时限排序", "市教育局招生入学处", "市教育局教育收费管理处"])
    lines = [line for line in todo.splitlines() if line[:1].isdigit()]
    assert burden in lines[0] and "（代收）" in lines[0] and fees in lines[1]
    t1, t2 = await d.db(tickets.get, burden), await d.db(tickets.get, fees)
    assert t1["due_at"] < t2["due_at"]


# -- the command table answers; commands never fall into intake ---------------------------------------------------

async def test_help_and_please_add_answers_come_from_the_table(dialog):
    d = dialog
    number = await fees_ticket(d)
    await talk(d, FEES, f"回复 {number}", expect=f"请写上答复内容，例如“回复 {number} 您好，已核实……”")
    await talk(d, FEES, "签收", expect="请写明留言编号，例如“签收 JY2611-0001”")
    await talk(d, LEADER, f"转派 {number}", expect="请写上单位")
    await talk(d, PARENT, "同意延期 " + number, expect="仅限已绑定的工作人员")
    await talk(d, PARENT, "帮助", expect=["查询", "撤回", "评价"], absent="转派")
    await talk(d, "o_demo_staff_jn", "随便说点什么", expect="工作人员指令", absent="转派")  # a handler: no 转派



async def test_a_leaders_overdue_list_is_one_answer_however_many_are_late(dialog):
    """At a million tickets a leader's 超期 was 139,390 characters: 134 WeChat messages (ops11). Now the most
    overdue units first, ten at most, five tickets each, the rest counted, and the whole list on the workbench."""
    from tests.test_bureau10 import _plant
    d = dialog
    now = d.clock.now()
    units = ["jb-bhxx", "jb-mzyey", "jb-wcxx", "jb-yzzx", "jn-dszx", "jn-hpcz", "jn-syxx", "jn-xgyey", "jn-xhyey",
             "jn-yyxx", "jyj-aqc", "jyj-ghc"]
    for i, unit in enumerate(units):
        await d.db(_plant, unit, 3 + i, now - 10 * 86400, False, f"late{i}")
    answer = await talk_all(d, LEADER, "超期", expect=["超期未办结的留言共102件", "另有2个单位共7件超期",
                                                       "工作台", "登录"])
    heads = re.findall(r"【(.+?)】(\d+)件", answer)
    assert len(heads) == 10 and [int(n) for _, n in heads] == sorted((int(n) for _, n in heads), reverse=True)
    assert int(heads[0][1]) == 14 and answer.count("· JY") == 50, answer
    assert "· ……另有9件" in answer  # the unit with 14: five listed
    assert len(answer.encode()) < 2 * 2048, len(answer.encode())  # two WeChat messages at most
