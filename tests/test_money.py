"""Exact money: cent parsing, rounding half away from zero, largest-remainder allocation."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from spmkit.money import (
    allocate,
    decimal_array,
    format_cents,
    format_money,
    parse_cents,
    parse_fixed,
    round_cents,
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


def test_mul_div_round_exact_half_away_and_beyond_int64():
    from spmkit.money import mul_div_round, scale_cents

    assert mul_div_round(np.array([5, -5, 15, -15]), 1, 10).tolist() == [1, -1, 2, -2]
    # x * 10**4 / 10**5 (= x / 10): 2 * x * 10**4 overflows int64, Python integers take over
    assert mul_div_round(np.array([9_223_372_036_854_775]), 10**4, 10**5).tolist() == [
        922_337_203_685_478]
    assert scale_cents([1000, 5, -5], "1.1").tolist() == [1100, 6, -6]
