"""Sales forecasts with statsmodels exponential smoothing (ETS), chosen among candidate
models and calibrated by rolling-origin backtests.

Two levels, in the statsmodels style:

- ``SalesForecast(monthly, ...).fit() -> ForecastResults``: one ETS specification
  (:class:`statsmodels.tsa.exponential_smoothing.ets.ETSModel`, state space, fitted by
  maximum likelihood), with a monthly ``summary_frame()`` and a plan-year ``annual()``
  total whose interval comes from simulated paths (the interval of a sum is not the sum
  of the monthly intervals).  ``log=True`` fits the model to log sales.
- ``select_forecast(monthly) -> ForecastSelection``: every month of history it is given,
  the :data:`CANDIDATES` (level, damped trend, seasonal, multiplicative season, log
  season) fitted and compared by AICc and by rolling-origin
  backtests of the twelve-month total; ``ForecastSelection.plan_year(year_start)`` gives
  the plan-year total with an interval calibrated by the backtest errors
  (:class:`PlanYearForecast`: mean, interval, percentiles, the probability of reaching a
  total).

Selection rule: the candidates within :data:`AICC_SHORTLIST` of the best AICc make the
shortlist; of those with backtests, the one with the smallest mean absolute error of the
twelve-month total (on the origins they share) is chosen (a candidate that cannot be
backtested competes only when none can); with no backtests (under 24 months of history),
the best AICc.  A seasonal candidate needs 24 months of training data.

Calibration: a model's own interval of a year's total only holds the noise of its months;
a year also carries shocks that the months of one history do not show (an org's market,
hires and leavers, a few large deals).  The interval of the plan-year total therefore has
a log-scale spread of at least the *year error*: the root mean square of the backtests'
log errors of the twelve-month total, pooled with a stated prior
(:data:`PRIOR_YEAR_ERROR`, weighted as :data:`PRIOR_WEIGHT` backtests).  When the model's
own spread is smaller, the simulated totals get an independent year-level lognormal
factor (mean one) that makes up the difference.  The backtests also correct the level:
a model that under-forecast every past year (a level model of a growing org) is moved by
the backtests' mean log error, shrunk toward zero by the same prior weight.

Calibration is tested in ``tests/test_forecast.py`` (20 generated orgs with the
generator's company and regional shocks; at least 15 in 20 intervals must hold the
actual with 24 and with 36 months of history); ``docs/quotas.md`` gives the figures.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from spmkit.errors import InputError

__all__ = ["AICC_SHORTLIST", "BACKTEST_STEP", "CANDIDATES", "MIN_MONTHS", "PRIOR_WEIGHT",
           "PRIOR_YEAR_ERROR", "ForecastResults", "ForecastSelection", "PlanYearForecast",
           "SalesForecast", "select_forecast"]

#: Fewest months of history a forecast accepts.
MIN_MONTHS = 6
#: Months of training data a backtest origin needs (seasonal models: two seasons).
MIN_TRAIN = 12
#: Months between rolling backtest origins (the last origin is twelve months before the end).
BACKTEST_STEP = 6
#: AICc points above the best within which a candidate is shortlisted (Burnham & Anderson,
#: *Model Selection and Multimodel Inference*, 2002: a difference above about 4 means
#: "considerably less support").
AICC_SHORTLIST = 4.0
#: Prior log-scale error of a twelve-month company total (about 15%): a stated
#: assumption of this project, not a published norm; the backtests move it.
PRIOR_YEAR_ERROR = 0.15
#: How many backtests the prior counts as.
PRIOR_WEIGHT = 2.0

#: The candidate models: name -> SalesForecast keywords.
CANDIDATES: dict[str, dict[str, Any]] = {
    "level": {"trend": None, "seasonal": None},
    "damped trend": {"trend": "add", "damped_trend": True, "seasonal": None},
    "seasonal": {"trend": None, "seasonal": "add"},
    "multiplicative seasonal": {"trend": None, "seasonal": "mul", "error": "mul"},
    "log seasonal": {"trend": None, "seasonal": "add", "log": True},
}


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
    error : {"add", "mul"}
        Error component (``"mul"`` needs positive sales).
    log : bool
        Fit the model to log sales (needs positive sales); forecasts are transformed back.
    fallback : bool
        With too little history for a season, fit a level-only model and say so in the
        note (True), or raise :class:`InputError` (False).
    """

    monthly: pd.Series
    seasonal: Literal["add", "mul"] | None = "add"
    trend: Literal["add"] | None = "add"
    damped_trend: bool = False
    seasonal_periods: int = 12
    name: str = "company"
    error: Literal["add", "mul"] = "add"
    log: bool = False
    fallback: bool = True

    def fit(self) -> ForecastResults:
        """Fit by maximum likelihood; returns :class:`ForecastResults`.

        Raises
        ------
        InputError
            Too little history, or a multiplicative or log model with non-positive months.
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
            if not self.fallback:
                raise InputError(f"history: {self.name} has {n} months of sales; a seasonal "
                                 f"model needs {2 * self.seasonal_periods}")
            note = (f"{n} months of history: too few for a seasonal model (needs "
                    f"{2 * self.seasonal_periods}); level-only forecast (no trend or season)")
            seasonal, trend = None, None
        positive = "mul" in (seasonal, self.error) or self.log
        if positive and (y <= 0).any():
            raise InputError(f"history: {self.name} has months with no sales; a multiplicative "
                             "or log model needs positive sales every month (use 'add')")
        scale = float(np.abs(y).mean()) or 1.0
        values = (y / scale).to_numpy()
        if self.log:
            values = np.log(values)
        series = pd.Series(values, index=pd.DatetimeIndex(self.monthly.index).to_period("M"))
        model = ETSModel(series, error=self.error, trend=trend,
                         damped_trend=self.damped_trend and trend is not None,
                         seasonal=seasonal,
                         seasonal_periods=self.seasonal_periods if seasonal else None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = model.fit(disp=False)
        aicc = float(fitted.aicc)
        if self.log:  # the likelihood of the sales themselves (Jacobian of the log)
            aicc += 2.0 * float(values.sum())
        return ForecastResults(model=self, fitted=fitted, scale=scale, seasonal_used=seasonal,
                               note=note, aicc=aicc)


@dataclass(frozen=True)
class ForecastResults:
    """A fitted :class:`SalesForecast`.  Amounts are in cents (floats: a forecast).

    ``aicc`` is the small-sample Akaike criterion of the sales (for a log model, with the
    Jacobian of the transform, so it compares with the other candidates).
    """

    model: SalesForecast
    fitted: Any = field(repr=False)
    scale: float
    seasonal_used: str | None
    note: str = ""
    aicc: float = float("nan")

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
        in cents (float64).  For a log model the bounds are transformed back and the mean
        is the lognormal mean.
        """
        from scipy.stats import norm

        steps = 12 if end is None else self._steps_to(pd.Timestamp(end))
        if steps < 1:
            raise InputError("settings: the plan year must start after the history ends")
        start = len(self.model.monthly)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = self.fitted.get_prediction(start=start, end=start + steps - 1)
            frame = pred.summary_frame(alpha=alpha)
        out = frame[["mean", "pi_lower", "pi_upper"]].astype(np.float64)
        if self.model.log:
            sd = (out["pi_upper"] - out["pi_lower"]) / (2 * norm.ppf(1 - alpha / 2))
            out = np.exp(out.assign(mean=out["mean"] + sd**2 / 2))
        out = out * self.scale
        months = pd.date_range(self.last_month + pd.DateOffset(months=1), periods=steps,
                               freq="MS", name="month")
        out.index = months
        return out.astype(np.float64)

    def fitted_values(self) -> pd.Series:
        """In-sample fitted values in cents, indexed by month start."""
        values = np.asarray(self.fitted.fittedvalues, dtype=np.float64)
        if self.model.log:
            values = np.exp(values)
        return pd.Series(values * self.scale,
                         index=pd.DatetimeIndex(self.model.monthly.index, name="month"),
                         name="fitted")

    def simulate_months(self, steps: int, *, draws: int = 1000, seed: int = 0) -> np.ndarray:
        """Simulated paths of the next ``steps`` months: array (steps, draws), cents."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            paths = self.fitted.simulate(nsimulations=steps, anchor="end", repetitions=draws,
                                         rng=np.random.default_rng(seed))
        paths = np.asarray(paths, dtype=np.float64).reshape(steps, -1)
        if self.model.log:
            paths = np.exp(paths)
        return paths * self.scale

    def simulate_year(self, year_start: pd.Timestamp, *, draws: int = 1000, seed: int = 0
                      ) -> np.ndarray:
        """Simulated totals (cents, float64) of the twelve months from ``year_start``."""
        year_start = pd.Timestamp(year_start)
        first = self._steps_to(year_start)
        if first < 1:
            raise InputError("settings: the plan year must start after the history ends")
        paths = self.simulate_months(first + 11, draws=draws, seed=seed)
        return paths[first - 1:].sum(axis=0)

    def annual(self, year_start: pd.Timestamp, *, alpha: float = 0.1, draws: int = 1000,
               seed: int = 0) -> pd.Series:
        """The plan-year total: ``mean`` (sum of monthly means) and an interval
        ``pi_lower``/``pi_upper`` (quantiles of ``draws`` simulated years), in cents.
        The model's own interval, not calibrated: see :func:`select_forecast`."""
        year_start = pd.Timestamp(year_start)
        mean = self._year_mean(year_start, alpha)
        totals = self.simulate_year(year_start, draws=draws, seed=seed)
        lo, hi = np.quantile(totals, [alpha / 2, 1 - alpha / 2])
        return pd.Series({"mean": mean, "pi_lower": float(lo), "pi_upper": float(hi)},
                         name=self.model.name)

    def _year_mean(self, year_start: pd.Timestamp, alpha: float = 0.1) -> float:
        frame = self.summary_frame(year_start + pd.DateOffset(months=11), alpha=alpha)
        return float(frame.loc[frame.index >= year_start, "mean"].sum())


