"""Spec rule 1 (credit): owner and split credit, fx, clawbacks and roll-ups, by hand."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from engine_helpers import annual_quotas, credits, deal, flat, inputs, make_plan, paid, run
from hypothesis import given, settings
from hypothesis import strategies as st

from spmkit.crediting import CREDIT_COLUMNS, ancestors, credit_deals, credit_lines
from spmkit.errors import InputError
from spmkit.tables import load_deals, load_roster, load_splits

PLAN = make_plan(flat("0.1"))


def test_owner_credit() -> None:
    """A deal without splits credits its owner, on its close date, the whole amount."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 1000)])
    assert credits(r) == [("D1", "A", "2026-02-10", 100000, "owner")]


def test_split_credits_sum_to_the_deal() -> None:
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 100.01)],
            splits=[{"deal_id": "D1", "rep_id": "A", "share": 0.5},
                    {"deal_id": "D1", "rep_id": "B", "share": 0.5}])
    lines = credits(r)
    assert sum(line[3] for line in lines) == 10001
    assert sorted(line[3] for line in lines) == [5000, 5001]
    assert {line[4] for line in lines} == {"split"}


def test_split_tie_gives_the_residue_to_the_smallest_rep_id() -> None:
    """100.01 split 50/50 rounds each share to 50.01 (half away from zero); the -0.01
    residue goes to the largest share, ties the smallest rep_id (A): A 50.00, B 50.01."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 100.01)],
            splits=[{"deal_id": "D1", "rep_id": "A", "share": 0.5},
                    {"deal_id": "D1", "rep_id": "B", "share": 0.5}])
    assert {line[1]: line[3] for line in credits(r)} == {"A": 5000, "B": 5001}


def test_split_tie_does_not_follow_splits_row_order() -> None:
    """The same split listed B first: still A 50.00, B 50.01 (it used to follow row order)."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 100.01)],
            splits=[{"deal_id": "D1", "rep_id": "B", "share": 0.5},
                    {"deal_id": "D1", "rep_id": "A", "share": 0.5}])
    assert {line[1]: line[3] for line in credits(r)} == {"A": 5000, "B": 5001}


def test_split_tie_among_three_goes_to_the_smallest_rep_id_in_any_order() -> None:
    """0.01 split 40/20/40 gives 0.4, 0.2, 0.4 cents -> 0, 0, 0; the +1 residue goes to a
    40% share, the one with the smaller rep_id (K, not Z), whatever the row order."""
    rows = [{"deal_id": "D1", "rep_id": "Z", "share": 0.4},
            {"deal_id": "D1", "rep_id": "M", "share": 0.2},
            {"deal_id": "D1", "rep_id": "K", "share": 0.4}]
    for order in ([0, 1, 2], [2, 1, 0], [1, 0, 2], [1, 2, 0]):
        r = run(PLAN, [deal("D1", "A", "2026-02-10", 0.01)], splits=[rows[i] for i in order])
        assert {line[1]: line[3] for line in credits(r)} == {"K": 1, "M": 0, "Z": 0}


def test_split_residue_goes_to_the_largest_share() -> None:
    """0.03 split 25/25/50: 0.75, 0.75, 1.5 cents round to 1, 1, 2 = 4 cents; the -1 residue
    goes to the 50% share, giving 1, 1, 1."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 0.03)],
            splits=[{"deal_id": "D1", "rep_id": "A", "share": 0.25},
                    {"deal_id": "D1", "rep_id": "B", "share": 0.25},
                    {"deal_id": "D1", "rep_id": "C", "share": 0.5}])
    assert {line[1]: line[3] for line in credits(r)} == {"A": 1, "B": 1, "C": 1}


def test_split_60_40_and_unsplit_deals_together() -> None:
    """Only deals named in the splits table are split; the others credit their owner."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 100.01), deal("D2", "A", "2026-03-01", 5)],
            splits=[{"deal_id": "D1", "rep_id": "B", "share": 0.6},
                    {"deal_id": "D1", "rep_id": "C", "share": 0.4}])
    assert credits(r) == [
        ("D1", "B", "2026-02-10", 6001, "split"),  # 6000.6 -> 6001
        ("D1", "C", "2026-02-10", 4000, "split"),  # 4000.4 -> 4000
        ("D2", "A", "2026-03-01", 500, "owner"),
    ]


