"""Learning from staff corrections (every 转派 is one): which words misled the router, and rule changes a person
can review as a diff. Nothing here writes the live rules.

A correction is (text, the category the router chose, the categories of the unit the staff sent it to). Its
gold category is the unit's category when the unit has exactly one, or the router's own choice when the unit
handles that one too (then only the unit was wrong, not the category); otherwise it cannot be judged.
"""
from __future__ import annotations

import difflib
import re
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from .router import CATEGORIES, Router

_STOP = frozenset("孩子 学校 老师 我们 他们 你们 现在 已经 没有 什么 怎么 这个 那个 一个 就是 还是 因为 所以 但是 "
                  "可以 不是 自己 问题 情况 反映 希望 请问 领导 部门 进行 相关 要求 这样 如果 时候 知道".split())


def gold_of(c: dict) -> str | None:
    cats = [x for x in c.get("to_categories", []) if x in CATEGORIES]
    if c.get("category") in cats:
        return c["category"]
    return cats[0] if len(cats) == 1 else None


def labelled(corrections: list[dict]) -> tuple[list[tuple[str, str, str]], int]:
    """(rows for evaluate(): id, text, gold; how many corrections could not be judged)."""
    rows, skipped = [], 0
    for c in corrections:
        g = gold_of(c)
        if g is None:
            skipped += 1
        else:
            rows.append((str(c["ticket_id"]), c["text"], g))
    return rows, skipped


@dataclass
class Suggestion:
    lower: list[tuple[str, str, float, float, int]] = field(default_factory=list)  # cat, word, old, new, n
    add: list[tuple[str, str, float, int]] = field(default_factory=list)  # cat, word, weight, n
    misleading: list[tuple[str, str, str, int]] = field(default_factory=list)  # word, wrong cat, right cat, n
    evaluated: int = 0
    right_now: int = 0
    right_after: int | None = None
    diff: str = ""


def suggest(router: Router, rules_text: str, corrections: list[dict], min_count: int = 2,
            rules_name: str = "default_rules.toml") -> Suggestion:
    rows, _skipped = labelled(corrections)
    sug = Suggestion(evaluated=len(rows))
    rules = tomllib.loads(rules_text)
    cats = rules.get("categories", {})
    fired: Counter = Counter()  # (word, wrong category, right category)
    new_words: dict[str, Counter] = defaultdict(Counter)  # right category -> token counts
    for c in corrections:  # the words that led the decision each correction undid, as stored on the ticket
        gold = gold_of(c)
        then = c.get("routing") or {}
        if gold is None or c.get("category") == gold:
            continue
        for e in then.get("explanation", []):
            if e.get("category") == c["category"] and e.get("weight", 0) > 0 and \
                    not str(e.get("word", "")).startswith(("模型", "(")):
                fired[(str(e["word"]).split("≈")[-1], c["category"], gold)] += 1
    stored = bool(fired)
    fired_now: Counter = Counter()  # the same, by the current rules: what a change would still fix
    for _id, text, gold in rows:
        d = router.route(text)
        if d.category == gold:
            sug.right_now += 1
            continue
        for e in d.explanation:
            if e["category"] == d.category and e["weight"] > 0 and not e["word"].startswith(("模型", "(")):
                fired_now[(e["word"].split("≈")[-1], d.category, gold)] += 1
        tokens = {w for w in router.tokenizer.cut(router.prepare(text), HMM=False)
                  if len(w) >= 2 and not w.isascii() and re.fullmatch(r"[\u4e00-\u9fff]+", w) and w not in _STOP}
        for w in tokens:
            new_words[gold][w] += 1

    sug.misleading = sorted(((w, wrong, right, n) for (w, wrong, right), n in (fired if stored else fired_now).items()),
                            key=lambda x: (-x[3], x[0]))
    text = rules_text
    by_word: Counter = Counter()
    for (w, wrong, _right), n in fired_now.items():
        by_word[(w, wrong)] += n
    for (w, wrong), n in sorted(by_word.items(), key=lambda kv: (-kv[1], kv[0])):
        old = cats.get(wrong, {}).get("words", {}).get(w)
        if n < min_count or not isinstance(old, (int, float)) or old <= 0:
            continue
        new = round(old / 2, 1)
        text = set_weight(text, wrong, w, new)
        sug.lower.append((wrong, w, float(old), new, n))
    for gold, counter in sorted(new_words.items()):
        have = set(cats.get(gold, {}).get("words", {})) | set(cats.get(gold, {}).get("phrases", {}))
        for w, n in counter.most_common():
            if n < min_count or w in have:
                continue
            text = add_word(text, gold, w, 2)
            sug.add.append((gold, w, 2.0, n))
    if text != rules_text:
        sug.diff = "".join(difflib.unified_diff(
            rules_text.splitlines(keepends=True), text.splitlines(keepends=True),
            fromfile=f"a/{rules_name}", tofile=f"b/{rules_name}"))
        proposed = Router(tomllib.loads(text))
        proposed.model = router.model
        proposed.model_settings = router.model_settings
        sug.right_after = sum(proposed.route(t).category == g for _i, t, g in rows)
    return sug


def _section(text: str, header: str) -> tuple[int, int] | None:
    m = re.search(rf"^\[{re.escape(header)}\][ \t]*(#.*)?$", text, re.M)
    if not m:
        return None
    nxt = re.search(r"^\[", text[m.end():], re.M)
    return m.end(), (m.end() + nxt.start()) if nxt else len(text)


def set_weight(text: str, category: str, word: str, weight: float) -> str:
    span = _section(text, f"categories.{category}.words")
    if span is None:
        return text
    a, b = span
    body = re.sub(rf'^("{re.escape(word)}"\s*=\s*)[-0-9.]+', lambda m: f"{m.group(1)}{_num(weight)}",
                  text[a:b], count=1, flags=re.M)
    return text[:a] + body + text[b:]


def add_word(text: str, category: str, word: str, weight: float) -> str:
    header = f"categories.{category}.words"
    span = _section(text, header)
    line = f'"{word}" = {_num(weight)}  # suggested from corrections\n'
    if span is None:
        return text.rstrip("\n") + f"\n\n[{header}]\n" + line
    a = span[0] + 1  # the line after the header
    return text[:a] + line + text[a:]


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def format_suggestion(s: Suggestion) -> str:
    out = [f"corrections judged: {s.evaluated}; routed right by the current rules: {s.right_now}"]
    if s.misleading:
        out.append("\nwords that most often preceded a correction (word: routed to -> staff sent to, times):")
        out += [f"  {w}: {wrong} -> {right}  x{n}" for w, wrong, right, n in s.misleading[:20]]
    else:
        out.append("\nno rule word led to a correction")
    if not s.diff:
        out.append("\nno rule change proposed (a change needs at least the minimum number of corrections)")
        return "\n".join(out)
    out.append("\nproposed changes (review, then apply by hand; nothing has been changed):")
    out += [f"  lower {w} in {c}: {o:g} -> {n:g}  ({k} corrections)" for c, w, o, n, k in s.lower]
    out += [f"  add {w} to {c} = {wt:g}  ({k} corrections)" for c, w, wt, k in s.add]
    if s.right_after is not None:
        out.append(f"with these changes the corrected messages routed right: {s.right_after} of {s.evaluated} "
                   f"(now {s.right_now})")
    out.append("")
    out.append(s.diff.rstrip("\n"))
    return "\n".join(out)
