"""The plan explorer: its controller (spmkit.explore) and its widgets, without a browser.

Every figure the explorer shows is checked against the same plan built directly (from
YAML text) and run through spmkit.payout.calculate / spmkit.scenario, the functions the
CLI and the reports use.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spmkit.payout
import spmkit.scenario as sc
from spmkit.errors import PlanError, SpmkitError
from spmkit.explore import PlanExplorer, plan_changes, plan_threshold, slugify
from spmkit.money import format_money
from spmkit.payout import calculate
from spmkit.plan import load_plan
from spmkit.sample import write_sample
from spmkit.tables import load_data_dir

BASELINE = """\
plan: Explorer Base
currency: USD
year_start: 2025-01-01
period: quarter
components:
  - id: commission
    type: commission
    weight: 0.8
    attainment: ytd
    tiers:
      method: marginal
      bands:
        - {from: 0.0, bcr_multiple: 1.0}
        - {from: 1.0, bcr_multiple: 1.5}
  - id: bonus
    type: bonus
    weight: 0.2
    attainment: period
    curve: [[0.5, 0.0], [1.0, 1.0], [1.5, 1.5]]
"""

RATES = """\
plan: Rates 2025
currency: USD
year_start: 2025-01-01
period: quarter
components:
  - id: commission
    type: commission
    attainment: ytd
    tiers:
      bands:
        - {from: 0.0, rate: 0.05}
        - {from: 1.0, rate: 0.08}
    cap: {amount: 150000}
"""


def plan_text(base: str, old: str, new: str) -> str:
    assert old in base, old
    return base.replace(old, new)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("explorer-data")
    write_sample(out, reps=24, years=2, seed=11)
    return out


@pytest.fixture(scope="module")
def inputs(data_dir: Path):
    return load_data_dir(data_dir)


@pytest.fixture(scope="module")
def base_plan():
    return load_plan(BASELINE)


@pytest.fixture(scope="module")
def base_result(base_plan, inputs):
    return calculate(base_plan, inputs)


@pytest.fixture
def scenarios(tmp_path: Path) -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "baseline.yaml").write_text(BASELINE, encoding="utf-8")
    (folder / "rates.yaml").write_text(RATES, encoding="utf-8")
    return folder


@pytest.fixture
def explorer(inputs, base_plan, scenarios: Path) -> PlanExplorer:
    return PlanExplorer(inputs, base_plan, scenarios_dir=scenarios)


def assert_matches_direct(explorer: PlanExplorer, text: str, inputs, base_result,
                          uplift: float = 0.0, curve: bool = False) -> None:
    """The explorer's figures equal those of the plan built from ``text`` and run directly."""
    direct = load_plan(text)
    assert explorer.plan == direct
    data = inputs if uplift == 0 else sc.scale_sales(inputs, 1 + uplift)
    result = calculate(direct, data)
    snap = explorer.snapshot
    assert snap.total_payout_cents == result.total_payout_cents
    pd.testing.assert_frame_equal(snap.result.payouts, result.payouts)
    pd.testing.assert_series_equal(snap.kpis, sc.kpis(result))
    pd.testing.assert_frame_equal(snap.rep_deltas, sc.rep_deltas(base_result, result))
    assert snap.headline.loc["total_payout_cents", "scenario"] == result.total_payout_cents
    assert (snap.headline.loc["total_payout_cents", "delta"]
            == result.total_payout_cents - base_result.total_payout_cents)
    if not curve:
        return
    shown = snap.pay_curves[snap.pay_curves["plan"] == snap.scenario_label]
    expected = sc.pay_curve(direct, attainment=explorer.curve_attainment,
                            **explorer.curve_basis)
    np.testing.assert_array_equal(shown["payout_cents"].to_numpy(),
                                  expected["payout_cents"].to_numpy())


# ----------------------------------------------------------------------------- controller


def test_starts_at_the_baseline_with_the_engines_figures(explorer, inputs, base_result):
    assert_matches_direct(explorer, BASELINE, inputs, base_result, curve=True)
    assert explorer.snapshot.delta_cents == 0
    assert explorer.snapshot.movers().empty
    pd.testing.assert_series_equal(explorer.baseline_kpis, sc.kpis(base_result))


