"""Benchmark ``spmkit calc`` against the same plan as one DuckDB query.

For each size (default 1M and 10M deals for 5,000 reps; inputs from ``bench/gen.py``,
reused when present in ``bench/out/``):

1. ``spmkit calc --format parquet`` runs as a subprocess; wall time and the child's peak
   resident memory (``os.wait4`` rusage ``ru_maxrss``) are measured.
2. ``bench/duckdb_plan.sql`` (the same plan in SQL) runs in a subprocess of its own,
   measured the same way.
3. The total payouts of both are compared, per component and overall (exit status 1
   when they differ).

Prints a table ``size, engine, seconds, deals/s, peak MB`` and the totals.  The target
(issue 2): 10M deals within 2x of the SQL's time and under 4 GB of peak memory.

Usage::

    .venv/bin/python bench/run.py [--sizes 1000000 10000000] [--profile] [--no-sql]

``--profile`` also runs ``spmkit calc`` under cProfile and prints the top functions by
cumulative and by own time (written to ``bench/out/<size>/calc.prof``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import gen  # noqa: E402  (bench/gen.py, beside this file)

PLAN_YAML = """\
# The benchmark plan; bench/duckdb_plan.sql computes the same payouts in SQL.
plan: Bench AE
currency: USD
year_start: 2026-01-01
period: quarter
components:
  - id: commission
    type: commission
    weight: 0.75
    filter: {deal_type: [new, expansion]}
    attainment: ytd
    tiers:
      method: marginal
      bands:
        - {from: 0, rate: 0.05}
        - {from: 1.0, rate: 0.08}
        - {from: 1.5, bcr_multiple: 2.0}
  - id: bonus
    type: bonus
    weight: 0.25
    attainment: period
    curve: [[0.5, 0.0], [1.0, 1.0], [1.5, 1.5]]
    above_last: cap
  - id: q4_spif
    type: spif
    filter: {product: [Widget Pro]}
    window: [2026-10-01, 2026-12-31]
    per_deal: 500
"""

SQL_CHILD = """\
import json, sys, time
import duckdb
sql = open(sys.argv[1], encoding="utf-8").read().replace("{data}", sys.argv[2])
out = sys.argv[3] if len(sys.argv) > 3 else None
lines, rest = sql.split("-- @@ payouts\\n")
payouts, totals = rest.split("-- @@ totals\\n")
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
if out is None:  # aggregates only
    con.execute("CREATE TEMP VIEW credit_lines AS " + lines)
    rows = con.sql(payouts + totals).fetchall()
else:  # the same job as spmkit calc: every credit line and the payouts, to Parquet
    con.execute("CREATE TEMP TABLE credit_lines AS " + lines)
    con.execute(f\"\"\"COPY (SELECT deal_id, rep_id, credit_date,
        CAST(CAST(cents AS DECIMAL(20, 0)) * 0.01 AS DECIMAL(22, 2)) AS amount, rule
        FROM credit_lines ORDER BY rep_id, credit_date, deal_id)
        TO '{out}/credits.parquet' (FORMAT parquet)\"\"\")
    con.execute("CREATE TEMP TABLE payouts AS " + payouts + " SELECT * FROM payouts")
    con.execute(f\"\"\"COPY (SELECT rep_id, '2026-Q' || (k + 1) AS period, component,
        CAST(CAST(amount AS DECIMAL(20, 0)) * 0.01 AS DECIMAL(22, 2)) AS amount
        FROM payouts ORDER BY rep_id, k, component)
        TO '{out}/payouts.parquet' (FORMAT parquet)\"\"\")
    rows = con.sql("SELECT component, sum(amount), count(*) FROM payouts "
                   "GROUP BY component ORDER BY component").fetchall()
