"""How fast the plan explorer recomputes after an edit, on the default sample org.

Generates the default sample (150 reps, two years) into a temporary folder, builds a
:class:`spmkit.explore.PlanExplorer` on ``scenarios/baseline.yaml`` and times edits that
miss every cache (each sets a value not seen before), so each one runs the engine, the
KPIs, the per-rep deltas and (for plan edits) the pay curve. The target is < 0.5 s per
recompute. Prints figures; never part of the pass/fail suite.

    .venv/bin/python bench/explore_bench.py [--repeats 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 0.5


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _both(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one call (CPU time is what a busy machine hides)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=8, help="edits of each kind")
    parser.add_argument("--baseline", default=str(ROOT / "scenarios" / "baseline.yaml"))
    args = parser.parse_args(argv)

    from spmkit.explore import PlanExplorer
    from spmkit.plan import load_plan
    from spmkit.sample import write_sample
    from spmkit.tables import load_data_dir

    with tempfile.TemporaryDirectory(prefix="spmkit-explore-bench-") as tmp:
        t = _time(lambda: write_sample(tmp))
        print(f"sample data (150 reps, 2 years) written in {t:.2f} s")
        start = time.perf_counter()
        inputs = load_data_dir(tmp)
        loaded = time.perf_counter() - start
        baseline = load_plan(args.baseline)
        start = time.perf_counter()
        explorer = PlanExplorer(inputs, baseline, scenarios_dir=Path(tmp) / "scenarios")
        built = time.perf_counter() - start
        print(f"history loaded in {loaded:.2f} s; {inputs.deals.shape[0]} deals, "
              f"{explorer.snapshot.kpis['reps']} payees")
        print(f"explorer built (baseline result memoized) in {built:.2f} s")

        commission = next(c.id for c in baseline.components if c.type == "commission")
        last = len(baseline.component(commission).tiers.bands) - 1
        band = baseline.component(commission).tiers.bands[last]
        kind = "bcr_multiple" if band.bcr_multiple is not None else "rate"
        base_value = float(band.bcr_multiple if kind == "bcr_multiple" else band.rate)
        edits: dict[str, list[Callable[[], object]]] = {
            f"accelerator ({commission} band {last} {kind})": [
                (lambda v=base_value * (1.05 + 0.05 * i):
                 explorer.set_band(commission, last, **{kind: round(v, 4)}))
                for i in range(args.repeats)],
            "sales uplift": [(lambda u=0.01 * (i + 1): explorer.set_uplift(u))
                             for i in range(args.repeats)],
            f"cap ({commission} ti_multiple)": [
                (lambda m=2 + 0.25 * i: explorer.set_cap(commission, ti_multiple=m))
                for i in range(args.repeats)],
        }
        worst = worst_cpu = 0.0
        print(f"\nrecompute per edit (each a cache miss), target < {TARGET_SECONDS} s:")
        for label, fns in edits.items():
            runs = [_both(fn) for fn in fns]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            worst, worst_cpu = max(worst, wall), max(worst_cpu, cpu)
            print(f"  {label:<44} median {wall * 1000:6.0f} ms wall, {cpu * 1000:6.0f} ms CPU"
                  f"   max {max(r[0] for r in runs) * 1000:6.0f} ms wall   (n={len(runs)})")
        cached = [_time(lambda: explorer.set_uplift(0.01)) for _ in range(3)]
        print(f"  {'repeat of an earlier edit (memoized)':<44} median "
              f"{statistics.median(cached) * 1000:6.0f} ms")
        verdict = "OK" if worst < TARGET_SECONDS else "SLOWER THAN TARGET"
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"\nworst median recompute: {worst:.3f} s wall ({worst_cpu:.3f} s CPU) -> "
              f"{verdict}; load average {load:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
