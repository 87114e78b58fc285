"""What one serving process holds: one copy of jieba's dictionary (shared by routing and search) and no pypinyin
phrase table, even when a school name is looked up loosely (bench/webhook.py prints each worker's RSS)."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_routing_and_search_share_one_dictionary_and_need_no_phrase_table():
    assert run("""
        import sys, jieba
        from handlers.routing import Router
        from storage import search
        router = Router.from_toml()
        assert router.route("学校乱收費").category == "fees"
        search.warm()
        from handlers.routing.router import _base_dictionary
        assert _base_dictionary()[0] is jieba.dt.FREQ and router.tokenizer.FREQ is not jieba.dt.FREQ
        print("pypinyin" in sys.modules)
    """) == "False"


def test_loose_school_names_still_read_by_sound_without_the_phrase_table():
    # pypinyin's phrase table took about 70 MB in a worker that met one loose name (253 MB after the routing mix)
    assert run("""
        import sys
        from handlers import names
        print(names.best("河平小学", [("a", "江南区和平小学"), ("b", "江北区文昌小学")]).code)
        print(names.best("和平初级中学", [("a", "江南区和平初级中学"), ("b", "江北区文昌小学")]).code)
        print("pypinyin" in sys.modules)
    """).split() == ["a", "a", "False"]