print("TOTALS " + json.dumps({c: int(t) for c, t, _ in rows}))
"""


def measured(cmd: list[str], *, cwd: Path = ROOT) -> tuple[float, float, float, str, str, int]:
    """Run ``cmd``; return (wall s, CPU s, peak RSS in MB, stdout, stderr, exit status).

    Peak memory is the child's own ``ru_maxrss`` from ``os.wait4`` (kilobytes on Linux),
    so one measurement never includes another child's peak.
    """
    with tempfile.TemporaryFile("w+") as fout, tempfile.TemporaryFile("w+") as ferr:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=fout, stderr=ferr, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        secs = time.perf_counter() - t0
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        fout.seek(0)
        ferr.seek(0)
        out, err = fout.read(), ferr.read()
    return secs, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out, err, code


def run_spmkit(data: Path, plan: Path, out: Path, *, profile: Path | None = None,
               fmt: str = "parquet") -> dict:
    cmd = [sys.executable]
    if profile is not None:
        cmd += ["-m", "cProfile", "-o", str(profile)]
    cmd += ["-m", "spmkit.cli"]
    cmd += ["calc", "--plan", str(plan), "--deals", str(data / "deals.parquet"),
            "--quotas", str(data / "quotas.parquet"), "--roster", str(data / "roster.parquet"),
            "--fx", str(data / "fx.parquet"), "--format", fmt, "--out", str(out)]
    secs, cpu, peak, stdout, stderr, code = measured(cmd)
    if code != 0:
        raise SystemExit(f"spmkit calc failed ({code}):\n{stderr}")
    return {"seconds": secs, "cpu": cpu, "peak_mb": peak, "stdout": stdout}


def spmkit_totals(out: Path) -> dict[str, int]:
    """Per component total payout in cents from spmkit's payouts.parquet (exact decimals)."""
    import duckdb

    rows = duckdb.sql(
        f"SELECT component, CAST(sum(amount) * 100 AS BIGINT), count(*) "
        f"FROM read_parquet('{out / 'payouts.parquet'}') GROUP BY component"
    ).fetchall()
    return {c: int(t) for c, t, _ in rows}


def run_sql(data: Path, out: Path | None = None) -> dict:
    """The plan in DuckDB SQL; with ``out``, it also writes every credit line and the
    payouts to Parquet there (the same job as ``spmkit calc``), else only aggregates."""
    cmd = [sys.executable, "-c", SQL_CHILD, str(HERE / "duckdb_plan.sql"), str(data)]
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        cmd.append(str(out))
    secs, cpu, peak, stdout, stderr, code = measured(cmd)
    if code != 0:
        raise SystemExit(f"DuckDB query failed ({code}):\n{stderr}")
    totals = json.loads(stdout.split("TOTALS ", 1)[1])
    return {"seconds": secs, "cpu": cpu, "peak_mb": peak, "totals": totals}


def show_profile(path: Path, n: int = 25) -> None:
    import pstats

    root = str(ROOT) + "/"
    stats = pstats.Stats(str(path))
    stats.sort_stats("cumulative")
    for title, key in (("cumulative", "cumulative"), ("own time", "tottime")):
        print(f"\n-- top {n} by {title} --")
        stats.sort_stats(key)
        rows = []
        for func, (_cc, nc, tt, ct, _callers) in stats.stats.items():
            rows.append((ct if key == "cumulative" else tt, tt, ct, nc, func))
        rows.sort(reverse=True)
        print(f"{'cum s':>8} {'own s':>8} {'calls':>9}  function")
        for _, tt, ct, nc, (file, line, name) in rows[:n]:
            file = file.replace(root, "").replace(str(Path(sys.prefix)) + "/", "")
            print(f"{ct:8.2f} {tt:8.2f} {nc:9d}  {file}:{line}({name})")