def test_fx_converts_and_rounds_once_before_the_split() -> None:
    """EUR 0.01 at 1.5 = 0.015 -> 0.02, then 50/50 -> 0.01 + 0.01.
    Splitting first would give EUR 0.005 -> 0.01 each -> 0.015 -> 0.02 each, 0.04 in all."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 0.01, currency="EUR")],
            splits=[{"deal_id": "D1", "rep_id": "A", "share": 0.5},
                    {"deal_id": "D1", "rep_id": "B", "share": 0.5}],
            fx=[{"currency": "EUR", "rate": "1.5"}])
    assert credits(r) == [("D1", "A", "2026-02-10", 1, "split+fx"),
                          ("D1", "B", "2026-02-10", 1, "split+fx")]


def test_fx_then_split_60_40() -> None:
    """EUR 100.01 at 1.1 = 110.011 -> 110.01; 60% = 66.006 -> 66.01, 40% = 44.004 -> 44.00."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 100.01, currency="EUR")],
            splits=[{"deal_id": "D1", "rep_id": "A", "share": 0.6},
                    {"deal_id": "D1", "rep_id": "B", "share": 0.4}],
            fx=[{"currency": "EUR", "rate": "1.1"}])
    assert credits(r) == [("D1", "A", "2026-02-10", 6601, "split+fx"),
                          ("D1", "B", "2026-02-10", 4400, "split+fx")]


def test_fx_rate_is_exact_and_plan_currency_is_not_converted() -> None:
    """EUR 1,000.00 at 1.08345 = 1,083.45; GBP 0.01 at 1.25 = 0.0125 -> 0.01; USD untouched."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 1000, currency="EUR"),
                   deal("D2", "A", "2026-02-10", 0.01, currency="GBP"),
                   deal("D3", "A", "2026-02-10", 7, currency="USD")],
            fx=[{"currency": "EUR", "rate": "1.08345"}, {"currency": "GBP", "rate": "1.25"}])
    assert credits(r) == [("D1", "A", "2026-02-10", 108345, "owner+fx"),
                          ("D2", "A", "2026-02-10", 1, "owner+fx"),
                          ("D3", "A", "2026-02-10", 700, "owner")]


def test_fx_half_cent_rounds_away_from_zero() -> None:
    """EUR 0.01 at 1.5 = 0.015 -> 0.02; a credit memo of EUR -0.01 -> -0.02."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 0.01, currency="EUR"),
                   deal("D2", "A", "2026-02-11", -0.01, currency="EUR")],
            fx=[{"currency": "EUR", "rate": "1.5"}])
    assert [line[3] for line in credits(r)] == [2, -2]


def test_amounts_given_as_text_credit_exactly() -> None:
    """Text amounts (as from CSV) are parsed exactly, half away from zero."""
    r = run(PLAN, [deal("D1", "A", "2026-02-10", "1234.565"), deal("D2", "A", "2026-02-10",
                                                                    "-0.005")])
    assert [line[3] for line in credits(r)] == [123457, -1]


def test_missing_fx_rate_is_an_error() -> None:
    with pytest.raises(InputError, match="EUR"):
        run(PLAN, [deal("D1", "A", "2026-02-10", 10, currency="EUR")],
            fx=[{"currency": "GBP", "rate": "1.25"}])


def test_clawback_line_dated_cancel_date() -> None:
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 1000, cancel_date="2026-05-03")])
    assert credits(r) == [("D1", "A", "2026-02-10", 100000, "owner"),
                          ("D1", "A", "2026-05-03", -100000, "owner+clawback")]
    assert paid(r, "A", "commission") == [10000, -10000, 0, 0]


