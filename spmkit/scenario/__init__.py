"""Comparing plans: KPIs, per-rep and per-segment deltas, pay curves, sensitivity, Monte Carlo.

Pure computation on the engine's results (:mod:`spmkit.payout`): functions take plans,
inputs and results and return DataFrames (money in int64 cents); nothing is printed or
formatted here (see :mod:`spmkit.report` for that).
"""

from spmkit.scenario.compare import Comparison, compare
from spmkit.scenario.curve import pay_curve
from spmkit.scenario.metrics import (
    BAND_KEYS,
    BANDS,
    attainment_bands,
    band_index,
    kpis,
    movers,
    rep_deltas,
    rep_outcomes,
    segment_deltas,
)
from spmkit.scenario.risk import (
    monte_carlo,
    performance_pool,
    risk_summary,
    scale_sales,
    sensitivity,
)

__all__ = [
    "BANDS", "BAND_KEYS", "Comparison", "attainment_bands", "band_index", "compare", "kpis",
    "monte_carlo", "movers", "pay_curve", "performance_pool", "rep_deltas", "rep_outcomes",
    "risk_summary", "scale_sales", "segment_deltas", "sensitivity",
]
