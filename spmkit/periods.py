"""Plan year -> payout periods: windows, labels and the period of any date.

A plan year starts on the first day of any month and lasts twelve months.  It is cut
into payout periods of one month, one quarter (three months) or the whole year.

Labels: a plan year that starts in January is named by its calendar year
(``2026-Q1``, ``2026-03``, ``2026``); any other plan year is a fiscal year named by
the calendar year in which it starts (``FY2026-Q1``, ``FY2026``); monthly labels are
always the calendar month (``2026-03``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

MONTHS_PER_PERIOD = {"month": 1, "quarter": 3, "year": 12}
#: The latest plan year start: its last period ends on 9999-11-30, so every period end and
#: the day after it are valid dates.
LAST_YEAR_START = date(9998, 12, 1)


@dataclass(frozen=True)
class Periods:
    """The payout periods of one plan year.

    Attributes
    ----------
    year_start : date
        First day of the plan year (the first of a month).
    period : str
        ``month``, ``quarter`` or ``year``.
    """

    year_start: date
    period: str
    starts: tuple[pd.Timestamp, ...] = field(init=False, repr=False)
    ends: tuple[pd.Timestamp, ...] = field(init=False, repr=False)
    labels: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.period not in MONTHS_PER_PERIOD:
            raise ValueError(f"unsupported period {self.period!r}; use month, quarter or year")
        if self.year_start.day != 1:
            raise ValueError("year_start must be the first day of a month")
        if self.year_start > LAST_YEAR_START:
            raise ValueError(f"year_start {self.year_start} is too late: the plan year must "
                             f"end before 9999-12-31 (start by {LAST_YEAR_START})")
        step = MONTHS_PER_PERIOD[self.period]
        first = pd.Timestamp(self.year_start)
        starts = tuple(first + pd.DateOffset(months=step * k) for k in range(12 // step))
        ends = tuple(s + pd.DateOffset(months=step) - pd.Timedelta(days=1) for s in starts)
        fiscal = self.year_start.month != 1
        prefix = f"FY{self.year_start.year}" if fiscal else f"{self.year_start.year}"
        if self.period == "month":
            labels = tuple(f"{s.year}-{s.month:02d}" for s in starts)
        elif self.period == "quarter":
            labels = tuple(f"{prefix}-Q{k + 1}" for k in range(4))
        else:
            labels = (prefix,)
        object.__setattr__(self, "starts", starts)
        object.__setattr__(self, "ends", ends)
        object.__setattr__(self, "labels", labels)

    @property
    def count(self) -> int:
        """Number of periods in the plan year (12, 4 or 1)."""
        return len(self.starts)

    @property
    def year_end(self) -> pd.Timestamp:
        """Last day of the plan year."""
        return self.ends[-1]

    def days(self) -> np.ndarray:
        """Number of days in each period."""
        return np.array([(e - s).days + 1 for s, e in zip(self.starts, self.ends, strict=True)])

    def index_of(self, dates: pd.Series | pd.DatetimeIndex | np.ndarray) -> np.ndarray:
        """Period index (0-based) of each date; -1 for dates outside the plan year or NaT."""
        d = pd.DatetimeIndex(pd.to_datetime(dates))
        months = (d.year - self.year_start.year) * 12 + (d.month - self.year_start.month)
        months = np.asarray(months, dtype=np.float64)
        inside = np.isfinite(months) & (months >= 0) & (months < 12)
        step = MONTHS_PER_PERIOD[self.period]
        idx = np.where(inside, np.floor_divide(np.nan_to_num(months), step), -1)
        return idx.astype(np.int64)

    def index_of_start(self, starts: pd.Series) -> np.ndarray:
        """Index of the period that *starts* on each date; -1 if no period starts there."""
        d = pd.DatetimeIndex(pd.to_datetime(starts))
        idx = self.index_of(d)
        step = MONTHS_PER_PERIOD[self.period]
        months = (d.year - self.year_start.year) * 12 + (d.month - self.year_start.month)
        ok = (idx >= 0) & (np.asarray(d.day) == 1) & (np.asarray(months) % step == 0)
        return np.where(ok, idx, -1).astype(np.int64)

    def frame(self) -> pd.DataFrame:
        """One row per period: ``period_index, period_start, period_end, period, days``."""
        return pd.DataFrame(
            {
                "period_index": np.arange(self.count),
                "period_start": pd.DatetimeIndex(self.starts),
                "period_end": pd.DatetimeIndex(self.ends),
                "period": list(self.labels),
                "days": self.days(),
            }
        )


def plan_periods(year_start: date, period: str) -> Periods:
    """The periods of the plan year starting at ``year_start``."""
    return Periods(year_start=year_start, period=period)
