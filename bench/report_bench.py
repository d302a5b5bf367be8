"""How long `spmkit report` takes on the default sample org with the shipped scenarios.

Generates the default sample (150 reps, two years) into a temporary folder and runs
`spmkit report` as a subprocess on `scenarios/baseline.yaml` against every other plan in
`scenarios/` (the issue's target: under 30 s), then the same with `--audience analyst`.
Prints wall and CPU seconds; never part of the pass/fail suite.

    .venv/bin/python bench/report_bench.py
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 30.0


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    scenarios = sorted(p for p in (ROOT / "scenarios").glob("*.yaml")
                       if p.stem not in ("baseline", "se_overlay"))  # se_overlay pays beside
    with tempfile.TemporaryDirectory(prefix="spmkit-report-bench-") as tmp:
        data = Path(tmp) / "data"
        spmkit = [sys.executable, "-m", "spmkit.cli"]
        subprocess.run([*spmkit, "sample", "--out", str(data)], check=True,
                       capture_output=True)
        print(f"default sample in {data}; baseline + {len(scenarios)} scenarios")
        worst = 0.0
        for audience in ("executive", "analyst"):
            cpu0, start = _cpu_children(), time.perf_counter()
            proc = subprocess.run(
                [*spmkit, "report", "--data", str(data),
                 "--baseline", str(ROOT / "scenarios" / "baseline.yaml"),
                 "--scenarios", *map(str, scenarios), "--out", str(Path(tmp) / audience),
                 "--audience", audience], capture_output=True, text=True)
            wall, cpu = time.perf_counter() - start, _cpu_children() - cpu0
            if proc.returncode:
                print(proc.stderr, file=sys.stderr)
                return 1
            worst = max(worst, wall)
            print(f"spmkit report --audience {audience:<9} {wall:6.1f} s wall, {cpu:6.1f} s CPU")
    load = os.getloadavg()[0]
    verdict = "OK" if worst < TARGET_SECONDS else "over target"
    print(f"slowest {worst:.1f} s (target < {TARGET_SECONDS:.0f} s) -> {verdict}; "
          f"load average {load:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