@dataclass(frozen=True)
class PlanYearForecast:
    """The plan-year total of a :class:`ForecastSelection`, calibrated.

    Attributes
    ----------
    mean : float
        Expected total, cents (the sum of the chosen model's monthly means).
    lower, upper : float
        The ``level`` prediction interval (quantiles of ``totals``), cents.
    level : float
        Coverage of the interval (0.9).
    totals : ndarray
        The simulated plan-year totals (cents, float64), calibrated.
    year_start : Timestamp
    """

    mean: float
    lower: float
    upper: float
    level: float
    totals: np.ndarray = field(repr=False)
    year_start: pd.Timestamp

    def percentile(self, p: float) -> float:
        """The ``p``-th percentile (0-100) of the plan-year total, cents."""
        if not 0 < float(p) < 100:
            raise InputError(f"settings: percentile {p} must be between 0 and 100 (exclusive)")
        return float(np.quantile(self.totals, float(p) / 100))

    def probability_at_least(self, total_cents: float) -> float:
        """Share of simulated plan years whose total reaches ``total_cents``."""
        return float(np.mean(self.totals >= float(total_cents)))

    def as_series(self) -> pd.Series:
        """``mean``, ``pi_lower``, ``pi_upper`` (cents) and ``level``."""
        return pd.Series({"mean": self.mean, "pi_lower": self.lower, "pi_upper": self.upper,
                          "level": self.level})


