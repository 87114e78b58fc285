"""The spool file itself: appends survive their writer, a live writer's file is left alone, a dead one's is taken."""
from __future__ import annotations

import os
import subprocess
import sys

from storage.spool import Spool


def test_a_live_writers_file_is_not_taken_a_dead_writers_is(tmp_path):
    alive, other = Spool(tmp_path / "s"), Spool(tmp_path / "s")
    alive.append({"key": "k1", "at": 1.0, "inbound": "{}"})
    assert other.take() == []          # its writer lives (holds the flock): not ours to drain
    assert other.pending() == 1
    alive.close()                      # what a dying process does to its locks
    taken = other.take()
    assert [r["key"] for f in taken for r in f.records] == ["k1"]
    assert Spool(tmp_path / "s").take() == []  # taken by `other`: nobody else drains it meanwhile
    other.done(taken[0])
    assert other.pending() == 0 and list((tmp_path / "s").iterdir()) == []


def test_own_file_rotates_so_appends_during_a_drain_are_kept(tmp_path):
    spool = Spool(tmp_path / "s")
    spool.append({"key": "a", "at": 1.0, "inbound": "{}"})
    first = spool.take()
    spool.append({"key": "b", "at": 2.0, "inbound": "{}"})  # arrives while `a` is being drained
    spool.done(first[0])
    assert [r["key"] for f in spool.take() for r in f.records] == ["b"]


def test_a_killed_writer_leaves_its_lines_and_a_torn_last_line_is_skipped(tmp_path):
    code = (
        "import os, signal, sys\n"
        "from storage.spool import Spool\n"
        f"s = Spool({str(tmp_path / 's')!r})\n"
        "for i in range(3): s.append({'key': f'k{i}', 'at': float(i), 'inbound': '{}'})\n"
        "s._current.fh.write(b'{\"key\": \"torn')\n"
        "s._current.fh.flush()\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=os.path.dirname(os.path.dirname(__file__)))
    assert proc.returncode == -9
    taken = Spool(tmp_path / "s").take()
    assert [r["key"] for f in taken for r in f.records] == ["k0", "k1", "k2"]
