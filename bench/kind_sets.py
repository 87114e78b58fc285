"""The kind the conversation guesses (intake.infer_kind) per set: right, asked (None), wrong, one line each.

    python bench/kind_sets.py            # every tests/routing/data/kind/*.csv (columns id,text,kind)
    python bench/kind_sets.py --errors   # and each row asked or guessed wrong

Asking is no error (the parent picks); a wrong guess is: a complaint taken for praise is closed at once.
"""
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers import intake  # noqa: E402


def main() -> None:
    errors = "--errors" in sys.argv
    for f in sorted((ROOT / "tests/routing/data/kind").glob("*.csv")):
        with open(f, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        right = asked = wrong = 0
        bad = []
        for r in rows:
            got = intake.infer_kind(intake.normalise(r["text"]))
            if got == r["kind"]:
                right += 1
            elif got is None:
                asked += 1
                bad.append(f"ASKED {r['id']} ({r['kind']}) {r['text']!r}")
            else:
                wrong += 1
                bad.append(f"WRONG {r['id']} ({r['kind']} -> {got}) {r['text']!r}")
        by = {k: sum(1 for r in rows if r["kind"] == k and intake.infer_kind(intake.normalise(r["text"])) == k)
              for k in intake.KIND_WORDS}
        print(f"{f.stem:24s} right {right}/{len(rows)}  asked {asked}  wrong {wrong}  "
              + "  ".join(f"{k} {v}/{sum(1 for r in rows if r['kind'] == k)}" for k, v in by.items()))
        if errors:
            for b in bad:
                print("   ", b)


if __name__ == "__main__":
    main()
