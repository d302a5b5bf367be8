"""Territories (spmkit.planning.territory): the weighted index, loading accounts, the MILP
design (hand-worked and property cases), quotas from potential, overlay quotas, the sample
accounts and the territory-design notebook."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spmkit.planning.territory as territory_module
from spmkit.errors import InputError
from spmkit.planning import (
    design_territories,
    generate_accounts,
    load_accounts,
    overlay_quotas,
    region_hierarchy,
    territory_index,
    territory_quotas,
    territory_reps,
)
from spmkit.tables import load_roster

ROOT = Path(__file__).resolve().parent.parent


def _accounts(rows: list[tuple], fields: tuple[str, ...] = ()) -> pd.DataFrame:
    """(account, region, owner, potential, *fields) -> loaded accounts."""
    cols = ["account", "region", "owner", "potential", *fields]
    return load_accounts(pd.DataFrame([[str(v) for v in r] for r in rows], columns=cols),
                         fields=fields)


def test_module_doctests():
    assert doctest.testmod(territory_module).failed == 0


# --- the index ------------------------------------------------------------------------------

def test_espatial_weighted_index_and_percent_of_average():
    """eSpatial, "Balancing Territories" (weighted balance): leads valued 50, opportunities
    200, existing accounts 500; a territory with 100 leads, 20 opportunities and 10 accounts
    has index 100 x 50 + 20 x 200 + 10 x 500 = 14,000.  Balance is shown as a percentage of
    the average (a territory at the average shows 100%)."""
    weights = {"leads": 50, "opportunities": 200, "accounts": 500}
    t = pd.DataFrame({"leads": [100], "opportunities": [20], "accounts": [10]})
    assert territory_index(t, weights).tolist() == [14_000.0]
    # the same territory as ten account rows: ``accounts`` counts one per account
    rows = [(f"A{i}", "", "R1", "1", 10, 2) for i in range(10)]
    acc = _accounts(rows, ("leads", "opportunities"))
    assert territory_index(acc, weights).sum() == 14_000.0
    two = pd.DataFrame({"leads": [100, 50], "opportunities": [20, 10], "accounts": [10, 5]})
    index = territory_index(two, weights)
    assert (index / index.mean()).round(4).tolist() == [1.3333, 0.6667]


def test_index_needs_its_fields_and_sane_weights():
    acc = _accounts([("A", "", "R1", "5")])
    assert territory_index(acc).tolist() == [5.0]  # default: potential in currency units
    with pytest.raises(InputError, match="no column for index field"):
        territory_index(acc, {"leads": 1})
    with pytest.raises(InputError, match="non-negative"):
        territory_index(acc, {"potential": -1})
    with pytest.raises(InputError, match="all zero"):
        territory_index(acc, {"potential": 0})


# --- loading --------------------------------------------------------------------------------

def test_load_accounts_names_every_problem(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("account,region,owner,potential,leads\n"
                    "A1,East,R1,\"1,000.50\",3\n"
                    "A1,East,R1,200,x\n"
                    "A3,East,R2,-5,2\n"
                    ",East,R2,10,\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_accounts(path, fields=["leads"])
    text = str(err.value)
    assert "accounts.csv, line 3, column 'leads': not a number: 'x'" in text
    assert "accounts.csv, line 4, column 'potential': must not be negative: '-5'" in text
    assert "accounts.csv, line 5, column 'account': value is missing (required)" in text
    assert "accounts.csv, line 3, column 'account': duplicate account" in text
    assert "also on line 2" in text
    path.write_text("account,owner\nA1,R1\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing required column 'potential'"):
        load_accounts(path)


def test_load_accounts_types_and_blanks():
    acc = load_accounts(pd.DataFrame({"account": [" A1 ", "A2"], "potential": ["1,000.50", "7"],
                                      "owner": ["R1", ""], "leads": ["3", ""]}),
                        fields=["leads", "accounts"])
    assert acc["account"].tolist() == ["A1", "A2"]
    assert acc["potential_cents"].tolist() == [100_050, 700]
    assert acc["owner"].isna().tolist() == [False, True]
    assert acc["leads"].tolist() == [3.0, 0.0]
    assert acc["accounts"].tolist() == [1.0, 1.0]
    assert acc["region"].isna().all()


# --- the design -----------------------------------------------------------------------------

def _lopsided() -> pd.DataFrame:
    """A owns 5, 5, 5, 5, 5, 3 (28); B owns 2, 2 (4): total 32, target 16 each."""
    rows = [(f"a{i}", "", "A", "5") for i in range(5)] + [("a5", "", "A", "3"),
                                                         ("b0", "", "B", "2"), ("b1", "", "B", "2")]
    return _accounts(rows)


def test_least_disruption_into_the_band_hand_worked():
    """The band is 16 +/- 10% = 14.4 .. 17.6, so A must give away between 10.4 and 13.6: of
    its accounts only 5 + 5 + 3 = 13 does.  13 of 32 is 40.625% of the potential moved."""
    plan = design_territories(_lopsided(), max_moved=0.5)
    t = plan.territories.set_index("rep_id")
    assert t.loc["A", "index"] == 15 and t.loc["B", "index"] == 17
    assert t.loc["A", "before_index"] == 28 and t.loc["B", "before_index"] == 4
    moved = plan.assignment[plan.assignment["moved"]]
    assert sorted(moved["index"].tolist()) == [3, 5, 5]
    assert plan.disruption["moved_potential_cents"] == 1300
    assert plan.disruption["moved_share"] == pytest.approx(13 / 32)
    assert plan.figures["within_tolerance"] and plan.figures["status"] == "optimal"
    assert t["pct_of_average"].round(4).tolist() == [0.9375, 1.0625]
    assert t.loc["A", "accounts_out"] == 3 and t.loc["B", "accounts_in"] == 3


def test_a_tight_budget_gives_the_best_balance_it_allows():
    """With at most 30% (9.6) of the potential movable, the best is to move 5 + 3 = 8:
    A 20, B 12, 25% off target; the plan says it is outside the band."""
    plan = design_territories(_lopsided(), max_moved=0.3)
    assert plan.disruption["moved_share"] == pytest.approx(8 / 32)
    assert plan.figures["max_deviation"] == pytest.approx(0.25)
    assert not plan.figures["within_tolerance"]
    assert any("not every territory is within 10%" in n for n in plan.notes)
    assert plan.figures["max_deviation_before"] == pytest.approx(0.75)


def test_departed_and_unowned_accounts_are_placed_outside_the_budget():
    rows = [("a0", "", "A", "10"), ("a1", "", "A", "10"), ("b0", "", "B", "10"),
            ("g0", "", "GONE", "6"), ("g1", "", "GONE", "4"), ("u0", "", "", "10")]
    plan = design_territories(_accounts(rows), ["A", "B"], max_moved=0)
    a = plan.assignment.set_index("account")
    assert not a["moved"].any()
    assert a.loc[["g0", "g1", "u0"], "reassigned"].all()
    assert a.loc[["a0", "a1"], "rep_id"].tolist() == ["A", "A"]
    t = plan.territories
    assert t["index"].sum() == 50 and t["index"].between(22.5, 27.5).all()
    assert plan.disruption["reassigned_potential_cents"] == 2000
    assert any("GONE" in n for n in plan.notes)


def test_region_boundaries_and_region_targets():
    rows = ([(f"e{i}", "East", "E1", "10") for i in range(6)]
            + [(f"w{i}", "West", "W1", "10") for i in range(2)]
            + [("x", "West", "E1", "10")])  # owned across the boundary
    reps = pd.DataFrame({"rep_id": ["E1", "E2", "W1"], "region": ["East", "East", "West"]})
    plan = design_territories(_accounts(rows), reps, keep_regions=True, max_moved=1)
    a = plan.assignment.set_index("account")
    assert (a.loc[[f"e{i}" for i in range(6)], "rep_id"].isin(["E1", "E2"])).all()
    assert a.loc["x", "rep_id"] == "W1" and a.loc["x", "reassigned"]
    t = plan.territories.set_index("rep_id")
    assert t["index"].to_dict() == {"E1": 30.0, "E2": 30.0, "W1": 30.0}
    assert t["target_index"].to_dict() == {"E1": 30.0, "E2": 30.0, "W1": 30.0}
    free = design_territories(_accounts(rows), reps, max_moved=1)
    assert free.figures["within_tolerance"]
    with pytest.raises(InputError, match="account 'z' is in region 'North', which has no rep"):
        design_territories(_accounts([*rows, ("z", "North", "", "1")]), reps, keep_regions=True)
    with pytest.raises(InputError, match="rep 'E1' has no region"):
        design_territories(_accounts(rows), ["E1", "W1"], keep_regions=True)


def test_weights_give_a_ramping_rep_a_smaller_territory():
    rows = [(f"a{i}", "", "A" if i < 9 else "B", "10") for i in range(12)]
    reps = pd.DataFrame({"rep_id": ["A", "B"], "weight": [1.0, 0.5]})
    plan = design_territories(_accounts(rows), reps, max_moved=1, tolerance=0)
    assert plan.territories.set_index("rep_id")["index"].to_dict() == {"A": 80.0, "B": 40.0}


def test_bad_design_settings():
    acc = _lopsided()
    for kwargs, message in (({"tolerance": 2}, "tolerance"), ({"max_moved": -0.1}, "max_moved"),
                            ({"candidates": "some"}, "candidates"),
                            ({"reps": ["A", "A"]}, "listed twice"), ({"reps": []}, "no reps")):
        with pytest.raises(InputError, match=message):
            design_territories(acc, **kwargs)


@st.composite
def _instances(draw):
    n_reps = draw(st.integers(2, 5))
    reps = [f"R{i}" for i in range(n_reps)]
    regions = ["East", "West"]
    rep_region = [regions[i % 2] for i in range(n_reps)]
    n = draw(st.integers(4, 30))
    rows = []
    for i in range(n):
        owner = draw(st.sampled_from([*reps, "", "OLD"]))
        rows.append((f"A{i}", draw(st.sampled_from(regions)), owner,
                     str(draw(st.integers(1, 1000)))))
    return rows, pd.DataFrame({"rep_id": reps, "region": rep_region})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_instances(), max_moved=st.sampled_from([0.0, 0.1, 0.3, 1.0]),
       keep_regions=st.booleans(), tolerance=st.sampled_from([0.0, 0.1, 0.25]))
def test_design_properties(data, max_moved, keep_regions, tolerance):
    rows, reps = data
    acc = _accounts(rows)
    plan = design_territories(acc, reps, max_moved=max_moved, keep_regions=keep_regions,
                              tolerance=tolerance, time_limit=5)
    a = plan.assignment
    assert a["account"].tolist() == acc["account"].tolist()  # every account, once, in order
    assert a["rep_id"].isin(reps["rep_id"]).all()
    assert plan.disruption["moved_share"] <= max_moved + 1e-9
    assert (a["moved"] == (a["owner"].isin(reps["rep_id"]) & (a["owner"] != a["rep_id"])
                           & ~a["reassigned"])).all()
    if keep_regions:
        region_of = reps.set_index("rep_id")["region"]
        assert (a["region"].to_numpy() == region_of.reindex(a["rep_id"]).to_numpy()).all()
    t = plan.territories
    assert t["index"].sum() == pytest.approx(acc["potential_cents"].sum() / 100)
    assert t["potential_cents"].sum() == acc["potential_cents"].sum()
    again = design_territories(acc, reps, max_moved=max_moved, keep_regions=keep_regions,
                               tolerance=tolerance, time_limit=5)
    pd.testing.assert_frame_equal(plan.assignment, again.assignment)
    json.dumps(plan.metrics())


@settings(max_examples=15, deadline=None)
@given(n_reps=st.integers(2, 5), owners=st.lists(st.integers(0, 4), min_size=30, max_size=30))
def test_equal_accounts_always_fit_the_band(n_reps, owners):
    """Thirty equal accounts over 2-5 reps can always be dealt within 10% of the average."""
    rows = [(f"A{i}", "", f"R{o % n_reps}", "1") for i, o in enumerate(owners)]
    plan = design_territories(_accounts(rows), [f"R{i}" for i in range(n_reps)], max_moved=1)
    assert plan.figures["within_tolerance"]


def test_a_rep_with_a_zero_target_index_is_on_target_without_warnings():
    """Regions kept, and the East region's only account has zero potential: East's rep has
    a target index of 0 and an index of 0, which is on target (100%), not 0/0; West is
    balanced as usual."""
    import warnings

    rows = [("A1", "East", "R0", "0"), ("A2", "West", "R1", "5"), ("A3", "West", "R2", "5")]
    reps = pd.DataFrame({"rep_id": ["R0", "R1", "R2"], "region": ["East", "West", "West"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        plan = design_territories(_accounts(rows), reps, keep_regions=True, max_moved=1)
    t = plan.territories.set_index("rep_id")
    assert t["pct_of_target"].tolist() == [1.0, 1.0, 1.0]
    assert plan.figures["max_deviation"] == 0.0 and plan.figures["within_tolerance"]


# --- quotas and overlays --------------------------------------------------------------------

def test_quotas_follow_territory_potential_exactly():
    plan = design_territories(_lopsided(), max_moved=0.5)
    q = territory_quotas(plan, 1_000_000_01)
    assert q["annual_cents"].sum() == 1_000_000_01
    assert q.set_index("rep_id")["annual_cents"].to_dict() == {"A": 46_875_000,
                                                               "B": 53_125_001}
    assert q["reason"].str.contains("by territory potential").all()
    with pytest.raises(InputError, match="potential sums to zero"):
        territory_quotas(pd.DataFrame({"rep_id": ["a"], "potential_cents": [0]}), 100)


@settings(max_examples=40, deadline=None)
@given(potential=st.lists(st.integers(0, 10**9), min_size=1, max_size=12).filter(any),
       target=st.integers(0, 10**12))
def test_quota_split_sums_to_the_target(potential, target):
    t = pd.DataFrame({"rep_id": [f"R{i:02d}" for i in range(len(potential))],
                      "potential_cents": potential})
    q = territory_quotas(t, target)
    assert q["annual_cents"].sum() == target
    exact = np.array(potential, dtype=float) * target / sum(potential)
    assert np.all(np.abs(q["annual_cents"].to_numpy() - exact) < 1 + 1e-6 * exact)


def test_overlay_quotas_callidus_rule():
    """SAP Commissions / Callidus Territory and Quota, overlay territories: an overlay
    linked to several territories gets the sum of their quotas; if a territory and its
    parent (or any ancestor) are both linked, only the parent's quota counts."""
    q = pd.DataFrame({"territory": ["east-1", "east-2", "west-1"],
                      "quota_cents": [100_00, 200_00, 400_00]})
    h = pd.DataFrame({"territory": ["east-1", "east-2", "west-1", "east", "west"],
                      "parent": ["east", "east", "west", "world", "world"]})
    links = pd.DataFrame({"overlay": ["spec", "spec", "spec", "spec", "vp", "vp", "solo"],
                          "territory": ["east", "east-1", "west-1", "west-1", "world", "east-2",
                                        "east-2"]})
    out = overlay_quotas(q, links, h).set_index("overlay")
    assert out["quota_cents"].to_dict() == {"solo": 200_00, "spec": 700_00, "vp": 700_00}
    assert out.loc["spec", "counted"] == "east;west-1"
    assert out.loc["spec", "linked"] == 3  # the repeated link counts once
    assert "1 linked territory under a linked parent, counted once" in out.loc["vp", "reason"]


