from __future__ import annotations

import csv
import sqlite3
import time
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.demo import DEMO_DIRECTORY
from tests.conftest import write_cli_config

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("serve", "demo", "init-db", "chat", "route", "route-eval", "route-suggest", "staff", "directory", "digest",
            "qrcode", "backup", "restore", "verify-rates")


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_its_own_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert "usage: tingjian " + command in capsys.readouterr().out


def test_console_script_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "bot.cli", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and "route-eval" in out.stdout


def test_route_prints_decision_and_explanation(capsys):
    assert main(["route", "培训机构跑路了钱怎么退"]) == 0
    out = capsys.readouterr().out
    assert "tutoring" in out and "培训机构" in out


def test_route_eval_prints_metrics_and_writes_predictions(tmp_path, capsys):
    data = tmp_path / "small.csv"
    with open(data, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "label"])
        w.writerow(["1", "孩子作业写到十一点\n每天都这样", "burden"])
        w.writerow(["2", "培训机构跑路了钱怎么退", "tutoring"])
        w.writerow(["3", "小区物业乱收费", "out_of_scope"])
        w.writerow(["4", "幼儿园老师打孩子", "fees"])  # deliberately mislabelled: shows as an error
    pred = tmp_path / "pred.csv"
    assert main(["route-eval", str(data), "--predictions", str(pred), "--errors"]) == 0
    out = capsys.readouterr().out
    assert "accuracy 0.750" in out and "macro-F1" in out and "confusion matrix" in out
    assert "4\tfees -> preschool" in out
    rows = list(csv.DictReader(open(pred, encoding="utf-8")))
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[1]["predicted"] == "tutoring"


def test_route_eval_scores_urgency_judgements(tmp_path, capsys):
    data = tmp_path / "urgent.csv"
    with open(data, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "urgent"])
        w.writerow(["u1", "孩子说不想活了，我很害怕", "1"])
        w.writerow(["u2", "这学期的作业本太贵了", "1"])  # judged urgent, not found: a miss
        w.writerow(["c1", "学校收了三百元资料费", "0"])
    assert main(["route-eval", str(data), "--errors"]) == 0
    out = capsys.readouterr().out
    assert "found 1 of 2 urgent (recall 0.50)" in out and "false alarms 0 of 1 not urgent" in out
    assert "u2" in out.split("missed:")[1].split("false alarms:")[0]


def test_init_db_creates_schema_and_loads_directory(tmp_path, capsys):
    config = write_cli_config(tmp_path / "c.toml", tmp_path / "x.db", directory={"csv": DEMO_DIRECTORY})
    assert main(["init-db", "--config", str(config)]) == 0
    conn = sqlite3.connect(tmp_path / "x.db")
    assert conn.execute("SELECT count(*) FROM units").fetchone()[0] >= 20
    assert main(["init-db", "--config", str(config)]) == 0  # again: nothing duplicated
    assert conn.execute("SELECT count(*) FROM units").fetchone()[0] == \
        len(DEMO_DIRECTORY.read_text(encoding="utf-8").strip().splitlines()) - 1


