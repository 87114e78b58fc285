"""What a bureau's IT staff run: /metrics, backup and restore, the deployment files."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import wx

ROOT = Path(__file__).resolve().parents[1]


def metric(text: str, name: str, **labels) -> float:
    label = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name + (f"{{{label}}}" if label else "")) + r" ([0-9.e+-]+)"
    m = re.search(r"^" + pattern + "$", text, re.M)
    assert m, f"{name} {labels} not in metrics"
    return float(m.group(1))


async def test_metrics_in_prometheus_format(bot):
    body, q = wx.encrypted(wx.text_xml("o_m", "帮助"), "o_m")
    assert (await bot.post(wx.url("/wechat", q), data=body.encode(), headers={"Content-Type": "text/xml"})).status \
        == 200
    q["signature"] = "0" * 40
    await bot.post(wx.url("/wechat", q), data=body.encode(), headers={"Content-Type": "text/xml"})
    resp = await bot.get("/metrics")
    assert resp.status == 200 and resp.content_type == "text/plain"
    text = await resp.text()

    assert metric(text, "tingjian_messages_total", kind="text") >= 1
    assert metric(text, "tingjian_webhook_rejected_total", status="403") >= 1
    assert metric(text, "tingjian_webhook_seconds_count") >= 2
    assert metric(text, "tingjian_write_lock_wait_seconds_count") >= 1
    assert metric(text, "tingjian_outbox_messages", status="pending") >= 0
    assert metric(text, "tingjian_outbox_messages", status="failed") == 0
    assert "tingjian_sweep_seconds_bucket" in text and "tingjian_digest_seconds_bucket" in text