def test_curve_basis_is_the_median_payee(explorer, base_result):
    totals = base_result.rep_totals()
    ti = base_result.reps["target_incentive_cents"].astype("float64")
    assert explorer.curve_basis == {
        "target_incentive_cents": int(np.rint(ti[ti > 0].median())),
        "quota_cents": int(np.rint(totals.loc[totals["quota_cents"] > 0, "quota_cents"]
                                    .median())),
    }


def test_band_edits_recompute_through_the_engine(explorer, inputs, base_result):
    explorer.set_band("commission", 1, bcr_multiple=2.5)
    text = plan_text(BASELINE, "{from: 1.0, bcr_multiple: 1.5}", "{from: 1.0, bcr_multiple: 2.5}")
    assert_matches_direct(explorer, text, inputs, base_result, curve=True)
    assert explorer.snapshot.delta_cents > 0  # a richer accelerator costs more
    explorer.set_band("commission", 1, start=0.9)
    text = plan_text(text, "{from: 1.0, bcr_multiple: 2.5}", "{from: 0.9, bcr_multiple: 2.5}")
    assert_matches_direct(explorer, text, inputs, base_result)
    # a rate replaces the BCR multiple
    explorer.set_band("commission", 0, rate=0.05)
    text = plan_text(text, "{from: 0.0, bcr_multiple: 1.0}", "{from: 0.0, rate: 0.05}")
    assert_matches_direct(explorer, text, inputs, base_result)


def test_slider_floats_become_exact_decimals(explorer):
    explorer.set_band("commission", 0, rate=0.1 + 0.2)  # 0.30000000000000004
    assert explorer.plan.components[0].tiers.bands[0].rate == Decimal("0.3")


def test_curve_weight_basis_method_and_period_edits(explorer, inputs, base_result):
    explorer.set_curve_point("bonus", 2, attainment=1.4, payout=2.0)
    text = plan_text(BASELINE, "[1.5, 1.5]]", "[1.4, 2.0]]")
    assert_matches_direct(explorer, text, inputs, base_result)
    explorer.set_weight("bonus", "0.3")
    text = plan_text(text, "weight: 0.2", "weight: 0.3")
    explorer.set_attainment_basis("bonus", "ytd")
    text = plan_text(text, "attainment: period", "attainment: ytd")
    explorer.set_above_last("bonus", "extend")
    text = text + "    above_last: extend\n"
    explorer.set_method("commission", "retroactive")
    text = plan_text(text, "method: marginal", "method: retroactive")
    explorer.set_period("month")
    text = plan_text(text, "period: quarter", "period: month")
    assert_matches_direct(explorer, text, inputs, base_result, curve=True)
    assert explorer.snapshot.result.periods.count == 12


def test_caps(explorer, inputs, base_result):
    explorer.set_cap("commission", ti_multiple=1)
    capped = BASELINE.replace("  - id: bonus", "    cap: {ti_multiple: 1}\n  - id: bonus")
    assert_matches_direct(explorer, capped, inputs, base_result)
    assert explorer.snapshot.delta_cents < 0  # the sample has reps far above quota
    explorer.set_cap("commission", amount=1000)
    text = plan_text(capped, "{ti_multiple: 1}", "{amount: 1000}")
    assert_matches_direct(explorer, text, inputs, base_result)
    explorer.set_cap("commission")
    assert explorer.plan == load_plan(BASELINE)
    assert explorer.snapshot.delta_cents == 0


def test_commission_threshold_inserts_moves_and_removes_a_zero_band(explorer, inputs,
                                                                   base_result):
    assert explorer.threshold("commission") == 0
    explorer.set_threshold("commission", 0.5)
    text = plan_text(BASELINE, "        - {from: 0.0, bcr_multiple: 1.0}",
                     "        - {from: 0, rate: 0}\n        - {from: 0.5, bcr_multiple: 1.0}")
    assert_matches_direct(explorer, text, inputs, base_result)
    assert explorer.threshold("commission") == Decimal("0.5")
    explorer.set_threshold("commission", 0.6)
    assert explorer.plan == load_plan(plan_text(text, "{from: 0.5,", "{from: 0.6,"))
    explorer.set_threshold("commission", 0)
    assert explorer.plan == load_plan(BASELINE)


