"""Quota setting: growth on prior year, top-down allocation, ETS forecasts, phasing, ramps,
proration and health checks.  Pure computation: functions take and return DataFrames
(money in int64 cents) and never print.  Conventions: ``docs/quotas.md``.
"""

from spmkit.quota.allocation import allocate, allocate_rows, scale_cents
from spmkit.quota.forecast import ForecastResults, SalesForecast
from spmkit.quota.health import (
    BANDS,
    NORM,
    QuotaHealth,
    attainment_bands,
    norm_verdict,
    quota_health,
    quota_movers,
    region_fairness,
    replay_attainment,
)
from spmkit.quota.history import credit_lines, monthly_sales, plan_year_start, rep_history
from spmkit.quota.methods import growth_quotas, share_quotas
from spmkit.quota.phasing import apply_factors, employment_factors, phase, seasonality
from spmkit.quota.proposal import (
    METHODS,
    QuotaProposal,
    load_potential,
    propose_from_files,
    propose_quotas,
    write_quotas,
)

__all__ = [
    "BANDS", "METHODS", "NORM", "ForecastResults", "QuotaHealth", "QuotaProposal",
    "SalesForecast", "allocate", "allocate_rows", "apply_factors", "attainment_bands",
    "credit_lines", "employment_factors", "growth_quotas", "load_potential", "monthly_sales",
    "norm_verdict", "phase", "plan_year_start", "propose_from_files", "propose_quotas",
    "quota_health",
    "quota_movers", "region_fairness", "rep_history", "replay_attainment", "scale_cents",
    "seasonality", "share_quotas", "write_quotas",
]
