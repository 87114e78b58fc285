"""The office a message is filed under, per labelled set: the router's category, or where it says out_of_scope the
first education matter (as the intake files it, Intake: d.category = d.matters[0]).

    python bench/filed_under.py FILE.csv ...
"""
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from handlers.routing import Router
from handlers.routing.evaluate import read_csv
r = Router.from_toml()
files = sys.argv[1:]
for f in files:
    rows = read_csv(f)
    n = ok = ok_eff = 0
    for i, t, g in rows:
        d = r.route(t)
        ms = [m["category"] for m in d.matters]
        eff = d.category
        if eff == "out_of_scope":
            edu = [c for c in ms if c != "out_of_scope"]
            if edu: eff = edu[0]
        n += 1; ok += d.category == g; ok_eff += eff == g
    print(f"{f.split('/')[-1]:28s} n {n} category {ok/n:.3f} filed-under {ok_eff/n:.3f}")