def test_overlay_inputs_are_checked(tmp_path):
    q = pd.DataFrame({"territory": ["a", "b"], "quota_cents": [1, 2]})
    path = tmp_path / "links.csv"
    path.write_text("overlay,territory\nO1,a\nO1,nowhere\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"links.csv, line 3, column 'territory': overlay 'O1' "
                                         "is linked to unknown territory 'nowhere'"):
        overlay_quotas(q, path)
    cycle = pd.DataFrame({"territory": ["a", "b"], "parent": ["b", "a"]})
    with pytest.raises(InputError, match="cycle"):
        overlay_quotas(q, pd.DataFrame({"overlay": ["O"], "territory": ["a"]}), cycle)
    two = pd.DataFrame({"territory": ["a", "a"], "parent": ["b", "c"]})
    with pytest.raises(InputError, match="'a' has more than one parent"):
        overlay_quotas(q, pd.DataFrame({"overlay": ["O"], "territory": ["a"]}), two)
    with pytest.raises(InputError, match="missing column"):
        overlay_quotas(q, pd.DataFrame({"overlay": ["O"]}))


def test_overlays_over_designed_territories_by_region():
    rows = ([(f"e{i}", "East", "E1", "10") for i in range(4)]
            + [(f"w{i}", "West", "W1", "10") for i in range(4)])
    reps = pd.DataFrame({"rep_id": ["E1", "E2", "W1"], "region": ["East", "East", "West"]})
    plan = design_territories(_accounts(rows), reps, keep_regions=True, max_moved=1)
    quotas = territory_quotas(plan, 900_00)
    links = pd.DataFrame({"overlay": ["SE", "SE"], "territory": ["East", "E2"]})
    out = overlay_quotas(quotas, links, region_hierarchy(plan))
    east = quotas[quotas["rep_id"].isin(["E1", "E2"])]["annual_cents"].sum()
    assert out["quota_cents"].tolist() == [east]


