"""Annual quota methods: growth on prior year, and top-down allocation of a target.

Each method takes per-rep history (cents) and settings and returns one row per rep with
the annual quota in cents and a ``reason`` sentence.  Top-down allocations sum exactly to
the target (largest remainder, :func:`spmkit.money.allocate`).
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from spmkit.errors import InputError
from spmkit.money import allocate, format_money, to_decimal
from spmkit.quota.allocation import integer_weights, median_cents, scale_cents

__all__ = ["growth_quotas", "share_quotas"]


def _pct(x: np.ndarray) -> pd.Series:
    return pd.Series([f"{v:.2%}" for v in np.asarray(x, dtype=np.float64).tolist()], dtype="str")


def growth_quotas(history: pd.Series, *, growth: Decimal | float | str = "0.1",
                  floor: Decimal | float | str | None = "0.5",
                  ceiling: Decimal | float | str | None = "2.0") -> pd.DataFrame:
    """Annual quota = prior-year credited sales x (1 + growth), kept within a band around
    the team median.

    The team median is the median of the grown figures of reps *with* prior-year sales;
    quotas below ``floor`` x median are raised to it (so a rep with no history gets the
    floor) and quotas above ``ceiling`` x median are lowered to it.

    Parameters
    ----------
    history : Series of int64 cents indexed by ``rep_id``
        Prior-year credited sales (see :func:`spmkit.quota.history.rep_history`).
    growth : Decimal, float or str
        Growth rate, e.g. ``0.1`` for +10%; must be greater than -1.
    floor, ceiling : Decimal, float, str or None
        Bounds as multiples of the team median; ``None`` for no bound.

    Returns
    -------
    DataFrame, one row per rep: ``rep_id`` str, ``history_cents``, ``grown_cents``,
    ``annual_cents`` (int64 cents), ``reason`` str.

    Raises
    ------
    InputError
        No rep has prior-year sales, or the settings are out of range.

    Examples
    --------
    >>> h = pd.Series([100_00, 200_00, 0], index=pd.Index(["a", "b", "c"], name="rep_id"))
    >>> growth_quotas(h, growth="0.1")["annual_cents"].tolist()
    [11000, 22000, 8250]
    """
    g = to_decimal(growth)
    if g <= -1:
        raise InputError(f"settings: growth {growth} must be greater than -1")
    hist = history.to_numpy(dtype=np.int64)
    positive = hist > 0
    if not positive.any():
        raise InputError("history: no rep has credited sales in the year before the plan year")
    factor = 1 + g
    grown = scale_cents(hist, factor)
    median = median_cents(grown[positive])
    lo = int(scale_cents([median], floor)[0]) if floor is not None else None
    hi = int(scale_cents([median], ceiling)[0]) if ceiling is not None else None
    if lo is not None and hi is not None and lo > hi:
        raise InputError(f"settings: floor {floor} is above ceiling {ceiling}")
    annual = grown.copy()
    base = ("prior-year credit " + format_money(hist) + f" x {factor} = " + format_money(grown))
    note = pd.Series("", index=range(len(hist)), dtype="str")
    if lo is not None:
        low = annual < lo
        annual = np.where(low, lo, annual)
        note = note.where(~low, f"; raised to the floor {floor} x team median "
                          f"{format_money([median])[0]} = {format_money([lo])[0]}")
        note = note.where(positive | ~low, f"; no prior-year sales: the floor {floor} x team "
                          f"median {format_money([median])[0]} = {format_money([lo])[0]}")
    if hi is not None:
        high = annual > hi
        annual = np.where(high, hi, annual)
        note = note.where(~high, f"; lowered to the ceiling {ceiling} x team median "
                          f"{format_money([median])[0]} = {format_money([hi])[0]}")
    return pd.DataFrame({
        "rep_id": history.index.astype("str"),
        "history_cents": hist,
        "grown_cents": grown,
        "annual_cents": np.asarray(annual, dtype=np.int64),
        "reason": (base + note).to_numpy(),
    })


def share_quotas(target_cents: int, history: pd.Series, *,
                 potential: pd.Series | None = None,
                 weight: Decimal | float | str = 1,
                 floor: Decimal | float | str | None = "0.5") -> pd.DataFrame:
    """Split a target across reps by their share of history, of potential, or a blend.

    A rep's history weight is their prior-year credit (negative counts as 0), raised to
    ``floor`` x the median credit of reps with credit (so a rep with no history still gets
    a share); the potential weight is the roster's ``potential``.  The blended share is
    ``weight`` x history share + (1 - ``weight``) x potential share, computed exactly, and
    the target is allocated by largest remainder so the quotas sum exactly to it.

    Parameters
    ----------
    target_cents : int
        The company (or region) target in cents, >= 0.
    history : Series of int64 cents indexed by ``rep_id``
        Prior-year credited sales.
    potential : Series indexed by ``rep_id``, optional
        Non-negative potential per rep (any unit); required when ``weight`` < 1.
    weight : Decimal, float or str
        Weight of history in [0, 1]: 1 = pure share of history ("share"), 0 = pure
        potential ("potential").
    floor : Decimal, float, str or None
        Minimum history weight as a multiple of the median; ``None`` for none.

    Returns
    -------
    DataFrame, one row per rep: ``rep_id``, ``history_cents``, ``share`` (float, for
    display), ``annual_cents`` (int64), ``reason``.

    Examples
    --------
    >>> h = pd.Series([1, 1, 1], index=pd.Index(["a", "b", "c"], name="rep_id"))
    >>> share_quotas(100, h)["annual_cents"].tolist()
    [34, 33, 33]
    """
    w = to_decimal(weight)
    if not 0 <= w <= 1:
        raise InputError(f"settings: weight {weight} must be between 0 and 1")
    if target_cents < 0:
        raise InputError("settings: the target must not be negative")
    n = len(history)
    if n == 0:
        raise InputError("history: there are no reps to allocate the target to")
    hist = history.to_numpy(dtype=np.int64)
    h = np.maximum(hist, 0)
    floor_note = pd.Series("", index=range(n), dtype="str")
    if floor is not None and (h > 0).any():
        lo = int(scale_cents([median_cents(h[h > 0])], floor)[0])
        raised = h < lo
        h = np.maximum(h, lo)
        floor_note = floor_note.where(~raised, f" (raised to the floor {floor} x median)")
    num, den = w.as_integer_ratio()
    h_obj = h.astype(object)
    h_total = int(h.sum())
    if num and h_total == 0:
        raise InputError("history: no rep has credited sales to share the target by")
    if num < den:
        if potential is None:
            raise InputError("roster: a 'potential' column is needed to allocate by potential")
        p = potential.reindex(history.index)
        if p.isna().any():
            missing = ", ".join(p.index[p.isna().to_numpy()][:5].astype(str))
            raise InputError(f"roster: no potential for rep(s) {missing}", )
        p_obj = integer_weights(p.to_numpy())
        if (p_obj < 0).any():
            raise InputError("roster: potential must not be negative")
        p_total = int(p_obj.sum())
        if p_total == 0:
            raise InputError("roster: potential sums to zero")
        if num == 0:
            weights = p_obj
        else:
            weights = num * h_obj * p_total + (den - num) * p_obj * h_total
    else:
        p_obj, weights = None, h_obj
    annual = allocate(int(target_cents), weights)
    total_w = weights.sum()
    share = weights.astype(np.float64) / float(total_w)
    target_text = format_money([target_cents])[0]
    if p_obj is None:
        reason = ("share " + _pct(share) + f" of the {target_text} target by prior-year credit "
                  + format_money(hist) + floor_note)
    elif num == 0:
        reason = "share " + _pct(share) + f" of the {target_text} target by potential"
    else:
        reason = ("share " + _pct(share) + f" of the {target_text} target: {w} x share of "
                  "prior-year credit " + format_money(hist) + floor_note
                  + f" + {1 - w} x share of potential")
    return pd.DataFrame({
        "rep_id": history.index.astype("str"),
        "history_cents": hist,
        "share": share,
        "annual_cents": annual.astype(np.int64),
        "reason": reason.to_numpy(),
    })
