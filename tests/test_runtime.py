"""The garbage collector's freeze after start-up ([server] gc_freeze, bot/runtime.py) in every serving process:
the one process of `serve`, the writer and each HTTP worker of `serve --workers N`, and the job process. After
start-up the collector no longer walks what start-up built (the router, jieba's dictionary, the rules): its full
passes over them stopped the webhook's process for 59-77 ms of CPU every few seconds under load."""
from __future__ import annotations

import gc
import weakref

import pytest

from bot import cli, digest_job
from bot.app import DISPATCHER, JOB_PROCESS
from tests.conftest import running
from tests.test_process import SMALL_RULES

# Start-up builds the router the freeze tests look at: those apps build their own (own_router). The thresholds
# test looks at no router: its apps share the worker's (five router builds were most of its ~10 s of CPU).
own_router = pytest.mark.own_router


@pytest.fixture
def unfrozen():
    """These tests freeze the test process's own objects and set its collector's thresholds: undo both, whatever
    happens."""
    gc.unfreeze()
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


class _Node:
    me = None


def _tracked(obj) -> bool:
    """Whether the collector's generations hold obj (gc.get_objects leaves out what gc.freeze set aside)."""
    return any(o is obj for o in gc.get_objects())


@own_router
@pytest.mark.parametrize("role", ["single", "writer", "http-0"])
async def test_every_serving_role_freezes_what_start_up_built(make_config, role, unfrozen):
    # the shipped rules in one role; the others build theirs from the small rules (a second of CPU less each):
    # what is looked at is that start-up built it before the freeze
    config = make_config(routing={} if role == "single" else {"rules": str(SMALL_RULES)})
    app = cli._serving_app(config, role=role)  # what `serve` runs in each of its processes
    assert gc.get_freeze_count() == 0  # not before start-up: the router is built by it
    async with running(app):
        router = app[DISPATCHER].router
        assert gc.get_freeze_count() > 10_000  # the imports, the router, the rules
        assert not _tracked(router) and not _tracked(router.tokenizer)
        made_later = [[]]  # what the service builds while it runs is collected as before
        assert _tracked(made_later)
        garbage = _Node()
        garbage.me = garbage  # a cycle made after start-up is still found and freed
        gone = weakref.ref(garbage)
        del garbage
        gc.collect()
        assert gone() is None


@own_router
async def test_with_gc_freeze_off_nothing_is_frozen(make_config, unfrozen):
    app = cli._serving_app(make_config(server={"gc_freeze": False}, routing={"rules": str(SMALL_RULES)}))
    async with running(app):
        assert gc.get_freeze_count() == 0
        assert _tracked(app[DISPATCHER].router)


@pytest.mark.slow
async def test_the_job_process_freezes_its_router_as_the_service_does(make_config, unfrozen):
    """The child that builds digests keeps its router for its life: frozen once built, as in the service, and
    not with gc_freeze off. (The service's own router is not looked at here: the app shares the worker's. With
    gc_freeze off the child's router is built from the small rules: whatever it builds, nothing is frozen.)"""
    for freeze in (True, False):
        config = make_config(server={"gc_freeze": freeze}, digest={"separate_process": True},
                             routing={} if freeze else {"rules": str(SMALL_RULES)})
        app = cli._serving_app(config)
        async with running(app):
            jobs = app[JOB_PROCESS]
            jobs.nice = 0  # the test waits for it; its priority is not what is tested
            assert await jobs.call(gc.get_freeze_count) == 0  # nothing built yet
            assert await jobs.call(digest_job.cut_terms, config, ["学校作业太多了"])  # builds the child's router
            frozen = await jobs.call(gc.get_freeze_count)
            assert frozen > 10_000 if freeze else frozen == 0
        gc.unfreeze()


async def test_the_collectors_thresholds_are_set_after_start_up(make_config, unfrozen):
    before = gc.get_threshold()
    try:
        app = cli._serving_app(make_config(server={"gc_threshold0": 5000, "gc_threshold1": 0, "gc_threshold2": 100}))
        assert gc.get_threshold() == before  # not while start-up builds the router
        async with running(app):
            assert gc.get_threshold() == (5000, before[1], 100)
        gc.set_threshold(*before)
        async with running(cli._serving_app(make_config(server={"gc_threshold0": 0, "gc_threshold1": 0,
                                                                 "gc_threshold2": 100}))):
            assert gc.get_threshold() == (*before[:2], 100)
        gc.set_threshold(*before)
        async with running(cli._serving_app(make_config(server={"gc_threshold0": 0, "gc_threshold1": 4,
                                                                 "gc_threshold2": 0}))):
            assert gc.get_threshold() == (before[0], 4, before[2])  # the middle one alone
        gc.set_threshold(*before)
        async with running(cli._serving_app(make_config(server={"gc_threshold0": 0, "gc_threshold1": 0,
                                                                 "gc_threshold2": 0}))):
            assert gc.get_threshold() == before  # 0: Python's own, left as it was
        async with running(cli._serving_app(make_config())):  # the service's own
            assert gc.get_threshold() == (3000, 2, 100)
    finally:
        gc.set_threshold(*before)