def test_bonus_threshold_is_the_first_curve_point(explorer, inputs, base_result):
    assert plan_threshold(explorer.plan, "bonus") == Decimal("0.5")
    explorer.set_threshold("bonus", 0.75)
    assert_matches_direct(explorer, plan_text(BASELINE, "[[0.5, 0.0]", "[[0.75, 0.0]"), inputs,
                          base_result)


def test_uplift_scales_sales_and_keeps_the_baseline(explorer, inputs, base_result):
    explorer.set_uplift(0.1)
    assert_matches_direct(explorer, BASELINE, inputs, base_result, uplift=0.1)
    h = explorer.snapshot.headline
    assert h.loc["total_payout_cents", "baseline"] == base_result.total_payout_cents
    revenue = sc.kpis(base_result)["credited_revenue_cents"]
    assert h.loc["credited_revenue_cents", "scenario"] > revenue
    explorer.set_uplift(0)
    assert explorer.snapshot.delta_cents == 0


@pytest.mark.parametrize("edit, key", [
    # errors speak of components, bands and points as the controls are labelled (from 1)
    (lambda e: e.set_band("commission", 1, start=0), "commission, bands: bands out of order: "
     "band 2 starts at 0"),
    (lambda e: e.set_band("commission", 1, start="abc"), "commission, band 2, from: 'abc'"),
    (lambda e: e.set_band("commission", 5, rate=0.1), "commission, band 6: no band 6"),
    (lambda e: e.set_band("commission", 0, rate=0.1, bcr_multiple=1), "commission, band 1:"),
    (lambda e: e.set_weight("bonus", -0.2), "bonus, weight: -0.2"),
    (lambda e: e.set_curve_point("bonus", 1, attainment=2.0), "bonus, curve: curve points out "
     "of order: point 3 has attainment"),
    (lambda e: e.set_curve_point("bonus", 2, payout=-1), "bonus, point 3, payout: -1"),
    (lambda e: e.set_attainment_basis("commission", "annual"), "commission, attainment"),
    (lambda e: e.set_period("week"), "period"),
    (lambda e: e.set_threshold("commission", 1.0), "commission, bands"),
    (lambda e: e.set_cap("nope", amount=5), "nope"),
    (lambda e: e.set_curve_point("commission", 0, payout=1), "commission"),
    (lambda e: e.set_name("  "), "plan"),
    (lambda e: e.remove_band("commission", 0), "commission, band 1: the first band cannot"),
    (lambda e: e.remove_curve_point("bonus", 7), "bonus, point 8: no point 8; there are 3"),
])
def test_invalid_edits_raise_plan_error_and_keep_the_last_good_result(explorer, edit, key):
    explorer.set_band("commission", 1, bcr_multiple=2.0)  # a good edit first
    good_plan, good_snap = explorer.plan, explorer.snapshot
    with pytest.raises(PlanError) as err:
        edit(explorer)
    assert key in str(err.value)
    assert "components[" not in str(err.value) and "column '" not in str(err.value)
    assert explorer.plan is good_plan
    assert explorer.snapshot is good_snap


def test_invalid_uplift(explorer):
    snap = explorer.snapshot
    with pytest.raises(SpmkitError, match="uplift"):
        explorer.set_uplift(-1.5)
    with pytest.raises(SpmkitError, match="not a number"):
        explorer.set_uplift("lots")
    assert explorer.snapshot is snap and explorer.uplift == 0


def test_memoizes_inputs_baseline_and_results(inputs, base_plan, scenarios, monkeypatch):
    calls: list[str] = []
    scaled: list[float] = []
    real_calculate, real_scale = spmkit.payout.calculate, sc.scale_sales

    def counting_calculate(plan, data):
        calls.append(plan.plan)
        return real_calculate(plan, data)

    def counting_scale(data, factor):
        scaled.append(factor)
        return real_scale(data, factor)

    monkeypatch.setattr(spmkit.payout, "calculate", counting_calculate)
    monkeypatch.setattr(sc, "scale_sales", counting_scale)
    explorer = PlanExplorer(inputs, base_plan, scenarios_dir=scenarios)
    assert calls == ["Explorer Base"]  # the baseline once; the start is the same plan
    baseline_result = explorer.baseline_result
    explorer.set_weight("bonus", 0.3)
    explorer.set_weight("bonus", 0.2)  # back to the baseline plan: cached
    explorer.set_weight("bonus", 0.3)  # cached too
    explorer.set_uplift(0.05)
    explorer.set_uplift(0)
    explorer.set_uplift(0.05)
    assert len(calls) == 3 and scaled == [1.05]
    assert explorer.baseline_result is baseline_result


