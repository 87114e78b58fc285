"""A probe, not a test (pytest does not collect it unless named): in the rates oracle's random histories
(tests/test_rates_oracle.py's World), is a week read 4 days after its end (its 签收 windows over) the same when read
again on 12-01? Prints, per seed, the figures that moved. `A=1 B=12 pytest -q -s tests/probe_closed_periods.py`.
trust17: every seed moved (派发 followed the ticket; 满意率 read the latest rating). Since trust18a (m066, kept 签收
cases) and trust18b (m067, kept 办结; 满意率 from the rating events) none moves in seeds 1-40; the oracle checks
派发/应签收/按时签收 this way (Model.kept_cases). Kept until it checks the rest too, then this file goes."""
import os, random
import pytest
from bot.app import DB, SCHEDULER, create_app
from bot.demo import demo_config
from handlers import rates, digest
from handlers.clock import FixedClock
from tests.conftest import running
from tests.dialog import TZ, at
from tests.test_rates_oracle import World, SCHOOLS, ACTORS, free_port

STABLE = ("dispatched", "accepted_in_time", "resolved", "resolved_in_time", "open_overdue", "rated", "satisfied")
SEEDS = range(int(os.environ.get("A", 1)), int(os.environ.get("B", 10)) + 1)


@pytest.mark.parametrize("seed", SEEDS)
async def test_probe(seed, tmp_path):
    port = free_port()
    config = demo_config(port=port, data_dir=str(tmp_path))
    clock = FixedClock(at("2026-11-02 09:00"))
    rng = random.Random(seed)
    weeks = ["2026-W45", "2026-W46", "2026-W47"]
    seen = {}
    async with running(create_app(config, clock=clock), port) as app:
        app[SCHEDULER].pause()
        world = World(app, clock, rng)
        world.bound_here = {}
        unbound = [s for s in SCHOOLS if s not in ACTORS]
        end = at("2026-11-28 00:00")
        while clock.now() < end:
            for _ in range(rng.randint(2, 6)):
                await world.step()
            clock.advance(rng.choice([3600, 2 * 3600, 5 * 3600, 20 * 3600]))
            await world.sweep()
            if unbound and clock.now() > at("2026-11-02 09:00") + 14 * 86400 and rng.random() < 0.1:
                await world.bind(unbound.pop(0))
            for w in weeks:
                s, e = digest.bounds(w, TZ)
                if w not in seen and clock.now() >= e + 4 * 86400:
                    got = await app[DB].read(lambda c: rates.for_period(c, s, e, None, clock.now()))
                    seen[w] = {u: tuple(getattr(r, f) for f in STABLE) for u, r in got.items()}
        clock.at = at("2026-12-01 10:00")
        await world.sweep()
        drift = []
        for w, was in seen.items():
            s, e = digest.bounds(w, TZ)
            got = await app[DB].read(lambda c: rates.for_period(c, s, e, None, clock.now()))
            now_ = {u: tuple(getattr(r, f) for f in STABLE) for u, r in got.items()}
            for u in set(was) | set(now_):
                a, b = was.get(u, (0,) * 7), now_.get(u, (0,) * 7)
                for f, x, y in zip(STABLE, a, b):
                    if x != y:
                        drift.append(f"{w} {u} {f} {x}->{y}")
        print(f"\nDRIFT seed={seed} n={len(drift)} {sorted({d.split()[2] for d in drift})} {drift[:8]}")
