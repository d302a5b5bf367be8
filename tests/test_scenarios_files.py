"""The plan files users copy: scenarios/*.yaml and examples/northwind/*.yaml.

Each loads, round-trips, has a distinct name and a leading comment block saying what it
changes; the baseline is realistic on the sample org (cost of sales 3-9% of revenue, a
rep at 100% earns about target incentive)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from spmkit.plan import Bonus, Commission, Spif, load_plan

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
NORTHWIND_PLANS = [ROOT / "examples" / "northwind" / n for n in ("baseline.yaml",
                                                                 "accelerator.yaml")]
ALL_PLANS = SCENARIOS + NORTHWIND_PLANS


def _ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.name}" for p in paths]


def test_baseline_and_at_least_three_alternatives() -> None:
    names = {p.name for p in SCENARIOS}
    assert "baseline.yaml" in names
    assert len(names - {"baseline.yaml"}) >= 3
    assert all(p.is_file() for p in NORTHWIND_PLANS)


@pytest.mark.parametrize("path", ALL_PLANS, ids=_ids(ALL_PLANS))
def test_plan_loads_and_round_trips(path: Path) -> None:
    plan = load_plan(path)
    again = load_plan(plan.to_yaml())
    assert again == plan
    assert plan.currency == "USD" and plan.period == "quarter"


@pytest.mark.parametrize("path", ALL_PLANS, ids=_ids(ALL_PLANS))
def test_plan_starts_with_a_comment_block(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    head = []
    for line in lines:
        if not line.startswith("#"):
            break
        head.append(line)
    words = " ".join(h.lstrip("# ") for h in head).split()
    assert len(head) >= 3 and len(words) >= 25, f"{path.name}: explain the plan up front"
    if path.name != "baseline.yaml":
        assert "why" in " ".join(words).lower(), f"{path.name}: say why an analyst tries it"


def test_plan_names_are_distinct() -> None:
    names = [load_plan(p).plan for p in ALL_PLANS]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("path", SCENARIOS, ids=_ids(SCENARIOS))
def test_scenarios_model_the_2025_plan_year(path: Path) -> None:
    plan = load_plan(path)
    assert plan.year_start == date(2025, 1, 1)
    for comp in plan.components:
        if isinstance(comp, Spif):
            assert date(2025, 1, 1) <= comp.window[0] <= comp.window[1] <= date(2025, 12, 31)


@pytest.mark.parametrize("path", NORTHWIND_PLANS, ids=_ids(NORTHWIND_PLANS))
def test_northwind_plans_model_1997(path: Path) -> None:
    assert load_plan(path).year_start == date(1997, 1, 1)


@pytest.mark.parametrize("path", ALL_PLANS, ids=_ids(ALL_PLANS))
def test_weights_of_target_components_sum_to_one(path: Path) -> None:
    """Commission and bonus weights share the target incentive: a rep at 100% earns it."""
    plan = load_plan(path)
    weights = [c.weight for c in plan.components if isinstance(c, (Commission, Bonus))]
    assert sum(weights) == Decimal(1)


def test_alternatives_change_what_their_names_say() -> None:
    base = load_plan(ROOT / "scenarios" / "baseline.yaml")
    acc = load_plan(ROOT / "scenarios" / "accelerators.yaml")
    top = lambda p: p.component("commission").tiers.bands[-1].bcr_multiple  # noqa: E731
    assert top(acc) > top(base)
    cap = load_plan(ROOT / "scenarios" / "cap_and_threshold.yaml")
    assert cap.component("commission").cap is not None
    assert cap.component("commission").tiers.bands[0].rate == 0
    bonus = load_plan(ROOT / "scenarios" / "bonus_weight.yaml")
    assert bonus.component("bonus").weight > base.component("bonus").weight
    spif = load_plan(ROOT / "scenarios" / "product_spif.yaml")
    assert [c.filter for c in spif.components if isinstance(c, Spif)] == [
        {"product": ("Widget Pro",)}]


@pytest.fixture(scope="module")
def sample_inputs(tmp_path_factory):
    tables = pytest.importorskip("spmkit.tables")
    from spmkit.sample import write_sample

    folder = tmp_path_factory.mktemp("sample")
    write_sample(folder, seed=7)
    return tables.load_data_dir(folder)


def test_baseline_is_realistic_on_the_sample_org(sample_inputs) -> None:
    payout = pytest.importorskip("spmkit.payout")
    result = payout.calculate(load_plan(ROOT / "scenarios" / "baseline.yaml"), sample_inputs)
    totals = result.rep_totals().set_index("rep_id")
    # every selling rep with a 2025 quota is paid (and no one else: not the managers or
    # 2024's leavers)
    quota_reps = sample_inputs.quotas.loc[sample_inputs.quotas["year"] == 2025, "rep_id"]
    assert set(totals.index) == set(quota_reps)
    cost = totals["payout_cents"].sum() / totals["credit_cents"].sum()
    assert 0.03 <= cost <= 0.09
    # the share at quota is whatever the sample's history gives (quotas come from the
    # prior year); only a sane range is asserted
    assert 0.3 <= (totals["attainment"] >= 1).mean() <= 0.85
    ti = result.reps.set_index("rep_id")["target_incentive_cents"].reindex(totals.index)
    near = totals["attainment"].between(0.95, 1.05)
    assert near.sum() >= 5
    ratio = (totals["payout_cents"][near] / ti[near]).median()
    assert 0.85 <= ratio <= 1.15


def test_alternatives_run_on_the_sample_org(sample_inputs) -> None:
    payout = pytest.importorskip("spmkit.payout")
    cost = {}
    for path in SCENARIOS:
        result = payout.calculate(load_plan(path), sample_inputs)
        cost[path.stem] = int(result.rep_totals()["payout_cents"].sum())
    assert cost["accelerators"] > cost["baseline"]
    assert cost["product_spif"] > cost["baseline"]
    assert cost["cap_and_threshold"] < cost["baseline"]


def test_gated_accelerator_holds_back_only_the_accelerator(sample_inputs) -> None:
    """The gate only takes pay away: the gated plan costs no more than the same plan without
    its gate, and at least one rep is paid at BCR above quota for want of the product mix."""
    from spmkit.payout import calculate

    gated = load_plan(ROOT / "scenarios" / "gated_accelerator.yaml")
    comp = gated.component("commission")
    assert comp.gate.requires[0].component == "growth_products"
    assert comp.gate.above == 1
    ungated = gated.model_copy(update={"components": tuple(
        c.model_copy(update={"gate": None}) if c.id == "commission" else c
        for c in gated.components)})
    with_gate, without = calculate(gated, sample_inputs), calculate(ungated, sample_inputs)
    assert with_gate.total_payout_cents <= without.total_payout_cents
    p = with_gate.payouts
    assert p.loc[p["component"] == "commission", "explain"].str.contains("gate unmet").any()
    assert (p.loc[p["component"] == "growth_products", "amount_cents"] == 0).all()


def test_gated_plan_has_a_pay_curve() -> None:
    """Pay curves keep the components a gate reads (they pay nothing themselves): the gated
    accelerator's curve runs, and its synthetic rep (deals that pass every filter, so the
    product mix is met) reaches the 2x accelerator above quota."""
    from spmkit.scenario import pay_curve

    gated = load_plan(ROOT / "scenarios" / "gated_accelerator.yaml")
    curve = pay_curve(gated, attainment=[0.5, 1.0, 1.5])
    pay = curve["payout_cents"].tolist()
    assert pay[0] < pay[1] < pay[2]
    # TI 100,000.00 (the curve's default): from 100% to 150% the commission pays 2x BCR on
    # the extra 50% (0.8 x 100,000 x 0.5 x 2 = 80,000) and the bonus goes from 1x to 1.5x
    # of its 20,000 target (+10,000): 90,000.00 more (with the gate unmet it would be
    # 1x BCR above quota: 40,000 + 10,000)
    assert pay[2] - pay[1] == 9_000_000
