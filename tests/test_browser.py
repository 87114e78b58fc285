"""The workbench in a real browser: Playwright driving Debian's chromium (never a downloaded browser build).
Skipped, with the reason, where chromium or the playwright package is absent (.ci/run installs both)."""
from __future__ import annotations

import atexit
import io
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from storage import tickets
from tests.dialog import FEES, LEADER, SCHOOL, drain, file_ticket, heard, talk

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PARENT = "o_parent_browser"

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed (pip: .[test])")
pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                reason=f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")


_CHROMIUM: dict = {}  # this test process's one chromium: its process and its DevTools address


def _devtools() -> str:
    """The DevTools address of this test process's one chromium, started at its first use and stopped at exit. A
    launch per test was ~1.5 s of CPU (a browser's start and end); a connection is Playwright's driver alone. Each
    test still has its own browser context (cookies, storage, pages), closed when it disconnects."""
    proc = _CHROMIUM.get("proc")
    if proc is not None and proc.poll() is None:
        return _CHROMIUM["url"]
    profile = Path(tempfile.mkdtemp(prefix="tingjian-chromium-"))
    # what Playwright's own launch adds that layout depends on: no scrollbar taking 15 px of a phone's width
    proc = subprocess.Popen([CHROMIUM, *ARGS, "--hide-scrollbars", "--force-color-profile=srgb",
                             "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = profile / "DevToolsActivePort"  # chromium writes the port it took there once it listens
    deadline = time.monotonic() + 120
    while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
        assert proc.poll() is None and time.monotonic() < deadline, "chromium did not start"
        time.sleep(0.05)
    port = port_file.read_text().split()[0]

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    atexit.register(stop)
    _CHROMIUM.update(proc=proc, url=f"http://127.0.0.1:{port}")
    return _CHROMIUM["url"]


@pytest.fixture
async def browser():
    async with playwright_api.async_playwright() as p:
        b = await p.chromium.connect_over_cdp(_devtools())
        yield b
        await b.close()


async def signed_in(d, browser, openid: str, width: int = 1280):
    reply = await talk(d, openid, "登录", expect="5分钟内有效")
    link = re.search(r"http://\S+/w/signin/\S+", reply).group(0)
    context = await browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    page = await context.new_page()
    await page.goto(link)
    await page.click("#signin")
    await page.wait_for_url(re.compile(r".*/w/$"))
    return page


async def test_a_handler_signs_in_by_link_and_handles_a_ticket_to_the_end(dialog, browser):
    number = await file_ticket(dialog, PARENT, "学校乱收费，每人收资料费300元", scene="school:jn-syxx")
    await drain(dialog, PARENT)
    page = await signed_in(dialog, browser, FEES, width=390)  # on a phone
    await page.click(f"text={number}")
    await page.click("#do-accept")
    assert "已签收 " + number in await page.inner_text(".flash")
    await heard(dialog, PARENT, expect="受理")
    await page.click("#act-reply summary")
    await page.fill("#act-reply textarea", "您好，已要求学校退还资料费。")
    await page.click("#act-reply button")
    assert "已答复" in await page.inner_text("h1")
    await heard(dialog, PARENT, expect="已要求学校退还资料费")
    await page.click("#act-resolve summary")
    await page.fill("#act-resolve textarea", "学校已全额退还。")
    await page.click("#act-resolve button")
    assert "已办结" in await page.inner_text("h1")
    assert await page.query_selector("#act-reply") is None  # nothing more to answer
    await heard(dialog, PARENT, expect="学校已全额退还")
    assert (await dialog.db(tickets.get, number))["state"] == "resolved"


async def test_a_leader_reads_the_dashboard_and_exports_the_rates(dialog, browser):
    await file_ticket(dialog, PARENT, "学校乱收费，每人收资料费300元", scene="school:jn-syxx")
    page = await signed_in(dialog, browser, LEADER)
    await page.click("nav >> text=统计")
    assert "响应率" in await page.inner_text(".kpis")
    assert "市教育局教育收费管理处" in await page.inner_text("body")
    async with page.expect_download() as info:
        await page.click(".exports >> text=Excel")
    download = await info.value
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(open(await download.path(), "rb").read())).active
    assert sheet["A1"].value == "单位" and any(r[0].value == "市教育局教育收费管理处" for r in sheet.iter_rows(min_row=2))


async def test_another_units_ticket_is_refused_in_the_browser(dialog, browser):
    number = await file_ticket(dialog, PARENT, "学校乱收费，每人收资料费300元", scene="school:jn-syxx")
    page = await signed_in(dialog, browser, SCHOOL)
    response = await page.goto(page.url.replace("/w/", f"/w/t/{number}"))
    assert response.status == 404
    assert "没有这件留言" in await page.content()


async def test_a_handler_keeps_a_reply_template_and_choosing_it_fills_the_reply_box(dialog, browser):
    number = await file_ticket(dialog, PARENT, "学校乱收费，每人收资料费300元", scene="school:jn-syxx")
    page = await signed_in(dialog, browser, FEES, width=390)
    await page.click("nav >> text=常用回复")
    await page.fill("#tpl-new input[name=title]", "已转学校核实")
    await page.fill("#tpl-new textarea", "您好，{编号}已转{学校}核实。")
    await page.click("#tpl-new button")
    assert "已添加常用回复" in await page.inner_text(".flash")
    await page.goto(page.url.split("/w/")[0] + f"/w/t/{number}")
    await page.click("#act-reply summary")
    assert not await page.is_visible("#act-reply button.fill")  # with JavaScript, choosing is enough
    url = page.url
    await page.select_option("#act-reply select[name=tpl]", label="#1 已转学校核实")
    assert await page.input_value("#text-reply") == f"您好，{number}已转江南区实验小学核实。"
    assert page.url == url  # filled in place, nothing sent
    await page.click("#act-reply button.primary")
    assert "已答复" in await page.inner_text("h1")
    await heard(dialog, PARENT, expect=f"您好，{number}已转江南区实验小学核实。")


async def test_on_a_phone_a_teacher_reads_state_and_deadline_on_one_line_and_the_parents_words_before_the_forms(
        dialog, browser):
    numbers = [await file_ticket(dialog, f"o_parent_phone_{i}", text, scene="school:jn-syxx", consent="1")
               for i, text in enumerate(["作业太多，孩子每天写到晚上11点。", "学校楼梯扶手松了，孩子上下楼容易摔倒。"])]
    await talk(dialog, "o_parent_phone_0", f"回复 {numbers[0]} 今天又写到十一点，请尽快处理。")
    page = await signed_in(dialog, browser, SCHOOL, width=390)
    row = page.locator("table.tickets tbody tr", has_text=numbers[0])
    state, due = await row.locator("td.st").bounding_box(), await row.locator("td.due").bounding_box()
    assert abs(state["y"] - due["y"]) < 4 and due["x"] > state["x"]  # side by side, not stacked
    await page.click(f"text={numbers[0]}")
    later, forms = await page.locator("#citizen-later").bounding_box(), await page.locator(
        "section.actions").bounding_box()
    assert later["y"] < forms["y"] and "今天又写到十一点" in await page.inner_text("#citizen-later")
