"""The performance review as an XLSX workbook: one sheet per level (全局 bureau, 区县 districts, 单位 units) and a
说明 sheet with the formulas and weights. Numbers are numbers (rates as fractions shown as %), never text."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from bot import sheets
from handlers.review import COMPONENT_NAMES, COMPONENTS, Figures, Review

KIND_NAMES = {"office": "局机关处室", "district": "区县教育局", "school": "学校", "kindergarten": "幼儿园"}
HEAD = Font(bold=True)
FILL = PatternFill("solid", fgColor="DDEBF7")
PCT, SCORE = "0.0%", "0.0"

FIGURE_COLUMNS = [  # (header, getter, number format)
    ("受理件数", lambda f: f.rates.dispatched, "0"),
    ("办结件数", lambda f: f.rates.resolved, "0"),
    ("响应率", lambda f: f.rates.response, PCT),
    ("解决率", lambda f: f.rates.resolution, PCT),
    ("满意率", lambda f: f.rates.satisfaction, PCT),
    ("首次满意率", lambda f: f.rates.first_satisfaction, PCT),
    ("评价件数", lambda f: f.rates.rated, "0"),
    ("不满意次数", lambda f: f.rates.dissatisfied, "0"),
    ("超期件数", lambda f: f.overdue, "0"),
    ("退回次数", lambda f: f.bounced, "0"),
    ("表扬件数", lambda f: f.praise, "0"),
    ("表扬未计入件数", lambda f: len(f.praise_aside), "0"),   # a burst from new accounts: set aside, shown
    ("群众评议得分", lambda f: f.survey, SCORE),
    ("评议份数", lambda f: f.survey_n, "0"),
    ("评议人工认定天数", lambda f: f.survey_ruled, "0"),   # days a leader counted or set aside (with reasons)
    ("逾期后移出件数", lambda f: f.rates.left_late, "0"),   # counted against the unit (handlers/rates.py)
    ("代收件数", lambda f: f.rates.stood_in, "0"),         # a stand-in's work: not in the unit's rates
    ("代收他单位件数", lambda f: f.rates.proxied, "0"),     # its own 代收 for others: apart, not in its rates
    ("代收办结件数", lambda f: f.rates.proxied_resolved, "0"),
    ("代收超期件数", lambda f: f.rates.proxied_late, "0"),
    ("代收超时签收件数", lambda f: f.rates.proxied_late_response, "0"),
    ("群众撤回件数", lambda f: f.withdrawn, "0"),          # shown, not scored: many may mean pressure to withdraw
    ("无人在岗件数", lambda f: f.unattended, "0"),         # reached it with nobody bound: the 在岗 score
]


def _sheet(ws, headers: list[str], rows: list[list], formats: list[str | None]) -> None:
    ws.append(headers)
    for cell in ws[1]:
        cell.font, cell.fill = HEAD, FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in rows:
        ws.append(sheets.xlsx_row(ws, row))
    for i, fmt in enumerate(formats, start=1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(10, min(30, 2 * len(headers[i - 1]) + 2))
        if fmt:
            for cell in ws[letter][1:]:
                cell.number_format = fmt
    ws.freeze_panes = "B2"


def _figures(f: Figures) -> list:
    return [get(f) for _, get, _ in FIGURE_COLUMNS]


def write(review: Review, path, generated_at: float, tz):
    wb = Workbook()
    fig_heads = [h for h, _, _ in FIGURE_COLUMNS]
    fig_formats = [f for _, _, f in FIGURE_COLUMNS]

    ws = wb.active
    ws.title = "全局"
    b = review.bureau
    _sheet(ws, ["层级", "名称", "参评单位数", "单位平均得分", "无在岗人员单位数", *fig_heads],
           [["全局", b.name, b.units, b.mean_score, b.unstaffed, *_figures(b.figures)]],
           [None, None, "0", SCORE, "0", *fig_formats])

    ws = wb.create_sheet("区县")
    _sheet(ws, ["代码", "名称", "参评单位数", "单位平均得分", "无在岗人员单位数", *fig_heads],
           [[d.code, d.name, d.units, d.mean_score, d.unstaffed, *_figures(d.figures)] for d in review.districts],
           [None, None, "0", SCORE, "0", *fig_formats])

    ws = wb.create_sheet("单位")
    comp_heads = [f"{COMPONENT_NAMES[c]}分" for c in COMPONENTS]
    rows = []
    for u in review.units:
        rows.append([u.code, u.name, KIND_NAMES.get(u.kind, u.kind), u.district or "", u.score, u.rank,
                     u.ranked or None, u.why or None, *[u.scores.get(c) for c in COMPONENTS], *_figures(u.figures),
                     "\n".join(f"{c['author']}{'（公开）' if c['public'] else ''}：{c['text']}" for c in u.comments)])
    _sheet(ws, ["代码", "名称", "类别", "区县", "综合得分", "同类排名", "同类参评数", "不参与排名原因", *comp_heads,
                *fig_heads, "领导点评"], rows,
           [None, None, None, None, SCORE, "0", "0", None, *[SCORE] * len(COMPONENTS), *fig_formats, None])

    ws = wb.create_sheet("说明")
    notes = [
        [f"绩效考核 {review.name}（{review.period}）",
         f"生成于 {dt.datetime.fromtimestamp(generated_at, tz).strftime('%Y-%m-%d %H:%M')}"],
        [],
        ["指标", "权重", "得分（0–100）怎么算"],
        ["响应率分", review.weights.response, "响应率 × 100；响应率 = 按时签收件数 ÷ 本期分派且签收时限已到的件数"],
        ["解决率分", review.weights.resolution,
         "解决率 × 100；解决率 = 按时办结件数 ÷（本期办结件数 + 期末仍未办结且已超期的件数）"],
        ["满意率分", review.weights.satisfaction, "满意率 × 100；满意率 =（满意 + 基本满意）÷ 本期评价件数，未评价不计"],
        ["首次满意率分", review.weights.first_satisfaction,
         "首次满意率 × 100；首次满意率 = 第一次评价即满意的件数 ÷ 本期第一次评价的件数"],
        ["超期分", review.weights.overdue,
         "100 ×（1 − 本单位超期件数 ÷ 同类单位中最多的超期件数）；超期件数 = 逾期办结 + 期末仍超期未办结；同类都无超期为 100"],
        ["退回分", review.weights.bounced,
         "100 ×（1 − 本单位退回次数 ÷ 同类单位中最多的退回次数）；同类都未退回为 100"],
        ["群众评议分", review.weights.survey,
         "本期提交的评议中各量表题均值的平均，换算为 (均值 − 1) ÷ 4 × 100；样本不足的不计"],
        ["表扬分", review.weights.praise, "100 × 本单位收到的表扬（每人每期计一次；新账号集中涌入的不计）÷ 同类单位中受表扬单位的表扬中位数，最高100"],
        ["在岗分", review.weights.staffed,
         "100 ×（1 − 无人在岗件数 ÷（无人在岗件数 + 受理件数））；无人在岗件数 = 到达时本单位无人绑定、由值班室或领导代收"
         "且签收不是本单位自己完成的留言。只对有这类留言的单位计分，作为本单位自身指标之外的扣分；"
         "无人在岗件数与受理件数合计少于 [review] min_cases 时样本不足，不计分。"
         "单位没有自己办理的件、只有在岗分时不计综合得分、不排名，列为“不参与排名：无在岗人员”"],
        ["逾期后移出", "", "超过签收时限或办结时限后才退回、被转派、被撤回或因不满意重办的留言，仍计入原单位的响应率和解决率"],
        ["代收", "", "单位尚无工作人员绑定时由值班室代为签收、办结的留言：计入代办单位的响应率、解决率和满意率，"
                     "本单位只列件数、不计分；有人绑定后，本单位此后自己完成的签收、办结计入本单位"],
        ["复核", "", "两次不满意转局里复核的留言：派发和签收仍计入原单位，复核单位只计复核的办结"],
        ["样本不足", "", "响应率、解决率、满意率、首次满意率和在岗分所依据的件数少于配置 [review] min_cases 时不计分，只列数字"],
        ["评议人工认定", "", "领导核实后，将某单位某一天的评议认定为不计入或照常计入（须写明理由，记入操作记录，可改回）的天数"],
        [],
        ["综合得分", "", "= Σ(权重 × 指标得分) ÷ Σ(有得分的指标的权重)：没有数据的指标不计入，也不按 0 分算"],
        ["不参与排名", "", "四项比率和群众评议都没有得分的单位不计综合得分、不排名（不按 0 分算），"
                         "“不参与排名原因”列写明：无在岗人员（留言都由他人代收）、本期无工单或样本不足"],
        ["同类排名", "", "在同一类别（局机关处室、区县教育局、学校、幼儿园）内按综合得分从高到低，得分相同名次相同"],
        ["区县、全局", "", "所辖单位的件数合计后重新计算比率；“单位平均得分”为所辖参评单位综合得分的平均，"
                         "不含不参与排名的单位，其中无在岗人员的单位数另列"],
        ["权重设置", "", "配置文件 [review] 的 weight_* 项（及 min_cases、[campaign] min_responses）；已结束的期间按其结束时"
                       "执行的设置计分，之后修改配置不影响已结束期间的得分"],
    ]
    for row in notes:
        ws.append(sheets.xlsx_row(ws, row))
    ws["A1"].font = Font(bold=True, size=13)
    for cell in ws[3]:
        cell.font, cell.fill = HEAD, FILL
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width, ws.column_dimensions["C"].width = 16, 8, 100
    if isinstance(path, (str, Path)):
        path = Path(path)
    wb.save(path)  # a path, or a file object (the ranking page's download)
    return path