def test_clawback_of_a_split_fx_deal_reverses_each_rep_line() -> None:
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 100.01, currency="EUR",
                        cancel_date="2026-03-01")],
            splits=[{"deal_id": "D1", "rep_id": "A", "share": 0.6},
                    {"deal_id": "D1", "rep_id": "B", "share": 0.4}],
            fx=[{"currency": "EUR", "rate": "1.1"}])
    assert credits(r, "A") == [("D1", "A", "2026-02-10", 6601, "split+fx"),
                               ("D1", "A", "2026-03-01", -6601, "split+fx+clawback")]
    assert credits(r, "B") == [("D1", "B", "2026-02-10", 4400, "split+fx"),
                               ("D1", "B", "2026-03-01", -4400, "split+fx+clawback")]


ROSTER = [
    {"rep_id": "VP", "name": "Vera"},
    {"rep_id": "M", "name": "Mia", "manager_id": "VP"},
    {"rep_id": "A", "name": "Ann", "manager_id": "M"},
    {"rep_id": "B", "name": "Bo", "manager_id": "M"},
]


def test_rollup_credits_every_manager_up_the_tree() -> None:
    plan = make_plan(flat("0.1"), credit="rollup")
    r = run(plan, [deal("D1", "A", "2026-02-10", 100), deal("D2", "B", "2026-04-10", 50),
                   deal("D3", "M", "2026-07-10", 10)], roster=ROSTER)
    assert credits(r, "M") == [("D1", "M", "2026-02-10", 10000, "owner+rollup"),
                               ("D2", "M", "2026-04-10", 5000, "owner+rollup"),
                               ("D3", "M", "2026-07-10", 1000, "owner")]
    assert [line[3] for line in credits(r, "VP")] == [10000, 5000, 1000]
    assert {line[4] for line in credits(r, "VP")} == {"owner+rollup"}
    assert credits(r, "A") == [("D1", "A", "2026-02-10", 10000, "owner")]
    assert paid(r, "M", "commission") == [1000, 500, 100, 0]
    assert paid(r, "VP", "commission") == [1000, 500, 100, 0]


def test_rollup_of_a_split_clawed_back_deal() -> None:
    plan = make_plan(flat("0.1"), credit="rollup")
    r = run(plan, [deal("D1", "A", "2026-02-10", 100.01, cancel_date="2026-08-01")],
            splits=[{"deal_id": "D1", "rep_id": "A", "share": 0.5},
                    {"deal_id": "D1", "rep_id": "B", "share": 0.5}], roster=ROSTER)
    m = credits(r, "M")
    # roll-up without duplicates (second edition): once per deal and once per reversal
    assert sorted(line[3] for line in m) == [-10001, 10001]
    assert {line[4] for line in m} == {"split+rollup", "split+clawback+rollup"}


def test_direct_credit_does_not_roll_up() -> None:
    r = run(PLAN, [deal("D1", "A", "2026-02-10", 100)], roster=ROSTER)
    assert {line[1] for line in credits(r)} == {"A"}


def test_rollup_only_to_managers_on_this_plan() -> None:
    """With a roster ``plan`` column, roll-up lines go only to managers this plan pays."""
    plan = make_plan(flat("0.1"), credit="rollup", plan="Managers")
    roster = [dict(row, plan="Managers" if row["rep_id"] == "M" else "Other") for row in ROSTER]
    r = run(plan, [deal("D1", "A", "2026-02-10", 100)], roster=roster)
    assert {line[1] for line in credits(r)} == {"A", "M"}
    assert set(r.payouts["rep_id"]) == {"M"}
    assert paid(r, "M", "commission") == [1000, 0, 0, 0]


def test_ancestors_and_cycles() -> None:
    data = inputs([deal("D1", "A", "2026-02-10", 1)], roster=ROSTER)
    pairs = ancestors(data.roster)
    got = sorted(zip(pairs["rep_id"], pairs["ancestor_id"], strict=True))
    assert got == [("A", "M"), ("A", "VP"), ("B", "M"), ("B", "VP"), ("M", "VP")]
    cyc = data.roster.assign(manager_id=pd.Series(["B", "VP", "M", "M"], dtype="str"))
    with pytest.raises(InputError, match="cycle"):
        ancestors(cyc)


