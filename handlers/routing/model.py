"""A small multinomial naive Bayes model over jieba words and character pairs, in pure Python.

It is trained at start-up (a few milliseconds) on labelled messages shipped with Tingjian (training.csv:
messages written for the project, never the evaluation data), and the Router consults it only where its rules
are unsure. It can say which words moved it, so the decision stays explained.
"""
from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Iterable, Sequence

TRAINING = Path(__file__).with_name("training.csv")
MODEL_CHARS = 300  # the demand is stated at the start
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_LATIN_WORD = re.compile(r"[a-z]{3,}")


# Filler words: they say how people write, not what about (一下 once made 想问一下学校的事情 look like safety).
_STOP = frozenset("一下 一个 这个 那个 我想 想问 问问 问一 问下 请问 怎么 什么 我们 你们 他们 她们 咱们 的事 事情 情况 "
                  "问题 现在 已经 这样 那样 就是 还是 可以 不是 自己 知道 一直".split())
_STOP_EN = frozenset("the and for with that this our you your are was were have has had not can what how when where why "
                     "who which from there they them his her its been will would could should about into".split())


def features(text: str, tokenizer) -> list[str]:
    t = text[:MODEL_CHARS]
    out = [w for w in tokenizer.cut(t, HMM=False) if len(w) >= 2 and not w.isascii()]
    for run in _CJK_RUN.findall(t):
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
    out = [f for f in out if f not in _STOP]
    out.extend(w for w in _LATIN_WORD.findall(t) if w not in _STOP_EN)
    return out


class NaiveBayes:
    def __init__(self, labels: Sequence[str], alpha: float = 0.3, priors: dict[str, float] | None = None):
        self.labels = tuple(labels)
        self.alpha = alpha
        # Class priors of real traffic, not of the (balanced) training file: most messages that reach a
        # government inbox are not the education bureau's business. Unnamed classes share what is left.
        priors = dict(priors or {})
        rest = [c for c in self.labels if c not in priors]
        left = max(1e-6, 1.0 - sum(priors.values()))
        self.log_prior = [math.log(priors[c] if c in priors else left / len(rest)) for c in self.labels]
        self.logp: dict[str, list[float]] = {}
        self.unseen: list[float] = []

    def fit(self, docs: Iterable[tuple[list[str], str]]) -> "NaiveBayes":
        counts = {c: {} for c in self.labels}
        totals = {c: 0 for c in self.labels}
        vocab: set[str] = set()
        for feats, label in docs:
            if label not in counts:
                continue
            for f in set(feats):  # presence, not frequency: long letters repeat themselves
                counts[label][f] = counts[label].get(f, 0) + 1
                totals[label] += 1
                vocab.add(f)
        V = len(vocab) or 1
        denom = [math.log(totals[c] + self.alpha * V) for c in self.labels]
        self.unseen = [math.log(self.alpha) - d for d in denom]
        self.logp = {f: [math.log(counts[c].get(f, 0) + self.alpha) - denom[i] for i, c in enumerate(self.labels)]
                     for f in vocab}
        return self

    def predict(self, text: str, tokenizer) -> tuple[list[float], list[str]]:
        """(probability of each label, the features of the text the model knows), as LinearModel.predict."""
        feats = [f for f in dict.fromkeys(features(text, tokenizer)) if f in self.logp]
        total = list(self.log_prior)
        for f in feats:
            row = self.logp[f]
            for i in range(len(total)):
                total[i] += row[i]
        m = max(total)
        e = [math.exp(v - m) for v in total]
        return [v / sum(e) for v in e], feats

    def why(self, known, best: int, other: int, k: int = 3) -> list[tuple[str, float]]:
        ranked = sorted(((self.logp[f][best] - self.logp[f][other], f) for f in known), reverse=True)[:k]
        return [(f, round(v, 2)) for v, f in ranked if v > 0]

    def best(self, text: str, tokenizer) -> tuple[str, float, list[tuple[str, float]]]:
        """(label, posterior, the words that most favour it over the runner-up)."""
        feats = [f for f in dict.fromkeys(features(text, tokenizer)) if f in self.logp]
        n = len(self.labels)
        if not feats:
            return self.labels[-1], 0.0, []
        total = list(self.log_prior)
        for f in feats:
            row = self.logp[f]
            for i in range(n):
                total[i] += row[i]
        best = max(range(n), key=total.__getitem__)
        m = total[best]
        z = sum(math.exp(v - m) for v in total)
        second = max((i for i in range(n) if i != best), key=total.__getitem__)
        why = sorted(((self.logp[f][best] - self.logp[f][second], f) for f in feats), reverse=True)[:3]
        return self.labels[best], 1.0 / z, [(f, round(v, 2)) for v, f in why if v > 0]


def read_training(path: str | Path = TRAINING) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return [(r["text"], r["label"].strip()) for r in csv.DictReader(f)]


def train(rows: Iterable[tuple[str, str]], labels: Sequence[str], tokenizer, prepare,
          priors: dict[str, float] | None = None) -> NaiveBayes:
    """`prepare` normalises a text the way the Router does, so training and routing see the same words."""
    return NaiveBayes(labels, priors=priors).fit((features(prepare(text), tokenizer), label) for text, label in rows)