def test_config_typo_stops_with_the_key_named(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('[wechat]\ntokne = "abc"\n', encoding="utf-8")
    assert main(["serve", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "wechat.tokne" in err and str(config) in err


def test_serve_refuses_several_workers_with_the_sandbox(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text(f'[server]\nhost = "127.0.0.1"\nlink_secret = "cli-test-link-secret-0123456789"\n'
                      f'[wechat]\ntoken = "tokforclitest"\napi_base = "http://127.0.0.1:9"\n[sandbox]\nenabled = true\n'
                      f'[storage]\npath = "{tmp_path / "x.db"}"\n', encoding="utf-8")
    assert main(["serve", "--config", str(config), "--workers", "2"]) == 2
    assert "--workers 1" in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()  # refused before anything started


def test_serve_without_config_explains(monkeypatch, capsys):
    monkeypatch.delenv("TINGJIAN_CONFIG", raising=False)
    assert main(["serve"]) == 2
    assert "--config" in capsys.readouterr().err


def test_staff_invite_list_remove_and_directory_import(tmp_path, capsys):
    config = write_cli_config(tmp_path / "c.toml", tmp_path / "s.db")
    assert main(["directory", "import", str(DEMO_DIRECTORY), "--config", str(config)]) == 0
    assert "unit(s) imported" in capsys.readouterr().out
    assert main(["staff", "invite", "--unit", "jyj-sfc", "--role", "handler", "--name", "李老师",
                 "--config", str(config)]) == 0
    out = capsys.readouterr().out
    code = out.split("绑定码：")[1].split()[0]
    assert "在 7 天内" in out  # the default validity, said the way people say it
    assert len(code) == 8
    assert main(["staff", "invite", "--unit", "nope", "--role", "handler", "--name", "x",
                 "--config", str(config)]) == 2
    assert "unknown unit" in capsys.readouterr().err
    from storage import staff
    from storage.db import Database
    db = Database(tmp_path / "s.db").start()
    db.run_sync(staff.redeem, code, "o_li", time.time())
    db.close()
    assert main(["staff", "list", "--config", str(config)]) == 0
    assert "o_li\thandler\tjyj-sfc" in capsys.readouterr().out
    assert main(["staff", "role", "o_li", "supervisor", "--config", str(config)]) == 0
    assert "o_li: handler → supervisor" in capsys.readouterr().out
    assert main(["staff", "role", "o_nobody", "leader", "--config", str(config)]) == 2
    assert "not a staff member" in capsys.readouterr().err
    assert main(["staff", "invite", "--unit", "jyj-sfc", "--role", "handler", "--name", "王老师",
                 "--config", str(config)]) == 0
    capsys.readouterr()
    assert main(["staff", "invites", "--config", str(config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[2] for line in lines] == ["open", "used"]
    assert main(["staff", "revoke", lines[0].split("\t")[0], "--config", str(config)]) == 0
    assert main(["staff", "revoke", lines[1].split("\t")[0], "--config", str(config)]) == 1  # used: stays used
    assert "revoked" in capsys.readouterr().out
    assert main(["staff", "invites", "--config", str(config)]) == 0
    assert [line.split("\t")[2] for line in capsys.readouterr().out.splitlines()] == ["revoked", "used"]
    assert main(["staff", "remove", "o_li", "--config", str(config)]) == 0
    assert main(["staff", "remove", "o_li", "--config", str(config)]) == 1


def test_directory_import_reports_the_bad_line(tmp_path, capsys):
    config = write_cli_config(tmp_path / "c.toml", tmp_path / "s.db")
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,kind\nx1,某校,castle\n", encoding="utf-8")
    assert main(["directory", "import", str(bad), "--config", str(config)]) == 2
    assert "bad.csv:2: kind" in capsys.readouterr().err


def test_refusals_name_the_problem_with_their_exit_code(tmp_path, capsys):
    """Bad input exits 2, work that could not be done exits 1; either way one `tingjian: …` line, no traceback."""
    config = write_cli_config(tmp_path / "c.toml", tmp_path / "s.db", directory={"csv": DEMO_DIRECTORY})
    assert main(["init-db", "--config", str(config)]) == 0
    capsys.readouterr()
    cases = [
        (["qrcode", "--unit", "nope"], 2, "tingjian: unknown unit 'nope'"),
        (["qrcode", "--unit", "jyj-sfc", "--survey", "nope"], 2, "tingjian: no survey 'nope'; configured: none"),
        (["qrcode", "--unit", "jyj-sfc", "--size", "500"], 2, "tingjian: --size is the printed width in cm"),
        (["poster", "--unit", "nope"], 2, "tingjian: unknown unit 'nope'"),
        (["route-eval"], 2, "tingjian: give a labelled CSV file or --corrections"),
        (["route-eval", str(tmp_path / "missing.csv")], 2, "tingjian: [Errno 2]"),
        (["backup", str(config / "b.db")], 1, "tingjian: backup failed: "),  # a file is no folder
        (["review", "comment", "--unit", "jyj-sfc", "--period", "2026-11", "--text", "  "], 2,
         "tingjian: the comment is empty"),
    ]
    for argv, code, message in cases:
        assert main([*argv, "--config", str(config)]) == code, argv
        err = capsys.readouterr().err
        assert err.startswith(message) and "Traceback" not in err and err.count("\n") == 1, (argv, err)
