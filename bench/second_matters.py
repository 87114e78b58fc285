"""Messages with two matters (a routing set's `also` column): is the main office right, is the other one seen.

    python bench/second_matters.py tests/routing/data/own_heldout24.csv [-v]

"seen" = the `also` office is among Decision.matters (the router's primary matter first, then a second one).
"""
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.routing import Router  # noqa: E402


def main() -> None:
    router = Router.from_toml()
    for name in [a for a in sys.argv[1:] if a != "-v"]:
        with open(name, encoding="utf-8", newline="") as f:
            rows = [r for r in csv.DictReader(f) if r.get("also")]
        prim = seen = both = 0
        for r in rows:
            d = router.route(r["text"])
            cats = [m["category"] for m in d.matters] or [d.category]
            p, s = d.category == r["label"], r["also"] in cats
            prim, seen, both = prim + p, seen + s, both + (p and s)
            if "-v" in sys.argv:
                print(f"  {r['id']} {r['label']}+{r['also']} -> {cats}")
        print(f"{Path(name).name}: {len(rows)} two-matter rows: main office right {prim}, "
              f"other office seen {seen}, both {both}")


if __name__ == "__main__":
    main()
