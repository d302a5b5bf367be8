"""Sales forecasts with statsmodels exponential smoothing (ETS), with prediction intervals.

``SalesForecast(monthly).fit() -> ForecastResults``, in the statsmodels style:
the results give a monthly ``summary_frame()`` (mean, ``pi_lower``, ``pi_upper``) and an
``annual()`` total for the plan year with an interval from simulated paths (the interval
of a sum is not the sum of the monthly intervals).

The model is :class:`statsmodels.tsa.exponential_smoothing.ets.ETSModel` with additive
errors, an additive trend and an additive or multiplicative seasonal component over 12
months.  A seasonal model needs two full years of monthly history; with less, the
forecast falls back to a level-only model (simple exponential smoothing: no trend, no
seasonality; a trend fitted on one seasonal year mistakes the Q4 peak for growth) and says
so in ``ForecastResults.note``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from spmkit.errors import InputError

__all__ = ["SalesForecast", "ForecastResults", "MIN_MONTHS"]

#: Fewest months of history a forecast accepts.
MIN_MONTHS = 6


@dataclass(frozen=True)
class SalesForecast:
    """An ETS model of monthly sales (cents).

    Parameters
    ----------
    monthly : Series
        Sales in cents indexed by month start (every month present, oldest first).
    seasonal : {"add", "mul", None}
        Seasonal component; ``None`` for none.  ``"mul"`` needs positive sales.
    trend : {"add", None}
        Trend component.
    damped_trend : bool
        Damp the trend.
    seasonal_periods : int
        Months per season (12).
    name : str
        What the series is (``company`` or a region), for display.
    """

    monthly: pd.Series
    seasonal: Literal["add", "mul"] | None = "add"
    trend: Literal["add"] | None = "add"
    damped_trend: bool = False
    seasonal_periods: int = 12
    name: str = "company"

    def fit(self) -> ForecastResults:
        """Fit by maximum likelihood; returns :class:`ForecastResults`.

        Raises
        ------
        InputError
            Too little history, or multiplicative seasonality with non-positive months.
        """
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        y = self.monthly.astype(np.float64)
        n = len(y)
        if n < MIN_MONTHS:
            raise InputError(f"history: {self.name} has {n} month(s) of sales; a forecast needs "
                             f"at least {MIN_MONTHS}")
        seasonal, trend = self.seasonal, self.trend
        note = ""
        if seasonal is not None and n < 2 * self.seasonal_periods:
            note = (f"{n} months of history: too few for a seasonal model (needs "
                    f"{2 * self.seasonal_periods}); level-only forecast (no trend or season)")
            seasonal, trend = None, None
        if seasonal == "mul" and (y <= 0).any():
            raise InputError(f"history: {self.name} has months with no sales; multiplicative "
                             "seasonality needs positive sales every month (use 'add')")
        scale = float(np.abs(y).mean()) or 1.0
        series = pd.Series((y / scale).to_numpy(),
                           index=pd.DatetimeIndex(self.monthly.index).to_period("M"))
        model = ETSModel(series, error="add", trend=trend,
                         damped_trend=self.damped_trend and trend is not None,
                         seasonal=seasonal,
                         seasonal_periods=self.seasonal_periods if seasonal else None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = model.fit(disp=False)
        return ForecastResults(model=self, fitted=fitted, scale=scale, seasonal_used=seasonal,
                               note=note)


@dataclass(frozen=True)
class ForecastResults:
    """A fitted :class:`SalesForecast`.  Amounts are in cents (floats: a forecast)."""

    model: SalesForecast
    fitted: Any = field(repr=False)
    scale: float
    seasonal_used: str | None
    note: str = ""

    @property
    def last_month(self) -> pd.Timestamp:
        return pd.Timestamp(self.model.monthly.index[-1])

    def _steps_to(self, end: pd.Timestamp) -> int:
        last = self.last_month
        return (end.year - last.year) * 12 + (end.month - last.month)

    def summary_frame(self, end: pd.Timestamp | None = None, *, alpha: float = 0.1
                      ) -> pd.DataFrame:
        """Monthly forecast from the month after the history through ``end``.

        Parameters
        ----------
        end : Timestamp, optional
            Last month to forecast (default twelve months ahead).
        alpha : float
            1 - coverage of the prediction interval (0.1 -> 90% interval).

        Returns
        -------
        DataFrame indexed by ``month`` (month start): ``mean``, ``pi_lower``, ``pi_upper``
        in cents (float64).
        """
        steps = 12 if end is None else self._steps_to(pd.Timestamp(end))
        if steps < 1:
            raise InputError("settings: the plan year must start after the history ends")
        start = len(self.model.monthly)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = self.fitted.get_prediction(start=start, end=start + steps - 1)
            frame = pred.summary_frame(alpha=alpha)
        out = frame[["mean", "pi_lower", "pi_upper"]] * self.scale
        months = pd.date_range(self.last_month + pd.DateOffset(months=1), periods=steps,
                               freq="MS", name="month")
        out.index = months
        return out.astype(np.float64)

    def fitted_values(self) -> pd.Series:
        """In-sample fitted values in cents, indexed by month start."""
        values = np.asarray(self.fitted.fittedvalues, dtype=np.float64) * self.scale
        return pd.Series(values, index=pd.DatetimeIndex(self.model.monthly.index, name="month"),
                         name="fitted")

    def simulate_year(self, year_start: pd.Timestamp, *, draws: int = 1000, seed: int = 0
                      ) -> np.ndarray:
        """Simulated totals (cents, float64) of the twelve months from ``year_start``."""
        year_start = pd.Timestamp(year_start)
        first = self._steps_to(year_start)
        if first < 1:
            raise InputError("settings: the plan year must start after the history ends")
        steps = first + 11
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            paths = self.fitted.simulate(nsimulations=steps, anchor="end", repetitions=draws,
                                         rng=np.random.default_rng(seed))
        paths = np.asarray(paths, dtype=np.float64).reshape(steps, -1)
        return paths[first - 1:].sum(axis=0) * self.scale

    def annual(self, year_start: pd.Timestamp, *, alpha: float = 0.1, draws: int = 1000,
               seed: int = 0) -> pd.Series:
        """The plan-year total: ``mean`` (sum of monthly means) and an interval
        ``pi_lower``/``pi_upper`` (quantiles of ``draws`` simulated years), in cents."""
        year_start = pd.Timestamp(year_start)
        frame = self.summary_frame(year_start + pd.DateOffset(months=11), alpha=alpha)
        mean = float(frame.loc[frame.index >= year_start, "mean"].sum())
        totals = self.simulate_year(year_start, draws=draws, seed=seed)
        lo, hi = np.quantile(totals, [alpha / 2, 1 - alpha / 2])
        return pd.Series({"mean": mean, "pi_lower": float(lo), "pi_upper": float(hi)},
                         name=self.model.name)