@dataclass(frozen=True)
class ForecastSelection:
    """The candidates compared by :func:`select_forecast` and the one chosen.

    Attributes
    ----------
    results : ForecastResults
        The chosen model, fitted on all the history.
    chosen : str
        Its name (a key of :data:`CANDIDATES`).
    candidates : DataFrame
        One row per candidate: ``model``, ``aicc`` (NaN when it could not be fitted),
        ``delta_aicc``, ``shortlisted`` (bool), ``backtests`` (int: origins),
        ``backtest_error`` (mean absolute error of the twelve-month total, as a fraction
        of the actual; NaN without backtests), ``chosen`` (bool), ``note``.
    backtests : DataFrame
        The chosen model's backtests (or, when it has none, every candidate's):
        ``model``, ``origin`` (first forecast month), ``forecast_cents``, ``actual_cents``,
        ``log_error`` (log actual / forecast).
    year_error : float
        The log-scale spread the plan-year interval is calibrated to (see the module
        docstring).
    months : int
        Months of history used (all of them).
    history_start, history_end : Timestamp
        First and last month of the history.
    note : str
        What the analyst should know (e.g. no backtests with under 24 months).
    bias : float
        The level correction (log scale) applied to the plan year: the backtests' mean
        log error, shrunk toward zero as if the prior added :data:`PRIOR_WEIGHT` errors
        of zero.
    """

    results: ForecastResults = field(repr=False)
    chosen: str
    candidates: pd.DataFrame = field(repr=False)
    backtests: pd.DataFrame = field(repr=False)
    year_error: float
    months: int
    history_start: pd.Timestamp
    history_end: pd.Timestamp
    note: str = ""
    bias: float = 0.0

    @property
    def backtest_error(self) -> float:
        """The chosen model's backtest error (fraction; NaN without backtests)."""
        row = self.candidates[self.candidates["chosen"]]
        return float(row["backtest_error"].iloc[0]) if len(row) else float("nan")

    def plan_year(self, year_start: pd.Timestamp, *, level: float = 0.9, draws: int = 1000,
                  seed: int = 0) -> PlanYearForecast:
        """The plan-year total with a calibrated ``level`` interval.

        Simulates ``draws`` years from the chosen model and scales them by
        ``exp(bias)``; when their log-scale spread is below :attr:`year_error`, each
        simulated year is multiplied by an independent lognormal factor (mean one) that
        brings it up to it.  ``mean`` is the model's mean x ``exp(bias)``.
        """
        if not 0 < float(level) < 1:
            raise InputError(f"settings: interval level {level} must be between 0 and 1")
        year_start = pd.Timestamp(year_start)
        totals = self.results.simulate_year(year_start, draws=draws, seed=seed)
        totals = totals * np.exp(self.bias)
        positive = totals[totals > 0]
        own = float(np.std(np.log(positive))) if len(positive) > 1 else 0.0
        extra = max(self.year_error**2 - own**2, 0.0)
        if extra > 0:
            z = np.random.default_rng([seed, 1]).standard_normal(len(totals))
            totals = totals * np.exp(z * np.sqrt(extra) - extra / 2)
        alpha = 1 - float(level)
        lo, hi = np.quantile(totals, [alpha / 2, 1 - alpha / 2])
        mean = self.results._year_mean(year_start) * float(np.exp(self.bias))
        return PlanYearForecast(mean=mean, lower=float(lo), upper=float(hi),
                                level=float(level), totals=totals, year_start=year_start)


