from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import create_app
from bot.config import load_config
from bot.demo import DEMO_DIRECTORY
from tests import wx

# The `dialog` fixture (tests/dialog.py): whole conversations through the sandbox in a few lines.
pytest_plugins = ("tests.dialog",)

# Every test checks the writer's memory of conversations: each time it answers from memory, the row is also read
# from SQLite and compared (storage/conversations.Cache); a difference fails the test that caused it.
from storage.conversations import Cache as _ConversationCache  # noqa: E402
from storage.users import Cache as _UsersCache  # noqa: E402


def pytest_configure(config):  # under pytest only: the benches import this module too
    _ConversationCache.verify = True
    _UsersCache.verify = True
    from handlers.dispatcher import _Services
    _Services.verify_lang = True
    config.addinivalue_line("markers", "own_router: the app builds its own Router (the test looks at how start-up "
                                       "builds or bounds it), not the one shared by the worker's apps")
    import bot.app
    bot.app.Router = _SharedRouters(bot.app.Router)
    from storage import migrations
    migrations.migrate = _TemplateMigrate(migrations.migrate)


def pytest_collection_modifyitems(config, items):
    """Tests marked slow start first (in their files' order): with -n auto the run ends when its last test does,
    and a slow one started near the end kept one worker busy alone for its length."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


class _SharedRouters:
    """In tests, the apps a worker builds share one Router per rules file, model files and schools. A Router is a
    pure function of those, and building one took ~1 s of each app's start-up (its jieba overlay, the rules, the
    models): two thirds of the suite's time was set-up. Direct Router.from_toml calls (tests/routing) still build
    their own, as does an app in a test marked `own_router`: mark so a test that changes its app's router in place
    (monkeypatching an attribute of it) or looks at how start-up builds it."""
    enabled = True

    def __init__(self, cls):
        import threading
        self.cls, self.routers, self.lock = cls, {}, threading.Lock()

    def __getattr__(self, name):
        return getattr(self.cls, name)

    def from_toml(self, path=None, schools=(), train=True):
        if not self.enabled:
            return self.cls.from_toml(path, schools, train)
        from handlers.routing.router import DEFAULT_RULES
        rules = Path(path) if path is not None else DEFAULT_RULES
        try:  # the rules' text, and every file beside them or beside the shipped rules (the models they name)
            files = sorted({*rules.resolve().parent.iterdir(), *DEFAULT_RULES.parent.iterdir()})
            key = (str(rules.resolve()), rules.read_bytes(),
                   tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.is_file()),
                   tuple((code, name, tuple(aliases)) for code, name, aliases in schools), train)
        except OSError:  # what from_toml says of a missing file, as it says it
            return self.cls.from_toml(path, schools, train)
        with self.lock:
            router = self.routers.get(key)
            if router is None:
                if len(self.routers) >= 8:  # a few directories and rules files per worker; bound the memory
                    self.routers.pop(next(iter(self.routers)))
                router = self.routers[key] = self.cls.from_toml(path, schools, train)
            return router


class _TemplateMigrate:
    """In tests, a Database started on a new, empty file gets the schema copied from one migrated once per worker
    (SQLite's backup API: ~2 ms, where running the ~40 migrations took ~0.1-0.3 s of each app's start-up). Only
    on the writer thread of Database.start: a test calling migrate() itself runs the migrations as before."""

    def __init__(self, real):
        import threading
        self.real, self.lock, self.template, self.applied = real, threading.Lock(), None, None

    def __call__(self, db):
        import threading
        if threading.current_thread().name != "sqlite-writer" or \
                db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            return self.real(db)
        with self.lock:
            if self.template is None:
                import tempfile
                from storage.db import connect
                template = connect(Path(tempfile.mkdtemp(prefix="tingjian-template-")) / "template.db")
                self.applied = self.real(template)
                self.template = template.conn
            self.template.backup(db.conn)
        assert self.real(db) == [], "the template database missed a migration"
        return list(self.applied)


@pytest.fixture(autouse=True)
def _router_shared_or_own(request):
    _SharedRouters.enabled = request.node.get_closest_marker("own_router") is None
    yield
    _SharedRouters.enabled = True


@pytest.fixture(autouse=True)
def _conversation_cache_agrees_with_sqlite():
    _ConversationCache.mismatches.clear()
    _UsersCache.mismatches.clear()
    from handlers.dispatcher import _Services
    _Services.lang_mismatches.clear()
    yield
    assert not _Services.lang_mismatches, ("a turn's known language differs from users.lang",
                                           _Services.lang_mismatches[:3])
    assert not _ConversationCache.mismatches, ("the writer remembered a conversation other than the one stored",
                                               _ConversationCache.mismatches[:3])
    assert not _UsersCache.mismatches, ("the writer remembered a person's row other than the one stored",
                                        _UsersCache.mismatches[:3])

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_file(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"{path} is absent: the shared evaluation data sits beside the checkout only in CI and "
                    "development machines")
    return path


def write_cli_config(toml: Path, db: Path | str, **sections: dict) -> Path:
    """A configuration file for running `tingjian` commands in a test: [storage] path = db, and the other sections
    given as dicts (strings and paths quoted, numbers and booleans as TOML writes them)."""
    def value(v) -> str:
        return str(v).lower() if isinstance(v, bool) else str(v) if isinstance(v, (int, float)) else f'"{v}"'
    text = "".join(f"[{name}]\n" + "".join(f"{k} = {value(v)}\n" for k, v in values.items())
                   for name, values in {"storage": {"path": db}, **sections}.items())
    toml.write_text(text, encoding="utf-8")
    return toml


def sandbox_wechat(client) -> dict:
    """The [wechat] section that points a command at a running demo's WeChat sandbox (its token and API)."""
    from bot.demo import DEMO_WECHAT
    port = str(client._base_url).rsplit(":", 1)[1].strip("/")
    return {"token": DEMO_WECHAT["token"], "appid": DEMO_WECHAT["appid"], "appsecret": DEMO_WECHAT["appsecret"],
            "api_base": f"http://127.0.0.1:{port}"}


