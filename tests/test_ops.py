"""What a bureau's IT staff run: /metrics, backup and restore, the deployment files."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import wx
from tests.conftest import write_cli_config

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
    assert metric(text, "tingjian_media_files", status="pending") == 0  # no image sent
    assert metric(text, "tingjian_media_files", status="expired") == 0
    assert "tingjian_sweep_seconds_bucket" in text and "tingjian_digest_seconds_bucket" in text


# --- backup and restore -------------------------------------------------------------------------------------

def _tickets_and_pending(path) -> tuple[list[str], list[int]]:
    import sqlite3
    conn = sqlite3.connect(path)
    try:
        numbers = [r[0] for r in conn.execute("SELECT number FROM tickets ORDER BY number")]
        pending = [r[0] for r in conn.execute("SELECT id FROM outbox WHERE status = 'pending' ORDER BY id")]
        return numbers, pending
    finally:
        conn.close()


async def test_backup_while_serving_then_wipe_and_restore(make_config, tmp_path, capsys):
    import asyncio
    import shutil
    import time

    from bot.media import MediaStore
    from bot.app import DB, SCHEDULER, create_app
    from bot.cli import main
    from storage import outbox
    from tests.conftest import running
    from tests.test_digest import add
    config = make_config(outbox={"poll_seconds": 3600})  # the API is down anyway: rows stay pending
    cli_config = write_cli_config(tmp_path / "cli.toml", config.storage.path)
    dest = tmp_path / "backups" / "b1.db"
    now = time.time()
    async with running(create_app(config)) as app:
        app[SCHEDULER].pause()
        db = app[DB]
        await db.run(lambda conn: [add(conn, n, "jyj-sfc", created=now, accept_due=now + 86400, due=now + 9e5)
                                   for n in range(1, 301)])
        await db.run(lambda conn: outbox.enqueue_replies(
            conn, [{"text": f"通知{i}", "to": f"o_{i}", "extra": None} for i in range(7)], "", now + 3600,
            source="test"))
        before = _tickets_and_pending(config.storage.path)
        media_folder = config.media.folder(config.storage.path)  # an attachment's copy is backed up too
        sha = MediaStore(media_folder).put(b"\x89PNG\r\n\x1a\n a parent's photo")
        writes = 0

        async def keep_writing():
            nonlocal writes
            while True:
                await db.run(lambda conn: conn.execute("UPDATE users SET last_seen_at = last_seen_at"))
                writes += 1
                await asyncio.sleep(0)
        writer = asyncio.create_task(keep_writing())
        assert await asyncio.to_thread(main, ["backup", str(dest), "--config", str(cli_config)]) == 0
        writer.cancel()
        assert writes > 0  # the service kept writing during the copy
        out = capsys.readouterr().out
        assert "300 ticket(s), 7 message(s) waiting" in out and "1 new attachment file(s)" in out
        assert oct(dest.stat().st_mode)[-3:] == "600"
        assert oct(MediaStore(f"{dest}.media").path(sha).stat().st_mode)[-3:] == "600"
        # While the service runs, restore refuses.
        assert await asyncio.to_thread(main, ["restore", str(dest), "--force", "--config", str(cli_config)]) == 1
        assert "in use" in capsys.readouterr().err
    assert main(["restore", str(dest), "--config", str(cli_config)]) == 1  # exists: needs --force
    assert "--force" in capsys.readouterr().err
    for suffix in ("", "-wal", "-shm"):  # the disk is lost
        Path(f"{config.storage.path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(media_folder)
    assert main(["restore", str(dest), "--config", str(cli_config)]) == 0
    assert "1 attachment file(s) restored" in capsys.readouterr().out
    assert MediaStore(media_folder).read(sha) == b"\x89PNG\r\n\x1a\n a parent's photo"
    assert _tickets_and_pending(config.storage.path) == before
    assert len(before[0]) == 300 and len(before[1]) == 7
    async with running(create_app(config)) as app:  # and the service starts on it
        assert await app[DB].run(lambda conn: conn.execute("SELECT count(*) FROM tickets").fetchone()[0]) == 300


def test_restore_force_keeps_the_replaced_database(make_config, tmp_path, capsys):
    from bot.cli import main
    from storage.db import Database
    from tests.test_digest import add
    from bot.demo import DEMO_DIRECTORY
    from storage import directory
    path = tmp_path / "live.db"
    db = Database(path).start()
    db.run_sync(directory.upsert, directory.read_csv(DEMO_DIRECTORY))
    db.run_sync(lambda conn: add(conn, 1, "jyj-sfc", created=0, accept_due=1, due=2))
    db.close()
    cli_config = write_cli_config(tmp_path / "cli.toml", path)
    assert main(["backup", str(tmp_path / "b.db"), "--config", str(cli_config)]) == 0
    db = Database(path).start()
    db.run_sync(lambda conn: add(conn, 2, "jyj-sfc", created=0, accept_due=1, due=2))
    db.close()
    assert main(["restore", str(tmp_path / "b.db"), "--force", "--config", str(cli_config)]) == 0
    assert "kept as" in capsys.readouterr().out
    assert _tickets_and_pending(path)[0] == ["JY2611-0001"]
    [kept] = tmp_path.glob("live.db.before-restore-*")
    assert _tickets_and_pending(kept)[0] == ["JY2611-0001", "JY2611-0002"]


def test_restore_refuses_what_is_not_a_backup(tmp_path, capsys):
    from bot.cli import main
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite" * 500)
    cli_config = write_cli_config(tmp_path / "cli.toml", tmp_path / "x.db")
    assert main(["restore", str(junk), "--config", str(cli_config)]) == 1
    assert "not a Tingjian backup" in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()


def test_scheduled_backups_keep_the_newest(tmp_path):
    import time

    from storage import backup
    from storage.db import Database
    path = tmp_path / "live.db"
    Database(path).start().close()
    folder = tmp_path / "backups"
    now = time.time()
    made = [backup.scheduled(path, folder, 3600, keep=2, now=now + i * 7200) for i in range(3)]
    assert all(made)
    assert backup.scheduled(path, folder, 3600, keep=2, now=now + 2 * 7200 + 10) is None  # not due yet
    assert sorted(folder.glob("tingjian-*.db")) == made[1:]


# --- deployment files -----------------------------------------------------------------------------------------

def _unit_for_here(tmp_path: Path, text: str) -> Path:
    """The shipped unit with its paths pointed at this checkout's virtualenv, so systemd can check them."""
    import sys
    unit = tmp_path / "tingjian.service"
    unit.write_text(text.replace("/opt/tingjian/.venv/bin/tingjian", str(Path(sys.executable).parent / "tingjian")),
                    encoding="utf-8")
    return unit


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_unit_verifies(tmp_path):
    text = (ROOT / "deploy" / "tingjian.service").read_text(encoding="utf-8")
    assert "tingjian serve" in text and "UMask=0077" in text
    ok = subprocess.run(["systemd-analyze", "verify", str(_unit_for_here(tmp_path, text))], capture_output=True,
                        text=True, timeout=60)
    assert ok.returncode == 0 and not ok.stderr.strip(), ok.stderr
    broken = subprocess.run(["systemd-analyze", "verify",
                             str(_unit_for_here(tmp_path, text.replace("KillMode=mixed", "KillMode=mixd")))],
                            capture_output=True, text=True, timeout=60)
    assert broken.returncode != 0 or "kill mode" in broken.stderr  # the check can fail


def _docker_engine() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _docker_engine(), reason="no docker engine on this machine: the Dockerfile is untested here")
def test_dockerfile_builds():
    result = subprocess.run(["docker", "build", "-f", "deploy/Dockerfile", "-t", "tingjian-test", "."], cwd=ROOT,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