def _fit(monthly: pd.Series, name: str, spec: dict[str, Any]) -> ForecastResults | str:
    """A candidate fitted on ``monthly``, or why it could not be."""
    try:
        res = SalesForecast(monthly, name=name, fallback=False, **spec).fit()
    except (InputError, ValueError, np.linalg.LinAlgError) as exc:
        return str(exc)
    if not np.isfinite(res.aicc):
        return "the fit did not converge to a finite likelihood"
    return res


def _min_train(spec: dict[str, Any]) -> int:
    return 24 if spec.get("seasonal") else MIN_TRAIN


def _backtest(monthly: pd.Series, name: str, spec: dict[str, Any], origins: list[int]
              ) -> pd.DataFrame:
    """Forecast the twelve months after each origin from the months before it."""
    rows = []
    for origin in origins:  # a handful of origins, each a model fit
        res = _fit(monthly.iloc[:origin], name, spec)
        if isinstance(res, str):
            continue
        start = pd.Timestamp(monthly.index[origin])
        forecast = res._year_mean(start)
        actual = float(monthly.iloc[origin:origin + 12].sum())
        log_error = (float(np.log(actual / forecast)) if actual > 0 and forecast > 0
                     else float("nan"))
        rows.append({"origin": start, "forecast_cents": forecast, "actual_cents": actual,
                     "log_error": log_error})
    return pd.DataFrame(rows, columns=["origin", "forecast_cents", "actual_cents", "log_error"])