def test_credit_lines_carry_deal_attributes() -> None:
    data = inputs([deal("D1", "A", "2026-02-10", 1, product="Widget", deal_type="new",
                        region="EMEA", account="Acme")], quotas=annual_quotas({"A": 10}))
    lines = credit_lines(PLAN, data.deals)
    row = lines.iloc[0]
    assert (row["product"], row["deal_type"], row["region"], row["account"]) == (
        "Widget", "new", "EMEA", "Acme")
    assert bool(row["clawback"]) is False and int(row["share_ppb"]) == 1_000_000_000


@pytest.mark.parametrize("rollup", [False, True])
def test_rule8_spif_pays_the_sellers_and_rollup_lines_only_when_it_says_so(rollup) -> None:
    """Rule 8 (second edition): a manager's roll-up lines earn a SPIF only with
    ``rollup: true``; without it "$300 per deal" costs 300 per deal, not 900."""
    spif = {"id": "spif", "type": "spif", "window": ["2026-01-01", "2026-12-31"],
            "per_deal": 300, "rollup": rollup}
    plan = make_plan(flat("0.1"), spif, credit="rollup")
    r = run(plan, [deal("D1", "A", "2026-02-10", 100)], roster=ROSTER)
    assert paid(r, "A", "spif") == [30000, 0, 0, 0]
    assert paid(r, "M", "spif") == ([30000, 0, 0, 0] if rollup else [0, 0, 0, 0])
    assert paid(r, "VP", "spif") == ([30000, 0, 0, 0] if rollup else [0, 0, 0, 0])
    assert paid(r, "M", "commission") == [1000, 0, 0, 0]  # roll-up credit still counts


# ----------------------------------------------------------------------------- row order


def _sorted_lines(lines: pd.DataFrame) -> list[tuple]:
    keys = ["deal_id", "rep_id", "credit_date", "rule", "amount_cents"]
    return sorted(lines[keys].astype(str).itertuples(index=False, name=None))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.integers(-10**9, 10**9),
                          st.lists(st.integers(1, 9), min_size=1, max_size=5),
                          st.booleans()),
                min_size=1, max_size=6),
       st.randoms(use_true_random=False))
