"""Roll-up memory against the depth of the manager tree (issue 13: deep roll-ups).

For each depth D, a roster that is one chain of D reps (``R0000000`` at the top, each rep
managed by the one before) and a ``credit: rollup`` plan with a flat 10% commission;
``--deals`` deals are closed by the rep at the bottom of the chain, and with ``--spread N``
one more deal by every N-th rep up the chain.  Each run is a fresh subprocess that
loads the tables (through :func:`spmkit.tables.load_inputs`) and runs
:func:`spmkit.payout.calculate`; it reports wall time, the credit lines produced and its
peak resident memory (its own ``ru_maxrss``, which includes about 200 MB of imported
libraries: the ``baseline`` row is a 1-level run).

The roll-up output is one line per (credit line, manager above its rep), so it grows as
deals x depth; the figures show memory growing with that, not with depth squared (which
the old ``ancestors`` pairs table did: 10k levels took 6.8 GB, 100k ran out of memory).

Usage::

    .venv/bin/python bench/rollup_depth.py [--depths 1000 10000 100000] [--deals 10]
                                           [--spread 0] [--check]

``--check`` also compares every run's payouts with the closed form (each manager is
paid 10% of every deal below them), exit status 1 if one differs.  Not part of the
pass/fail suite (``make bench`` does not run it either; it takes about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PLAN = {
    "plan": "Roll-up", "currency": "USD", "year_start": "2026-01-01", "period": "quarter",
    "credit": "rollup",
    "components": [{"id": "commission", "type": "commission", "attainment": "ytd",
                    "tiers": {"method": "marginal", "bands": [{"from": 0, "rate": 0.1}]}}],
}


def build(depth: int, deals: int, spread: int):
    """The plan and the input tables of one chain (DataFrames, loaded as the CLI would)."""
    import numpy as np
    import pandas as pd

    from spmkit.plan import load_plan
    from spmkit.tables import load_inputs

    ids = np.char.add("R", np.char.zfill(np.arange(depth).astype(str), 7))
    roster = pd.DataFrame({"rep_id": ids, "manager_id": np.r_[[""], ids[:-1]]})
    owners = [ids[-1]] * deals
    if spread:
        owners += list(ids[::-1][spread::spread])
    n = len(owners)
    frame = pd.DataFrame({
        "deal_id": np.char.add("D", np.arange(n).astype(str)),
        "rep_id": owners,
        "close_date": np.where(np.arange(n) % 2 == 0, "2026-02-10", "2026-08-20"),
        "amount": "1000.00",
    })
    return load_plan(PLAN, name="rollup.yaml"), load_inputs(frame, roster=roster)


def child(depth: int, deals: int, spread: int, check: bool) -> dict:
    """One measured run (in this process): returns the figures as a dict."""
    from spmkit.payout import calculate

    plan, inputs = build(depth, deals, spread)
    start = time.perf_counter()
    result = calculate(plan, inputs)
    seconds = time.perf_counter() - start
    out = {"depth": depth, "deals": len(inputs.deals), "credit_lines": len(result.credits),
           "seconds": round(seconds, 2), "total_payout_cents": result.total_payout_cents,
           "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}
    if check:
        # closed form: the deals' owners sit at known depths; every rep at or above an
        # owner is paid 10% of 1,000.00 per deal, half in Q1 and half in Q3
        pos = inputs.roster.reset_index().set_index("rep_id")["index"]
        owner_pos = pos.reindex(inputs.deals["rep_id"]).to_numpy()
        expected = int((owner_pos + 1).sum()) * 10_000
        out["ok"] = out["total_payout_cents"] == expected
    return out


def measure(depth: int, deals: int, spread: int, check: bool) -> dict:
    args = [sys.executable, __file__, "--child", str(depth), "--deals", str(deals),
            "--spread", str(spread)] + (["--check"] if check else [])
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if proc.returncode != 0:
        return {"depth": depth, "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--depths", type=int, nargs="+", default=[1000, 10_000, 100_000])
    p.add_argument("--deals", type=int, default=10, help="deals of the rep at the bottom")
    p.add_argument("--spread", type=int, default=0, help="also a deal every N-th rep up")
    p.add_argument("--check", action="store_true", help="check payouts by closed form")
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child is not None:
        print(json.dumps(child(a.child, a.deals, a.spread, a.check)))
        return 0
    print(f"{'depth':>8} {'deals':>6} {'credit lines':>13} {'seconds':>8} {'peak MB':>8}")
    bad = False
    for depth in [1, *a.depths]:
        r = measure(depth, a.deals, a.spread, a.check)
        if "error" in r:
            print(f"{depth:>8} failed: {r['error']}")
            bad = True
            continue
        name = "baseline" if depth == 1 else str(depth)
        note = "" if r.get("ok", True) else "  WRONG PAYOUT"
        bad |= not r.get("ok", True)
        print(f"{name:>8} {r['deals']:>6} {r['credit_lines']:>13,} {r['seconds']:>8.2f} "
              f"{r['peak_mb']:>8,}{note}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
