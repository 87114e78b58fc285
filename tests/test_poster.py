"""Posters and printable QR codes: an A4 PDF per unit through the CLI against the demo's WeChat sandbox, checked
by rendering it (pdftoppm, poppler-utils) and reading the code's modules back at their printed size."""
from __future__ import annotations

import asyncio
import io
import re
import shutil
import subprocess

import pytest
import segno

from bot import poster
from bot.demo import DEMO_SURVEYS
from tests.test_survey import demo  # noqa: F401 - the demo fixture


def cjk_font_or_skip():
    try:
        return poster.find_cjk_font()
    except poster.PosterError as exc:
        pytest.skip(f"{exc} (.ci/run installs it)")


def poppler_or_skip():
    if not shutil.which("pdftoppm") or not shutil.which("pdftotext"):
        pytest.skip("pdftoppm/pdftotext absent: apt-get install poppler-utils (.ci/run installs it)")


@pytest.fixture
def cli_config(demo, tmp_path):
    app, session, clock = demo
    from tests.conftest import sandbox_wechat, write_cli_config
    return write_cli_config(tmp_path / "p.toml", tmp_path / "demo.db", wechat=sandbox_wechat(session),
                      campaign={"surveys": DEMO_SURVEYS})


async def scene_url(session, scene: str) -> str:
    async with session.get("/sandbox/qrcode", params={"scene": scene}) as resp:
        return (await resp.json())["url"]


def read_code(png: bytes, dpi: int) -> tuple[float, list[list[bool]]]:
    """(printed side of the symbol in cm, its modules) from a page rendered at dpi: the code is the only pure
    black on the page (text is dark grey)."""
    from PIL import Image
    img = Image.open(io.BytesIO(png)).convert("L")
    mask = img.point(lambda v: 255 if v < 10 else 0)
    left, top, right, bottom = mask.getbbox()
    side = right - left
    return side / dpi * 2.54, img.crop((left, top, right, bottom))


def modules(img, n: int) -> list[list[bool]]:
    step = img.width / n
    return [[img.getpixel((int((c + .5) * step), int((r + .5) * step))) < 128 for c in range(n)] for r in range(n)]


async def test_unit_poster_pdf(demo, cli_config, tmp_path):
    from bot.cli import main
    cjk_font_or_skip()
    poppler_or_skip()
    app, session, clock = demo
    out = tmp_path / "posters"
    code = await asyncio.to_thread(main, ["poster", "--unit", "jn-syxx", "--out", str(out),
                                          "--config", str(cli_config)])
    assert code == 0
    pdf = out / "poster-jn-syxx.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    for part in ("江南区实验小学", "扫码可以做什么", "7个工作日内办结", "校长信箱每周一开箱", "市教育局", "微信扫一扫"):
        assert part in text, part
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M) and "(A4)" in info
    png = subprocess.run(["pdftoppm", "-r", "150", "-gray", "-png", str(pdf)], capture_output=True).stdout
    side_cm, crop = read_code(png, 150)
    assert 8.0 <= side_cm <= 9.0                      # scannable from 1 m, fits the page
    expected = segno.make(await scene_url(session, "school:jn-syxx"), error="m")
    matrix = [[bool(v) for v in row] for row in expected.matrix]
    assert modules(crop, len(matrix)) == matrix        # the printed code is the unit's code, module for module


async def test_survey_posters_for_every_covered_unit(demo, cli_config, tmp_path):
    from bot.cli import main
    cjk_font_or_skip()
    poppler_or_skip()
    app, session, clock = demo
    out = tmp_path / "survey"
    assert await asyncio.to_thread(main, ["poster", "--all", "--survey", "school-2026", "--out", str(out),
                                          "--config", str(cli_config)]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert "poster-school-2026-jn-syxx.pdf" in files and "poster-school-2026-jb-mzyey.pdf" in files
    assert not any("jyj" in f for f in files)           # offices are not in a school survey
    pdf = out / "poster-school-2026-jn-xgyey.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "2026年度学校民主测评" in text and "服务态度、办事效率、收费规范、师德师风、总体满意度" in text
    png = subprocess.run(["pdftoppm", "-r", "150", "-gray", "-png", str(pdf)], capture_output=True).stdout
    side_cm, crop = read_code(png, 150)
    expected = segno.make(await scene_url(session, "survey:school-2026:jn-xgyey"), error="m")
    assert modules(crop, len(list(expected.matrix))) == [[bool(v) for v in row] for row in expected.matrix]
    assert await asyncio.to_thread(main, ["poster", "--unit", "jyj-zsc", "--survey", "school-2026",
                                          "--config", str(cli_config)]) == 2


async def test_qrcode_size_and_caption(demo, cli_config, tmp_path):
    from PIL import Image

    from bot.cli import main
    cjk_font_or_skip()
    out = tmp_path / "qr.png"
    assert await asyncio.to_thread(main, ["qrcode", "--unit", "jn-syxx", "--size", "10", "--caption",
                                          "江南区实验小学 · 扫码留言", "--out", str(out),
                                          "--config", str(cli_config)]) == 0
    img = Image.open(out)
    assert img.width == 1181 and img.height > img.width + 40      # 10 cm at 300 dpi, the caption below
    assert round(img.info["dpi"][0]) == 300
    plain = tmp_path / "plain.png"
    assert await asyncio.to_thread(main, ["qrcode", "--unit", "jn-syxx", "--out", str(plain),
                                          "--config", str(cli_config)]) == 0
    assert Image.open(plain).size == (945, 945)                   # 8 cm by default
    assert await asyncio.to_thread(main, ["qrcode", "--unit", "jn-syxx", "--size", "0.5",
                                          "--config", str(cli_config)]) == 2


def test_missing_cjk_font_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(poster, "FONT_CANDIDATES", (("/nonexistent/font.ttc", 0),))
    with pytest.raises(poster.PosterError, match="apt-get install fonts-wqy-microhei"):
        poster.find_cjk_font()