def test_start_from_a_scenario_file_and_reset(explorer, scenarios, inputs, base_result):
    assert [p.name for p in explorer.scenario_files()] == ["baseline.yaml", "rates.yaml"]
    explorer.set_uplift(0.1)
    explorer.start_from("rates.yaml")
    assert explorer.start_source == "rates.yaml"
    assert_matches_direct(explorer, RATES, inputs, base_result, uplift=0.1)
    explorer.set_band("commission", 1, rate=0.1)
    explorer.reset()
    assert explorer.plan == load_plan(RATES) and explorer.uplift == 0
    with pytest.raises(PlanError, match="no such plan file"):
        explorer.start_from("missing.yaml")
    assert explorer.plan == load_plan(RATES)


def test_from_paths_resolves_file_names_in_the_scenarios_folder(data_dir, scenarios):
    explorer = PlanExplorer.from_paths(data_dir, "baseline.yaml", start="rates.yaml",
                                       scenarios_dir=scenarios)
    assert explorer.baseline == load_plan(BASELINE)
    assert explorer.plan == load_plan(RATES)
    assert explorer.start_source == "rates.yaml"


def test_movers_are_the_largest_gains_and_losses(explorer):
    # an accelerator from 80% with a lower base rate: some reps gain, some lose
    explorer.set_band("commission", 0, bcr_multiple=0.8)
    explorer.set_band("commission", 1, start=0.8, bcr_multiple=2.5)
    d = explorer.snapshot.rep_deltas
    movers = explorer.snapshot.movers(3)
    gains, losses = movers[movers["direction"] == "gain"], movers[movers["direction"] == "loss"]
    assert len(gains) == min(3, (d["delta_cents"] > 0).sum()) > 0
    assert len(losses) == min(3, (d["delta_cents"] < 0).sum()) > 0
    assert gains["delta_cents"].tolist() == sorted(d["delta_cents"], reverse=True)[:3]
    assert losses["delta_cents"].tolist() == sorted(d["delta_cents"])[:3]


# ----------------------------------------------------------------------------- saving


def test_save_round_trips_with_a_comment_header(explorer, scenarios):
    explorer.set_band("commission", 1, bcr_multiple=2.25)
    explorer.set_cap("commission", ti_multiple=3)
    path = explorer.save(note="Richer accelerator\nasked by finance", name="AE Accel 2025 (v2)")
    assert path == scenarios / "ae-accel-2025-v2.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# AE Accel 2025 (v2): saved from the spmkit")
    assert "# Note: Richer accelerator\n#       asked by finance\n" in text
    assert "#   components[0].tiers.bands[1].bcr_multiple: 1.5 -> 2.25\n" in text
    loaded = load_plan(path)
    assert loaded == explorer.plan.model_copy(update={"plan": "AE Accel 2025 (v2)"})
    assert explorer.plan.plan == "Explorer Base"  # saving under a name does not rename
    assert path in explorer.scenario_files()


def test_save_refuses_to_overwrite(explorer, scenarios):
    path = explorer.save()
    assert path == scenarios / "explorer-base.yaml"
    before = path.read_text(encoding="utf-8")
    explorer.set_weight("bonus", 0.5)
    with pytest.raises(SpmkitError, match="already exists"):
        explorer.save()
    assert path.read_text(encoding="utf-8") == before
    assert explorer.save(overwrite=True) == path
    assert load_plan(path) == explorer.plan != load_plan(before)


def test_save_to_a_named_file_and_bad_names(explorer, tmp_path):
    target = tmp_path / "elsewhere" / "my plan.yaml"
    assert explorer.save(target) == target
    assert load_plan(target) == explorer.plan
    with pytest.raises(PlanError, match="file name"):
        explorer.save(tmp_path, name="%%%")
    with pytest.raises(PlanError, match="plan"):
        explorer.save(tmp_path, name="")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "scenarios"]


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rate=st.decimals(min_value=0, max_value=1, places=4),
       start=st.decimals(min_value="0.05", max_value=3, places=3),
       name=st.text(alphabet="abcXYZ 09-_é", min_size=1, max_size=20).filter(slugify))
