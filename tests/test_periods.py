"""Plan year -> payout periods: windows, labels, fiscal years and the period of a date."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from spmkit.periods import Periods, plan_periods


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def test_calendar_quarters() -> None:
    p = plan_periods(date(2026, 1, 1), "quarter")
    assert p.count == 4
    assert p.labels == ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4")
    assert p.starts == (ts("2026-01-01"), ts("2026-04-01"), ts("2026-07-01"), ts("2026-10-01"))
    assert p.ends == (ts("2026-03-31"), ts("2026-06-30"), ts("2026-09-30"), ts("2026-12-31"))
    assert p.days().tolist() == [90, 91, 92, 92]
    assert p.year_end == ts("2026-12-31")


def test_calendar_months_and_leap_february() -> None:
    p = plan_periods(date(2028, 1, 1), "month")
    assert p.count == 12
    assert p.labels[0] == "2028-01" and p.labels[-1] == "2028-12"
    assert p.ends[1] == ts("2028-02-29")
    assert p.days()[1] == 29
    assert int(p.days().sum()) == 366


def test_calendar_year() -> None:
    p = plan_periods(date(2026, 1, 1), "year")
    assert p.labels == ("2026",)
    assert p.starts == (ts("2026-01-01"),) and p.ends == (ts("2026-12-31"),)
    assert p.days().tolist() == [365]


def test_fiscal_year_starting_february() -> None:
    q = plan_periods(date(2026, 2, 1), "quarter")
    assert q.labels == ("FY2026-Q1", "FY2026-Q2", "FY2026-Q3", "FY2026-Q4")
    assert q.starts[0] == ts("2026-02-01")
    assert q.ends[0] == ts("2026-04-30")
    assert q.starts[3] == ts("2026-11-01") and q.ends[3] == ts("2027-01-31")
    assert plan_periods(date(2026, 2, 1), "year").labels == ("FY2026",)
    m = plan_periods(date(2026, 2, 1), "month")
    assert m.labels[0] == "2026-02" and m.labels[-1] == "2027-01"  # calendar month names


def test_fiscal_year_starting_july_crosses_calendar_year() -> None:
    q = plan_periods(date(2025, 7, 1), "quarter")
    assert q.labels[2] == "FY2025-Q3"
    assert q.starts[2] == ts("2026-01-01")
    assert q.year_end == ts("2026-06-30")


def test_index_of_dates() -> None:
    p = plan_periods(date(2026, 2, 1), "quarter")
    dates = pd.Series(pd.to_datetime([
        "2026-01-31",  # the day before the plan year
        "2026-02-01",  # first day -> Q1
        "2026-04-30",  # last day of Q1
        "2026-05-01",  # first day of Q2
        "2027-01-31",  # last day of the year -> Q4
        "2027-02-01",  # the day after
        None,
    ]))
    assert p.index_of(dates).tolist() == [-1, 0, 0, 1, 3, -1, -1]


def test_index_of_start() -> None:
    p = plan_periods(date(2026, 1, 1), "quarter")
    starts = pd.Series(pd.to_datetime(["2026-01-01", "2026-04-01", "2026-02-01", "2026-04-02",
                                       "2027-01-01"]))
    assert p.index_of_start(starts).tolist() == [0, 1, -1, -1, -1]


def test_frame() -> None:
    f = plan_periods(date(2026, 1, 1), "quarter").frame()
    assert list(f.columns) == ["period_index", "period_start", "period_end", "period", "days"]
    assert f["period"].tolist() == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert f["days"].tolist() == [90, 91, 92, 92]
    assert np.issubdtype(f["period_start"].dtype, np.datetime64)


def test_unsupported_period_and_bad_start() -> None:
    with pytest.raises(ValueError, match="unsupported period 'week'"):
        Periods(date(2026, 1, 1), "week")
    with pytest.raises(ValueError, match="first day of a month"):
        Periods(date(2026, 1, 15), "quarter")