# --- sample accounts ------------------------------------------------------------------------

def test_sample_accounts_match_the_sample_org():
    from spmkit.sample import generate

    tables = generate(reps=12, years=1, seed=4, last_year=2025)
    a = generate_accounts(tables["roster"], seed=4)
    b = generate_accounts(tables["roster"], seed=4)
    pd.testing.assert_frame_equal(a, b)
    sellers = tables["roster"][~tables["roster"]["rep_id"].isin(tables["roster"]["manager_id"])]
    assert len(a) == 60 * len(sellers)
    # the sample deals' accounts are accounts of this table, owned by the deal's rep
    deals = tables["deals"][["rep_id", "account"]].drop_duplicates()
    owner_of = a.set_index("account")["owner"]
    owned = owner_of.reindex(deals["account"]).to_numpy()
    assert (pd.isna(owned) | (owned == deals["rep_id"].to_numpy()) | (owned == "")).all()
    assert (owned == deals["rep_id"].to_numpy()).mean() > 0.9
    region = sellers.set_index("rep_id")["region"]
    mine = a[a["owner"] != ""]
    assert (mine["region"].to_numpy() == region.reindex(mine["owner"]).to_numpy()).all()
    loaded = load_accounts(a, fields=["leads", "open_opportunities"])
    assert (loaded["potential_cents"] > 0).all()


