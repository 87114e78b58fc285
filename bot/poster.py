"""Printable posters (A4 PDF) and captioned QR images for a unit's parameter QR code.

The QR code encodes the `url` that WeChat's qrcode/create returns for the unit's scene (WeChat's documentation
says to draw the code from it), drawn as vector squares so it prints sharp at any size. The symbol is 85 mm
wide on the poster: a phone reads a code from about ten times its side, so it works from 1 m (the issue asks for
at least 8 cm).

Chinese text needs a CJK font that reportlab can embed (TrueType outlines): WenQuanYi Micro Hei from Debian's
fonts-wqy-microhei (or Zen Hei, or Droid Sans Fallback). Noto CJK ships CFF outlines, which reportlab cannot
embed, so it is tried last and skipped if it fails.
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from xml.sax.saxutils import escape

import segno

FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", None),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
)
FONT_PACKAGE = "fonts-wqy-microhei"
QR_SIDE_MM = 85


class PosterError(Exception):
    pass


def find_cjk_font() -> tuple[str, int | None]:
    """(path, index in a collection) of the first CJK font reportlab can use; PosterError naming the Debian
    package when there is none."""
    from reportlab.pdfbase.ttfonts import TTFont
    for path, index in FONT_CANDIDATES:
        if not Path(path).is_file():
            continue
        try:
            TTFont("probe", path, subfontIndex=index or 0)
        except Exception:  # noqa: BLE001 - CFF outlines and the like: try the next one
            continue
        return path, index
    raise PosterError(f"no Chinese font found that can be embedded in a PDF; install one: "
                      f"sudo apt-get install {FONT_PACKAGE}")


def _register_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    name = "TingjianCJK"
    if name not in pdfmetrics.getRegisteredFontNames():
        path, index = find_cjk_font()
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index or 0))
    return name


@dataclass
class PosterContent:
    """Everything printed on one poster (texts in Chinese, as the public reads them)."""

    unit_name: str
    qr_url: str
    organisation: str
    bot_name: str
    headline: str                       # what the code is for, in one line
    uses: list[str]                     # what one can do after scanning
    promise: str                        # the complaint deadline promise
    commitment: str = ""                # the unit's own published commitment
    details: list[str] = field(default_factory=list)   # survey: period, questions
    footnote: str = ""


def unit_poster(unit: dict, qr_url: str, organisation: str, bot_name: str, days: dict[str, int]) -> PosterContent:
    return PosterContent(
        unit_name=unit["name"], qr_url=qr_url, organisation=organisation, bot_name=bot_name,
        headline="有问题，扫码说 · 限时答复",
        uses=["投诉、建议、咨询、表扬，直接留言，可附图片和语音",
              "留言自动转给负责的部门，告知受理编号和办结时限",
              "随时查询办理进度，对办理结果进行评价"],
        promise=(f"咨询{days['inquiry']}个工作日内答复，投诉和建议{days['complaint']}个工作日内办结，"
                 f"校园安全问题{days['safety_complaint']}个工作日内办结；超期未办结的，由上级督办。"),
        commitment=unit.get("commitment") or "",
        footnote=f"微信扫一扫，关注“{bot_name}” · 您的身份信息依规保密")


def survey_poster(unit: dict, qr_url: str, organisation: str, bot_name: str, survey) -> PosterContent:
    topics = "、".join(q.topic for q in survey.questions if q.type == "scale")

    def day(d: dt.date) -> str:
        return f"{d.year}年{d.month}月{d.day}日"
    return PosterContent(
        unit_name=unit["name"], qr_url=qr_url, organisation=organisation, bot_name=bot_name,
        headline=f"{survey.title} · 扫码参与评议",
        uses=[f"评议时间：{day(survey.opens)}至{day(survey.closes)}",
              f"共{len(survey.questions)}题，约1分钟；每人每校一份，截止前可修改",
              "匿名评议，结果作为学校考核的重要依据"],
        promise="评议中反映的具体问题，经您同意可转为留言，由承办单位限时办理并答复您。",
        commitment=unit.get("commitment") or "",
        details=[f"评议内容：{topics}"] if topics else [],
        footnote=f"微信扫一扫，关注“{bot_name}”即可开始 · 您的身份信息依规保密")


def render_pdf(content: PosterContent, out: str | Path) -> Path:
    """One A4 page: the unit's name, the QR code (90 mm), what it is for, the promise and the commitment."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph
    from reportlab.pdfgen import canvas

    font = _register_font()
    width, height = A4
    green, dark, grey = colors.HexColor("#07883f"), colors.HexColor("#1f1f1f"), colors.HexColor("#666666")
    out = Path(out)
    c = canvas.Canvas(str(out), pagesize=A4)
    c.setTitle(f"{content.unit_name} · {content.headline}")
    c.setAuthor(content.organisation)

    # Header band: the organisation and the service.
    c.setFillColor(green)
    c.rect(0, height - 26 * mm, width, 26 * mm, stroke=0, fill=1)
    c.setFillColor(colors.white)
    c.setFont(font, 15)
    c.drawCentredString(width / 2, height - 11.5 * mm, f"{content.organisation} · “{content.bot_name}”群众诉求服务")
    c.setFont(font, 12)
    c.drawCentredString(width / 2, height - 19.5 * mm, "亮承诺 · 听民声 · 限时办")

    def paragraph(text: str, size: float, y: float, color=dark, align: int = 1, indent: float = 20 * mm,
                  leading: float | None = None) -> float:
        """Draw wrapped text whose top is at y; returns the y below it."""
        style = ParagraphStyle("p", fontName=font, fontSize=size, leading=leading or size * 1.45,
                               textColor=color, alignment=align, wordWrap="CJK")
        p = Paragraph(escape(text), style)  # Paragraph reads markup: a commitment's "<" or "&" is text
        _, h = p.wrap(width - 2 * indent, height)
        p.drawOn(c, indent, y - h)
        return y - h

    y = height - 40 * mm
    y = paragraph(content.unit_name, 30, y, leading=38) - 4 * mm
    y = paragraph(content.headline, 17, y, color=green) - 6 * mm

    # The QR code, as vector modules, centred; the symbol itself is QR_SIDE_MM wide, its quiet zone (four
    # modules of white) is the page around it.
    qr = segno.make(content.qr_url, error="m")
    matrix = [list(row) for row in qr.matrix]
    n = len(matrix)
    side = QR_SIDE_MM * mm
    module = side / n
    quiet = 4 * module
    x0, top = (width - side) / 2, y - quiet
    c.setFillColor(colors.black)
    for r, row in enumerate(matrix):
        for col, dark_module in enumerate(row):
            if dark_module:
                c.rect(x0 + col * module, top - (r + 1) * module, module, module, stroke=0, fill=1)
    y = top - side - quiet + 2 * mm
    y = paragraph("微信扫一扫", 13, y, color=grey) - 6 * mm

    def section(title: str, lines: list[str], y: float) -> float:
        c.setFillColor(green)
        c.rect(20 * mm, y - 6.2 * mm, 1.6 * mm, 6 * mm, stroke=0, fill=1)
        y = paragraph(title, 14, y, color=green, align=0, indent=24 * mm) - 1.5 * mm
        for line in lines:
            y = paragraph(line, 11.5, y, align=0, indent=24 * mm) - 1 * mm
        return y - 4 * mm

    y = section("扫码可以做什么", [f"· {u}" for u in content.uses] + [f"· {d}" for d in content.details], y)
    y = section("我们的承诺", [content.promise], y)
    if content.commitment:
        y = section(f"{content.unit_name}承诺", [content.commitment], y)

    c.setStrokeColor(colors.HexColor("#dddddd"))
    c.line(20 * mm, 20 * mm, width - 20 * mm, 20 * mm)
    c.setFillColor(grey)
    c.setFont(font, 10)
    c.drawCentredString(width / 2, 13 * mm, content.footnote)
    if y + 4 * mm < 22 * mm:  # the last section ran into the footer
        raise PosterError(f"{content.unit_name}: the texts do not fit on one page; shorten the commitment")
    c.showPage()
    c.save()
    return out