def select_forecast(monthly: pd.Series, *, name: str = "company",
                    candidates: dict[str, dict[str, Any]] | None = None,
                    prior_error: float = PRIOR_YEAR_ERROR,
                    prior_weight: float = PRIOR_WEIGHT) -> ForecastSelection:
    """Fit the candidate models on all the history and choose one (module docstring).

    Parameters
    ----------
    monthly : Series
        Sales in cents indexed by month start (every month present, oldest first), as a
        column of :func:`spmkit.quota.history.monthly_sales`.  All of it is used.
    name : str
        What the series is, for messages.
    candidates : dict, optional
        Name -> :class:`SalesForecast` keywords (default :data:`CANDIDATES`).
    prior_error, prior_weight : float
        The prior year error and its weight in backtests (module docstring).

    Returns
    -------
    ForecastSelection

    Raises
    ------
    InputError
        Fewer than :data:`MIN_MONTHS` months, or no candidate could be fitted.
    """
    specs = CANDIDATES if candidates is None else candidates
    n = len(monthly)
    if n < MIN_MONTHS:
        raise InputError(f"history: {name} has {n} month(s) of sales; a forecast needs "
                         f"at least {MIN_MONTHS}")
    fits: dict[str, ForecastResults] = {}
    notes: dict[str, str] = {}
    for model, spec in specs.items():  # a handful of candidate models
        res = _fit(monthly, name, spec)
        if isinstance(res, str):
            notes[model] = res
        else:
            fits[model] = res
    if not fits:
        raise InputError(f"history: no forecast model could be fitted to {name}'s "
                         f"{n} months: " + "; ".join(sorted(set(notes.values()))))
    aicc = pd.Series({m: fits[m].aicc if m in fits else np.nan for m in specs}, dtype=float)
    delta = aicc - aicc.min()
    shortlist = [m for m in specs if m in fits and delta[m] <= AICC_SHORTLIST]
    all_origins = list(range(n - 12, MIN_TRAIN - 1, -BACKTEST_STEP))
    tests = {m: _backtest(monthly, name, specs[m],
                          [o for o in all_origins if o >= _min_train(specs[m])])
             for m in shortlist}
    tests = {m: t for m, t in tests.items() if t["log_error"].notna().any()}
    errors = {m: float(np.mean(np.abs(np.expm1(t["log_error"])))) for m, t in tests.items()}
    if tests:
        common = set.intersection(*(set(t["origin"]) for t in tests.values()))
        score = {m: float(np.mean(np.abs(np.expm1(
            t.loc[t["origin"].isin(common), "log_error"])))) for m, t in tests.items()}
        chosen = min(score, key=lambda m: (score[m], aicc[m]))
        used = tests[chosen].assign(model=chosen)
    else:
        chosen = str(aicc.idxmin())
        used = pd.DataFrame(columns=["model", "origin", "forecast_cents", "actual_cents",
                                     "log_error"])
    used = used[["model", "origin", "forecast_cents", "actual_cents", "log_error"]]
    squared = used["log_error"].dropna().to_numpy(np.float64) ** 2
    year_error = float(np.sqrt((prior_weight * prior_error**2 + squared.sum())
                               / (prior_weight + len(squared))))
    errs = used["log_error"].dropna().to_numpy(np.float64)
    bias = float(errs.sum() / (prior_weight + len(errs)))
    table = pd.DataFrame({
        "model": list(specs),
        "aicc": aicc.to_numpy(),
        "delta_aicc": delta.to_numpy(),
        "shortlisted": [m in shortlist for m in specs],
        "backtests": [len(tests[m]) if m in tests else 0 for m in specs],
        "backtest_error": [errors.get(m, np.nan) for m in specs],
        "chosen": [m == chosen for m in specs],
        "note": [notes.get(m, "") for m in specs],
    })
    note = ""
    if not tests:
        note = (f"{n} months of history: too few for a twelve-month backtest (needs "
                f"{MIN_TRAIN + 12}); chosen by AICc, interval from the prior year error "
                f"{prior_error:.0%}")
    index = pd.DatetimeIndex(monthly.index)
    return ForecastSelection(results=fits[chosen], chosen=chosen, candidates=table,
                             backtests=used.reset_index(drop=True), year_error=year_error,
                             months=n, history_start=index[0], history_end=index[-1],
                             note=note, bias=bias)