def test_any_saved_edit_loads_back_equal(explorer, tmp_path, rate, start, name):
    explorer.start_from(load_plan(RATES))
    explorer.set_band("commission", 1, start=start, rate=rate)
    path = explorer.save(tmp_path, name=name, overwrite=True)
    assert path.name == slugify(name) + ".yaml"
    assert load_plan(path) == explorer.plan.model_copy(update={"plan": name.strip()})


def test_slugify_and_plan_changes(base_plan):
    assert slugify("AE 2026 (draft)") == "ae-2026-draft"
    assert slugify("Zoë's plan") == "zoe-s-plan"
    assert slugify("!!!") == ""
    other = base_plan.model_copy(update={"period": "month"})
    assert plan_changes(base_plan, other) == ["period: quarter -> month"]
    text = plan_text(BASELINE, "        - {from: 0.0, bcr_multiple: 1.0}",
                     "        - {from: 0, rate: 0}\n        - {from: 0.5, bcr_multiple: 1.0}")
    assert plan_changes(base_plan, load_plan(text)) == [
        "components[0].tiers.bands: [{from: 0.0, bcr_multiple: 1.0}, {from: 1.0, "
        "bcr_multiple: 1.5}] -> [{from: 0, rate: 0}, {from: 0.5, bcr_multiple: 1.0}, "
        "{from: 1.0, bcr_multiple: 1.5}]"]


# ----------------------------------------------------------------------------- widgets


@pytest.fixture
def view(explorer):
    from spmkit.report.explorer_widgets import ExplorerView

    return ExplorerView(explorer)


def money_text(cents: int) -> str:
    return format_money(np.array([cents]))[0]


def test_view_has_controls_for_every_component(view):
    keys = set(view.controls)
    for key in ("start", "reset", "period", "uplift", "commission.basis", "commission.method",
                "commission.weight", "commission.threshold", "commission.cap_kind",
                "commission.cap", "commission.bands[0].from", "commission.bands[0].bcr_multiple",
                "commission.bands[1].bcr_multiple", "bonus.curve[2].payout",
                "bonus.curve[2].attainment", "bonus.above_last", "save.name", "save.button"):
        assert key in keys, key
    assert set(view.errors) == {"start", "plan", "uplift", "commission", "bonus", "save"}
    assert view.controls["uplift"].continuous_update is False
    assert view.controls["commission.bands[1].bcr_multiple"].continuous_update is False
    assert view.controls["commission.bands[1].bcr_multiple"].value == 1.5
    assert view.controls["start"].value.endswith("baseline.yaml")
    assert bytes(view.pay_curve_image.value).startswith(b"\x89PNG")
    assert bytes(view.distribution_image.value).startswith(b"\x89PNG")


def test_setting_a_slider_recomputes_like_the_engine(view, explorer, inputs, base_result):
    curve_before = bytes(view.pay_curve_image.value)
    view.controls["commission.bands[1].bcr_multiple"].value = 2.5
    text = plan_text(BASELINE, "{from: 1.0, bcr_multiple: 1.5}", "{from: 1.0, bcr_multiple: 2.5}")
    assert_matches_direct(explorer, text, inputs, base_result)
    total = calculate(load_plan(text), inputs).total_payout_cents
    assert (f'class="spmkit-total-cost">{money_text(total)}<' in view.headline.value)
    delta = total - base_result.total_payout_cents
    assert f'class="spmkit-total-cost-delta">+{money_text(delta)} (' in view.headline.value
    assert bytes(view.pay_curve_image.value) != curve_before
    assert all(label.value == "" for label in view.errors.values())
    movers = explorer.snapshot.movers(5)
    assert money_text(int(movers["delta_cents"].iloc[0])) in view.movers_table.value


