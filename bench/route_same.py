#!/usr/bin/env python3
"""Proof that a faster router decides exactly as the old one: every text of the labelled sets and a few thousand
generated ones, routed by two checkouts, compared field by field (category, confidence, scores, explanation,
urgency, matters, language, fixes: the whole Decision, floats exact), with the loose school-name lookup
(handlers/names.py) on the same texts and on typed school names. Where the new side has Router.category (the
another-matter check, route9), every other text is checked with it first and then routed: the check must give the
decision's category and confidence, and the decision after it must be the same.

    python bench/route_same.py --base main            # old = `git archive main`, new = this checkout
    python bench/route_same.py --old /tmp/before      # old = a checkout already unpacked there
    python bench/route_same.py --dump out.jsonl       # only write this checkout's decisions

Texts: ../shared/data/route_dev.csv (read in place, never copied), handlers/routing/training.csv and
urgent_training.csv, tests/routing/data/own_*.csv, then --generated N mutations of them (random cuts,
traditional characters, homophone typos, English, full-width and spacing, school names put in, long
concatenations with 还有/另外/newlines, short WeChat-style windows). Each side runs in its own process with
PYTHONPATH set to its checkout; both print their CPU time per text, measured in the same run.
Exit status 0 only if nothing differs.
"""
from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "route_dev.csv"

DISTRICTS = ["江南区", "江北区", "城东区", "城西区", "高新区", "X县", "临江县", "市"]
CORES = ["和平", "实验", "育才", "第一", "第二", "第三", "光明", "新华", "东风", "红旗", "解放路", "人民路", "希望",
         "阳光", "春晖", "滨江", "南湖", "北山", "文昌", "明德", "启智", "星光", "金色童年", "蓝天", "向阳"]
KINDS = ["小学", "初级中学", "中学", "高级中学", "幼儿园", "实验小学", "职业学校", "附属小学", "中心校"]


def schools() -> list[tuple[str, str, list[str]]]:
    """A city's worth of schools (code, name, aliases), the same on both sides."""
    rng = random.Random(11)
    out, seen = [], set()
    for d in DISTRICTS:
        for c in CORES:
            k = rng.choice(KINDS)
            name = f"{d}{c}{k}"
            if name in seen:
                continue
            seen.add(name)
            aliases = [f"{c}{k[:1]}{'小' if '小' in k else '中' if '中' in k else ''}"] if rng.random() < 0.5 else []
            out.append((f"S{len(out):04d}", name, aliases))
    return out


def read_texts() -> list[str]:
    texts: list[str] = []
    files = [SHARED, ROOT / "handlers/routing/training.csv", ROOT / "handlers/routing/urgent_training.csv",
             *sorted(Path(p) for p in glob.glob(str(ROOT / "tests/routing/data/own_*.csv")))]
    for f in files:
        if not f.exists():
            print(f"[same] missing {f}: skipped", file=sys.stderr)
            continue
        with open(f, encoding="utf-8-sig", newline="") as fh:
            texts += [r["text"] for r in csv.DictReader(fh) if r.get("text")]
    return texts


ENGLISH = ["the teacher hit my kid", "my son is bullied at school", "school charges too much fees",
           "homework until midnight", "the canteen food is bad", "tutoring agency ran away with our money",
           "kindergarten fees are too high", "I want to complain about the exam score", "teacher asked for gifts",
           "school bus is overloaded", "please help", "thank you so much", "where can I register for primary school",
           "my daughter's teacher takes bribes", "extra classes on weekends", "the classroom ceiling is cracking",
           "food poisoning after lunch", "a stranger threatened students", "hello", "Is anyone there?"]
CONNECT = ["，还有", "。另外", "\n", "；此外", "，顺便说一下", "。", " also ", "，再就是"]
NOISE = [" ", "  ", "！！", "？", "😭", "...", "～", "\t", "【", "】", "（", "）", "#"]


