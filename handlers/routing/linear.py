"""A multinomial logistic-regression model over jieba words, character 1-3-grams and English words.

It is trained offline (`python -m handlers.routing.train`) on the labelled messages shipped with Tingjian and
its weights ship as a small JSON file (model_weights.json) that loads in milliseconds. Pure Python: a message
costs one dictionary look-up per feature. It can say which of a message's features moved it, so a decision
it takes part in stays explained.
"""
from __future__ import annotations

import array
import base64
import json
import math
import re
from pathlib import Path
from typing import Sequence

WEIGHTS = Path(__file__).with_name("model_weights.json")
MODEL_CHARS = 300  # the demand is stated at the start (and in the title)
SHORT_FOR_CHARS = 20
_STOP_CHARS = frozenset("的了我你他她它是在有和就都也还要说吗呢吧啊呀么这那个们一不下想问请事情况")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_LATIN_WORD = re.compile(r"[a-z][a-z']+[a-z]")

# Filler words: they say how people write, not what about.
_STOP = frozenset("一下 一个 这个 那个 我想 想问 问问 问一 问下 请问 怎么 什么 我们 你们 他们 她们 咱们 事情 情况 问题 "
                  "现在 已经 这样 那样 就是 还是 可以 不是 自己 知道 一直 的事 的事情 一下学 想问一 问一下 下学校 "
                  "请问一 我想问".split())
_STOP_EN = frozenset("the and for with that this our you your are was were have has had not can what how when where why "
                     "who which from there they them his her its been will would could should about into does did "
                     "any all".split())


def features(text: str, tokenizer) -> list[str]:
    """Distinct features of a text already prepared by the Router (normalised, school names as kinds)."""
    t = text[:MODEL_CHARS]
    out = {"w:" + w for w in tokenizer.cut(t, HMM=False) if len(w) >= 2 and not w.isascii() and w not in _STOP}
    runs = _CJK_RUN.findall(t)
    for run in runs:
        n = len(run)
        out.update(g for g in (run[i:i + 2] for i in range(n - 1)) if g not in _STOP)
        out.update(g for g in (run[i:i + 3] for i in range(n - 2)) if g not in _STOP)
    if sum(map(len, runs)) <= SHORT_FOR_CHARS:  # single characters only where little else is said
        out.update("c:" + ch for run in runs for ch in run if ch not in _STOP_CHARS)
    out.update("e:" + _stem(w) for w in _LATIN_WORD.findall(t) if w not in _STOP_EN)
    return sorted(out)


_NGRAM_KEY = re.compile(r"[\u4e00-\u9fff]{2,3}")


def ngram_keys(keys) -> list[str]:
    """Of a model's feature names, those `features` makes from a run of Han characters (its 2- and 3-grams)."""
    return [k for k in keys if _NGRAM_KEY.fullmatch(k)]


def known_features(text: str, tokenizer, known, ngrams, line=None) -> list[str]:
    """`[f for f in features(text, tokenizer) if f in known]`, without making the features no model knows: the
    text's 2- and 3-grams are found by `ngrams` (a compiled matcher of `ngram_keys(known)`, literals.Literals), the
    other features probed one by one. Every occurrence of such a key lies inside one run of Han characters, so what
    it finds is exactly the runs' n-grams that are keys.

    No feature spans a line break (jieba cuts no word across it, a Han run or a Latin word holds none), so the
    features are the lines' put together, the single characters where all the lines' runs are short: `line` (one
    line -> known_line's answer; a remembered one, the router's) reads each line, so a draft routed again reads
    only its new line."""
    line = line or (lambda x: known_line(x, tokenizer, known, ngrams))
    lines = [line(x) for x in text[:MODEL_CHARS].split("\n")]
    out = frozenset().union(*(feats for feats, _single, _n in lines))
    if sum(n for _feats, _single, n in lines) <= SHORT_FOR_CHARS:  # single characters only where little else is said
        out = out.union(*(single for _feats, single, _n in lines))
    return sorted(out)