def money(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="spmkit calc vs DuckDB on 1M/10M deals")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--no-sql", action="store_true", help="skip the DuckDB comparison")
    ap.add_argument("--csv", action="store_true",
                    help="also run spmkit calc with CSV output (issue 9: under 2 GB at 10M)")
    ap.add_argument("--profile", action="store_true",
                    help="also profile spmkit calc with cProfile (slower; separate run)")
    args = ap.parse_args(argv)

    results = []
    disagree = []
    for n in args.sizes:
        data = gen.ensure(n)
        plan = data / "plan.yaml"
        plan.write_text(PLAN_YAML, encoding="utf-8")
        out = data / "calc"
        print(f"== {n:,} deals, {gen.REPS:,} reps ({data})", flush=True)
        r = run_spmkit(data, plan, out)
        print(r["stdout"].strip().splitlines()[0], flush=True)
        print(f"spmkit calc: {r['seconds']:.2f} s wall, {r['cpu']:.2f} s CPU, "
              f"peak {r['peak_mb']:,.0f} MB", flush=True)
        mine = spmkit_totals(out)
        results.append((n, "spmkit calc", r["seconds"], r["cpu"], r["peak_mb"]))
        if args.csv:
            c = run_spmkit(data, plan, data / "calc-csv", fmt="csv")
            results.append((n, "spmkit calc csv", c["seconds"], c["cpu"], c["peak_mb"]))
            print(f"spmkit calc --format csv: {c['seconds']:.2f} s wall, {c['cpu']:.2f} s CPU, "
                  f"peak {c['peak_mb']:,.0f} MB (target < 2,048 MB at 10M)", flush=True)
            shutil.rmtree(data / "calc-csv")
        if not args.no_sql:
            s = run_sql(data)
            results.append((n, "duckdb sql", s["seconds"], s["cpu"], s["peak_mb"]))
            print(f"duckdb sql (aggregates only): {s['seconds']:.2f} s wall, {s['cpu']:.2f} s "
                  f"CPU, peak {s['peak_mb']:,.0f} MB", flush=True)
            w = run_sql(data, data / "sql-out")
            results.append((n, "duckdb sql+write", w["seconds"], w["cpu"], w["peak_mb"]))
            print(f"duckdb sql writing credit lines and payouts: {w['seconds']:.2f} s wall, "
                  f"{w['cpu']:.2f} s CPU, peak {w['peak_mb']:,.0f} MB", flush=True)
            theirs = w["totals"]
            if s["totals"] != theirs:
                disagree.append(n)
            print(f"{'component':<12} {'spmkit':>20} {'duckdb':>20} {'difference':>14}")
            for comp in sorted(set(mine) | set(theirs)):
                a, b = mine.get(comp, 0), theirs.get(comp, 0)
                print(f"{comp:<12} {money(a):>20} {money(b):>20} {money(a - b):>14}")
            ta, tb = sum(mine.values()), sum(theirs.values())
            print(f"{'total':<12} {money(ta):>20} {money(tb):>20} {money(ta - tb):>14}"
                  f"  {'AGREE' if ta == tb else 'DIFFER'}", flush=True)
            if ta != tb:
                disagree.append(n)
            ratio = r["seconds"] / w["seconds"]
            print(f"spmkit / duckdb (same job: lines and payouts written) time: {ratio:.2f}x "
                  f"(target <= 1.5x); spmkit peak {r['peak_mb']:,.0f} MB (target < 1,536 MB "
                  "at 10M)", flush=True)
        if args.profile:
            prof = data / "calc.prof"
            p = run_spmkit(data, plan, data / "calc-profiled", profile=prof)
            print(f"\nprofiled run: {p['seconds']:.1f} s")
            show_profile(prof)

    print(f"\n{'size':>12} {'engine':<16} {'seconds':>9} {'deals/s':>12} {'peak MB':>9}"
          f" {'CPU s':>8}")
    for n, engine, secs, cpu, peak in results:
        print(f"{n:>12,} {engine:<16} {secs:9.2f} {n / secs:12,.0f} {peak:9,.0f} {cpu:8.2f}")
    print("(seconds = wall time; CPU s = user + system time of the child, all its threads; "
          "other jobs on the machine inflate wall time)")
    if disagree:
        print(f"total payouts DIFFER from the SQL for sizes {disagree}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
