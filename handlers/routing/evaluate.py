"""Evaluate a Router on a labelled CSV (columns id,text,label[,style]) and print a terminal report.

    tingjian route-eval ../shared/data/route_dev.csv [--rules FILE] [--predictions OUT.csv] [--errors]
                        [--by-length] [--by-style] [--corrections]
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from .router import CATEGORIES, SHORT_CHARS, Router

# abbreviations for the confusion matrix columns
_ABBR = {
    "preschool": "pre",
    "admission": "adm",
    "fees": "fee",
    "burden": "bur",
    "tutoring": "tut",
    "ethics": "eth",
    "teachers": "tea",
    "safety": "saf",
    "exams": "exa",
    "planning": "pla",
    "vocational": "voc",
    "other_edu": "oth",
    "out_of_scope": "oos",
}


@dataclass
class Report:
    n: int
    accuracy: float
    macro_f1: float
    per_category: dict[str, dict[str, float]]  # code -> precision, recall, f1, support
    confusion: dict[str, dict[str, int]]  # gold -> predicted -> count
    labels: tuple[str, ...] = CATEGORIES
    errors: list[tuple[str, str, str, str]] = field(default_factory=list)  # id, gold, predicted, text
    predictions: list[str] = field(default_factory=list)  # in the order of the rows

    def f1(self, code: str) -> float:
        return self.per_category[code]["f1"]


def read_csv(path) -> list[tuple[str, str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = {"id", "text", "label"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        return [(r["id"], r["text"], r["label"].strip()) for r in reader]




def read_urgent(path) -> list[tuple[str, str, bool]] | None:
    """(id, text, urgent) for a CSV of urgency judgements (columns id,text,urgent with 1/0), else None."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if "urgent" not in (reader.fieldnames or ()) or "label" in (reader.fieldnames or ()):
            return None
        return [(r["id"], r["text"], (r["urgent"] or "").strip().lower() in ("1", "true", "yes")) for r in reader]


def format_urgency(router, rows: Sequence[tuple[str, str, bool]], errors: bool = False) -> str:
    """Urgent messages found and calm ones flagged (the router's `urgent`), with the misses when asked."""
    found, missed, alarms, calm = [], [], [], 0
    for i, text, urgent in rows:
        d = router.route(text)
        if urgent:
            (found if d.urgent else missed).append((i, text))
        elif d.urgent:
            alarms.append((i, text, d.urgent_words))
        else:
            calm += 1
    n_urgent = len(found) + len(missed)
    lines = [f"urgency: {len(rows)} messages, {n_urgent} urgent, {len(alarms) + calm} not",
             f"  found {len(found)} of {n_urgent} urgent (recall {len(found) / n_urgent:.2f})" if n_urgent else
             "  no urgent message in the file",
             f"  false alarms {len(alarms)} of {len(alarms) + calm} not urgent"]
    if errors:
        lines += ["missed:"] + [f"  {i}  {t[:70]!r}" for i, t in missed]
        lines += ["false alarms:"] + [f"  {i}  {t[:70]!r}  ({'、'.join(w)})" for i, t, w in alarms]
    return "\n".join(lines)


