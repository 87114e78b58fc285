"""Routing latency: start-up time of the default Router and per-message latency on typical messages.

    python bench/route.py [--rounds N]

The machine is shared, so wall-clock figures wander with the load; every figure is also given in CPU time of
this process (time.process_time), which other processes do not inflate, and latency against a reference
measured in the same run (jieba cutting the same message).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)


MESSAGES = [
    "孩子作业写到十一点",
    "培训机构跑路了钱怎么退",
    "幼儿园一个月收三千多，太贵了",
    "学校门口红绿灯坏了",
    "老师打孩子耳光",
    "學校亂收費，每人收了380元資料費，沒有收據",
    "学校乱收废还不给发票",
    "The teacher hit my kid yesterday in class",
    "班主任收家长红包，还有作业太多了",
    "中考成绩好像算错了",
    "孩子明年上一年级，学区怎么划",
    "教师工资拖欠三个月了",
    "学校食堂饭菜里有虫子",
    "小区物业乱收停车费",
    "X县拖欠教师绩效工资\nX县教师2018年的绩效工资至今未发放，其他县早已发放到位，希望领导关注一线教师的待遇。",
    "X中学旁边工地夜间施工噪音扰民\n工地每天晚上施工到凌晨两点，附近居民和学生都无法休息，请环保部门查处，"
    "这种情况已经持续了两个多月，多次打电话投诉都没有结果，孩子马上要中考了，希望尽快处理。",
    "关于X区幼儿园入园难的问题\n我家孩子今年满三岁，附近两所公办园都报满了，民办园一个月要四千，普通家庭承受不起，"
    "希望政府多建普惠园，也希望小区配套幼儿园尽快移交，办成公办园或者普惠性民办园，让老百姓的孩子有园上。",
]

SCHOOLS = [(f"S{i:04d}", f"第{i}实验小学", [f"{i}小"]) for i in range(1, 301)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=300)
    args = ap.parse_args()

    import tomllib
    c0 = time.process_time()
    import opencc  # noqa: F401
    from pypinyin.pinyin_dict import pinyin_dict  # noqa: F401
    imports_cpu = time.process_time() - c0  # what normalisation adds to importing the router

    from handlers.routing import DEFAULT_RULES, Router
    from handlers.routing.router import _base_dictionary
    t0 = time.perf_counter()
    _base_dictionary()  # jieba's dictionary, loaded once per process: counted apart
    jieba_load = time.perf_counter() - t0
    with open(DEFAULT_RULES, "rb") as f:
        rules = tomllib.load(f)
    t0, c0 = time.perf_counter(), time.process_time()
    Router(rules, SCHOOLS)  # rules, schools, normaliser (OpenCC, pinyin index), no model
    rules_only, rules_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    router = Router.from_toml(schools=SCHOOLS)  # what the service does: the above plus loading the model weights
    startup, startup_cpu = time.perf_counter() - t0, time.process_time() - c0
    plain = Router({k: v for k, v in rules.items() if k not in ("model", "urgent", "matters")}, SCHOOLS)

    for m in MESSAGES:  # warm-up
        router.route(m)
    short = [m for m in MESSAGES if "\n" not in m]
    samples: list[float] = []
    short_samples: list[float] = []
    short_cpu: list[float] = []
    ref: list[float] = []
    tok = router.tokenizer
    for _ in range(args.rounds):
        for m in MESSAGES:
            c = time.process_time_ns()
            t = time.perf_counter_ns()
            router.route(m)
            us = (time.perf_counter_ns() - t) / 1000.0
            cpu = (time.process_time_ns() - c) / 1000.0
            samples.append(us)
            if m in short:
                short_samples.append(us)
                short_cpu.append(cpu)
            t = time.perf_counter_ns()
            list(tok.cut(m, HMM=False))
            ref.append((time.perf_counter_ns() - t) / 1000.0)
    c = time.process_time()
    for _ in range(args.rounds):
        for m in short:
            plain.route(m)
    plain_cpu = (time.process_time() - c) / (args.rounds * len(short)) * 1e6
    c = time.process_time()
    for _ in range(args.rounds):
        for m in short:
            router.route(m)
    full_cpu = (time.process_time() - c) / (args.rounds * len(short)) * 1e6
    # Sentences never seen (bench/webhook.py's routing mix): no cut of theirs is remembered, as in the webhook,
    # where nearly every routed text is new. The best of 3 passes, each with the router's remembered cuts cleared.
    import random
    import webhook
    rng = random.Random(5)
    fresh = list(dict.fromkeys(webhook.routing_text(rng) for _ in range(2000)))
    fresh_cpu, fresh_p99 = [], []
    for _ in range(3):
        cut_cache = getattr(getattr(router, "_cut", None), "_block", None)
        if cut_cache is not None:
            cut_cache.cache_clear()
        if getattr(router, "_matches_cache", None) is not None:
            router._matches_cache = None  # (nor their rule matches)
        each = []
        c = time.process_time()
        for m in fresh:
            c1 = time.process_time_ns()
            router.route(m)
            each.append((time.process_time_ns() - c1) / 1000.0)
        fresh_cpu.append((time.process_time() - c) / len(fresh) * 1e6)
        fresh_p99.append(sorted(each)[int(0.99 * len(each))])
    for xs in (samples, short_samples, short_cpu, ref):
        xs.sort()

    def p(xs, q):
        return xs[min(len(xs) - 1, int(q * len(xs)))]

    print(f"jieba dictionary load (once per process): {jieba_load * 1000:.0f} ms wall; "
          f"importing OpenCC and the pinyin table: {imports_cpu * 1000:.0f} ms CPU")
    print(f"start-up: Router with {len(SCHOOLS)} schools {rules_only * 1000:.0f} ms wall / {rules_cpu * 1000:.0f} ms CPU; "
          f"with the model weights loaded (as the service starts it) {startup * 1000:.0f} ms wall / "
          f"{startup_cpu * 1000:.0f} ms CPU")
    print(f"added by this work (imports + model; the Router itself was built before too): "
          f"{(imports_cpu + startup_cpu - rules_cpu) * 1000:.0f} ms CPU, plus the normaliser inside the Router")
    print(f"messages routed: {len(samples)} ({len(MESSAGES)} distinct x {args.rounds} rounds)")
    print(f"per message: mean {statistics.fmean(samples):.1f} us   p50 {p(samples, 0.5):.1f} us   "
          f"p99 {p(samples, 0.99):.1f} us   max {samples[-1]:.1f} us")
    print(f"short WeChat messages ({len(short)} kinds): wall mean {statistics.fmean(short_samples):.1f} us   "
          f"p50 {p(short_samples, 0.5):.1f} us   p99 {p(short_samples, 0.99):.1f} us")
    print(f"short WeChat messages, CPU time: p50 {p(short_cpu, 0.5):.1f} us   p99 {p(short_cpu, 0.99):.1f} us   "
          f"max {short_cpu[-1]:.1f} us")
    print(f"short, CPU mean: full router {full_cpu:.1f} us; keyword rules with normalisation but without "
          f"model/urgency/matters {plain_cpu:.1f} us")
    print(f"new sentences (the webhook's routing mix, {len(fresh)} distinct, cuts not remembered), CPU mean: "
          f"best {min(fresh_cpu):.1f} us (passes: {', '.join(f'{x:.0f}' for x in fresh_cpu)}); "
          f"p99 {min(fresh_p99):.0f} us")
    print(f"reference, jieba cut of the same messages: mean {statistics.fmean(ref):.1f} us   "
          f"p99 {p(ref, 0.99):.1f} us;  routing / cutting (mean) = {statistics.fmean(samples) / statistics.fmean(ref):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
