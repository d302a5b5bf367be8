"""Bad input to ``spmkit calc``: exit status 2, one message naming the place, nothing written.

Each case starts from a small valid data set (the one of ``tests/test_cli.py``), breaks one
thing, runs ``spmkit calc`` as a subprocess and checks that

(a) the exit status is 2,
(b) stderr is one ``spmkit calc: error: ...`` message naming the file, the line/row or
    key, and what is wrong (the key words of each case are asserted),
(c) there is no traceback,
(d) nothing was written: the ``--out`` folder does not exist afterwards and the folder
    around it is unchanged (one case checks that an existing ``--out`` folder with a file
    in it is left exactly as it was).

``--debug`` is the one exception to (c): it shows the traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_fixtures import PLAN

TABLES = {
    "deals": [
        "deal_id,rep_id,close_date,amount,currency,product,deal_type,region,account,cancel_date",
        "D1,A1,2026-02-10,60000.00,USD,Widget,new,East,Acme,",
        "D2,A1,2026-03-05,50000.01,USD,Gadget,new,East,Beta,",
        "D3,A2,2026-02-20,10000.33,EUR,Widget,new,West,Gamma,",
        "D4,A2,2026-01-15,40000.00,,Gadget,new,West,Delta,2026-04-10",
        "D5,A1,2025-12-20,5000.00,USD,Gadget,new,East,Acme,",
        "D6,A1,2026-08-01,350000.00,USD,Gadget,expansion,East,Acme,",
    ],
    "quotas": ["rep_id,year,quota", "A1,2026,400000", "A2,2026,400000", "A3,2026,400000"],
    "roster": [
        "rep_id,name,manager_id,role,region,target_incentive,base_salary,hire_date,term_date",
        "M1,Mia Manager,,Manager,East,0,150000,2020-01-01,",
        "A1,Ann Able,M1,AE,East,40000,100000,2021-03-01,",
        "A2,Ben Baker,M1,AE,West,40000,100000,2022-05-01,",
        "A3,Cat Cole,M1,AE,West,40000,100000,2023-07-01,",
    ],
    "splits": ["deal_id,rep_id,share", "D2,A1,0.6", "D2,A2,0.4"],
    "fx": ["currency,rate", "EUR,1.1"],
}
ORDER = ("deals", "quotas", "roster", "splits", "fx")


def spmkit(*args: str | Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "spmkit.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120, env=env)


class Case:
    """A data set in a folder that a case breaks before ``spmkit calc`` runs on it."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True)
        self.paths: dict[str, Path | None] = {"plan": folder / "plan.yaml"}
        (folder / "plan.yaml").write_text(PLAN, encoding="utf-8")
        for name, lines in TABLES.items():
            self.paths[name] = self.write(f"{name}.csv", lines)

    def write(self, filename: str, lines: list[str]) -> Path:
        path = self.folder / filename
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def plan(self, old: str, new: str) -> None:
        text = PLAN.replace(old, new, 1)
        assert text != PLAN, f"{old!r} is not in the plan"
        self.paths["plan"].write_text(text, encoding="utf-8")

    def table(self, name: str, old: str, new: str) -> None:
        lines = ["\n".join(TABLES[name]).replace(old, new, 1)]
        assert lines[0] != "\n".join(TABLES[name]), f"{old!r} is not in {name}"
        self.write(f"{name}.csv", lines)

    def args(self) -> list[str | Path]:
        out: list[str | Path] = ["--plan", self.paths["plan"]]
        for name in ORDER:
            if self.paths.get(name) is not None:
                out += [f"--{name}", self.paths[name]]
        return out