def known_line(t: str, tokenizer, known, ngrams) -> tuple[tuple[str, ...], tuple[str, ...], int]:
    """Of one line (no line break), (its known features but single characters, its Han runs' known single
    characters, how many Han characters its runs hold)."""
    out = {f for w in tokenizer.cut(t, HMM=False) if len(w) >= 2 and not w.isascii() and w not in _STOP
           and (f := "w:" + w) in known}
    out.update(g for g in ngrams.present(t) if g not in _STOP)
    runs = _CJK_RUN.findall(t)
    n = sum(map(len, runs))
    # (a line of more than SHORT_FOR_CHARS makes any text holding it too long for single characters)
    single = tuple(f for run in runs for ch in run if ch not in _STOP_CHARS and (f := "c:" + ch) in known) \
        if n <= SHORT_FOR_CHARS else ()
    out.update(f for w in _LATIN_WORD.findall(t) if w not in _STOP_EN and (f := "e:" + _stem(w)) in known)
    return tuple(out), single, n  # (a tuple: a third of a frozenset's memory, and remembered per line)


def _stem(w: str) -> str:
    for end in ("ing", "ed", "es", "s"):
        if w.endswith(end) and len(w) - len(end) >= 3:
            return w[: -len(end)]
    return w


class LinearModel:
    """Weights as one flat float array, row per feature; the row order is the `features` list."""

    def __init__(self, labels: Sequence[str], feats: Sequence[str], weights: array.array, bias: Sequence[float]):
        self.labels = tuple(labels)
        n = len(self.labels)
        self.bias = list(bias)
        self._typecode = weights.typecode
        # one tuple per feature: summing a message's rows column-wise runs in C (zip), not in a Python loop. The
        # loaded weights take a few thousand distinct values (int16 times one scale): each value is one float
        # object shared by every row that has it (the same value, bit for bit), not one object per weight.
        if weights.typecode == "f" and not array.array("I", weights.tobytes()).count(0x80000000):
            share = {}.setdefault  # (equal floats are the same bits, but for -0.0: there is none)
            self.rows = {f: tuple(map(share, row, row)) for i, f in enumerate(feats)
                         for row in (weights[i * n:(i + 1) * n],)}
        else:
            self.rows = {f: tuple(weights[i * n:(i + 1) * n]) for i, f in enumerate(feats)}

    # The feature index and the flat weights are the rows' (in their order), built when asked (saving, training
    # reports): kept beside the rows they took ~7 MB per process for nothing the routing reads.
    @property
    def index(self) -> dict[str, int]:
        return {f: i for i, f in enumerate(self.rows)}

    @property
    def w(self) -> array.array:
        return array.array(self._typecode, (v for row in self.rows.values() for v in row))

    @classmethod
    def load(cls, path: str | Path = WEIGHTS) -> "LinearModel":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        q = array.array("h")
        q.frombytes(base64.b64decode(data["weights"]))
        scale = float(data["scale"])
        w = array.array("f", (v * scale for v in q))
        return cls(data["labels"], data["features"], w, data["bias"])

    def save(self, path: str | Path, meta: dict | None = None) -> None:
        # int16 with one scale: a tenth of the size of floats in JSON, and exact enough for routing
        biggest = max((abs(v) for v in self.w), default=1.0) or 1.0
        scale = biggest / 32767
        q = array.array("h", (int(round(v / scale)) for v in self.w))
        feats = sorted(self.index, key=self.index.__getitem__)
        Path(path).write_text(json.dumps({
            "labels": list(self.labels), "scale": scale, "bias": [round(b, 5) for b in self.bias],
            "features": feats, "weights": base64.b64encode(q.tobytes()).decode("ascii"), "meta": meta or {},
        }, ensure_ascii=False), encoding="utf-8")

    def logits(self, feats: Sequence[str]) -> tuple[list[float], list[str]]:
        rows = self.rows
        return self._logits_known([f for f in feats if f in rows])

    def _logits_known(self, known: list[str], rows: list[tuple] | None = None) -> tuple[list[float], list[str]]:
        if not known:
            return list(self.bias), known
        if rows is None:
            rows = [self.rows[f] for f in known]
        x = _scale(len(known))
        return [b + x * s for b, s in zip(self.bias, map(sum, zip(*rows)))], known

    def predict(self, text: str, tokenizer, extra: Sequence[str] = ()) -> tuple[list[float], list[str]]:
        """(probability of each label, the features of the text the model knows); `extra` features are added
        to the text's own (the urgency model's rule hits)."""
        return self.predict_features([*features(text, tokenizer), *extra])

    def predict_features(self, feats: Sequence[str]) -> tuple[list[float], list[str]]:
        """As predict, for features already computed (the router computes a message's once for both models)."""
        z, known = self.logits(feats)
        return softmax(z), known

    def predict_known(self, known: list[str], rows: list[tuple] | None = None) -> tuple[list[float], list[str]]:
        """As predict_features, for features already known to be the model's (in the text's order), with their
        rows where the caller has them."""
        z, known = self._logits_known(known, rows)
        return softmax(z), known

    def why(self, known: Sequence[str], best: int, other: int, k: int = 3) -> list[tuple[str, float]]:
        """The features that most favour label `best` over label `other`, shown without their prefixes."""
        x = _scale(len(known))
        scored = sorted((((self.rows[f][best] - self.rows[f][other]) * x, f) for f in known), reverse=True)
        out: dict[str, float] = {}
        for v, f in scored:
            if v <= 0 or len(out) == k:
                break
            out.setdefault(f.split(":", 1)[-1], round(v, 2))  # 建议 the word and 建议 the pair: shown once
        return list(out.items())