def mutations(base: list[str], n: int, school_names: list[str], seed: int = 7) -> list[str]:
    import opencc
    from handlers.routing.normalise import first_syllable, pinyin_dict
    s2t = opencc.OpenCC("s2t")
    by_sound: dict[str, list[str]] = {}
    for cp in pinyin_dict:
        ch = chr(cp)
        if "\u4e00" <= ch <= "\u9fff":
            syl = first_syllable(ch)
            if syl:
                by_sound.setdefault(syl, []).append(ch)
    rng = random.Random(seed)
    short = [t for t in base if len(t) <= 60] or base

    def typo(t: str, k: int) -> str:
        chars = list(t)
        spots = [i for i, c in enumerate(chars) if "\u4e00" <= c <= "\u9fff"]
        for i in rng.sample(spots, min(k, len(spots))):
            same = by_sound.get(first_syllable(chars[i]) or "", [])
            if same:
                chars[i] = rng.choice(same)
        return "".join(chars)

    def cut(t: str) -> str:
        if len(t) <= 2:
            return t
        a = rng.randrange(len(t) - 1)
        return t[a:a + rng.randint(2, 60)]

    def fullwidth(t: str) -> str:
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and rng.random() < 0.7 else c for c in t)

    def noisy(t: str) -> str:
        chars = list(t)
        for _ in range(rng.randint(1, 4)):
            chars.insert(rng.randrange(len(chars) + 1), rng.choice(NOISE))
        return "".join(chars)

    def with_school(t: str) -> str:
        i = rng.randrange(len(t) + 1)
        return t[:i] + rng.choice(school_names) + t[i:]

    def english() -> str:
        parts = rng.sample(ENGLISH, rng.randint(1, 3))
        t = ", ".join(parts)
        return t.upper() if rng.random() < 0.1 else t.capitalize()

    def long(k: int) -> str:
        return "".join(rng.choice(base) + (rng.choice(CONNECT) if i < k - 1 else "") for i in range(k))

    makers = [
        lambda: cut(rng.choice(base)),
        lambda: cut(rng.choice(short)),
        lambda: s2t.convert(rng.choice(short)),
        lambda: s2t.convert(cut(rng.choice(base))),
        lambda: typo(rng.choice(short), 1),
        lambda: typo(rng.choice(short), 2),
        lambda: typo(cut(rng.choice(base)), 1),
        lambda: english(),
        lambda: english() + rng.choice(CONNECT) + rng.choice(short),
        lambda: fullwidth(rng.choice(short)),
        lambda: noisy(rng.choice(short)),
        lambda: with_school(rng.choice(short)),
        lambda: with_school(cut(rng.choice(base))),
        lambda: long(rng.randint(2, 5)),
        lambda: rng.choice(short) + rng.choice(CONNECT) + rng.choice(short),
        lambda: rng.choice(short)[:rng.randint(1, 8)],
        lambda: s2t.convert(typo(rng.choice(short), 1)),
        lambda: rng.choice(school_names),
        lambda: typo(rng.choice(school_names), 1),
        lambda: "".join(rng.choice(short) for _ in range(rng.randint(8, 20))),  # past the 1,200-character cut
    ]
    return [makers[i % len(makers)]() for i in range(n)]