def qr_png(url: str, size_cm: float = 8.0, caption: str = "", dpi: int = 300) -> bytes:
    """The QR code as a PNG printed `size_cm` wide at `dpi`, with an optional caption below it."""
    from PIL import Image, ImageDraw, ImageFont

    qr = segno.make(url, error="m")
    side = round(size_cm / 2.54 * dpi)
    modules = qr.symbol_size(scale=1, border=4)[0]
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=max(1, side // modules), border=4)
    code = Image.open(io.BytesIO(buf.getvalue())).convert("L").resize((side, side), Image.NEAREST)
    if not caption:
        out = io.BytesIO()
        code.save(out, format="PNG", dpi=(dpi, dpi))
        return out.getvalue()
    path, index = find_cjk_font()
    font_px = max(12, side // 14)
    font = ImageFont.truetype(path, font_px, index=index or 0)
    draw = ImageDraw.Draw(code)
    lines = _wrap(caption, font, draw, side - 2 * font_px)
    pad = font_px // 2
    canvas = Image.new("L", (side, side + len(lines) * (font_px + pad) + pad), 255)
    canvas.paste(code, (0, 0))
    draw = ImageDraw.Draw(canvas)
    y = side
    for line in lines:
        w = draw.textlength(line, font=font)
        draw.text(((side - w) / 2, y), line, font=font, fill=0)
        y += font_px + pad
    out = io.BytesIO()
    canvas.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


def _wrap(text: str, font, draw, width: float) -> list[str]:
    lines, line = [], ""
    for ch in text:
        if ch == "\n" or draw.textlength(line + ch, font=font) > width:
            lines.append(line)
            line = "" if ch == "\n" else ch
        else:
            line += ch
    return [*lines, line] if line else lines
