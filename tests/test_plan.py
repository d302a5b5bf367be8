"""Plan YAML loading: safe, strict, and every error names the file, line and key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from spmkit.errors import PlanError
from spmkit.plan import Bonus, Commission, Spif, load_plan

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.y*ml"))

BASE = """\
plan: AE 2026
currency: USD
year_start: 2026-01-01
period: quarter
components:
  - id: commission
    type: commission
    tiers:
      bands:
        - {from: 0, rate: 0.05}
"""

EVERY_FEATURE = """\
plan: Everything
currency: EUR
year_start: 2026-02-01
period: quarter
credit: rollup
phasing: [0.2, 0.25, 0.25, 0.3]
components:
  - id: commission
    type: commission
    filter: {deal_type: [new, expansion], region: [EMEA]}
    attainment: ytd
    tiers:
      method: marginal
      bands:
        - {from: 0, rate: 0}
        - {from: 0.5, rate: 0.08}
        - {from: 1.0, rate: 0.12}
        - {from: 1.5, bcr_multiple: 2.5}
    cap: {amount: 150000.50}
  - id: renewals
    type: commission
    filter: {deal_type: renewal}
    attainment: period
    weight: 0.5
    tiers:
      method: retroactive
      bands:
        - {from: 0, bcr_multiple: 0.5}
        - {from: 0.8, bcr_multiple: 1}
    cap: {ti_multiple: 3}
  - id: bonus
    type: bonus
    weight: 0.25
    attainment: ytd
    curve: [[0.5, 0.0], [1.0, 1.0], [1.5, 2.0]]
    above_last: extend
  - id: q4_spif
    type: spif
    filter: {product: [Widget Pro]}
    window: [2026-10-01, 2026-12-31]
    per_deal: 500
    clawback: true
    cap: {amount: 5000}
  - id: services_spif
    type: spif
    filter: {product: [Services], account: [Acme]}
    window: [2026-02-01, 2027-01-31]
    rate: 0.015
