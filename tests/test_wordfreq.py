"""jieba's main dictionary held as a trie and an array (storage/wordfreq.py): the same entries as jieba's dict, read
back from its cache file, rebuilt when the file is damaged or cannot be written, and read-only."""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import jieba
import pytest

from storage import wordfreq

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("CACHE_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "tingjian"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple:
    """jieba's dictionary loaded once for the module into an empty cache folder of its own (so built, and its file
    written): (freq, total, the folder). A build is ~1.5 s of CPU; the tests that need no build of their own share
    this one."""
    folder = tmp_path_factory.mktemp("wordfreq")
    with pytest.MonkeyPatch.context() as m:
        m.delenv("CACHE_DIRECTORY", raising=False)
        m.setenv("XDG_CACHE_HOME", str(folder))
        freq, total = wordfreq.load(jieba.Tokenizer())
    return freq, total, folder / "tingjian"


def test_the_compact_dictionary_is_jiebas_entry_for_entry(built):
    tok = jieba.Tokenizer()
    freq, total, _ = built
    words, jieba_total = tok.gen_pfdict(tok.get_dict_file())
    assert total == jieba_total and len(freq) == len(words) == len(set(freq))
    assert all(freq[w] == f and freq.get(w) == f and w in freq for w, f in words.items())
    assert freq["中华人民共"] == 0 and freq["学校"] == words["学校"] > 0  # a prefix only, a word
    for absent in ("学校乱收费啊", "", "ab中", 12, None):
        assert absent not in freq and freq.get(absent, -1) == -1
        with pytest.raises(KeyError):
            freq[absent]


def test_the_cache_is_read_back_by_the_next_process_and_a_damaged_one_rebuilt(built, cache, monkeypatch, caplog):
    first, total, written = built  # the first load's, which built it and wrote the file
    assert len(list(written.iterdir())) == 1 and oct(written.stat().st_mode & 0o777) == "0o700"
    shutil.copytree(written, cache)  # (a copy to damage)
    [file] = cache.iterdir()

    def no_build(*_a):
        raise AssertionError("built again")
    with monkeypatch.context() as m:
        m.setattr(wordfreq, "_build", no_build)
        again, again_total = wordfreq.load(jieba.Tokenizer())
    entries = dict(first.items())  # (once: ~1 s for half a million entries)
    assert again_total == total and dict(again.items()) == entries

    blob = bytearray(file.read_bytes())
    blob[-5] ^= 0xFF  # one frequency changed on disk
    file.write_bytes(bytes(blob))
    with caplog.at_level(logging.WARNING, logger="storage.wordfreq"):
        rebuilt, _ = wordfreq.load(jieba.Tokenizer())
    assert "damaged" in caplog.text and dict(rebuilt.items()) == entries
    assert wordfreq.load(jieba.Tokenizer())[0].get("学校") == first["学校"]  # the file was written whole again

    file.write_bytes(b"something else")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="storage.wordfreq"):
        assert wordfreq.load(jieba.Tokenizer())[0]["学校"] == first["学校"]
    assert "not a dictionary cache" in caplog.text


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes a read-only folder")
def test_a_cache_folder_that_cannot_be_written_costs_time_not_the_dictionary(cache, caplog):
    cache.parent.chmod(0o500)
    try:
        with caplog.at_level(logging.WARNING, logger="storage.wordfreq"):
            freq, _ = wordfreq.load(jieba.Tokenizer())
    finally:
        cache.parent.chmod(0o700)
    assert freq["学校"] > 0 and "not written" in caplog.text and not cache.exists()


def test_a_cache_file_that_cannot_be_written_costs_time_not_the_dictionary(cache, caplog):
    cache.parent.mkdir(exist_ok=True)
    cache.write_text("a file where the folder would be")  # (root, who writes any folder, cannot make this one)
    with caplog.at_level(logging.WARNING, logger="storage.wordfreq"):
        freq, _ = wordfreq.load(jieba.Tokenizer())
    assert freq["学校"] > 0 and "not written" in caplog.text and cache.is_file()


def test_the_shared_dictionary_is_read_only():
    freq, _ = wordfreq.install()
    size = len(freq)
    with pytest.raises(TypeError, match="read-only"):
        jieba.dt.add_word("听见测试词")
    with pytest.raises(TypeError, match="read-only"):
        freq["听见测试词"] = 5
    assert "听见测试词" not in freq and len(freq) == size


def test_a_serving_process_holds_jiebas_dictionary_in_a_few_mb():
    # as jieba's dict it took ~60 MB of every worker (bench/README.md, rss13): here what reading it adds to RSS
    out = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import jieba  # (its own import apart: its HMM tables are not the dictionary)
        from storage import wordfreq
        wordfreq.install()  # the cache file written, if it was not there
        def rss():
            return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS:")).split()[1]) / 1024
        before = rss()
        jieba.dt.FREQ = None; jieba.dt.initialized = False
        import gc; gc.collect()
        freq, total = wordfreq.install()
        print(round(rss() - before), type(jieba.dt.FREQ).__name__, jieba.lcut("学校乱收费"))
    """)], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    grown, kind, cut = out.stdout.split(" ", 2)
    assert kind == "Frequencies" and cut.strip() == "['学校', '乱收费']"
    assert int(grown) < 10


def test_the_cache_folder_keeps_the_newest_few_files(cache):
    cache.mkdir(mode=0o700)
    for i in range(wordfreq.KEEP + 2):  # what other installations of jieba left, oldest first
        (cache / f"jieba-old{i}.wordfreq").write_bytes(b"x")
        os.utime(cache / f"jieba-old{i}.wordfreq", (1_700_000_000 + i, 1_700_000_000 + i))
    (cache / "notes.txt").write_text("not the dictionary's")
    freq, _ = wordfreq.load(jieba.Tokenizer())
    kept = sorted(f.name for f in cache.glob("jieba-*.wordfreq"))
    assert len(kept) == wordfreq.KEEP and "jieba-old0.wordfreq" not in kept and "jieba-old5.wordfreq" in kept
    assert [k for k in kept if "old" not in k] and (cache / "notes.txt").exists() and freq["学校"] > 0


def test_two_installations_of_one_dictionary_share_one_cache_file(built, cache, tmp_path, monkeypatch):
    """Before: the key held the dictionary's path, so each checkout or virtualenv had its own file; with more than
    KEEP on one machine they evicted each other and most starts built it again (bureau13: 1.2 s of CPU each)."""
    source = Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME)
    copies = []
    for name in ("a", "b"):  # the same dictionary installed twice, at other paths and times
        (tmp_path / name).mkdir()
        copies.append(tmp_path / name / "dict.txt")
        copies[-1].write_bytes(source.read_bytes())
    shutil.copytree(built[2], cache)  # the file a load of jieba's own dictionary (a third path) wrote

    def no_build(*_a):
        raise AssertionError("built again")
    monkeypatch.setattr(wordfreq, "_build", no_build)
    assert wordfreq.load(jieba.Tokenizer(str(copies[0])))[0]["学校"] > 0
    assert wordfreq.load(jieba.Tokenizer(str(copies[1])))[0]["学校"] > 0
    assert len(list(cache.glob("jieba-*.wordfreq"))) == 1
    copies[1].write_bytes(source.read_bytes() + "新词条 3 n\n".encode())  # a dictionary that differs: its own file
    with pytest.raises(AssertionError, match="built again"):
        wordfreq.load(jieba.Tokenizer(str(copies[1])))