def test_shuffled_split_and_deal_rows_give_identical_credits(deals, rnd) -> None:
    """Property: the credit lines (split residues included) do not depend on the order of
    the rows of the splits table or of the deals table."""
    deal_rows, split_rows = [], []
    for d, (cents, weights, cancelled) in enumerate(deals):
        deal_rows.append({"deal_id": f"D{d}", "rep_id": "R0", "close_date": "2026-02-10",
                          "amount": f"{cents / 100:.2f}",
                          "cancel_date": "2026-05-01" if cancelled else None})
        ppb = [w * 10**9 // sum(weights) for w in weights]
        ppb[-1] += 10**9 - sum(ppb)
        split_rows += [{"deal_id": f"D{d}", "rep_id": f"R{r}", "share": f"{s / 10**9:.9f}"}
                       for r, s in enumerate(ppb)]
    roster = load_roster(pd.DataFrame({"rep_id": [f"R{r}" for r in range(5)],
                                       "manager_id": [None, "R0", "R0", "R1", "R3"]}))

    loaded_deals = load_deals(pd.DataFrame(deal_rows))
    loaded_splits = load_splits(pd.DataFrame(split_rows))

    def lines(d: pd.DataFrame, s: pd.DataFrame) -> pd.DataFrame:
        return credit_deals(d, currency="USD", splits=s, roster=roster, rollup=True)

    def shuffled(frame: pd.DataFrame) -> pd.DataFrame:
        order = list(range(len(frame)))
        rnd.shuffle(order)
        return frame.iloc[order].reset_index(drop=True)

    first = lines(loaded_deals, loaded_splits)
    again = lines(shuffled(loaded_deals), shuffled(loaded_splits))
    assert _sorted_lines(again) == _sorted_lines(first)
    assert list(again.columns) == CREDIT_COLUMNS
    # and the split lines of each deal still add up to the deal
    split = first[first["rule"] == "split"].groupby("deal_id")["amount_cents"].sum()
    assert split.to_dict() == {f"D{d}": cents for d, (cents, _, _) in enumerate(deals)}


# ----------------------------------------------------------------------------- deep trees


def test_rollup_at_every_depth_of_a_chain() -> None:
    """A chain R0 <- R1 <- ... <- R5 with a deal at R5 and one at R2: R0..R4 get the R5
    line, R0..R1 the R2 line; with rollup_to only R1 and R4 receive them."""
    ids = [f"R{i}" for i in range(6)]
    roster = load_roster(pd.DataFrame({"rep_id": ids, "manager_id": [None, *ids[:-1]]}))
    d = load_deals(pd.DataFrame({"deal_id": ["A", "B"], "rep_id": ["R5", "R2"],
                                 "close_date": "2026-02-10", "amount": ["1", "2"]}))
    lines = credit_deals(d, currency="USD", roster=roster, rollup=True)
    got = sorted(zip(lines["deal_id"], lines["rep_id"], lines["rule"], strict=True))
    assert got == sorted([("A", "R5", "owner"), ("B", "R2", "owner")]
                         + [("A", f"R{i}", "owner+rollup") for i in range(5)]
                         + [("B", f"R{i}", "owner+rollup") for i in range(2)])
    some = credit_deals(d, currency="USD", roster=roster, rollup=True,
                        rollup_to=pd.Index(["R1", "R4"]))
    up = some[some["rule"] == "owner+rollup"]
    assert sorted(zip(up["deal_id"], up["rep_id"], strict=True)) == [
        ("A", "R1"), ("A", "R4"), ("B", "R1")]


def test_a_cycle_away_from_the_credited_reps_is_still_an_error() -> None:
    """X and Y manage each other; no deal touches them: the roster is still wrong."""
    roster = load_roster(pd.DataFrame({"rep_id": ["M", "A", "X", "Y"],
                                       "manager_id": [None, "M", "Y", "X"]}))
    d = load_deals(pd.DataFrame({"deal_id": ["D1"], "rep_id": ["A"],
                                 "close_date": ["2026-02-10"], "amount": ["1"]}))
    with pytest.raises(InputError, match="cycle through X"):
        credit_deals(d, currency="USD", roster=roster, rollup=True)


DEEP_CHILD = textwrap.dedent("""
    import sys
    import numpy as np, pandas as pd
    from spmkit.crediting import credit_deals
    from spmkit.tables import load_inputs

    depth = int(sys.argv[1])
    ids = np.char.add("R", np.char.zfill(np.arange(depth).astype(str), 6))
    roster = pd.DataFrame({"rep_id": ids, "manager_id": np.r_[[""], ids[:-1]]})
    deals = pd.DataFrame({"deal_id": [f"D{i}" for i in range(10)], "rep_id": ids[-1],
                          "close_date": "2026-02-10", "amount": "1.00"})
    data = load_inputs(deals, roster=roster)
    lines = credit_deals(data.deals, currency="USD", roster=data.roster, rollup=True)
    top = lines[lines["rep_id"] == ids[0]]
    print(len(lines), len(top), int(top["amount_cents"].sum()))
""")


def test_a_20000_deep_chain_rolls_up_in_bounded_memory(tmp_path: Path) -> None:
    """A chain of 20,000 reps, 10 deals at the bottom: 200,000 credit lines (each deal once
    per rep of the chain). The old roll-up built every (rep, ancestor) pair first, 2e8 of
    them (10,000 levels took 6.8 GB); now the walk's memory follows the lines it writes.
    The child runs under a 4 GB address-space limit, so a regression fails fast instead of
    exhausting the machine; its peak resident memory must stay under 1.5 GB."""
    script = tmp_path / "deep.py"
    script.write_text(DEEP_CHILD, encoding="utf-8")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30))

    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, str(script), "20000"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=limit,
                            env={**os.environ, "PYTHONPATH": str(root)})
    _, status, usage = os.wait4(proc.pid, 0)
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, err[-2000:]
    assert out.split() == ["200000", "10", "1000"]  # R000000 is credited every deal, once
    peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    assert peak_mb < 1536, f"peak resident memory {peak_mb:.0f} MB"