def test_territory_reps_from_a_roster():
    roster = load_roster(pd.DataFrame({
        "rep_id": ["M", "A", "B", "C"], "manager_id": ["", "M", "M", "M"],
        "region": ["", "East", "West", "East"],
        "term_date": ["", "", "2026-03-01", ""]}))
    assert territory_reps(roster)["rep_id"].tolist() == ["A", "C"]
    assert territory_reps(roster, as_of="2026-02-01")["rep_id"].tolist() == ["A", "B", "C"]


# --- the notebook ---------------------------------------------------------------------------

@pytest.mark.notebook
def test_territory_notebook_runs_and_reports_the_library_numbers(tmp_path, sample_data):
    """notebooks/territory_design.ipynb, executed with Papermill on accounts for the shared
    sample org: its metrics sidecar holds the library's numbers."""
    import nbformat
    import papermill

    from spmkit.planning import write_accounts

    path = ROOT / "notebooks" / "territory_design.ipynb"
    committed = nbformat.read(path, as_version=4)
    code = [c for c in committed.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    declared = papermill.inspect_notebook(str(path))
    assert all(p["help"] for p in declared.values())
    roster = load_roster(sample_data / "roster.csv")
    accounts_path = write_accounts(generate_accounts(roster, per_rep=10, seed=2),
                                   tmp_path / "accounts.csv")
    metrics = tmp_path / "metrics.json"
    index = {"leads": 50, "open_opportunities": 200, "accounts": 500}
    params = {"accounts_path": str(accounts_path), "roster_path": str(sample_data / "roster.csv"),
              "index": index, "tolerance": 0.1, "max_moved": 0.15, "keep_regions": False,
              "target": "20000000", "metrics_path": str(metrics), "audience": "executive"}
    papermill.execute_notebook(str(path), str(tmp_path / "out.ipynb"), parameters=params,
                               kernel_name="python3", cwd=str(tmp_path), progress_bar=False)
    written = json.loads(metrics.read_text(encoding="utf-8"))
    plan = design_territories(load_accounts(accounts_path, fields=list(index)),
                              territory_reps(roster), index=index)
    assert written["territories"] == json.loads(json.dumps(plan.metrics()))
    assert written["territories"]["within_tolerance"]
