"""Accuracy and macro-F1 of the router on every labelled set, one line each (the category model's effect).

    python bench/route_sets.py [../shared/data/route_dev.csv ...]   # the given files, then tests/routing/data/*.csv
    PYTHONPATH=/tmp/old python bench/route_sets.py                 # the same for another checkout (its weights)

Read in place: route_dev.csv is never copied. Urgency sets are bench/urgency_sets.py's.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.routing import Router  # noqa: E402
from handlers.routing.evaluate import read_csv, score  # noqa: E402


def main() -> None:
    r = Router.from_toml()
    files = [Path(a) for a in sys.argv[1:]]
    files += [f for f in sorted((ROOT / "tests/routing/data").glob("*.csv")) if "urgent" not in f.name]
    print(f"{'set':<28}{'n':>5}{'acc':>8}{'macroF1':>9}")
    for f in files:
        rows = read_csv(f)
        rep = score([g for _i, _t, g in rows], [r.route(t).category for _i, t, _g in rows])
        print(f"{f.name:<28}{rep.n:>5}{rep.accuracy:>8.3f}{rep.macro_f1:>9.3f}")


if __name__ == "__main__":
    main()