"""


def errors_of(text: str, name: str = "plans/ae.yaml") -> PlanError:
    with pytest.raises(PlanError) as info:
        load_plan(text, name=name)
    return info.value


def assert_names(err: PlanError, line: int, key: str, words: str) -> None:
    """The message names the file, the line, the key, and says what is wrong."""
    text = str(err)
    assert "plans/ae.yaml" in text
    assert f"line {line}" in text
    assert key in text
    assert words in text


# ----------------------------------------------------------------------------- good plans


def test_loads_the_spec_example_exactly() -> None:
    plan = load_plan(EVERY_FEATURE)
    assert plan.plan == "Everything" and plan.currency == "EUR"
    assert plan.year_start == date(2026, 2, 1) and plan.period == "quarter"
    assert plan.credit == "rollup"
    assert plan.phasing == (Decimal("0.2"), Decimal("0.25"), Decimal("0.25"), Decimal("0.3"))
    com = plan.component("commission")
    assert isinstance(com, Commission)
    assert com.filter == {"deal_type": ("new", "expansion"), "region": ("EMEA",)}
    assert [b.start for b in com.tiers.bands] == [0, Decimal("0.5"), 1, Decimal("1.5")]
    assert com.tiers.bands[2].rate == Decimal("0.12")  # exact decimal, not a float
    assert com.tiers.bands[3].bcr_multiple == Decimal("2.5")
    assert com.cap.amount == Decimal("150000.50")
    ren = plan.component("renewals")
    assert ren.filter == {"deal_type": ("renewal",)}  # a single value becomes a list
    assert ren.tiers.method == "retroactive" and ren.cap.ti_multiple == 3
    bonus = plan.component("bonus")
    assert isinstance(bonus, Bonus) and bonus.above_last == "extend"
    assert bonus.curve[2] == (Decimal("1.5"), Decimal("2.0"))
    spif = plan.component("q4_spif")
    assert isinstance(spif, Spif) and spif.clawback is True
    assert spif.window == (date(2026, 10, 1), date(2026, 12, 31))
    assert plan.component("services_spif").rate == Decimal("0.015")


def test_defaults() -> None:
    plan = load_plan(BASE)
    com = plan.component("commission")
    assert plan.credit == "direct" and plan.phasing is None
    assert com.attainment == "ytd" and com.tiers.method == "marginal"
    assert com.weight == 1 and com.cap is None and com.filter is None


def test_loads_from_a_path_and_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ae.yaml"
    path.write_text(BASE, encoding="utf-8")
    assert load_plan(path).plan == "AE 2026"
    assert load_plan(str(path)).plan == "AE 2026"
    path.write_text(BASE + "colour: red\n", encoding="utf-8")
    with pytest.raises(PlanError, match=r"ae\.yaml, line 11, column 'colour': unknown key"):
        load_plan(path)


def test_missing_file() -> None:
    with pytest.raises(PlanError, match="no-such-plan.yaml: no such plan file"):
        load_plan("no-such-plan.yaml")


def test_to_yaml_round_trips_every_feature() -> None:
    plan = load_plan(EVERY_FEATURE)
    text = plan.to_yaml()
    again = load_plan(text)
    assert again == plan
    assert again.to_yaml() == text  # stable


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_to_yaml_round_trips_shipped_scenarios(path: Path) -> None:
    plan = load_plan(path)
    assert load_plan(plan.to_yaml()) == plan


# ----------------------------------------------------------------------------- bad plans


def test_python_object_tag_is_not_executed_and_the_plan_is_rejected(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    text = BASE.replace("plan: AE 2026", f"plan: !!python/object/apply:os.mkdir ['{marker}']")
    err = errors_of(text)
    assert_names(err, 1, "'plan'", "python/object")
    assert not marker.exists()


def test_python_object_tag_on_a_mapping_is_rejected() -> None:
    text = BASE.replace("    tiers:\n", "    tiers: !!python/object:collections.OrderedDict\n")
    err = errors_of(text)
    assert_names(err, 8, "tiers", "python/object")


def test_python_name_tag_is_a_plan_error() -> None:
    text = BASE.replace("plan: AE 2026", "plan: !!python/name:os.system ''")
    err = errors_of(text)
    assert_names(err, 1, "plan", "python/name")


def test_duplicate_key() -> None:
    err = errors_of(BASE + "period: month\n")
    assert_names(err, 11, "'period'", "duplicate key 'period'")


def test_duplicate_key_inside_a_component() -> None:
    text = BASE.replace("    type: commission\n", "    type: commission\n    id: again\n")
    err = errors_of(text)
    assert_names(err, 8, "components[0].id", "duplicate key 'id'")


def test_unknown_top_level_key() -> None:
    err = errors_of(BASE + "colour: red\n")
    assert_names(err, 11, "'colour'", "unknown key 'colour'")


def test_unknown_key_inside_a_component() -> None:
    text = BASE.replace("    type: commission\n", "    type: commission\n    speed: 3\n")
    err = errors_of(text)
    assert_names(err, 8, "components[0].speed", "unknown key 'speed'")


def test_unknown_key_inside_a_band() -> None:
    err = errors_of(BASE.replace("{from: 0, rate: 0.05}", "{from: 0, rate: 0.05, colour: 1}"))
    assert_names(err, 10, "components[0].tiers.bands[0].colour", "unknown key 'colour'")


def test_unknown_component_type() -> None:
    err = errors_of(BASE.replace("type: commission", "type: lottery"))
    assert_names(err, 7, "components[0].type", "unknown component type 'lottery'")
    assert "commission" in str(err) and "spif" in str(err)  # says what would work


def test_bands_out_of_order() -> None:
    text = BASE.replace(
        "        - {from: 0, rate: 0.05}\n",
        "        - {from: 0, rate: 0.05}\n        - {from: 1.5, rate: 0.1}\n"
        "        - {from: 1.0, rate: 0.2}\n",
    )
    err = errors_of(text)
    assert_names(err, 9, "components[0].tiers.bands", "bands out of order")


def test_first_band_must_start_at_zero() -> None:
    err = errors_of(BASE.replace("{from: 0, rate", "{from: 0.5, rate"))
    assert_names(err, 9, "components[0].tiers.bands", "from: 0")


def test_band_needs_exactly_one_rate() -> None:
    err = errors_of(BASE.replace("rate: 0.05}", "rate: 0.05, bcr_multiple: 2}"))
    assert_names(err, 10, "components[0].tiers.bands[0]", "exactly one of 'rate' or")


def test_curve_points_out_of_order() -> None:
    text = BASE.replace(
        "components:\n",
        "components:\n  - id: bonus\n    type: bonus\n    curve: [[1.0, 1.0], [0.5, 0.0]]\n",
    )
    err = errors_of(text)
    assert_names(err, 8, "components[0].curve", "curve points out of order")


def test_missing_period() -> None:
    err = errors_of(BASE.replace("period: quarter\n", ""))
    assert_names(err, 1, "'period'", "missing required key 'period'")


def test_unsupported_period() -> None:
    err = errors_of(BASE.replace("period: quarter", "period: week"))
    assert_names(err, 4, "'period'", "unsupported value 'week'")


def test_year_start_not_first_of_month() -> None:
    err = errors_of(BASE.replace("2026-01-01", "2026-01-15"))
    assert_names(err, 3, "'year_start'", "first day of a month")


def test_malformed_yaml() -> None:
    err = errors_of(BASE + "  - id: [unclosed\n")
    assert "plans/ae.yaml" in str(err) and "line 12" in str(err)
    assert "not valid YAML" in str(err)


def test_empty_and_non_mapping_files() -> None:
    assert "empty" in str(errors_of("# only a comment\n"))
    assert "mapping" in str(errors_of("- a\n- b\n"))


def test_phasing_must_match_periods_and_sum_to_one() -> None:
    err = errors_of(BASE + "phasing: [0.5, 0.5]\n")
    assert "phasing needs 4 shares" in str(err)
    err = errors_of(BASE + "phasing: [0.2, 0.2, 0.2, 0.2]\n")
    assert "sum to 1" in str(err)


def test_duplicate_component_ids() -> None:
    text = BASE + "  - id: commission\n    type: spif\n    window: [2026-01-01, 2026-02-01]\n" \
        "    per_deal: 5\n"
    assert "component ids must be unique: commission" in str(errors_of(text))


def test_spif_needs_one_payout_and_an_ordered_window() -> None:
    spif = "  - id: s\n    type: spif\n    window: [2026-03-01, 2026-02-01]\n    per_deal: 5\n"
    assert "window ends before it starts" in str(errors_of(BASE + spif))
    spif = "  - id: s\n    type: spif\n    window: [2026-01-01, 2026-02-01]\n"
    assert "exactly one of 'per_deal' or 'rate'" in str(errors_of(BASE + spif))


def test_filter_on_an_unknown_column() -> None:
    text = BASE.replace("    type: commission\n",
                        "    type: commission\n    filter: {colour: [r]}\n")
    err = errors_of(text)
    assert_names(err, 8, "components[0].filter", "not a deal column")


def test_all_problems_reported_at_once() -> None:
    text = BASE.replace("period: quarter", "period: week") + "colour: red\n"
    err = errors_of(text)
    assert len(err.problems) == 2
    assert "2 problems" in str(err)