# Each case: (id, how to break the data, words stderr must contain).
CASES: list[tuple[str, Callable[[Case], None], list[str]]] = [
    ("missing-plan-file",
     lambda c: c.paths.update(plan=c.folder / "nope.yaml"),
     ["nope.yaml", "no such plan file"]),
    ("yaml-syntax-error",
     lambda c: c.plan("period: quarter\n", "period: [quarter\n"),
     ["plan.yaml", "line ", "not valid YAML"]),
    ("unknown-component-type",
     lambda c: c.plan("type: spif", "type: kicker"),
     ["plan.yaml", "line 20", "components[2].type", "unknown component type 'kicker'",
      "commission"]),
    ("duplicate-key",
     lambda c: c.plan("period: quarter\n", "period: quarter\nperiod: month\n"),
     ["plan.yaml", "line 5", "'period'", "duplicate key"]),
    ("unknown-key",
     lambda c: c.plan("    weight: 0.5\n", "    weight: 0.5\n    wieght: 0.5\n"),
     ["plan.yaml", "line 17", "components[1].wieght", "unknown key 'wieght'"]),
    ("bands-out-of-order",
     lambda c: c.plan("        - {from: 1.0, rate: 0.20}\n",
                      "        - {from: 1.0, rate: 0.20}\n        - {from: 0.8, rate: 0.3}\n"),
     ["plan.yaml", "line 11", "components[0].tiers.bands", "out of order", "0.8"]),
    ("missing-period",
     lambda c: c.plan("period: quarter\n", ""),
     ["plan.yaml", "'period'", "missing required key"]),
    ("unsupported-period",
     lambda c: c.plan("period: quarter", "period: fortnight"),
     ["plan.yaml", "line 4", "'period'", "unsupported value 'fortnight'", "month"]),
    ("deals-file-missing",
     lambda c: c.paths.update(deals=c.folder / "deals-2026.csv"),
     ["deals-2026.csv", "file not found"]),
    ("deals-missing-required-column",
     lambda c: c.write("deals.csv", [",".join(line.split(",")[:3] + line.split(",")[4:])
                                     for line in TABLES["deals"]]),
     ["deals.csv", "'amount'", "missing required column", "columns found"]),
    ("duplicate-deal-id",
     lambda c: c.table("deals", "D6,A1,2026-08-01", "D3,A1,2026-08-01"),
     ["deals.csv", "line 7", "'deal_id'", "duplicate deal_id 'D3'", "line 4"]),
    ("non-numeric-amount",
     lambda c: c.table("deals", "350000.00", "35O000.00"),
     ["deals.csv", "line 7", "'amount'", "not a number", "35O000.00"]),
    ("impossible-date",
     lambda c: c.table("deals", "2026-08-01", "2026-02-30"),
     ["deals.csv", "line 7", "'close_date'", "not a date", "2026-02-30"]),
    ("cancel-before-close",
     lambda c: c.table("deals", "2026-04-10", "2026-01-01"),
     ["deals.csv", "line 5", "'cancel_date'", "before close_date"]),
    ("rep-unknown-to-roster",
     lambda c: c.table("deals", "D6,A1,", "D6,Z9,"),
     ["deals.csv", "line 7", "'rep_id'", "'Z9'", "not in the roster", "roster.csv"]),
    ("manager-unknown-to-roster",
     lambda c: c.table("roster", "A2,Ben Baker,M1", "A2,Ben Baker,M7"),
     ["roster.csv", "line 4", "'manager_id'", "'M7'", "not a rep_id"]),
    ("split-shares-not-summing-to-1",
     lambda c: c.table("splits", "D2,A2,0.4", "D2,A2,0.3"),
     ["splits.csv", "line 2", "'share'", "deal 'D2'", "sum to 0.9", "not exactly 1"]),
    ("split-naming-unknown-deal",
     lambda c: c.write("splits.csv", TABLES["splits"] + ["D99,A1,1"]),
     ["splits.csv", "line 4", "'deal_id'", "'D99'", "not in the deals"]),
    ("currency-without-fx-file",
     lambda c: c.paths.update(fx=None),
     ["deals.csv", "line 4", "'currency'", "'EUR'", "no rate", "fx"]),
    ("currency-missing-from-fx-table",
     lambda c: c.table("fx", "EUR,1.1", "GBP,1.3"),
     ["deals.csv", "line 4", "'EUR'", "no rate", "fx.csv"]),
    ("zero-quota-with-credit",
     lambda c: c.table("quotas", "A1,2026,400000", "A1,2026,0"),
     ["quotas.csv", "'quota'", "rep A1", "2026-Q1", "zero", "commission"]),
    ("nan-quota-csv",
     lambda c: c.table("quotas", "A1,2026,400000", "A1,2026,NaN"),
     ["quotas.csv", "line 2", "'quota'", "not a number", "NaN"]),
    ("negative-quota",
     lambda c: c.table("quotas", "A2,2026,400000", "A2,2026,-400000"),
     ["quotas.csv", "line 3", "'quota'", "negative"]),
    ("quota-period-start-off-boundary",
     lambda c: c.write("quotas.csv", ["rep_id,period_start,quota"]
                       + [f"A{r},2026-{m:02d}-01,100000" for r in (1, 2, 3)
                          for m in ((1, 4, 7, 11) if r == 2 else (1, 4, 7, 10))]),
     ["quotas.csv", "'period_start'", "2026-11-01", "not the first day of a quarter",
      "2026-10-01"]),
    ("unsupported-input-file-type",
     lambda c: c.paths.update(roster=c.write("roster.txt", TABLES["roster"])),
     ["roster.txt", "unsupported file type", ".csv"]),
    # issue 13: each of these used to pay a wrong amount with exit status 0
    ("duplicate-amount-column",
     lambda c: c.write("deals.csv", [TABLES["deals"][0] + ",amount"]
                       + [line + ",1" for line in TABLES["deals"][1:]]),
     ["deals.csv", "line 1", "'amount'", "appears 2 times in the header", "columns 4 and 11"]),
    ("partial-close-date",
     lambda c: c.table("deals", "2026-08-01", "2026-08"),
     ["deals.csv", "line 7", "'close_date'", "not a date (expected YYYY-MM-DD)", "'2026-08'"]),
    ("compact-hire-date",
     lambda c: c.table("roster", "2022-05-01", "20220501"),
     ["roster.csv", "line 4", "'hire_date'", "not a date", "'20220501'"]),
    ("credit-beyond-int64",
     lambda c: c.write("deals.csv", TABLES["deals"] + [
         f"X{i},A1,2026-08-02,9999999999999999.99,USD,Gadget,new,East,Acme,"
         for i in range(10)]),
     ["deals.csv", "'amount'", "credit of rep A1 in 2026-Q3", "beyond plus or minus",
      "92,233,720,368,547,758.07"]),
]


