"""What one serving process holds: one copy of jieba's dictionary (shared by routing and search) and no pypinyin
phrase table, even when a school name is looked up loosely (bench/webhook.py prints each worker's RSS)."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


@pytest.fixture(scope="module")
def serving() -> list[str]:
    """A serving process (bot.app imported first, as the service starts) that routes and warms search: what it has
    loaded. (One process for two tests: each such process builds a Router, ~2 s of CPU.)"""
    return run("""
        import sys
        import bot.app
        import jieba
        from handlers.routing import Router
        from storage import search
        router = Router.from_toml()
        assert router.route("学校乱收費").category == "fees"
        search.warm()
        from handlers.routing.router import _base_dictionary
        assert _base_dictionary()[0] is jieba.dt.FREQ and router.tokenizer.FREQ is not jieba.dt.FREQ
        print("pypinyin" in sys.modules)
        print(" ".join(m for m in ("wechatpy", "pkg_resources", "requests") if m in sys.modules) or "none")
    """).splitlines()


def test_routing_and_search_share_one_dictionary_and_need_no_phrase_table(serving):
    assert serving[0] == "False"


def test_loose_school_names_still_read_by_sound_without_the_phrase_table():
    # pypinyin's phrase table took about 70 MB in a worker that met one loose name (253 MB after the routing mix)
    assert run("""
        import sys
        from handlers import names
        print(names.best("河平小学", [("a", "江南区和平小学"), ("b", "江北区文昌小学")]).code)
        print(names.best("和平初级中学", [("a", "江南区和平初级中学"), ("b", "江北区文昌小学")]).code)
        print("pypinyin" in sys.modules)
    """).split() == ["a", "a", "False"]


def test_loose_lookups_remember_the_names_not_the_queries():
    # Each query's pinyin and key sets were remembered, 4,096 of them: ~25 MB in a worker that met sentences at
    # the school question. Only the directory's names are remembered now, however many queries come.
    from handlers import names
    directory = [(f"s{i}", name) for i, name in enumerate(
        ["江南区和平小学", "江北区文昌小学", "城东区育英初级中学", "市实验幼儿园", "滨河小学", "星光中学"])]
    caches = (names._parts, names._keys, names._pinyin, names._clean_name)
    for c in caches:
        c.cache_clear()
    for i in range(300):
        names.match(f"孩子第{i}次反映学校门口很乱希望处理", directory)
        names.best(f"河平{i}小学", directory)
    assert max(c.cache_info().currsize for c in caches) <= len(directory)
    assert names.best("河平小学", directory).code == "s0"


def test_the_service_imports_neither_wechatpy_nor_pkg_resources(serving):
    # wechatpy's package (its API client, requests, its pay module: ~9 MB) only gave the AES key; jieba imported
    # pkg_resources (~6 MB) only to open its own files. Neither is loaded by a serving process now.
    assert serving[1] == "none"


def test_a_routers_dictionary_holds_its_own_words_over_jiebas_unchanged():
    # Each Router copied jieba's dictionary (half a million entries, ~15 MB) to add its words; it now holds only
    # what it added or changed, over jieba's own, which stays as it was. Cuts are those of a full copy.
    import jieba
    from handlers.routing import Router
    from handlers.routing.router import _base_dictionary
    base, total = _base_dictionary()
    size, sample = len(base), dict(list(base.items())[:2000])
    a = Router.from_toml(schools=[("s1", "江南区和平初级中学", ["和平中学"])], train=False)
    b = Router.from_toml(schools=[("s2", "城北区育英实验小学", [])], train=False)
    assert len(base) == size and _base_dictionary()[1] == total and all(base[w] == f for w, f in sample.items())
    own = dict.__len__(a.tokenizer.FREQ)
    assert 0 < own < size // 50
    assert "江南区和平初级中学" in a.tokenizer.FREQ and "江南区和平初级中学" not in b.tokenizer.FREQ
    assert "江南区和平初级中学" not in base and "城北区育英实验小学" in b.tokenizer.FREQ
    copy = jieba.Tokenizer()  # the former way: a whole copy, the same words added in the same order
    copy.FREQ, copy.total, copy.initialized = dict(base), total, True
    words = sorted(w for w in dict.keys(a.tokenizer.FREQ) if a.tokenizer.FREQ[w] > 0)
    for w in words:
        copy.add_word(w)
    assert copy.total == a.tokenizer.total
    from handlers.routing.router import _Overlay
    assert _Overlay(base) and _Overlay(base).get("学校") == base["学校"]  # empty of its own, still jieba's
    assert all(copy.FREQ[w] == a.tokenizer.FREQ[w] for w in dict.keys(a.tokenizer.FREQ))
    texts = ["孩子在和平中学读初二，学校乱收费", "江南区和平初级中学的食堂饭菜太差了", "培训机构跑路了钱怎么退",
             "课后服务收费标准是什么", "老师体罚学生，家长很着急", "幼儿园一个月收三千多"]
    for t in texts:
        p = a.prepare(t)
        assert a._cut.cut(p) == list(copy.cut(p, HMM=False)) == list(a.tokenizer.cut(p, HMM=False))


def test_the_syllable_cache_is_bounded_by_the_table():
    from handlers.routing import normalise
    assert normalise.syllables.cache_info().maxsize == len(normalise.pinyin_dict)


@pytest.mark.own_router  # looks into the router start-up built
async def test_a_service_builds_the_routers_lazy_parts_at_start_not_on_the_first_message(make_config):
    # the models' joint table and OpenCC's key set took ~70 ms on the first routed message after each start
    from bot.app import DISPATCHER, create_app
    from handlers.routing import normalise
    from tests.conftest import running
    normalise._t2s_keys.cache_clear()
    async with running(create_app(make_config())) as app:
        router = app[DISPATCHER].router
        joint = router._joint
        assert joint is not None and normalise._t2s_keys.cache_info().currsize == 1
        router.route("孩子作业太多，每天写到晚上十一点")
        assert router._joint is joint and normalise._t2s_keys.cache_info().misses == 1
    async with running(create_app(make_config(), role="/nowhere/writer.sock")) as app:
        assert app[DISPATCHER].router._joint is not None  # an HTTP worker routes each text for the writer's hints


def test_every_cache_of_the_service_has_a_bound():
    # functools caches with maxsize=None grow with what they are asked; each must say how far it may grow
    import functools
    import gc
    import importlib
    import pkgutil
    for pkg in ("bot", "handlers", "storage"):
        for info in pkgutil.walk_packages(importlib.import_module(pkg).__path__, pkg + "."):
            if ".sandbox" not in info.name and ".demo" not in info.name:
                importlib.import_module(info.name)
    mine = tuple(str(ROOT / p) for p in ("bot", "handlers", "storage"))
    unbounded = [o.__wrapped__.__qualname__ for o in gc.get_objects()
                 if isinstance(o, functools._lru_cache_wrapper) and o.cache_info().maxsize is None
                 and getattr(getattr(o, "__wrapped__", None), "__code__", None) is not None
                 and o.__wrapped__.__code__.co_filename.startswith(mine)]
    assert unbounded == []


@pytest.mark.own_router  # looks into the router start-up built
async def test_distinct_messages_grow_no_memory_past_its_bound(make_config, monkeypatch):
    # the webhook bench sends 45,000 distinct messages from 1,000 people: every memory the handling keeps stays
    # within its bound (here made small, so a few hundred messages reach it)
    import functools
    import gc
    import random
    from bot import receiver as receiver_module
    from bot.app import DB, DISPATCHER, RECEIVER, create_app
    from handlers import dispatcher as dispatcher_module
    from handlers.messages import Inbound
    from storage import conversations
    from storage.inbound import request_key
    from tests.conftest import running
    monkeypatch.setattr(receiver_module, "RECENT_REQUESTS", 50)
    monkeypatch.setattr(dispatcher_module, "ROUTE_CACHE", 16)
    monkeypatch.setattr(conversations, "CACHE_SIZE", 20)
    rng = random.Random(7)
    who = ["孩子", "女儿", "儿子"]
    what = ["每天作业写到晚上十一点", "被学校收取资料费三百元", "坐的校车经常超载很危险", "周末被要求到校补课"]
    async with running(create_app(make_config())) as app:
        receiver, router = app[RECEIVER], app[DISPATCHER].router
        cache = app[DB]._db.conversation_cache
        cache.size = 20
        router._cut._block = functools.lru_cache(maxsize=32)(router._cut._cut_block)
        for i in range(300):
            text = f"{rng.choice(who)}{rng.randint(1, 6)}年级{rng.randint(1, 12)}班{rng.choice(what)}，第{i}次反映"
            m = Inbound(openid=f"o_bound{i % 60:03d}", kind="text", text=text, created_at=1_800_000_000,
                        msg_id=str(8_300_000_000_000_000_000 + i))
            await receiver.receive(m, request_key(1_800_000_000, f"bound{i}"))
        assert len(receiver._recent) == 50
        assert len(cache.rows) <= 20
        assert router._cut._block.cache_info().currsize == 32
        routing = app[DISPATCHER]._routings[1].cache_info()
        assert routing.maxsize == 16 and routing.currsize == 16
        mine = tuple(str(ROOT / p) for p in ("bot", "handlers", "storage"))
        for o in gc.get_objects():
            if isinstance(o, functools._lru_cache_wrapper) and \
                    getattr(getattr(o, "__wrapped__", None), "__code__", None) is not None and \
                    o.__wrapped__.__code__.co_filename.startswith(mine):
                assert o.cache_info().currsize <= o.cache_info().maxsize
