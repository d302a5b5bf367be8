"""How long the Monte Carlo takes (issue 10's targets); prints figures, never pass/fail.

1. ``10,000 draws x 5,000 reps x 4 periods`` (target: under 10 s): 5,000 sellers, two
   years of monthly deals (one per rep and month, lognormal), annual quotas and target
   incentives, the benchmark plan of ``bench/run.py`` (quarterly: YTD marginal commission
   with a BCR band, a capped period bonus, a per-deal SPIF).  Times the calibration
   (:func:`spmkit.scenario.simulate`) and the run on the simulated years
   (:meth:`SalesSimulation.run`) separately from loading and measuring the plan.
2. The report's default draws (``spmkit.scenario.compare``: 2,000) on the default sample
   org (``spmkit sample``: 150 reps) for the baseline and every plan in ``scenarios/``
   (target: under 5 s), one shared simulation.

Usage: ``.venv/bin/python bench/mc_bench.py [--draws 10000] [--reps 5000] [--skip-large]
[--workers N]``.  Wall time needs the cores free: on a machine other work keeps busy, the
CPU time is the figure to compare.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from spmkit.errors import SpmkitError  # noqa: E402
from spmkit.payout import calculate, prepare  # noqa: E402
from spmkit.plan import Plan, load_plan  # noqa: E402
from spmkit.scenario.compare import compare  # noqa: E402
from spmkit.scenario.risk import simulate  # noqa: E402
from spmkit.tables import load_inputs  # noqa: E402


def _cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def _large_inputs(reps: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    ids = np.array([f"R{i:05d}" for i in range(reps)])
    level = rng.lognormal(np.log(40_000), 0.35, reps)
    months = pd.period_range("2025-01", "2026-12", freq="M")
    n = reps * len(months)
    rep = np.tile(ids, len(months))
    month = np.repeat(np.arange(len(months)), reps)
    amount = np.tile(level, len(months)) * rng.lognormal(-0.18, 0.6, n) * (1.05 ** (month // 12))
    deals = pd.DataFrame({
        "deal_id": np.char.add("D", np.arange(n).astype(str)),
        "rep_id": rep,
        "close_date": months.to_timestamp()[month] + pd.Timedelta(days=9),
        "amount": np.char.mod("%.2f", amount),
        "deal_type": np.where(rng.random(n) < 0.8, "new", "renewal"),
        "product": np.where(rng.random(n) < 0.1, "Widget Pro", "Core"),
        "region": np.array(["NA East", "NA West", "EMEA", "APAC"])[np.arange(n) % 4],
    })
    quotas = pd.DataFrame({"rep_id": ids, "year": 2026,
                           "quota": np.char.mod("%.2f", level * 12 * 1.05)})
    roster = pd.DataFrame({
        "rep_id": ids, "name": ids, "manager_id": "",
        "role": np.where(np.arange(reps) % 4 == 0, "Account Manager", "Account Executive"),
        "region": np.array(["NA East", "NA West", "EMEA", "APAC"])[np.arange(reps) % 4],
        "target_incentive": np.char.mod("%.2f", level * 12 * 0.08),
        "base_salary": "0.00", "hire_date": "", "term_date": ""})
    return load_inputs(deals, quotas=quotas, roster=roster)


def large(draws: int, reps: int, workers: int | None = None) -> None:
    import run as benchrun

    plan = Plan.model_validate(yaml.safe_load(benchrun.PLAN_YAML))
    t0 = time.perf_counter()
    inputs = _large_inputs(reps)
    t1 = time.perf_counter()
    prep = prepare(plan, inputs)
    credits = calculate(plan, inputs).credits  # the report has them from its replay
    t2 = time.perf_counter()
    cpu = _cpu()
    sim = simulate(plan, inputs, draws=draws, seed=0)
    t3 = time.perf_counter()
    res = sim.run(plan, inputs, prepared=prep, credits=credits, workers=workers)
    t4 = time.perf_counter()
    r, k = prep.grid.credit.shape
    s = res.summary
    print(f"== {draws:,} draws x {r:,} payees x {k} periods ({plan.plan}), "
          f"{workers or os.cpu_count()} thread(s) on {os.cpu_count()} core(s)")
    print(f"load {t1 - t0:.2f} s, prepare and replay {t2 - t1:.2f} s (not counted)")
    print(f"calibrate {t3 - t2:.2f} s, run {t4 - t3:.2f} s: Monte Carlo {t4 - t2:.2f} s wall, "
          f"{_cpu() - cpu:.2f} s CPU (target < 10 s)")
    print(f"P10/P50/P90 cost / replay: {s['p10'] / res.replay_cost_cents:.3f} / "
          f"{s['p50'] / res.replay_cost_cents:.3f} / {s['p90'] / res.replay_cost_cents:.3f}; "
          f"revenue {s['revenue_p10'] / res.replay_revenue_cents:.3f} / "
          f"{s['revenue_p50'] / res.replay_revenue_cents:.3f} / "
          f"{s['revenue_p90'] / res.replay_revenue_cents:.3f}")


def report_default() -> None:
    import subprocess

    scenarios = sorted(p for p in (ROOT / "scenarios").glob("*.yaml")
                       if p.stem not in ("baseline", "se_overlay"))  # se_overlay pays beside
    with tempfile.TemporaryDirectory(prefix="spmkit-mc-bench-") as tmp:
        data = Path(tmp) / "data"
        subprocess.run([sys.executable, "-m", "spmkit.cli", "sample", "--out", str(data)],
                       check=True, capture_output=True)
        files = {n: data / f"{n}.csv" for n in ("deals", "quotas", "roster", "splits", "fx")}
        inputs = load_inputs(*(str(files[n]) if files[n].exists() else None
                               for n in ("deals", "quotas", "roster", "splits", "fx")))
        plans, preps, credits = [], [], []
        for path in [ROOT / "scenarios" / "baseline.yaml", *scenarios]:
            try:  # the report has the prepared plans and their credits already
                plan = load_plan(path)
                preps.append(prepare(plan, inputs))
                credits.append(calculate(plan, inputs).credits)
                plans.append(plan)
            except SpmkitError as exc:
                print(f"skipped {path.name}: {str(exc).splitlines()[0]}")
        draws = compare.__kwdefaults__["draws"]
        cpu, t0 = _cpu(), time.perf_counter()
        sim = simulate(plans, inputs, draws=draws, seed=0)
        t1 = time.perf_counter()
        print(f"== report default: {draws:,} draws, {len(plans)} plans, "
              f"{sim.model.sellers} sellers ({sim.model.basis} basis)")
        print(f"calibrate {t1 - t0:.2f} s")
        for plan, prep, lines in zip(plans, preps, credits, strict=True):
            t = time.perf_counter()
            res = sim.run(plan, inputs, prepared=prep, credits=lines)
            s = res.summary
            print(f"  {plan.plan}: {time.perf_counter() - t:.2f} s; P50/replay "
                  f"{s['p50'] / res.replay_cost_cents:.4f}, P10-P90 cost "
                  f"{s['p10'] / res.replay_cost_cents:.3f}-{s['p90'] / res.replay_cost_cents:.3f}"
                  f", revenue P50 {s['revenue_p50'] / res.replay_revenue_cents:.4f}, P10-P90 "
                  f"{s['revenue_p10'] / res.replay_revenue_cents:.3f}-"
                  f"{s['revenue_p90'] / res.replay_revenue_cents:.3f}")
        total = time.perf_counter() - t0
        print(f"Monte Carlo for the report: {total:.2f} s wall, {_cpu() - cpu:.2f} s CPU "
              f"(target < 5 s); {total / len(plans):.2f} s per plan")
        print(sim.model.description)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=5_000)
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--workers", type=int, default=None,
                    help="threads for the large run (default: one per core, as the report)")
    args = ap.parse_args()
    report_default()
    if not args.skip_large:
        large(args.draws, args.reps, args.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