def test_invalid_text_shows_an_error_and_keeps_the_last_good_result(view, explorer, inputs,
                                                                   base_result):
    view.controls["commission.bands[1].bcr_multiple"].value = 2.0
    good = dict(headline=view.headline.value, curve=bytes(view.pay_curve_image.value),
                movers=view.movers_table.value, plan=explorer.plan)
    view.controls["commission.bands[1].from"].value = 0.0  # out of order
    assert "out of order" in view.errors["commission"].value
    assert view.errors["bonus"].value == ""
    assert explorer.plan == good["plan"]
    assert view.headline.value == good["headline"]
    assert bytes(view.pay_curve_image.value) == good["curve"]
    assert view.movers_table.value == good["movers"]
    view.controls["bonus.weight"].value = -1
    assert "greater than or equal to 0" in view.errors["bonus"].value
    # a good edit clears the errors and puts the controls back on the plan
    view.controls["uplift"].value = 0.05
    assert all(label.value == "" for label in view.errors.values())
    assert view.controls["commission.bands[1].from"].value == 1.0
    assert view.controls["bonus.weight"].value == 0.2
    text = plan_text(BASELINE, "{from: 1.0, bcr_multiple: 1.5}", "{from: 1.0, bcr_multiple: 2.0}")
    assert_matches_direct(explorer, text, inputs, base_result, uplift=0.05)


def test_threshold_and_cap_controls_rebuild_the_bands(view, explorer):
    view.controls["commission.threshold"].value = 0.5
    assert explorer.threshold("commission") == Decimal("0.5")
    assert view.controls["commission.bands[0].rate"].value == 0
    assert view.controls["commission.bands[1].from"].value == 0.5
    assert view.controls["commission.bands[2].bcr_multiple"].value == 1.5
    view.controls["commission.cap_kind"].value = "ti_multiple"
    assert explorer.plan.component("commission").cap.ti_multiple == 3
    view.controls["commission.cap"].value = 2
    assert explorer.plan.component("commission").cap.ti_multiple == 2
    view.controls["commission.cap_kind"].value = "none"
    assert explorer.plan.component("commission").cap is None
    view.controls["period"].value = "month"
    assert explorer.snapshot.result.periods.count == 12


def test_start_dropdown_switches_plans_and_rebuilds_controls(view, explorer, scenarios):
    view.controls["start"].value = str(scenarios / "rates.yaml")
    assert explorer.plan == load_plan(RATES)
    assert "bonus.weight" not in view.controls
    assert view.controls["commission.bands[1].rate"].value == 0.08
    assert view.controls["commission.cap"].value == 150000
    assert view.controls["save.name"].value == "Rates 2025"
    view.controls["commission.bands[1].rate"].value = 0.1
    view.controls["reset"].click()
    assert explorer.plan == load_plan(RATES)
    assert view.controls["commission.bands[1].rate"].value == 0.08


def test_save_button(view, explorer, scenarios):
    view.controls["commission.bands[1].bcr_multiple"].value = 2.0
    view.controls["save.name"].value = "Accelerated 2025"
    view.controls["save.note"].value = "from the widget test"
    view.controls["save.button"].click()
    path = scenarios / "accelerated-2025.yaml"
    assert "Saved" in view.save_status.value and view.errors["save"].value == ""
    assert load_plan(path) == explorer.plan.model_copy(update={"plan": "Accelerated 2025"})
    assert "# Note: from the widget test" in path.read_text(encoding="utf-8")
    assert str(path) in [v for _, v in view.controls["start"].options]
    view.controls["save.button"].click()
    assert "already exists" in view.errors["save"].value
    view.controls["save.overwrite"].value = True
    view.controls["save.button"].click()
    assert view.errors["save"].value == ""


# ----------------------------------------------------------------- adding and removing


def test_adding_and_removing_bands_and_points_matches_the_plan_written_out(
        explorer, inputs, base_result):
    explorer.add_band("commission", rate=None, bcr_multiple=2.5)  # after the last: 1.5
    text = plan_text(BASELINE, "        - {from: 1.0, bcr_multiple: 1.5}\n",
                     "        - {from: 1.0, bcr_multiple: 1.5}\n"
                     "        - {from: 1.5, bcr_multiple: 2.5}\n")
    assert_matches_direct(explorer, text, inputs, base_result)
    explorer.add_curve_point("bonus", 0)  # halfway between (0.5, 0) and (1.0, 1.0)
    text = plan_text(text, "[[0.5, 0.0], [1.0, 1.0]", "[[0.5, 0.0], [0.75, 0.5], [1.0, 1.0]")
    assert_matches_direct(explorer, text, inputs, base_result)
    explorer.remove_band("commission", 1)
    explorer.remove_curve_point("bonus", 3)
    text = plan_text(text, "        - {from: 1.0, bcr_multiple: 1.5}\n", "")
    text = plan_text(text, ", [1.5, 1.5]]", "]")
    assert_matches_direct(explorer, text, inputs, base_result)