THIN = 8  # a message with fewer known features than this is thin evidence: its weights count less


def _scale(n: int) -> float:
    """Each feature's value: 1/sqrt(n), so long letters do not outvote short messages, but never above
    1/sqrt(THIN), so two or three words (学校, 的事) cannot make the model sure."""
    return 1.0 / math.sqrt(max(n, THIN)) if n else 0.0


def softmax(z: Sequence[float]) -> list[float]:
    m = max(z)
    e = [math.exp(v - m) for v in z]
    s = sum(e)
    return [v / s for v in e]


def fit(docs: Sequence[tuple[list[str], int]], labels: Sequence[str], epochs: int = 20, lr: float = 0.5,
        l2: float = 1e-5, min_count: int = 2, class_bias: Sequence[float] | None = None,
        seed: int = 7) -> LinearModel:
    """Multinomial logistic regression by Adagrad over the docs (features, label index)."""
    import random
    n = len(labels)
    counts: dict[str, int] = {}
    for feats, _y in docs:
        for f in feats:
            counts[f] = counts.get(f, 0) + 1
    vocab = sorted(f for f, c in counts.items() if c >= min_count)
    index = {f: i for i, f in enumerate(vocab)}
    w = [0.0] * (len(vocab) * n)
    g2 = [1e-8] * (len(vocab) * n)
    b = [0.0] * n
    gb = [1e-8] * n
    rows = [([index[f] for f in feats if f in index], y) for feats, y in docs]
    rnd = random.Random(seed)
    order = list(range(len(rows)))
    for _epoch in range(epochs):
        rnd.shuffle(order)
        for k in order:
            idx, y = rows[k]
            x = _scale(len(idx))
            z = list(b)
            for i in idx:
                base = i * n
                for c in range(n):
                    z[c] += w[base + c] * x
            p = softmax(z)
            p[y] -= 1.0  # gradient of the loss by the logits
            for c in range(n):
                gb[c] += p[c] * p[c]
                b[c] -= lr * p[c] / math.sqrt(gb[c])
            for i in idx:
                base = i * n
                for c in range(n):
                    j = base + c
                    g = p[c] * x + l2 * w[j]
                    g2[j] += g * g
                    w[j] -= lr * g / math.sqrt(g2[j])
    if class_bias:
        b = [bb + cb for bb, cb in zip(b, class_bias)]
    return LinearModel(labels, vocab, array.array("f", w), b)
