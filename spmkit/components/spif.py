"""``type: spif`` — per deal, or a rate on credit, for deals closed inside a window."""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import model_validator

from spmkit.components.base import Component, MeasureSpec
from spmkit.components.fields import PlanDate, Rate, SignedAmount
from spmkit.grid import Earned, Grid, Num, money_grid, pay, rate_text, scaled
from spmkit.tables import PPB


class Spif(Component):
    """Pays per deal or a rate on deals whose credit date falls inside a window (rule 8).

    It pays the deal's sellers (owner and split lines); roll-up and overlay lines earn it
    only with ``rollup: true`` or ``overlay: true``.  A clawed-back deal's SPIF is
    reversed only with ``clawback: true``; a credit memo earns no per-deal SPIF.
    """

    type_name: ClassVar[str] = "spif"
    cap_kinds: ClassVar[tuple[str, ...]] = ("amount",)
    editable: ClassVar[tuple[str, ...]] = ("cap",)

    type: Literal["spif"] = "spif"
    window: tuple[PlanDate, PlanDate]
    per_deal: SignedAmount | None = None
    rate: Rate | None = None
    clawback: bool = False
    rollup: bool = False
    overlay: bool = False

    def negative_values(self) -> list[str]:
        return [key for key, v in (("per_deal", self.per_deal), ("rate", self.rate))
                if v is not None and v < 0]

    @model_validator(mode="after")
    def _check(self) -> Spif:
        if (self.per_deal is None) == (self.rate is None):
            raise ValueError("a spif needs exactly one of 'per_deal' or 'rate'")
        if self.window[1] < self.window[0]:
            raise ValueError("window ends before it starts")
        if self.cap is not None and self.cap.ti_multiple is not None:
            raise ValueError("a spif cap must be an 'amount'")
        return self

    def measures(self) -> dict[str, MeasureSpec]:
        roles = ("seller",) + (("rollup",) if self.rollup else ()) + (
            ("overlay",) if self.overlay else ())
        per_deal = self.per_deal is not None  # a credit memo is not a deal: no per-deal SPIF
        return {name: MeasureSpec(value=value, filter=self.filter_items(),
                                  deal_window=self.window, clawback=self.clawback,
                                  credit_memos=not per_deal, roles=roles)
                for name, value in (("value", "amount"), ("shares", "share"), ("lines", "lines"))
                if per_deal or name == "value"}

    def earn(self, grid: Grid, num: Num, scale: np.ndarray | None = None) -> Earned:
        if self.per_deal is not None:
            shares = scaled(grid.measure(self.id, "shares"), num, scale)
            if num.cents:
                earnings = shares * num.const(self.per_deal * 100) / num.const(PPB)
            else:
                earnings = shares * (float(self.per_deal * 100) / PPB)
        else:
            earnings = scaled(grid.measure(self.id), num, scale) * num.const(self.rate)
        to_date, payout = pay(self, grid, earnings, "period", num)
        return Earned(None, to_date, payout, {"credit": grid.measure(self.id),
                                              "earnings": earnings})

    def explain(self, grid: Grid, earned: Earned) -> np.ndarray:
        r, k = grid.shape
        win = f"{self.window[0]:%Y-%m-%d} to {self.window[1]:%Y-%m-%d}"
        if self.per_deal is not None:
            share_values = grid.measure(self.id, "shares")
            counts = grid.measure(self.id, "lines")
            shares = np.array([f"{v / PPB:g}" for v in share_values.ravel()],
                              dtype=object).reshape(r, k)
            noun = np.where(counts == 1, " credit line", " credit lines")
            return (f"SPIF {self.per_deal:,.2f} per deal closed {win}: "
                    + counts.astype(str).astype(object) + noun + ", deal shares " + shares)
        head = f"SPIF {rate_text(self.rate)} on credit from deals closed {win}: "
        return head + money_grid(earned.detail["credit"], (r, k))
