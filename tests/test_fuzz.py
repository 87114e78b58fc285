"""A short run of bench/fuzz.py against a real server process: no 5xx, no crash, every replay refused."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.test_process import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))


@pytest.mark.slow
def test_fuzz_inputs_get_no_5xx_and_no_crash():
    import fuzz
    # One at a time: the same inputs in the same order on every run, so a failure reproduces.
    result = fuzz.run(inputs=400, seed=7, concurrency=1, port=free_port(), quiet=True)
    assert result["inputs"] == 400
    assert result["5xx"] == 0 and result["crashes"] == 0 and result["timeouts"] == 0, result
    assert result["tracebacks_in_log"] == 0, result
    assert result["replays"] > 0 and result["replays_refused"] == result["replays"], result
    assert {"aes", "plain", "mutated", "forged", "odd"} <= set(result["by_kind"])
