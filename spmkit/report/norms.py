"""Published industry norms a report shows beside its figures, with their public sources.

Each :class:`Norm` is a range (``low`` .. ``high``, fractions or multiples, either end
optional) and the sentence and source it came from.  They are copied from public surveys
and glossaries (listed in ``source``); they describe typical plans, not targets, and a
report states them as such.  :data:`NORMS` is keyed by the metric a norm stands beside
(the keys of ``metrics.json``); :func:`norm_verdict` says where a value sits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["NORMS", "Norm", "norm_verdict"]


@dataclass(frozen=True)
class Norm:
    """One published norm.

    Attributes
    ----------
    metric : str
        The metric it stands beside (a ``metrics.json`` key).
    text : str
        The norm as a reader sees it ("usually 3-9% of revenue").
    source : str
        Who published it.
    low, high : float or None
        The typical range (fractions: 0.03 = 3%; multiples: 2.0 = 2x); None = open.
    """

    metric: str
    text: str
    source: str
    low: float | None = None
    high: float | None = None


NORMS: dict[str, Norm] = {n.metric: n for n in (
    Norm("cost_of_sales", "comp cost of sales usually 3-9% of revenue", "ZS", 0.03, 0.09),
    Norm("total_comp_cost_of_sales", "comp (pay and salary) as a share of revenue about 9.8%",
         "Xactly 2017 survey", None, None),
    Norm("share_at_or_above_100", "60-70% of reps at or above quota is healthy; above 85% "
         "too easy, below 45% too hard", "salesroadmaps.com; thecroreport.com", 0.60, 0.70),
    Norm("reps_below_threshold", "about 90% of reps reach threshold (so about 10% below)",
         "OpenSymmetry via salesmanagement.org", None, 0.10),
    Norm("payout_vs_target", "payouts 105-115% of the target-incentive pool", "easycomp",
         1.05, 1.15),
    Norm("leverage", "the 90th percentile earns 200-300% of target incentive; "
         "leverage = top decile / median", "SalesGlobe", 2.0, 3.0),
    Norm("top_decile_pct_of_target", "top decile earning about 2x target incentive "
         "(sometimes 3x)", "QuotaPath; Aon Radford; ecsell Institute", 2.0, 3.0),
    Norm("reps_at_cap", "caps generally discouraged; seen at 200-300% of quota; over 70% "
         "of companies do not cap the primary measure", "salesglobe.com; Alexander Group 2014",
         None, None),
    Norm("median_attainment", "attainment mean 100-110% of quota, standard deviation "
         "0.2-0.3 of quota, right-skewed", "easycomp; Alexander Group whitepaper", None, None),
    Norm("accelerator", "accelerators 1.5-2x the base rate above quota",
         "QuotaPath; Aon Radford; ecsell Institute", 1.5, 2.0),
)}


def norm_verdict(metric: str, value: float | None) -> str:
    """Where ``value`` sits against the norm of ``metric``: ``"within"``, ``"below"``,
    ``"above"``, or ``""`` (no norm, no range or no value)."""
    norm = NORMS.get(metric)
    if norm is None or value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if norm.low is None and norm.high is None:
        return ""
    if norm.low is not None and value < norm.low:
        return "below"
    if norm.high is not None and value > norm.high:
        return "above"
    return "within"