def dump(out: str, generated: int) -> None:
    """Route every text with the router on sys.path; one JSON line per text."""
    from handlers import names
    from handlers.routing import Router
    sch = schools()
    texts = read_texts()
    names_all = [n for _c, n, a in sch for n in (n, *a)]
    texts += mutations(texts, generated, names_all)
    queries = texts + [q for n in names_all for q in (n, n[2:], n[3:-1])]  # typed names, parts of names
    cands = [(c, n) for c, n, _a in sch]
    t0 = time.process_time()
    router = Router.from_toml(schools=sch)
    startup = time.process_time() - t0
    rows, cpu_route, cpu_names = [], 0.0, 0.0
    for i, t in enumerate(texts):
        c = time.process_time()
        # every other text checked first as a supplement is (Router.category, since route9), then routed: the
        # check must be the decision's category and confidence, and the decision the same after it
        category = router.category(t) if i % 2 and hasattr(router, "category") else None
        d = router.route(t)
        cpu_route += time.process_time() - c
        rows.append({"q": t, "route": repr(d), "explain": d.explain(99), "json": json.dumps(d.to_dict(), ensure_ascii=False),
                     "school": router.find_school(t), "prepare": router.prepare(t),
                     "category": repr(category or (d.category, d.confidence))})
    for i, q in enumerate(queries):
        c = time.process_time()
        m = names.match(q, cands, limit=3)
        b = names.best(q, cands)
        cpu_names += time.process_time() - c
        if i < len(rows):
            rows[i]["names"] = repr((m, b))
        else:
            rows.append({"q": q, "names": repr((m, b))})
    with open(out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    import handlers.routing.router as code
    print(json.dumps({"code": code.__file__, "texts": len(texts), "queries": len(queries), "startup_ms": startup * 1000,
                      "route_us": cpu_route / len(texts) * 1e6, "names_us": cpu_names / len(queries) * 1e6}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="main", help="git revision for the old side (default main)")
    ap.add_argument("--old", help="an old checkout already unpacked (instead of --base)")
    ap.add_argument("--generated", type=int, default=4000)
    ap.add_argument("--dump", help="only write this checkout's decisions to this file")
    args = ap.parse_args()
    if args.dump:
        dump(args.dump, args.generated)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="route-same-"))
    old = Path(args.old) if args.old else tmp / "old"
    if not args.old:
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.base], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
    stats = {}
    for side, path in (("old", old), ("new", ROOT)):
        env = dict(os.environ, PYTHONPATH=str(path))
        # the old side runs this very script (its own copy may not exist), with the old code first on sys.path
        p = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--dump", str(tmp / f"{side}.jsonl"),
                            "--generated", str(args.generated)], env=env, capture_output=True, text=True)
        if p.returncode:
            print(p.stdout, p.stderr, file=sys.stderr)
            return 2
        stats[side] = json.loads(p.stdout.strip().splitlines()[-1])
    assert stats["old"]["code"].startswith(str(old)) and stats["new"]["code"].startswith(str(ROOT)), stats
    old_rows = [json.loads(x) for x in open(tmp / "old.jsonl", encoding="utf-8")]
    new_rows = [json.loads(x) for x in open(tmp / "new.jsonl", encoding="utf-8")]
    assert [r["q"] for r in old_rows] == [r["q"] for r in new_rows], "the two sides routed different texts"
    fields = ("route", "explain", "json", "school", "prepare", "names", "category")
    diff = {f: 0 for f in fields}
    shown = 0
    for a, b in zip(old_rows, new_rows):
        for f in fields:
            if a.get(f) != b.get(f):
                diff[f] += 1
                if shown < 5:
                    shown += 1
                    print(f"DIFF {f}: {a['q']!r}\n  old {a.get(f)}\n  new {b.get(f)}")
    o, n = stats["old"], stats["new"]
    print(f"texts routed: {n['texts']} (labelled sets + {args.generated} generated); names queries: {n['queries']}")
    print(f"differences: " + ", ".join(f"{f} {k}" for f, k in diff.items()))
    print(f"CPU per text, route: old {o['route_us']:.0f} us, new {n['route_us']:.0f} us "
          f"(x{n['route_us'] / o['route_us']:.2f}); names.match+best: old {o['names_us']:.0f} us, "
          f"new {n['names_us']:.0f} us (x{n['names_us'] / o['names_us']:.2f}); "
          f"Router.from_toml: old {o['startup_ms']:.0f} ms, new {n['startup_ms']:.0f} ms")
    return 0 if not any(diff.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
