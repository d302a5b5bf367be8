"""``type: commission`` — a rate (or a multiple of BCR) on credited amount, in tiers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from spmkit.components.base import Component, Frozen, MeasureSpec, NonNegative
from spmkit.grid import (
    Earned,
    Grid,
    Num,
    check_quota,
    money_grid,
    pay,
    pct_text,
    rate_text,
    scaled,
    windows,
)
from spmkit.money import round_cents


class Band(Frozen):
    """A tier band: from ``from`` (attainment as a fraction of quota) up to the next band."""

    start: NonNegative = Field(alias="from")
    rate: Decimal | None = None
    bcr_multiple: NonNegative | None = None

    @model_validator(mode="after")
    def _one_rate(self) -> Band:
        if (self.rate is None) == (self.bcr_multiple is None):
            raise ValueError("a band needs exactly one of 'rate' or 'bcr_multiple'")
        return self

    @property
    def is_zero(self) -> bool:
        """A band with rate 0 (a threshold)."""
        return self.rate is not None and self.rate == 0


class Tiers(Frozen):
    method: Literal["marginal", "retroactive"] = "marginal"
    bands: tuple[Band, ...] = Field(min_length=1)

    @field_validator("bands")
    @classmethod
    def _ordered(cls, bands: tuple[Band, ...]) -> tuple[Band, ...]:
        if bands[0].start != 0:
            raise ValueError(
                "the first band must start at 'from: 0' (use a band with rate 0 for a threshold)"
            )
        for i in range(1, len(bands)):
            if bands[i].start <= bands[i - 1].start:
                raise ValueError(
                    f"bands out of order: band {i} starts at {bands[i].start}, "
                    f"not above the band before it ({bands[i - 1].start})"
                )
        return bands

    @property
    def uses_bcr(self) -> bool:
        return any(b.bcr_multiple is not None for b in self.bands)


def _is_zero_band_data(band: dict[str, Any]) -> bool:
    return band.get("rate") is not None and Decimal(band["rate"]) == 0


class Commission(Component):
    """Pays a rate (or a multiple of BCR) on credited amount, in marginal or retroactive tiers
    (rules 3-5, 7, 8 of the plan format)."""

    type_name: ClassVar[str] = "commission"
    uses_attainment: ClassVar[bool] = True
    editable: ClassVar[tuple[str, ...]] = ("attainment", "weight", "threshold", "tiers", "cap")

    type: Literal["commission"] = "commission"
    attainment: Literal["ytd", "period"] = "ytd"
    tiers: Tiers

    def measures(self) -> dict[str, MeasureSpec]:
        return {"value": MeasureSpec(value="amount", filter=self.filter_items())}

    # ------------------------------------------------------------------ earning

    @property
    def needs_quota(self) -> bool:
        return len(self.tiers.bands) > 1 or self.tiers.uses_bcr

    def band_rates(self, grid: Grid, num: Num) -> list[np.ndarray]:
        """Per band, each payee's rate (R,): the band's rate or its multiple of BCR (rule 4)."""
        bcr = None
        if self.tiers.uses_bcr:
            annual_quota = grid.quota.sum(axis=1)
            bcr = num.div(grid.year_target(num) * num.const(self.weight), num.arr(annual_quota))
        return [num.full(len(grid.rep_ids), band.rate) if band.rate is not None
                else bcr * num.const(band.bcr_multiple) for band in self.tiers.bands]

    def earn(self, grid: Grid, num: Num, scale: np.ndarray | None = None) -> Earned:
        basis = self.attainment
        raw_c = windows(grid.measure(self.id), basis)
        raw_q = windows(grid.quota, basis)
        if self.needs_quota and scale is None:
            check_quota(self, grid, raw_c, raw_q)
        c = scaled(raw_c, num, scale)
        q = num.arr(raw_q)
        attainment = num.div(c, q)
        rates = self.band_rates(grid, num)
        bands = self.tiers.bands
        starts = [q * num.const(b.start) for b in bands]
        portions = []
        if self.tiers.method == "marginal":
            earnings = num.zeros(c.shape)
            for i in range(len(bands)):  # bands, not reps
                lo = starts[i]
                part = (np.minimum(c, starts[i + 1]) if i + 1 < len(bands) else c) - lo
                if i > 0:
                    part = np.maximum(part, num.const(0))
                elif not self.needs_quota:
                    part = c
                portions.append(part)
                earnings = earnings + part * rates[i][:, None]
            band_index = None
        else:
            band_index = np.zeros(c.shape, dtype=np.int64)
            for i in range(1, len(bands)):
                band_index += (attainment >= num.const(bands[i].start)) & (q != 0)
            rate_grid = np.stack([np.broadcast_to(r[:, None], c.shape[-2:]) for r in rates],
                                 axis=-1)
            rate_grid = np.broadcast_to(rate_grid, c.shape + (len(bands),))
            chosen = np.take_along_axis(rate_grid, band_index[..., None], axis=-1)[..., 0]
            earnings = chosen * c
        to_date, payout = pay(self, grid, earnings, basis)
        return Earned(attainment, to_date, payout,
                      {"credit": raw_c, "quota": raw_q, "portions": portions, "rates": rates,
                       "band_index": band_index, "earnings": earnings})

    # ------------------------------------------------------------------ explaining

    def _band_labels(self) -> list[str]:
        bands, labels = self.tiers.bands, []
        for i, b in enumerate(bands):
            lo = f"{float(b.start) * 100:g}%"
            if i + 1 < len(bands):
                hi = f"{float(bands[i + 1].start) * 100:g}%"
                labels.append(f"up to {hi}" if i == 0 else f"between {lo} and {hi}")
            else:
                labels.append(f"above {lo}" if i else "at any attainment")
        return labels

    def explain(self, grid: Grid, earned: Earned) -> np.ndarray:
        r, k = grid.shape
        quota = money_grid(earned.detail["quota"], (r, k))
        credit = money_grid(earned.detail["credit"], (r, k))
        window = "year-to-date" if self.attainment == "ytd" else "period"
        att = pct_text(earned.attainment, (r, k))
        bands = self.tiers.bands
        labels = self._band_labels()
        rate_grid = [np.array([rate_text(x) for x in rr], dtype=object)[:, None].repeat(k, axis=1)
                     for rr in earned.detail["rates"]]  # per band: (R, K)
        if self.tiers.method == "marginal":
            text = np.full((r, k), "", dtype=object)
            for i, part in enumerate(earned.detail["portions"]):
                amounts = round_cents(part)
                frag = rate_grid[i] + " on " + money_grid(amounts, (r, k)) + " " + labels[i]
                sep = np.where(text == "", "", "; ")
                text = np.where(amounts != 0, text + sep + frag, text)
            text = np.where(text == "", "no credit", text)
            head = f"Commission on {window} credit of "
            return head + credit + " (" + att + " of the " + quota + " quota): " + text
        idx = earned.detail["band_index"]
        if len(bands) > 1:
            chosen = np.choose(idx, rate_grid)
            band_label = np.choose(idx, np.array(labels, dtype=object)[:, None, None]
                                   .repeat(r, 1).repeat(k, 2))
        else:
            chosen, band_label = rate_grid[0], labels[0]
        return ("Commission at the retroactive rate of " + chosen + " on all " + window
                + " credit of " + credit + " (" + att + " of the " + quota + " quota, "
                + band_label + ")")

    # ------------------------------------------------------------------ explorer

    def threshold(self) -> Decimal | None:
        """The ``from`` of the band after a leading zero-rate band (0 without one)."""
        bands = self.tiers.bands
        if len(bands) > 1 and bands[0].is_zero:
            return bands[1].start
        return Decimal(0)

    @classmethod
    def set_threshold(cls, data: dict[str, Any], value: Decimal) -> None:
        """With a leading zero-rate band its end moves (0 removes it); without one, a
        zero-rate band from 0 is inserted and the first band starts at the threshold."""
        bands = [dict(b) for b in data["tiers"]["bands"]]
        zero = len(bands) > 1 and _is_zero_band_data(bands[0])
        if zero and value == 0:
            bands = bands[1:]
            bands[0]["from"] = Decimal(0)
        elif zero:
            bands[1]["from"] = value
        elif value != 0:
            bands[0]["from"] = value
            bands.insert(0, {"from": Decimal(0), "rate": Decimal(0)})
        data["tiers"]["bands"] = bands