def read_styles(path) -> dict[str, str]:
    """id -> style (short, colloquial, formal, traditional, typo, english …) when the CSV has that column."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if "style" not in (reader.fieldnames or ()):
            return {}
        return {r["id"]: (r["style"] or "").strip() for r in reader}


def length_of(text: str) -> str:
    t = text.strip()
    return "short" if "\n" not in t and len(t) <= SHORT_CHARS else "long"


def breakdown(report: "Report", rows: Sequence[tuple[str, str, str]], key) -> dict[str, "Report"]:
    """The report split by key(id, text) -> group name, each group scored over the categories it holds."""
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for (i, t, g), p in zip(rows, report.predictions):
        gold, pred = groups.setdefault(key(i, t), ([], []))
        gold.append(g)
        pred.append(p)
    out = {}
    for name, (gold, pred) in sorted(groups.items()):
        present = tuple(c for c in CATEGORIES if c in set(gold) | set(pred))
        out[name] = score(gold, pred, present)
    return out


def format_breakdown(title: str, parts: dict[str, "Report"]) -> str:
    lines = [title, f"{'group':<14}{'messages':>9}{'accuracy':>10}{'macro-F1':>10}{'oos F1':>8}"]
    for name, r in parts.items():
        oos = f"{r.f1('out_of_scope'):.3f}" if "out_of_scope" in r.labels else "-"
        lines.append(f"{name:<14}{r.n:>9d}{r.accuracy:>10.3f}{r.macro_f1:>10.3f}{oos:>8}")
    return "\n".join(lines)


def format_confusions(report: "Report", limit: int = 12) -> str:
    """The most frequent confusion pairs, gold -> predicted."""
    pairs = sorted(((n, g, p) for g, row in report.confusion.items() for p, n in row.items() if g != p and n),
                   reverse=True)[:limit]
    if not pairs:
        return "confusion pairs: none"
    return "confusion pairs (gold -> predicted, count):\n" + "\n".join(f"  {g} -> {p}  {n}" for n, g, p in pairs)


def score(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = CATEGORIES) -> Report:
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    labels = tuple(labels)
    confusion = {g: {p: 0 for p in labels} for g in labels}
    for g, p in zip(gold, predicted):
        confusion.setdefault(g, {q: 0 for q in labels}).setdefault(p, 0)
        confusion[g][p] += 1
    per: dict[str, dict[str, float]] = {}
    for c in labels:
        tp = confusion.get(c, {}).get(c, 0)
        fp = sum(confusion[g].get(c, 0) for g in confusion if g != c)
        fn = sum(v for p, v in confusion.get(c, {}).items() if p != c)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[c] = {"precision": prec, "recall": rec, "f1": f1, "support": tp + fn}
    n = len(gold)
    acc = sum(g == p for g, p in zip(gold, predicted)) / n if n else 0.0
    macro = sum(per[c]["f1"] for c in labels) / len(labels) if labels else 0.0
    return Report(n=n, accuracy=acc, macro_f1=macro, per_category=per, confusion=confusion, labels=labels)


def evaluate(router: Router, rows: Iterable[tuple[str, str, str]]) -> Report:
    rows = list(rows)
    predicted = [router.route(text).category for _id, text, _label in rows]
    report = score([r[2] for r in rows], predicted)
    report.errors = [
        (i, g, p, t) for (i, t, g), p in zip(rows, predicted) if g != p
    ]
    report.predictions = predicted
    return report


def format_report(report: Report) -> str:
    out = [
        f"messages {report.n}   accuracy {report.accuracy:.3f}   macro-F1 {report.macro_f1:.3f} "
        f"(over {len(report.labels)} categories)",
        "",
        f"{'category':<14}{'precision':>10}{'recall':>9}{'F1':>8}{'support':>9}",
    ]
    for c in report.labels:
        m = report.per_category[c]
        out.append(
            f"{c:<14}{m['precision']:>10.3f}{m['recall']:>9.3f}{m['f1']:>8.3f}{int(m['support']):>9d}"
        )
    out.append("")
    out.append(format_confusions(report))
    out.append("")
    out.append("confusion matrix (rows = gold label, columns = predicted)")
    head = " " * 14 + "".join(f"{_ABBR.get(c, c[:3]):>5}" for c in report.labels)
    out.append(head)
    for g in report.labels:
        row = report.confusion.get(g, {})
        cells = "".join(f"{(row.get(p, 0) or '.'):>5}" for p in report.labels)
        out.append(f"{g:<14}{cells}")
    return "\n".join(out)


def format_errors(report: Report) -> str:
    return "\n".join(f"{i}\t{g} -> {p}\t{t[:100]!r}" for i, g, p, t in report.errors)


def write_predictions(path, ids: Sequence[str], predictions: Sequence) -> None:
    """Write `id,predicted`; predictions may be category codes or Decisions."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "predicted"])
        for i, p in zip(ids, predictions):
            w.writerow([i, getattr(p, "category", p)])
