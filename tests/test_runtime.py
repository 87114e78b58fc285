"""Process settings of every serving process (bot/runtime.py, [server] switch_interval_ms and gc_freeze): the one
process of `serve`, the writer and each HTTP worker of `serve --workers N`, and the job process. Each applies the
GIL switch interval, and after its start-up the garbage collector no longer walks what start-up built (the
router, jieba's dictionary): the full collections that stopped the webhook for 40-170 ms under load."""
from __future__ import annotations

import gc
import sys

import pytest

from bot import cli, digest_job
from bot.app import DISPATCHER, JOB_PROCESS
from bot.config import ConfigError
from tests.conftest import running


@pytest.fixture
def restore_process_settings():
    """These tests change the test process's own switch interval and frozen generation: put them back."""
    interval = sys.getswitchinterval()
    yield
    sys.setswitchinterval(interval)
    gc.unfreeze()


def _tracked(obj) -> bool:
    """Whether the collector's generations hold obj (gc.get_objects leaves out what gc.freeze set aside)."""
    return any(o is obj for o in gc.get_objects())


@pytest.mark.parametrize("role", ["single", "writer", "http-0"])
async def test_every_serving_role_applies_the_switch_interval_and_freezes_what_start_up_built(
        make_config, role, restore_process_settings):
    config = make_config(server={"switch_interval_ms": 1.5, "gc_freeze": True})
    gc.unfreeze()
    sys.setswitchinterval(0.005)
    app = cli._serving_app(config, role=role)  # what `serve` runs in each process, before its start-up
    assert sys.getswitchinterval() == pytest.approx(0.0015)
    async with running(app):
        router = app[DISPATCHER].router
        assert gc.get_freeze_count() > 10_000  # the imports, the router, the rules
        assert not _tracked(router) and not _tracked(router.tokenizer)
        made_later = [[]]  # what the service builds while it runs is collected as before
        assert _tracked(made_later)


async def test_with_gc_freeze_off_nothing_is_frozen(make_config, restore_process_settings):
    gc.unfreeze()
    app = cli._serving_app(make_config(server={"gc_freeze": False}))
    async with running(app):
        assert gc.get_freeze_count() == 0
        assert _tracked(app[DISPATCHER].router)
    assert sys.getswitchinterval() == pytest.approx(0.005)  # the default: Python's own


async def test_the_job_process_applies_the_services_settings(make_config):
    """The child that builds digests runs with the [server] settings of the service that started it, and freezes
    the router it built (kept for its life) as the service does."""
    config = make_config(server={"switch_interval_ms": 2.5, "gc_freeze": True},
                         digest={"separate_process": True})
    app = cli._serving_app(config)
    try:
        async with running(app):
            jobs = app[JOB_PROCESS]
            jobs.nice = 0  # the test waits for it; its priority is not what is tested
            assert await jobs.call(sys.getswitchinterval) == pytest.approx(0.0025)
            assert await jobs.call(gc.get_freeze_count) == 0  # nothing built yet
            assert await jobs.call(digest_job.cut_terms, config, ["作业太多了"])  # builds the child's router
            assert await jobs.call(gc.get_freeze_count) > 10_000
    finally:
        gc.unfreeze()
        sys.setswitchinterval(0.005)


@pytest.mark.parametrize("value", [0, 0.05, 101])
def test_a_switch_interval_out_of_range_is_refused_with_its_name(make_config, value):
    with pytest.raises(ConfigError, match="server.switch_interval_ms"):
        make_config(server={"switch_interval_ms": value})
