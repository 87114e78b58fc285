"""Training is reproducible: the shipped model files are what `python -m handlers.routing.train` makes from the
repository's data today, and two trainings give the same bytes whatever the hash seed.

The full training takes ~20 s of CPU, too long for the suite: here the training documents' fingerprint, which each
file records, is compared with the documents today's code makes (an edit of the rules, the normaliser or the data
without retraining fails it), and a small fit is written twice in two processes. The whole training, twice and
byte for byte against the shipped files: `python -m handlers.routing.train --check` (.ci/run runs it).
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from handlers.routing import Router
from handlers.routing.linear import WEIGHTS
from handlers.routing.train import URGENT_WEIGHTS, fingerprint, training_sets

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {"epochs": 20, "l2": 1e-5, "min_count": 2}  # train.py's defaults, which the shipped files record

# In a fresh process: the fingerprints of both models' documents, and the bytes of a small model fitted on the
# first 400 category documents and saved (hash seed from the environment).
_PROBE = """
import hashlib, sys, tempfile
from pathlib import Path
from handlers.routing import Router
from handlers.routing.linear import fit
from handlers.routing.train import training_sets
sets = training_sets(Router.from_toml(train=False), {"epochs": 20, "l2": 1e-5, "min_count": 2})
_name, docs, labels, _meta = sets[0]
with tempfile.TemporaryDirectory() as d:
    p = Path(d) / "w.json"
    fit(docs[:400], labels, epochs=3).save(p, {"probe": 1})
    print(hashlib.sha256(p.read_bytes()).hexdigest())
for _n, _d, _l, meta in sets:
    print(meta["inputs_sha256"])
"""


@pytest.fixture(scope="module")
def sets():
    return training_sets(Router.from_toml(train=False), SETTINGS)


def test_the_shipped_models_are_trained_on_what_the_code_makes_of_the_data_today(sets):
    assert [name for name, *_ in sets] == [WEIGHTS.name, URGENT_WEIGHTS.name]
    for name, docs, labels, meta in sets:
        shipped = json.loads((WEIGHTS.parent / name).read_text(encoding="utf-8"))["meta"]
        assert shipped == meta, (
            f"{name} was trained on other documents than today's code and data make (the rules' words are jieba's "
            f"words, so an edit of default_rules.toml changes them): run python -m handlers.routing.train")
        assert meta["inputs_sha256"] == fingerprint(docs, labels, SETTINGS)


def test_the_fingerprint_sees_one_feature_changed(sets):
    _name, docs, labels, meta = sets[0]
    feats, y = docs[0]
    changed = [(feats[:-1], y), *docs[1:]]
    assert fingerprint(changed, labels, SETTINGS) != meta["inputs_sha256"]
    assert fingerprint(docs, labels, {**SETTINGS, "epochs": 19}) != meta["inputs_sha256"]


def test_training_twice_in_two_processes_gives_the_same_bytes(sets):
    running = {seed: subprocess.Popen([sys.executable, "-c", _PROBE], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                                      env={**os.environ, "PYTHONHASHSEED": seed}) for seed in ("0", "12345")}
    procs = {}
    for seed, proc in running.items():
        out, _err = proc.communicate(timeout=300)
        assert proc.returncode == 0
        procs[seed] = out.split()
    assert procs["0"] == procs["12345"]
    assert procs["0"][1:] == [meta["inputs_sha256"] for *_x, meta in sets]
    assert len(procs["0"][0]) == len(hashlib.sha256().hexdigest())
