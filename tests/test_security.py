"""What `serve` refuses to start with, file modes of the database, and the XML every reply is built from."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[1]
GOOD = {"TINGJIAN_WECHAT_TOKEN": "realtoken42", "TINGJIAN_SERVER_LINK_SECRET": "8f3a2c91d0b64e7fa51c"}


@pytest.fixture
def env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("TINGJIAN_"):
            monkeypatch.delenv(name)

    def set_env(**values):
        for name, value in {**GOOD, **values}.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
    return set_env


@pytest.mark.parametrize("variables, key", [
    ({"TINGJIAN_WECHAT_TOKEN": ""}, "wechat.token"),
    ({"TINGJIAN_WECHAT_TOKEN": None}, "wechat.token"),  # the example file's placeholder
    ({"TINGJIAN_WECHAT_TOKEN": "changeme"}, "wechat.token"),
    ({"TINGJIAN_WECHAT_TOKEN": "YourTokenHere"}, "wechat.token"),
    ({"TINGJIAN_SERVER_LINK_SECRET": None}, "server.link_secret"),
    ({"TINGJIAN_SERVER_LINK_SECRET": ""}, "server.link_secret"),
    ({"TINGJIAN_SERVER_LINK_SECRET": "replace-with-a-random-secret"}, "server.link_secret"),
    ({"TINGJIAN_SERVER_LINK_SECRET": "short"}, "server.link_secret"),
    ({"TINGJIAN_SANDBOX_ENABLED": "true", "TINGJIAN_SERVER_HOST": "0.0.0.0"}, "sandbox.enabled"),
])
def test_serve_refuses_missing_or_placeholder_secrets(env, tmp_path, capsys, variables, key):
    env(TINGJIAN_STORAGE_PATH=str(tmp_path / "t.db"), **variables)
    assert main(["serve", "--config", str(ROOT / "config.example.toml")]) == 2
    err = capsys.readouterr().err
    assert key in err and "configuration error" in err
    assert not (tmp_path / "t.db").exists()  # refused before touching anything


def test_serve_refuses_the_sandbox_on_a_public_address_given_on_the_command_line(env, tmp_path, capsys):
    env(TINGJIAN_STORAGE_PATH=str(tmp_path / "t.db"), TINGJIAN_SANDBOX_ENABLED="true")
    assert main(["serve", "--config", str(ROOT / "config.example.toml"), "--host", "192.0.2.10"]) == 2
    assert "sandbox.enabled" in capsys.readouterr().err


@pytest.mark.parametrize("path", ["/proc/tingjian/t.db", "NOTADB"])
def test_unwritable_database_gives_one_clear_line(env, tmp_path, capsys, path):
    if path == "NOTADB":
        path = str(tmp_path / "garbage.db")
        Path(path).write_bytes(b"this is not an SQLite file" * 100)
    env(TINGJIAN_STORAGE_PATH=path)
    assert main(["serve", "--config", str(ROOT / "config.example.toml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot open the database" in err and path in err
    assert "Traceback" not in err


def test_database_file_and_folder_are_private(tmp_path):
    from storage.db import Database
    folder = tmp_path / "new" / "data"
    db = Database(folder / "t.db").start()
    try:
        db.run_sync(lambda conn: conn.execute("CREATE TABLE IF NOT EXISTS x (a)"))
        for path in (folder / "t.db", folder / "t.db-wal", folder / "t.db-shm"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    finally:
        db.close()