@pytest.fixture
def make_config(tmp_path):
    def make(**sections):
        base = {
            "server": {"link_secret": "test-link-secret-0123456789"},
            "wechat": {"token": wx.TOKEN, "aes_key": wx.AES_KEY, "appid": wx.APPID, "appsecret": "secret",
                       "api_base": "http://127.0.0.1:9", "check_timestamp": False},
            "storage": {"path": str(tmp_path / "t.db")},
            "directory": {"csv": str(DEMO_DIRECTORY)},
            "outbox": {"poll_seconds": 0.05, "backoff_base_seconds": 0.05},
            # in the test's own process: a child per start-up catch-up would cost seconds per test
            "digest": {"separate_process": False},
        }
        for name, values in sections.items():
            base.setdefault(name, {}).update(values)
        return load_config(None, env={}, overrides=base)
    return make


@pytest.fixture
async def bot(aiohttp_client, make_config):
    """A test client for a bot with default test settings."""
    app = create_app(make_config())
    return await aiohttp_client(app)


async def pause_jobs(app: web.Application) -> None:
    """Stop the scheduler for a test that drives the jobs with its own clock, once the runs it started already are
    over: the app starts the sweep, the digest's catch-up and the rest at start-up (bot/scheduler.py), before any
    test code runs, and pausing does not stop a run in progress. Under load the start-up sweep read the tickets a
    test had just planted and pushed a leader reminders of them into the middle of the answer the test read."""
    import asyncio

    from bot.app import SCHEDULER
    scheduler = app[SCHEDULER]
    scheduler.pause()
    # APScheduler 3 keeps the tasks of running coroutine jobs on its executor, and has no public way to wait for them
    running_jobs = [f for executor in scheduler._executors.values() for f in getattr(executor, "_pending_futures", ())]
    await asyncio.gather(*running_jobs, return_exceptions=True)


@contextlib.asynccontextmanager
async def running(app: web.Application, port: int | None = None):
    """Start an app's cleanup_ctx (database, core, outbox, scheduler) and, with a port, serve it over HTTP."""
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        if port is not None:
            from tests.test_process import take_held
            sock = take_held(port)  # a port held since it was chosen (held_port): served on that very socket
            await (web.SockSite(runner, sock) if sock else web.TCPSite(runner, "127.0.0.1", port)).start()
        yield app
    finally:
        await runner.cleanup()
