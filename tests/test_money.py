"""Exact money: cent parsing, rounding half away from zero, largest-remainder allocation."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from spmkit.errors import SpmkitError
from spmkit.money import (
    MAX_CENTS,
    CentsOverflowError,
    allocate,
    checked_cumsum,
    checked_group_sum,
    checked_sum,
    decimal_array,
    format_cents,
    format_money,
    mul_div_round,
    parse_cents,
    parse_fixed,
    round_cents,
    split_cents,
    sum_cents,
    to_decimal,
)


def D(text: str) -> Decimal:
    return Decimal(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("500.5"), 501),  # 5.005 dollars -> 5.01 (rule 10)
        (D("-500.5"), -501),  # negative ties go away from zero too
        (D("100.5"), 101),  # 10% of 10.05 = 1.005 -> 1.01
        (D("-100.5"), -101),
        (D("1.49"), 1),
        (D("1.5"), 2),
        (D("-1.5"), -2),
        (D("2.5"), 3),  # not banker's rounding (which would give 2)
        (D("0.4999999"), 0),
        (D("0"), 0),
    ],
)
def test_round_cents_decimal_half_away_from_zero(value: Decimal, expected: int) -> None:
    out = round_cents(np.array([value], dtype=object))
    assert out.dtype == np.int64
    assert out.tolist() == [expected]


def test_round_cents_float_removes_binary_noise() -> None:
    # 10.05 dollars x 10% in float cents is 100.49999999999999, a tie in exact arithmetic.
    x = np.array([1005 * 0.1, -1005 * 0.1, 2.5, 0.5, -0.5, 1.4999])
    assert round_cents(x).tolist() == [101, -101, 3, 1, -1, 1]


def test_round_cents_integers_pass_through() -> None:
    assert round_cents(np.array([3, -7])).tolist() == [3, -7]


def test_to_decimal_uses_shortest_float_repr() -> None:
    assert to_decimal(0.1) == D("0.1")
    assert to_decimal("1.005") == D("1.005")
    assert to_decimal(7) == D("7")
    d = D("2.50")
    assert to_decimal(d) is d


def test_decimal_array_is_exact() -> None:
    arr = decimal_array(np.array([1, 2]))
    assert arr.dtype == object and arr.tolist() == [D("1"), D("2")]
    assert decimal_array(np.array([0.1])).tolist() == [D("0.1")]


def test_parse_cents_text_exact() -> None:
    s = pd.Series(["1234.565", "-1.005", "1,234.50", "7", ".5", "0.004", "  12.3 ", "-0.015",
                   "12,345,678.9"])
    cents, missing, bad = parse_cents(s)
    assert cents.tolist() == [123457, -101, 123450, 700, 50, 0, 1230, -2, 1234567890]
    assert not missing.any() and not bad.any()


def test_parse_cents_missing_and_bad_values() -> None:
    s = pd.Series(["12.00", "abc", None, "", "1.2.3", "1,5", "  "], dtype="str")
    cents, missing, bad = parse_cents(s)
    assert missing.tolist() == [False, False, True, True, False, False, True]
    assert bad.tolist() == [False, True, False, False, True, True, False]
    assert cents.tolist() == [1200, 0, 0, 0, 0, 0, 0]


def test_parse_cents_numeric_columns() -> None:
    cents, missing, bad = parse_cents(pd.Series([10, -3], dtype="int64"))
    assert cents.tolist() == [1000, -300] and not missing.any() and not bad.any()
    cents, missing, bad = parse_cents(pd.Series([10.05, 0.015, -0.015, np.nan]))
    assert cents.tolist() == [1005, 2, -2, 0]
    assert missing.tolist() == [False, False, False, True] and not bad.any()


def test_parse_cents_object_column_as_excel_or_parquet_give() -> None:
    s = pd.Series([1.5, None, "2.25", D("3.335"), 7], dtype=object)
    cents, missing, bad = parse_cents(s)
    assert cents.tolist() == [150, 0, 225, 334, 700]
    assert missing.tolist() == [False, True, False, False, False] and not bad.any()


def test_parse_fixed_places_and_exact() -> None:
    values, _, bad = parse_fixed(pd.Series(["0.5", "0.1234567891", "1"]), 9)
    assert values.tolist() == [500_000_000, 123_456_789, 1_000_000_000] and not bad.any()
    values, _, bad = parse_fixed(pd.Series(["0.5", "0.1234567891", "0.1000000000"]), 9,
                                 exact=True)
    assert bad.tolist() == [False, True, False]
    assert values.tolist()[0] == 500_000_000 and values.tolist()[2] == 100_000_000


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (1000, [1, 1, 1], [334, 333, 333]),
        (10001, [1, 1], [5001, 5000]),  # 100.01 split 50/50: tie goes to the first
        (-10001, [1, 1], [-5000, -5001]),  # floors: the leftover cent raises the first
        (10000, [D("0.6"), D("0.4")], [6000, 4000]),
        (101, [D("0.3"), D("0.7")], [30, 71]),  # 30.3 / 70.7: the larger remainder gets it
        (7, [0, 1], [0, 7]),
        (0, [1, 2], [0, 0]),
    ],
)
def test_allocate_largest_remainder(total: int, weights: list, expected: list[int]) -> None:
    out = allocate(total, np.array(weights, dtype=object))
    assert out.tolist() == expected
    assert int(out.sum()) == total


def test_allocate_rejects_zero_weights() -> None:
    with pytest.raises(ValueError, match="sum to zero"):
        allocate(100, np.array([0, 0]))


def test_format_cents() -> None:
    out = format_cents(np.array([123456, -5, 0, 100, -100001]))
    assert out.tolist() == ["1234.56", "-0.05", "0.00", "1.00", "-1000.01"]


def test_format_money() -> None:
    out = format_money(np.array([2000000, -150, 0, 123456789]))
    assert out.tolist() == ["20,000.00", "-1.50", "0.00", "1,234,567.89"]
    edges = np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max, 99_999, 100_000, -100])
    assert format_money(edges).tolist() == [
        "-92,233,720,368,547,758.08", "92,233,720,368,547,758.07", "999.99", "1,000.00",
        "-1.00"]
    assert format_money(np.array([], dtype=np.int64)).tolist() == []


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.int64, st.integers(1, 40)))
def test_format_money_is_python_grouping_of_the_exact_amount(cents) -> None:
    """Each text is the amount Python formats with its ``,`` grouping, digit for digit."""
    expected = [("-" if c < 0 else "") + f"{abs(int(c)) // 100:,}.{abs(int(c)) % 100:02d}"
                for c in cents]
    assert format_money(cents).tolist() == expected


def test_mul_div_round_exact_half_away_and_beyond_int64():
    from spmkit.money import scale_cents

    assert mul_div_round(np.array([5, -5, 15, -15]), 1, 10).tolist() == [1, -1, 2, -2]
    # x * 10**4 / 10**5 (= x / 10): 2 * x * 10**4 overflows int64, Python integers take over
    assert mul_div_round(np.array([9_223_372_036_854_775]), 10**4, 10**5).tolist() == [
        922_337_203_685_478]
    assert scale_cents([1000, 5, -5], "1.1").tolist() == [1100, 6, -6]


# ----------------------------------------------------------------------------- checked sums

#: int64 cents anywhere in range (but never -2**63, which has no positive twin), mostly
#: huge so that sums leave int64 often, and small ones so that they come back.
CENTS = st.one_of(st.integers(-MAX_CENTS, MAX_CENTS), st.integers(-1000, 1000),
                  st.sampled_from([MAX_CENTS, -MAX_CENTS, 2**62, -(2**62)]))


def _fits(value: int) -> bool:
    return -MAX_CENTS <= value <= MAX_CENTS


def test_ten_huge_amounts_do_not_wrap_to_a_negative_sum() -> None:
    """The issue's case: ten deals of 9,999,999,999,999,999.99 are 10 x (10**18 - 1)
    cents, about 1e19 > 2**63 - 1 (9.2e18): plain int64 wraps it to about -8.4e18."""
    amounts = np.full(10, 999_999_999_999_999_999, dtype=np.int64)
    assert int(np.sum(amounts)) < 0  # what plain int64 does
    total, over = checked_sum(amounts)
    assert bool(over) and int(total) == 0
    with pytest.raises(CentsOverflowError) as info:
        sum_cents(amounts, source="deals.csv", what="the credit of rep A1", column="amount")
    assert isinstance(info.value, SpmkitError)
    assert str(info.value).startswith("deals.csv, column 'amount': the credit of rep A1 is "
                                      "beyond plus or minus 92,233,720,368,547,758.07")


def test_checked_sums_at_the_edges() -> None:
    """2**62 + 2**62 - 1 = MAX_CENTS fits; one more cent does not; -2**63 is refused too."""
    assert checked_sum(np.array([2**62, 2**62 - 1]))[0].tolist() == MAX_CENTS
    assert bool(checked_sum(np.array([2**62, 2**62]))[1])
    assert bool(checked_sum(np.array([-(2**62), -(2**62)]))[1])
    assert checked_sum(np.array([-(2**62), -(2**62) + 1]))[0].tolist() == -MAX_CENTS
    # a running sum may leave int64 and come back: only the cells outside are flagged
    run, over = checked_cumsum(np.array([MAX_CENTS, 1, -2]))
    assert over.tolist() == [False, True, False]
    assert run.tolist() == [MAX_CENTS, 0, MAX_CENTS - 1]


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.int64, st.tuples(st.integers(1, 4), st.integers(1, 6)), elements=CENTS))
def test_checked_sum_and_cumsum_equal_python_integers(values: np.ndarray) -> None:
    """Exact where the true sum fits int64, flagged (never wrapped) where it does not."""
    rows = values.tolist()
    for axis in (0, 1):
        total, over = checked_sum(values, axis=axis)
        exact = ([sum(r[j] for r in rows) for j in range(values.shape[1])] if axis == 0
                 else [sum(r) for r in rows])
        assert over.tolist() == [not _fits(x) for x in exact]
        assert total.tolist() == [x if _fits(x) else 0 for x in exact]
    run, over = checked_cumsum(values, axis=1)
    for i, r in enumerate(rows):
        exact = [sum(r[: j + 1]) for j in range(len(r))]
        assert over[i].tolist() == [not _fits(x) for x in exact]
        assert run[i].tolist() == [x if _fits(x) else 0 for x in exact]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), CENTS), min_size=1, max_size=40))
def test_checked_group_sum_equals_python_integers(rows: list[tuple[int, int]]) -> None:
    keys = np.array([k for k, _ in rows])
    values = np.array([v for _, v in rows], dtype=np.int64)
    got_keys, sums, over = checked_group_sum(keys, values)
    exact = {}
    for k, v in rows:
        exact[k] = exact.get(k, 0) + v
    assert got_keys.tolist() == sorted(exact)
    assert over.tolist() == [not _fits(exact[k]) for k in sorted(exact)]
    assert sums.tolist() == [exact[k] if _fits(exact[k]) else 0 for k in sorted(exact)]


def test_scaling_beyond_int64_is_an_error_not_a_crash() -> None:
    """999,999,999,999,999,999 cents x 100 (an fx rate of 100) cannot be held."""
    with pytest.raises(CentsOverflowError, match="largest amount spmkit can hold"):
        mul_div_round(np.array([999_999_999_999_999_999]), 100, 1)
    assert mul_div_round(np.array([92_233_720_368_547_758]), 100, 1).tolist() == [
        9_223_372_036_854_775_800]


def test_rounding_a_payout_beyond_int64_is_an_error() -> None:
    with pytest.raises(CentsOverflowError):
        round_cents(np.array([Decimal(MAX_CENTS) + 1], dtype=object))
    with pytest.raises(CentsOverflowError):
        round_cents(np.array([1e19]))
    assert round_cents(np.array([Decimal(MAX_CENTS)], dtype=object)).tolist() == [MAX_CENTS]


# ----------------------------------------------------------------------------- split credit


def test_split_cents_residue_goes_to_the_largest_share_then_the_smallest_rep_id() -> None:
    """100.01 split 50/50: 5000.5 and 5000.5 round to 5001 each, 1 cent too many; the -1
    goes to the smaller rep_id A, in either row order. 0.03 at 25/25/50: 0.75, 0.75, 1.5
    round to 1, 1, 2; the -1 goes to the largest share (C)."""
    half = [500_000_000, 500_000_000]
    assert split_cents(np.array([10001, 10001]), np.array(half), ["D", "D"],
                       ["A", "B"]).tolist() == [5000, 5001]
    assert split_cents(np.array([10001, 10001]), np.array(half), ["D", "D"],
                       ["B", "A"]).tolist() == [5001, 5000]
    assert split_cents(np.array([3, 3, 3]), np.array([250_000_000, 250_000_000, 500_000_000]),
                       ["D"] * 3, ["A", "B", "C"]).tolist() == [1, 1, 1]
    assert split_cents(np.array([-10001, -10001]), np.array(half), ["D", "D"],
                       ["B", "A"]).tolist() == [-5001, -5000]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(-10**15, 10**15),
                          st.lists(st.integers(1, 50), min_size=1, max_size=6)),
                min_size=1, max_size=8),
       st.randoms(use_true_random=False))
def test_split_cents_sum_exactly_and_ignore_row_order(deals, rnd) -> None:
    """Per deal the parts sum to the amount, all but one within half a cent of the exact
    share, and shuffling the lines gives each (deal, rep) the same cents."""
    amounts, shares, groups, reps = [], [], [], []
    for d, (amount, weights) in enumerate(deals):
        ppb = [w * 1_000_000_000 // sum(weights) for w in weights]
        ppb[0] += 1_000_000_000 - sum(ppb)
        for r, s in enumerate(ppb):
            amounts.append(amount)
            shares.append(s)
            groups.append(f"D{d}")
            reps.append(f"R{r}")
    parts = split_cents(np.array(amounts), np.array(shares), groups, reps).tolist()
    for d, (amount, _) in enumerate(deals):
        mine = [i for i, g in enumerate(groups) if g == f"D{d}"]
        assert sum(parts[i] for i in mine) == amount
        # each part is its share rounded (within half a cent), but for the one line that
        # takes the residue: at most half a cent per line of the deal
        off = sorted(abs(parts[i] * 10**9 - amounts[i] * shares[i]) for i in mine)
        assert all(2 * x <= 10**9 for x in off[:-1])
        assert 2 * off[-1] <= (len(mine) + 1) * 10**9
    order = list(range(len(parts)))
    rnd.shuffle(order)
    again = split_cents(np.array(amounts)[order], np.array(shares)[order],
                        [groups[i] for i in order], [reps[i] for i in order]).tolist()
    assert {(groups[i], reps[i]): again[j] for j, i in enumerate(order)} == {
        (groups[i], reps[i]): parts[i] for i in range(len(parts))}
