"""A component type is one class: this file defines a new one, ``kicker``, and nothing else
in spmkit knows it.  It works end to end: ``calculate`` and ``spmkit calc``, a statement
and ``spmkit explain``, a scenario comparison and ``spmkit report``, and the explorer.

The CLI and the report kernel find the type through ``$SPMKIT_COMPONENTS`` (this module's
name, with ``tests/`` on the path).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pytest

from spmkit.components import COMPONENT_TYPES, Component, MeasureSpec
from spmkit.components.fields import Amount
from spmkit.errors import PlanError
from spmkit.grid import Earned, Grid, Num, money_grid, pay, scaled

HERE = Path(__file__).resolve().parent


class Kicker(Component):
    """Pays ``amount`` for each period in which the rep's filtered credit reaches
    ``min_credit`` (a per-period activity kicker)."""

    type_name: ClassVar[str] = "kicker"
    editable: ClassVar[tuple[str, ...]] = ("cap",)
    cap_kinds: ClassVar[tuple[str, ...]] = ("amount",)

    type: Literal["kicker"] = "kicker"
    amount: Amount
    min_credit: Amount = Decimal(0)

    def measures(self) -> dict[str, MeasureSpec]:
        return {"value": MeasureSpec(value="amount", filter=self.filter_items())}

    def earn(self, grid: Grid, num: Num, scale: np.ndarray | None = None) -> Earned:
        credit = scaled(grid.measure(self.id), num, scale)
        hit = (credit >= num.const(self.min_credit * 100)) & (credit > num.const(0))
        earnings = np.where(hit, num.const(self.amount * 100), num.const(0))
        to_date, payout = pay(self, grid, earnings, "period")
        return Earned(None, to_date, payout, {"credit": grid.measure(self.id)})

    def explain(self, grid: Grid, earned: Earned) -> np.ndarray:
        credit = money_grid(earned.detail["credit"], grid.shape)
        return (f"Kicker {self.amount:,.2f} for a period with credit of at least "
                f"{self.min_credit:,.2f}: credit " + credit)


PLAN = """\
plan: {name}
currency: USD
year_start: 2026-01-01
period: quarter
components:
  - id: commission
    type: commission
    tiers:
      bands:
        - {{from: 0, rate: 0.1}}
  - id: kicker
    type: kicker
    amount: {amount}
    min_credit: 1000
