"""``type: measure`` — measured and attained, never paid: for gates, modifiers and reports."""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from spmkit.components.base import Measured
from spmkit.grid import Earned, Grid, Num, check_quota, money_grid, pct_text, scaled, windows


class Measure(Measured):
    """A measure that pays nothing: other components' gates and modifiers refer to it, and
    reports show its attainment."""

    type_name: ClassVar[str] = "measure"
    editable: ClassVar[tuple[str, ...]] = ("attainment",)

    type: Literal["measure"] = "measure"
    attainment: Literal["ytd", "period"] = "period"

    def earn(self, grid: Grid, num: Num, scale: np.ndarray | None = None) -> Earned:
        raw_c = windows(grid.measure(self.id), self.attainment)
        raw_q = windows(self.quota_of(grid), self.attainment)
        if scale is None and self.basis == "attainment" and num.cents:
            check_quota(self, grid, raw_c, raw_q)
        attainment = num.div(scaled(raw_c, num, scale), self.quota_units(raw_q, num))
        if not num.cents:  # estimates: a zero payout that broadcasts over the draws
            zero = np.zeros(grid.shape, dtype=num.dtype)
            return Earned(attainment, zero, zero, {"credit": raw_c, "quota": raw_q})
        zero = np.zeros(np.broadcast_shapes(raw_c.shape, attainment.shape), dtype=np.int64)
        shown = None if self.basis == "value" and not self.quota_of(grid).any() else attainment
        return Earned(shown, zero, zero.copy(), {"credit": raw_c, "quota": raw_q})

    def explain(self, grid: Grid, earned: Earned) -> np.ndarray:
        window = "year-to-date" if self.attainment == "ytd" else "period"
        value = self.value_text(earned.detail["credit"], grid.shape)
        text = f"Measured only (pays nothing): {window} " + value
        if earned.attainment is None:
            return text
        quota = (money_grid(earned.detail["quota"], grid.shape) if self.item is None
                 else np.array([f"{q / 100:g}" for q in earned.detail["quota"].ravel()],
                               dtype=object).reshape(grid.shape))
        return text + ", " + pct_text(earned.attainment, grid.shape) + " of the " + quota \
            + " quota"
