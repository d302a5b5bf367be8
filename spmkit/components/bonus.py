"""``type: bonus`` — a share of target incentive paid by attainment along a curve."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from spmkit.components.base import Measured
from spmkit.components.fields import (
    MAX_CURVE_POINTS,
    Payout,
    Point,
    at_most,
    check_ascending,
)
from spmkit.grid import (
    Earned,
    Grid,
    Num,
    check_quota,
    money_grid,
    pay,
    pct_text,
    period_targets,
    scaled,
    windows,
)
from spmkit.money import round_cents


class Bonus(Measured):
    """Pays a share of target incentive (``weight``) by attainment along a curve (rule 6);
    ``ytd`` pays the year-to-date target and trues up (rule 7).  With ``basis: value`` the
    curve's x-values are values of the measure, not fractions of quota."""

    type_name: ClassVar[str] = "bonus"
    uses_attainment: ClassVar[bool] = True
    linkable: ClassVar[bool] = True
    editable: ClassVar[tuple[str, ...]] = ("attainment", "weight", "threshold", "curve", "cap")

    type: Literal["bonus"] = "bonus"
    attainment: Literal["ytd", "period"] = "period"
    curve: Annotated[tuple[tuple[Point, Payout], ...],
                     at_most(MAX_CURVE_POINTS, "points", "a curve")] = Field(min_length=1)
    above_last: Literal["cap", "extend"] = "cap"

    @field_validator("curve")
    @classmethod
    def _ordered(cls, curve: tuple[tuple[Decimal, Decimal], ...]) -> tuple:
        check_ascending([x for x, _ in curve], "curve points", "point", "has attainment")
        return curve

    def fraction(self, a: np.ndarray, num: Num) -> np.ndarray:
        """Rule 6: 0 below the first point, linear between points, flat or extended after."""
        if not num.cents:
            return self._fraction_estimate(a, num)
        pts = [(num.const(x), num.const(y)) for x, y in self.curve]
        f = num.zeros(a.shape)
        for i, (x, y) in enumerate(pts):  # curve points, not reps
            if i + 1 < len(pts):
                x2, y2 = pts[i + 1]
                seg = y + (a - x) * ((y2 - y) / (x2 - x))
                f = np.where((a >= x) & (a < x2), seg, f)
            else:
                tail = y
                if self.above_last == "extend" and len(pts) > 1:
                    x0, y0 = pts[i - 1]
                    tail = y + (a - x) * ((y - y0) / (x - x0))
                f = np.where(a >= x, tail, f)
        return f

    def _fraction_estimate(self, a: np.ndarray, num: Num) -> np.ndarray:
        """:meth:`fraction` on floats without ``np.where``: the curve is continuous from
        its first point, so it is y0 (from x0 on) plus each segment's slope times the part
        of ``a`` inside it (and the last slope beyond the last point with ``extend``)."""
        pts = [(float(x), float(y)) for x, y in self.curve]
        x0, y0 = pts[0]
        f = (a >= x0) * np.asarray(y0, dtype=num.dtype) if y0 else None
        segments = list(zip(pts, pts[1:], strict=False))
        for i, ((x, y), (x2, y2)) in enumerate(segments):  # curve points, not reps
            last = i + 1 == len(segments) and self.above_last == "extend"
            part = a - x
            np.maximum(part, 0.0, out=part)
            if not last:
                np.minimum(part, x2 - x, out=part)
            part *= (y2 - y) / (x2 - x)
            f = part if f is None else np.add(f, part, out=f)
        if f is None:
            f = np.zeros(a.shape, dtype=num.dtype)
        return f

    def earn(self, grid: Grid, num: Num, scale: np.ndarray | None = None) -> Earned:
        window = self.attainment
        raw_c = windows(grid.measure(self.id), window)
        key = (self.id, window, num.dtype.str, num.cents)  # figures kept across what-ifs
        raw_q = grid.memo(("quota",) + key, lambda: windows(self.quota_of(grid), window))
        if scale is None and self.basis == "attainment" and num.cents:
            check_quota(self, grid, raw_c, raw_q)
        c = scaled(raw_c, num, scale)
        attainment = num.div(c, grid.memo(("quota units",) + key,
                                          lambda: self.quota_units(raw_q, num)))
        position = attainment if self.basis == "attainment" else c / num.const(self.unit)
        targets = grid.memo(("targets",) + key,
                            lambda: windows(period_targets(self, grid, num), window))
        fraction = self.fraction(position, num)
        earnings = targets * fraction if num.cents else np.multiply(fraction, targets,
                                                                    out=fraction)
        held = None
        if self.gate is not None and self.gate.above is not None:  # the curve held flat at X
            held = targets * self.fraction(np.minimum(position, num.const(self.gate.above)), num)
        earnings = self.linked(grid, num, scale, earnings, window, held=held)
        to_date, payout = pay(self, grid, earnings, window, num)
        shown = None if self.basis == "value" and not self.quota_of(grid).any() else attainment
        return Earned(shown, to_date, payout,
                      {"credit": raw_c, "quota": raw_q, "target": targets, "fraction": fraction,
                       "earnings": earnings})

    def explain(self, grid: Grid, earned: Earned) -> np.ndarray:
        r, k = grid.shape
        target = money_grid(round_cents(earned.detail["target"]), (r, k))
        frac = pct_text(earned.detail["fraction"], (r, k))
        window = "year-to-date" if self.attainment == "ytd" else "period"
        if self.basis == "value":
            value = self.value_text(earned.detail["credit"], (r, k))
            noun = "credit" if self.item is None else f"{self.item}s counted"
            return (f"Bonus: {window} {noun} of " + value + " pays " + frac + " of the "
                    + target + f" {window} target (target incentive x "
                    f"{float(self.weight) * 100:g}% weight)")
        att = pct_text(earned.attainment, (r, k))
        return ("Bonus: " + window + " attainment " + att + " pays " + frac + " of the "
                + target + f" {window} target (target incentive x "
                f"{float(self.weight) * 100:g}% weight, "
                "phased by quota and prorated by days employed)")

    def threshold(self) -> Decimal | None:
        """The first curve point's attainment."""
        return self.curve[0][0]

    @classmethod
    def set_threshold(cls, data: dict[str, Any], value: Decimal) -> None:
        """The first curve point moves."""
        curve = [list(p) for p in data["curve"]]
        curve[0][0] = value
        data["curve"] = curve
