"""Urgency found / false alarms per set: every tests/routing/data/*urgent*.csv, one line each.

    python bench/urgency_sets.py            # every set, then the total over the sets (the blind ones apart)
    python bench/urgency_sets.py --errors   # and the misses and false alarms of each set
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.routing import Router  # noqa: E402
from handlers.routing.evaluate import read_urgent  # noqa: E402


def main() -> None:
    errors = "--errors" in sys.argv
    r = Router.from_toml()
    tot = [0, 0, 0, 0]
    for f in sorted((ROOT / "tests/routing/data").glob("*urgent*.csv")):
        rows = read_urgent(f) or []
        tp = fn = fp = tn = 0
        bad = []
        for i, text, want in rows:
            got = r.route(text).urgent
            tp += want and got
            fn += want and not got
            fp += (not want) and got
            tn += (not want) and not got
            if want != got:
                bad.append(("MISS " if want else "FALSE") + f" {i} {text}")
        print(f"{f.stem:28s} urgent found {tp}/{tp + fn}  false alarms {fp}/{fp + tn}")
        if errors:
            for b in bad:
                print("   ", b)
        if "blind" not in f.stem:
            tot = [tot[0] + tp, tot[1] + tp + fn, tot[2] + fp, tot[3] + fp + tn]
    print(f"{'all but the blind sets':28s} urgent found {tot[0]}/{tot[1]}  false alarms {tot[2]}/{tot[3]}")


if __name__ == "__main__":
    main()