"""

DEALS = [  # rep, close date, amount
    ("D1", "A", "2026-01-15", "1500.00"),   # A Q1: 1,500 -> kicker
    ("D2", "A", "2026-04-10", "400.00"),    # A Q2: 400 -> none
    ("D3", "B", "2026-07-01", "999.99"),    # B Q3: a cent short -> none
    ("D4", "B", "2026-10-01", "1000.00"),   # B Q4: exactly 1,000 -> kicker
]


def _write_data(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "deals.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["deal_id", "rep_id", "close_date", "amount"])
        w.writerows(DEALS)
    (folder / "quotas.csv").write_text("rep_id,year,quota\nA,2026,10000\nB,2026,10000\n",
                                       encoding="utf-8")
    (folder / "roster.csv").write_text(
        "rep_id,name,role,region,target_incentive\nA,Ann,AE,East,5000\nB,Bo,AE,West,5000\n",
        encoding="utf-8")
    return folder


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    return _write_data(tmp_path / "data")


def _plan_file(folder: Path, name: str, amount: str) -> Path:
    path = folder / f"{name.lower().replace(' ', '_')}.yaml"
    path.write_text(PLAN.format(name=name, amount=amount), encoding="utf-8")
    return path


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["SPMKIT_COMPONENTS"] = "test_component_protocol"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    return env


def _cli(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spmkit.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=_env(), timeout=300)


def test_the_type_registers_from_its_class_alone():
    assert COMPONENT_TYPES["kicker"] is Kicker


@pytest.mark.parametrize("part", ["measures", "earn", "explain", "editable"])
def test_a_type_lacking_a_part_fails_when_it_registers(part):
    body = {name: getattr(Kicker, name) for name in ("measures", "earn", "explain")}
    body["editable"] = ("cap",)
    del body[part]
    namespace = {"__annotations__": {"type": Literal["broken"]}, "type": "broken",
                 "type_name": "broken", **body}
    with pytest.raises(TypeError, match=f"'broken'.*lacks {part}"):
        type("Broken", (Component,), {**namespace, "__module__": __name__})
    assert "broken" not in COMPONENT_TYPES


def test_unknown_editable_field_fails_when_it_registers():
    with pytest.raises(TypeError, match="unknown editable field colour"):
        class Odd(Kicker):
            type_name: ClassVar[str] = "odd"
            editable: ClassVar[tuple[str, ...]] = ("colour",)


def test_calculate_and_statement(data: Path, tmp_path: Path):
    from spmkit.payout import calculate
    from spmkit.plan import load_plan
    from spmkit.tables import load_data_dir

    plan = load_plan(_plan_file(tmp_path, "Kicker plan", "250"))
    result = calculate(plan, load_data_dir(data))
    kicks = result.payouts[result.payouts["component"] == "kicker"]
    paid = {(r.rep_id, r.period): r.amount_cents for r in kicks.itertuples()}
    # hand-computed: A Q1 and B Q4 reach 1,000.00 of credit; B Q3 is one cent short
    assert paid[("A", "2026-Q1")] == 25_000
    assert paid[("B", "2026-Q4")] == 25_000
    assert sum(paid.values()) == 50_000
    # commission 10%, year to date: A 150.00 + 40.00; B 99.999 -> 100.00, then 200.00 - 100.00
    assert result.total_payout_cents == 50_000 + 150_00 + 40_00 + 100_00 + 100_00
    text = result.statement("B", "2026-Q3")
    assert "kicker: 0.00 - Kicker 250.00 for a period with credit of at least 1,000.00: " \
           "credit 999.99" in text


def test_cli_calc_and_explain(data: Path, tmp_path: Path):
    plan = _plan_file(tmp_path, "Kicker plan", "250")
    out = tmp_path / "out"
    proc = _cli("calc", "--plan", plan, "--deals", data / "deals.csv", "--quotas",
                data / "quotas.csv", "--out", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with open(out / "payouts.csv", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["component"] == "kicker"]
    assert sorted((r["rep_id"], r["period"]) for r in rows if r["amount"] != "0.00") == [
        ("A", "2026-Q1"), ("B", "2026-Q4")]
    assert {r["amount"] for r in rows} == {"0.00", "250.00"}
    proc = _cli("explain", "--plan", plan, "--deals", data / "deals.csv", "--quotas",
                data / "quotas.csv", "--rep", "A",
                "--period", "2026-Q1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "kicker: 250.00 - Kicker 250.00 for a period with credit of at least 1,000.00" \
        in proc.stdout


def test_cli_without_the_module_names_the_type(data: Path, tmp_path: Path):
    plan = _plan_file(tmp_path, "Kicker plan", "250")
    env = {k: v for k, v in os.environ.items() if k != "SPMKIT_COMPONENTS"}
    proc = subprocess.run([sys.executable, "-m", "spmkit.cli", "validate", "--plan", str(plan),
                           "--deals", str(data / "deals.csv"), "--quotas",
                           str(data / "quotas.csv")], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert "unknown component type 'kicker'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_comparison_metrics(data: Path, tmp_path: Path):
    import spmkit.scenario as sc
    from spmkit.plan import load_plan
    from spmkit.tables import load_data_dir

    base = load_plan(_plan_file(tmp_path, "Kicker plan", "250"))
    more = load_plan(_plan_file(tmp_path, "Bigger kicker", "400"))
    comparison = sc.compare(base, [more], load_data_dir(data), draws=20, seed=1)
    metrics = comparison.metrics()
    # the only difference is the kicker: two kicks of 150.00 more
    assert metrics["Kicker plan"]["total_payout_cents"] == 89_000
    assert metrics["Bigger kicker"]["total_payout_cents"] == 89_000 + 30_000
    assert metrics["Bigger kicker"]["delta_cents"] == 30_000


def test_scenario_report(data: Path, tmp_path: Path):
    base = _plan_file(tmp_path, "Kicker plan", "250")
    more = _plan_file(tmp_path, "Bigger kicker", "400")
    proc = _cli("report", "--data", data, "--baseline", base, "--scenarios", more,
                "--out", tmp_path / "report", "--audience", "analyst", "--draws", "20",
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text(encoding="utf-8"))
    text = json.dumps(metrics)
    assert "Bigger kicker" in text and "Kicker plan" in text
    html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "Bigger kicker" in html


def test_explorer_controller(data: Path, tmp_path: Path):
    from spmkit.explore import PlanExplorer
    from spmkit.plan import load_plan
    from spmkit.tables import load_data_dir

    plan = load_plan(_plan_file(tmp_path, "Kicker plan", "250"))
    explorer = PlanExplorer(load_data_dir(data), plan, scenarios_dir=tmp_path)
    before = explorer.snapshot
    after = explorer.set_cap("kicker", amount=200)  # each rep's one kick of 250 is capped
    kick = after.result.payouts[after.result.payouts["component"] == "kicker"]
    assert int(kick["amount_cents"].sum()) == 20_000 + 20_000
    assert after.plan.component("kicker").cap.amount == 200
    with pytest.raises(PlanError, match="kicker has no threshold"):
        explorer.set_threshold("kicker", 0.5)
    with pytest.raises(PlanError, match="kicker has no weight"):
        explorer.set_weight("kicker", 0.5)
    assert explorer.snapshot.plan == after.plan
    assert before.plan != after.plan