def test_the_edited_column_is_labelled_after_the_edits(explorer):
    assert explorer.snapshot.scenario_label == "Explorer Base (no edits)"
    assert explorer.snapshot.changes == ()
    snap = explorer.set_band("commission", 1, bcr_multiple=2.0)
    assert snap.scenario_label == "edited: Explorer Base"
    assert snap.changes == ("commission, band 2, bcr_multiple: 1.5 -> 2",)
    assert set(snap.pay_curves["plan"]) == {"baseline: Explorer Base", "edited: Explorer Base"}
    assert explorer.reset().scenario_label == "Explorer Base (no edits)"


def test_the_view_adds_and_removes_bands_and_points(view, explorer):
    assert "Explorer Base (no edits)" in view.headline.value
    view.controls["commission.bands.add"].click()
    assert len(explorer.plan.component("commission").tiers.bands) == 3
    assert "commission.bands[2].bcr_multiple" in view.controls
    assert "Edited: Explorer Base" in view.headline.value
    assert "commission, bands:" in view.headline.value  # the edit, in words
    view.controls["commission.bands[2].remove"].click()
    assert len(explorer.plan.component("commission").tiers.bands) == 2
    assert "commission.bands[2].bcr_multiple" not in view.controls
    assert "commission.bands[0].remove" not in view.controls  # the first band stays
    view.controls["bonus.curve.add"].click()
    assert [float(x) for x, _ in explorer.plan.component("bonus").curve] == [0.5, 1.0, 1.5,
                                                                               2.0]
    view.controls["bonus.curve[1].attainment"].value = 0.4  # out of order: labels count from 1
    assert "point 2 has attainment 0.4" in view.errors["bonus"].value
    assert "components[" not in view.errors["bonus"].value
    view.controls["bonus.curve[3].remove"].click()
    assert len(explorer.plan.component("bonus").curve) == 3


def test_any_plan_file_is_the_baseline(data_dir, scenarios, tmp_path):
    other = tmp_path / "elsewhere" / "mine.yaml"
    other.parent.mkdir()
    other.write_text(RATES, encoding="utf-8")
    explorer = PlanExplorer.from_paths(data_dir, other, scenarios_dir=scenarios)
    assert explorer.baseline.plan == "Rates 2025" and explorer.start_source == "mine.yaml"


def test_the_notebook_reads_the_plan_and_mapping_from_the_environment(tmp_path, monkeypatch):
    """Under Voila the notebook takes SPMKIT_PLAN and SPMKIT_MAPPING (Papermill here)."""
    import papermill as pm
    from crm_fixture import write_crm

    root = Path(__file__).resolve().parents[1]
    mapping = write_crm(tmp_path / "crm", rows=40)
    quotas = tmp_path / "data"
    quotas.mkdir()
    from spmkit.mapping import apply_mapping

    tables, _ = apply_mapping(mapping)
    reps = sorted(set(tables["roster"]["rep_id"]))
    (quotas / "quotas.csv").write_text("rep_id,year,quota\n" + "".join(
        f"{r},2017,100000\n" for r in reps), encoding="utf-8")
    plan = tmp_path / "crm.yaml"
    plan.write_text(plan_text(BASELINE, "year_start: 2025-01-01", "year_start: 2017-01-01")
                    .replace("Explorer Base", "CRM plan"), encoding="utf-8")
    monkeypatch.setenv("SPMKIT_PLAN", str(plan))
    monkeypatch.setenv("SPMKIT_MAPPING", str(mapping))
    monkeypatch.setenv("SPMKIT_DATA_DIR", str(quotas))
    monkeypatch.setenv("SPMKIT_SCENARIOS_DIR", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(root / "notebooks" / "plan_explorer.ipynb"), str(out),
                        kernel_name="python3", cwd=str(root), progress_bar=False)
    text = out.read_text(encoding="utf-8")
    assert "CRM plan (no edits)" in text