def _parquet_nan_quota(c: Case) -> None:
    path = c.folder / "quotas.parquet"
    pq.write_table(pa.table({"rep_id": ["A1", "A2", "A3"], "year": [2026, 2026, 2026],
                             "quota": [float("nan"), 400000.0, 400000.0]}), path)
    c.paths["quotas"] = path


CASES.append(("nan-quota-parquet", _parquet_nan_quota,
              ["quotas.parquet", "row 1", "'quota'", "missing"]))


def _listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>"
            for p in sorted(folder.rglob("*"))}


def test_there_are_at_least_fifteen_distinct_cases():
    ids = [case[0] for case in CASES]
    assert len(set(ids)) == len(ids) >= 15


@pytest.mark.parametrize(("breaks", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_message_and_writes_nothing(tmp_path, breaks, words):
    case = Case(tmp_path / "in")
    breaks(case)
    out = tmp_path / "out"
    before = _listing(tmp_path)
    result = spmkit("calc", *case.args(), "--out", out)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    err = result.stderr
    assert "Traceback" not in err
    assert err.startswith("spmkit calc: error: "), err
    assert err.count("error:") == 1 and "problems:" not in err, err  # one message
    for word in words:
        assert word in err, f"{word!r} not in {err!r}"
    assert result.stdout == ""
    assert not out.exists()
    assert _listing(tmp_path) == before  # no staging folder or partial file left behind


def test_existing_out_folder_is_left_untouched(tmp_path):
    case = Case(tmp_path / "in")
    case.table("deals", "350000.00", "lots")
    out = tmp_path / "out"
    out.mkdir()
    (out / "payouts.csv").write_text("last month's payouts\n", encoding="utf-8")
    (out / "notes.txt").write_text("keep me\n", encoding="utf-8")
    before = _listing(tmp_path)
    result = spmkit("calc", *case.args(), "--out", out)
    assert result.returncode == 2
    assert "deals.csv, line 7, column 'amount'" in result.stderr
    assert "Traceback" not in result.stderr
    assert _listing(tmp_path) == before


def test_several_problems_are_reported_together_without_writing(tmp_path):
    """Every problem is listed at once (each still naming its file and line)."""
    case = Case(tmp_path / "in")
    case.table("deals", "350000.00", "lots")
    case.table("quotas", "A1,2026,400000", "A1,2026,NaN")
    result = spmkit("calc", *case.args(), "--out", tmp_path / "out")
    assert result.returncode == 2
    assert "2 problems" in result.stderr
    assert "deals.csv, line 7, column 'amount'" in result.stderr
    assert "quotas.csv, line 2, column 'quota'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_debug_shows_the_traceback(tmp_path):
    case = Case(tmp_path / "in")
    case.table("deals", "350000.00", "35O000.00")
    result = spmkit("--debug", "calc", *case.args(), "--out", tmp_path / "out")
    assert result.returncode != 0
    assert "Traceback (most recent call last)" in result.stderr
    assert "SpmkitError" in result.stderr and "35O000.00" in result.stderr
    assert not (tmp_path / "out").exists()



def test_out_that_is_a_file_is_an_error_not_a_crash(tmp_path):
    """--out naming an existing file: exit 2, one message, the file untouched."""
    case = Case(tmp_path / "in")
    target = tmp_path / "results"
    target.write_text("keep me", encoding="utf-8")
    result = spmkit("calc", *case.args(), "--out", target)
    assert result.returncode == 2, result.stderr
    assert "results" in result.stderr and "not a folder" in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert target.read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "results"]


def test_unwritable_out_is_a_user_error(tmp_path):
    """An --out the system refuses (under /proc) is reported as exit 2, not an internal error."""
    case = Case(tmp_path / "in")
    result = spmkit("calc", *case.args(), "--out", "/proc/spmkit-no/out")
    assert result.returncode == 2, result.stderr
    assert "/proc/spmkit-no" in result.stderr and "nothing was written" in result.stderr
    assert "Traceback" not in result.stderr


def test_mapping_file_that_is_not_utf8(tmp_path):
    case = Case(tmp_path / "in")
    mapping = tmp_path / "map.yaml"
    mapping.write_bytes(b"deals:\n  Owner\xff: rep_id\n")
    result = spmkit("calc", *case.args(), "--mapping", mapping, "--out", tmp_path / "out")
    assert result.returncode == 2, result.stderr
    assert "map.yaml" in result.stderr and "not UTF-8 text" in result.stderr
    assert "save the column mapping as UTF-8" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [["sample", "--out", "unused"],
                                     ["sample-accounts", "--roster", "r.csv", "--out", "a.csv"],
                                     ["outlook", "--plan", "p.yaml", "--data", ".",
                                      "--as-of", "2025-06-30"]])
def test_a_negative_seed_is_a_usage_error_not_a_crash(command, tmp_path):
    """numpy's generators take seeds in 0 .. 2**32 - 1: anything else is refused by the
    argument parser (exit 2, one line), before any file is read."""
    from conftest import run_cli

    done = run_cli(*command, "--seed", "-1", cwd=tmp_path)
    assert done.returncode == 2
    assert "--seed: -1 must be between 0 and 4294967295" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
