from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import ConfigError, documented_keys, load_config

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_and_documents_every_key():
    config = load_config(EXAMPLE, env={})
    assert config.server.port == 8080
    text = EXAMPLE.read_text(encoding="utf-8")
    sections = {}
    current = None
    for line in text.splitlines():
        if m := re.match(r"^\[(\w+)\]", line):
            current = m.group(1)
        elif m := re.match(r"^(\w+)\s*=", line):
            sections.setdefault(current, set()).add(m.group(1))
    present = {f"{s}.{k}" for s, keys in sections.items() for k in keys}
    assert set(documented_keys()) == present


def test_unknown_key_names_key_and_file(tmp_path):
    path = write(tmp_path, '[wechat]\ntokne = "abc"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert "wechat.tokne" in str(err.value) and str(path) in str(err.value)


def test_a_removed_key_says_what_replaced_it(tmp_path):
    with pytest.raises(ConfigError, match=r"outbox.max_attempts was removed: .*retried for ever"):
        load_config(write(tmp_path, "[outbox]\nmax_attempts = 12\n"), env={})


def test_unknown_section(tmp_path):
    with pytest.raises(ConfigError, match=r"\[wechatt\]"):
        load_config(write(tmp_path, "[wechatt]\n"), env={})


@pytest.mark.parametrize("text, key", [
    ("[server]\nport = \"80\"\n", "server.port"),
    ("[server]\nport = 70000\n", "server.port"),
    ("[server]\npages_per_batch = -1\n", "server.pages_per_batch"),
    ("[server]\ngc_threshold2 = -1\n", "server.gc_threshold2"),
    ("[server]\ngc_threshold0 = -1\n", "server.gc_threshold0"),
    ("[server]\ngc_threshold1 = 1001\n", "server.gc_threshold1"),
    ("[wechat]\naes_key = \"short\"\nappid = \"wx1\"\n", "wechat.aes_key"),
    ("[wechat]\naes_key = \"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\"\n", "wechat.appid"),
    ("[wechat]\ntoken = \"has space\"\n", "wechat.token"),
    ("[wechat]\nreply_timeout_seconds = 6\n", "wechat.reply_timeout_seconds"),
    ("[wechat]\ncheck_timestamp = \"yes\"\n", "wechat.check_timestamp"),
    ("[directory]\ncsv = \"/nonexistent.csv\"\n", "directory.csv"),
    # an empty path was a temporary database (every answered message lost at a restart), a folder "disk I/O error"
    ("[storage]\npath = \"\"\n", "storage.path"),
    ("[storage]\npath = \"  \"\n", "storage.path"),
    ("[storage]\npath = \":memory:\"\n", "storage.path"),
    ("[storage]\npath = \"/tmp\"\n", "storage.path"),
    ("[server]\nhost = \"\"\n", "server.host"),  # every interface, and links to http://:8080/
    ("[bot]\nname = \"\"\n", "bot.name"),  # the welcome read 欢迎关注市教育局“”
    ("[bot]\norganisation = \" \"\n", "bot.organisation"),
    ("[bot]\ncommitment = \"\"\n", "bot.commitment"),
])
def test_bad_values_name_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text), env={})
    assert key in str(err.value)


def test_invalid_toml(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[server\n"), env={})


def test_unreadable_files_named_by_every_loader_not_a_traceback(tmp_path, capsys):
    """The configuration, surveys, common questions and service items are read by one rule: a file saved as GBK (Windows'
    Notepad does) or a folder given for a file is an error naming the file, never an uncaught exception."""
    from bot.cli import main
    from bot.demo import DEMO_DIRECTORY
    from handlers.faq import FaqError, load_faq
    from handlers.survey import SurveyError, load_surveys
    from storage.services import ServicesError, read_toml
    from tests.conftest import write_cli_config
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes('[bot]\nname = "听见"\n'.encode("gbk"))
    with pytest.raises(ConfigError, match=re.escape(f"{gbk}: not UTF-8 text")):
        load_config(gbk, env={})
    with pytest.raises(ConfigError, match=re.escape(f"{tmp_path}: cannot be read")):
        load_config(tmp_path, env={})
    with pytest.raises(SurveyError, match=re.escape(f"{gbk}: not UTF-8 text")):
        load_surveys(gbk, "Asia/Shanghai")
    with pytest.raises(FaqError, match=re.escape(f"{tmp_path}: cannot be read")):
        load_faq(tmp_path)
    with pytest.raises(ServicesError, match=re.escape(f"{gbk}: not UTF-8 text")):
        read_toml(gbk, {})
    config = write_cli_config(tmp_path / "c.toml", tmp_path / "c.db", directory={"csv": DEMO_DIRECTORY},
                              campaign={"faq": gbk})
    assert main(["init-db", "--config", str(config)]) == 2
    assert capsys.readouterr().err == f"tingjian: configuration error: campaign.faq: {gbk}: not UTF-8 text; save " \
                                      "the file as UTF-8\n"


def test_a_directory_csv_typo_is_an_error_naming_its_line_not_a_traceback(tmp_path, capsys):
    """A unit's kind typed wrong (schol) in the [directory] CSV stopped `tingjian init-db` and `serve` with a
    traceback; now the file, the line and what is wrong, exit 2, nothing written."""
    from bot.cli import main
    from bot.demo import DEMO_DIRECTORY
    from tests.conftest import write_cli_config
    csv = tmp_path / "units.csv"
    csv.write_text(DEMO_DIRECTORY.read_text(encoding="utf-8") + "jn-xyz,江南区新建小学,schol,jn,jn-jyj,,\n",
                   encoding="utf-8")
    line = len(csv.read_text(encoding="utf-8").splitlines())
    config = write_cli_config(tmp_path / "c.toml", tmp_path / "c.db", directory={"csv": csv})
    assert main(["init-db", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tingjian: directory error: {csv}:{line}: kind 'schol' must be one of") and \
        "Traceback" not in err, err


def test_environment_overrides_every_key_type(tmp_path):
    env = {"TINGJIAN_WECHAT_TOKEN": "envtoken", "TINGJIAN_SERVER_PORT": "9090",
           "TINGJIAN_WECHAT_CHECK_TIMESTAMP": "false", "TINGJIAN_WECHAT_REPLY_TIMEOUT_SECONDS": "3.5",
           "TINGJIAN_STORAGE_PATH": str(tmp_path / "x.db")}
    config = load_config(EXAMPLE, env=env)
    assert config.wechat.token == "envtoken"
    assert config.server.port == 9090
    assert config.wechat.check_timestamp is False
    assert config.wechat.reply_timeout_seconds == 3.5
    assert config.storage.path == str(tmp_path / "x.db")


def test_bad_environment_value_names_the_variable():
    with pytest.raises(ConfigError, match="TINGJIAN_SERVER_PORT"):
        load_config(EXAMPLE, env={"TINGJIAN_SERVER_PORT": "eighty"})


def test_misspelt_environment_variable_is_an_error():
    with pytest.raises(ConfigError, match="TINGJIAN_WECHAT_TOKNE"):
        load_config(EXAMPLE, env={"TINGJIAN_WECHAT_TOKNE": "x"})


def test_config_is_frozen():
    config = load_config(EXAMPLE, env={})
    with pytest.raises(Exception):
        config.server.port = 1  # type: ignore[misc]
