"""``type: commission`` — a rate (or a multiple of BCR) on credited amount, in tiers."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from spmkit.components.base import WHEN_COLUMNS, Measured, MeasureSpec
from spmkit.components.fields import (
    MAX_BANDS,
    Frozen,
    Point,
    SignedMultiple,
    UnitRate,
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
    scaled,
    windows,
)
from spmkit.money import round_cents


class Band(Frozen):
    """A tier band: from ``from`` (attainment as a fraction of quota) up to the next band."""

    start: Point = Field(alias="from")
    rate: UnitRate | None = None
    bcr_multiple: SignedMultiple | None = None

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
    """Bands of a commission.  ``marginal``: each band's rate on the part of the measure
    inside it; ``retroactive``: the rate of the band holding the attainment on all of it;
    ``interpolated``: a rate linear in attainment between the bands' ``(from, rate)`` points,
    flat after the last, on all of it.

    ``scope``: ``total`` (the window's measure), ``deal`` (each credit line through the bands
    on its own, with ``basis: value``), ``running`` (lines in credit-date order; marginal
    tiers give the same sum as ``total``, retroactive ones pay each line at the rate of the
    band holding the attainment after it)."""

    method: Literal["marginal", "retroactive", "interpolated"] = "marginal"
    scope: Literal["total", "deal", "running"] = "total"
    bands: Annotated[tuple[Band, ...], at_most(MAX_BANDS, "bands", "a tier table")] = Field(
        min_length=1)

    @field_validator("bands")
    @classmethod
    def _ordered(cls, bands: tuple[Band, ...]) -> tuple[Band, ...]:
        if bands[0].start != 0:
            raise ValueError(
                "the first band must start at 'from: 0' (use a band with rate 0 for a threshold)"
            )
        check_ascending([b.start for b in bands], "bands", "band", "starts at")
        return bands

    @property
    def uses_bcr(self) -> bool:
        return any(b.bcr_multiple is not None for b in self.bands)


class RateRow(Frozen):
    """A row of a ``rates:`` table: a flat rate for credit lines matching ``when``."""

    when: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    rate: UnitRate

    @field_validator("when", mode="before")
    @classmethod
    def _columns(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError("'when' must map columns to lists of values")
        out = {}
        for key, vals in value.items():
            if key not in WHEN_COLUMNS:
                raise ValueError(f"'when' key {key!r} is not a deal or roster column; use one "
                                 f"of {', '.join(WHEN_COLUMNS)}")
            if vals is None or vals == []:
                raise ValueError(f"'when' key {key!r} needs at least one value")
            out[key] = tuple(str(v) for v in (vals if isinstance(vals, list) else [vals]))
        return out

    def text(self) -> str:
        if not self.when:
            return "any other line"
        return "; ".join(f"{k} {', '.join(v)}" for k, v in self.when.items())


def _is_zero_band_data(band: dict[str, Any]) -> bool:
    return band.get("rate") is not None and Decimal(band["rate"]) == 0


class Commission(Measured):
    """Pays a rate (or a multiple of BCR) on the measure, in marginal, retroactive or
    interpolated tiers (rules 3-5, 7, 8 of the plan format); band points are fractions of
    quota, or values of the measure with ``basis: value``."""

    type_name: ClassVar[str] = "commission"
    uses_attainment: ClassVar[bool] = True
    linkable: ClassVar[bool] = True
    editable: ClassVar[tuple[str, ...]] = ("attainment", "weight", "threshold", "tiers", "cap")

    type: Literal["commission"] = "commission"
    attainment: Literal["ytd", "period"] = "ytd"
    tiers: Tiers | None = None
    rates: tuple[RateRow, ...] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> Commission:
        if (self.tiers is None) == (self.rates is None):
            raise ValueError("a commission needs exactly one of 'tiers' or 'rates'")
        if self.tiers is not None and self.tiers.scope == "deal" and self.basis != "value":
            raise ValueError("tiers.scope: deal runs each credit line through the bands on "
                             "its own, so it needs 'basis: value'")
        if self.tiers is not None and self.tiers.scope != "total" \
                and self.tiers.method == "interpolated":
            raise ValueError("tiers.method: interpolated works on the window's total only "
                             "(scope: total)")
        if self.gate is not None and self.gate.above is not None and self.rates is not None:
            raise ValueError("gate locks: {above: X} needs tiers; a rate table has no bands")
        return self

    def warnings(self) -> list[str]:
        if self.rates is not None and all(row.when for row in self.rates):
            return [f"component {self.id!r}: its rates table has no default row (one without "
                    "'when'), so a credit line that no row matches earns nothing"]
        return []

    def negative_values(self) -> list[str]:
        if self.tiers is None and self.rates is None:
            return []  # the shape check says what is missing
        if self.rates is not None:
            return [f"rates[{i}].rate" for i, row in enumerate(self.rates) if row.rate < 0]
        return [f"bands[{i}].{key}" for i, b in enumerate(self.tiers.bands)
                for key, v in (("rate", b.rate), ("bcr_multiple", b.bcr_multiple))
                if v is not None and v < 0]

    def editable_fields(self) -> tuple[str, ...]:
        if self.rates is not None:
            return ("attainment", "weight", "cap")
        return self.editable

    # ------------------------------------------------------------------ measuring

    @property
    def by_line(self) -> bool:
        """Whether each credit line is priced on its own (rates, scope deal, retroactive
        running) rather than the window's total."""
        if self.rates is not None:
            return True
        return self.tiers.scope == "deal" or (self.tiers.scope == "running"
                                              and self.tiers.method == "retroactive")

    def measures(self) -> dict[str, MeasureSpec]:
        base = self.value_spec()
        out = {"value": base}
        if self.rates is not None:
            for i, row in enumerate(self.rates):
                out[f"line{i}"] = MeasureSpec(
                    value=base.value, filter=base.filter + tuple(sorted(row.when.items())),
                    unless=tuple(tuple(sorted(r.when.items())) for r in self.rates[:i]))
            return out
        bands = self.tiers.bands
        for i, band in enumerate(bands):
            hi = bands[i + 1].start if i + 1 < len(bands) else None
            if self.tiers.scope == "deal":
                out[f"line{i}"] = MeasureSpec(
                    value=base.value, filter=base.filter,
                    band=(self._units(band.start), None if hi is None else self._units(hi)),
                    band_whole=self.tiers.method == "retroactive")
            elif self.by_line:  # running, retroactive: the band holding the total after it
                edges = (band.start, hi) if self.basis == "attainment" else (
                    Decimal(self._units(band.start)),
                    None if hi is None else Decimal(self._units(hi)))
                out[f"line{i}"] = MeasureSpec(value=base.value, filter=base.filter,
                                              running=edges, running_window=self.attainment,
                                              running_basis=self.basis,
                                              running_quota=self.quota)
        return out

    def _units(self, point: Decimal) -> int:
        """A band point in plan units as grid units (cents, or parts per billion)."""
        return int(point * self.unit)

    # ------------------------------------------------------------------ earning

    @property
    def needs_quota(self) -> bool:
        """Whether attainment needs a quota: bands on attainment beyond one, or BCR rates."""
        if self.rates is not None:
            return False
        if self.tiers.uses_bcr:
            return True
        return self.basis == "attainment" and len(self.tiers.bands) > 1

    def band_rates(self, grid: Grid, num: Num) -> list[np.ndarray]:
        """Per band, each payee's rate (R,): the band's rate or its multiple of BCR (rule 4)."""
        bcr = None
        if self.rates is not None:
            return [num.full(len(grid.rep_ids), row.rate) for row in self.rates]
        if self.tiers.uses_bcr:
            # TI / quota: a rate per currency unit of quota, or per deal with ``count``
            annual = num.arr(self.quota_of(grid).sum(axis=1))
            bcr = num.div(grid.year_target(num) * num.const(self.weight), annual)
        return [num.full(len(grid.rep_ids), band.rate) if band.rate is not None
                else bcr * num.const(band.bcr_multiple) for band in self.tiers.bands]

    def earn(self, grid: Grid, num: Num, scale: np.ndarray | None = None) -> Earned:
        window = self.attainment
        raw_c = windows(grid.measure(self.id), window)
        key = (self.id, window, num.dtype.str, num.cents)  # figures kept across what-ifs
        raw_q = grid.memo(("quota",) + key, lambda: windows(self.quota_of(grid), window))
        if self.needs_quota and scale is None and num.cents:  # estimates: checked before
            check_quota(self, grid, raw_c, raw_q)
        c = scaled(raw_c, num, scale)
        q = grid.memo(("quota units",) + key, lambda: self.quota_units(raw_q, num))
        attainment = num.div(c, q)
        # where the band points sit, in grid units: fractions of quota, or plan units
        scale_points = q if self.basis == "attainment" else num.arr(
            np.full(raw_q.shape, self.unit, dtype=np.int64))
        position = attainment if self.basis == "attainment" else num.div(c, scale_points)
        rates = grid.memo(("rates",) + key, lambda: self.band_rates(grid, num))
        held = None
        if self.by_line:  # each line priced on its own: the sum of rate x measure per band/row
            portions = [scaled(windows(grid.measure(self.id, f"line{i}"), window), num, scale)
                        for i in range(len(rates))]
            earnings = sum(p * r[:, None] for p, r in zip(portions, rates, strict=True))
            band_index, shown_rates = None, rates
        else:
            bands = self.tiers.bands
            starts = grid.memo(("starts",) + key, lambda: [scale_points * num.const(b.start)
                                                           for b in bands])
            earnings, portions, band_index, shown_rates = self._tiered(
                c, position, scale_points, starts, rates, num)
        if self.gate is not None and self.gate.above is not None:
            # while the gate is unmet, bands from X up pay the rate of the band just below X
            bands, x = self.tiers.bands, self.gate.above
            below = max(i for i, b in enumerate(bands) if b.start < x) if x > 0 else 0
            held_rates = [r if b.start < x else rates[below] for b, r in zip(bands, rates,
                                                                            strict=True)]
            if self.by_line:
                held = sum(p * r[:, None] for p, r in zip(portions, held_rates, strict=True))
            else:
                capped = np.minimum(position, num.const(x)) if self.tiers.method == \
                    "interpolated" else position
                held = self._tiered(c, capped, scale_points, starts, held_rates, num)[0]
        earnings = self.linked(grid, num, scale, earnings, window, held=held)
        rates = shown_rates
        if num.cents:
            earnings = earnings * num.const(100) / num.const(self.unit)  # grid units -> cents
        elif self.unit != 100:
            earnings = earnings * (100 / self.unit)
        to_date, payout = pay(self, grid, earnings, window, num)
        shown = None if self.basis == "value" and not self.quota_of(grid).any() else attainment
        return Earned(shown, to_date, payout,
                      {"credit": raw_c, "quota": raw_q, "portions": portions, "rates": rates,
                       "band_index": band_index, "earnings": earnings, "position": position})

    def _tiered(self, c: np.ndarray, position: np.ndarray, scale_points: np.ndarray,
                starts: list[np.ndarray], rates: list[np.ndarray], num: Num) -> tuple:
        """Rule 5 (and interpolation): earnings in grid units, the marginal portions, the
        band index and the rates to explain."""
        bands = self.tiers.bands
        portions, band_index = [], None
        if self.tiers.method == "marginal" and not num.cents:  # estimates: in place
            # rates as (R, K) arrays: numpy loops over contiguous cells, not runs of K
            rates = [np.ascontiguousarray(np.broadcast_to(r[:, None], c.shape[-2:]))
                     for r in rates]
            earnings = None
            for i in range(len(bands)):  # bands, not reps
                if i + 1 < len(bands):
                    part = np.minimum(c, starts[i + 1])
                    part -= starts[i]
                else:
                    part = c - starts[i]
                if i > 0:
                    np.maximum(part, 0.0, out=part)
                part *= rates[i]
                earnings = part if earnings is None else np.add(earnings, part, out=earnings)
            return earnings, portions, band_index, rates
        if self.tiers.method == "marginal":
            earnings = num.zeros(c.shape)
            for i in range(len(bands)):  # bands, not reps
                part = (np.minimum(c, starts[i + 1]) if i + 1 < len(bands) else c) - starts[i]
                if i > 0:
                    part = np.maximum(part, num.const(0))
                portions.append(part)
                earnings = earnings + part * rates[i][:, None]
            return earnings, portions, band_index, rates
        band_index = np.zeros(c.shape, dtype=np.int64)
        for i in range(1, len(bands)):
            band_index += (position >= num.const(bands[i].start)) & (scale_points != 0)
        if self.tiers.method == "retroactive":
            return self._pick(rates, band_index, c.shape) * c, portions, band_index, rates
        # interpolated: a rate linear between the bands' points, flat after the last
        rate = self._pick(rates, np.zeros(c.shape, dtype=np.int64), c.shape)
        for i in range(1, len(bands)):  # bands, not reps
            x0, x1 = num.const(bands[i - 1].start), num.const(bands[i].start)
            r0, r1 = rates[i - 1][:, None], rates[i][:, None]
            inside = (position >= x0) & (position < x1)
            rate = np.where(inside, r0 + (position - x0) * (r1 - r0) / (x1 - x0), rate)
            rate = np.where(position >= x1, r1, rate)
        return rate * c, portions, band_index, [rate]

    @staticmethod
    def _pick(rates: list[np.ndarray], band_index: np.ndarray,
              shape: tuple[int, ...]) -> np.ndarray:
        """Each cell's rate from its band (rates per band are per payee)."""
        rate_grid = np.stack([np.broadcast_to(r[:, None], shape[-2:]) for r in rates], axis=-1)
        rate_grid = np.broadcast_to(rate_grid, shape + (len(rates),))
        return np.take_along_axis(rate_grid, band_index[..., None], axis=-1)[..., 0]

    # ------------------------------------------------------------------ explaining

    def _band_labels(self) -> list[str]:
        bands, labels = self.tiers.bands, []
        for i, b in enumerate(bands):
            lo = self.point_text(b.start)
            if i + 1 < len(bands):
                hi = self.point_text(bands[i + 1].start)
                labels.append(f"up to {hi}" if i == 0 else f"between {lo} and {hi}")
            else:
                labels.append(f"above {lo}" if i else "at any attainment")
        return labels

    def explain(self, grid: Grid, earned: Earned) -> np.ndarray:
        r, k = grid.shape
        d = earned.detail
        credit = self.value_text(d["credit"], (r, k))
        if self.item is None:
            quota = money_grid(d["quota"], (r, k))
        else:
            quota = np.array([f"{q / 100:g}" for q in d["quota"].ravel()],
                             dtype=object).reshape(r, k)
        window = "year-to-date" if self.attainment == "ytd" else "period"
        noun = "credit" if self.item is None else f"{self.item}s counted"
        if earned.attainment is None:
            of_quota = np.full((r, k), "", dtype=object)
        else:
            of_quota = " (" + pct_text(earned.attainment, (r, k)) + " of the " + quota + " quota)"
            of_quota = np.where(np.asarray(d["quota"]).reshape(r, k) != 0, of_quota, "")
        head = f"Commission on {window} {noun} of " + credit + of_quota
        if self.by_line:
            return head + ": " + self._by_line_text(d, (r, k))
        if self.tiers.method == "interpolated":
            rate = np.array([self.rate_label(x) for x in np.ravel(d["rates"][0])],
                            dtype=object).reshape(r, k)
            return head + ": the interpolated rate of " + rate + " on all of it"
        labels = self._band_labels()
        rate_grid = [np.array([self.rate_label(x) for x in rr], dtype=object)[:, None]
                     .repeat(k, axis=1)
                     for rr in d["rates"]]  # per band: (R, K)
        if self.tiers.method == "marginal":
            text = np.full((r, k), "", dtype=object)
            for i, part in enumerate(d["portions"]):
                amounts = round_cents(part)
                frag = rate_grid[i] + " on " + self.value_text(amounts, (r, k)) + " " + labels[i]
                sep = np.where(text == "", "", "; ")
                text = np.where(amounts != 0, text + sep + frag, text)
            return head + ": " + np.where(text == "", "no credit", text)
        idx = d["band_index"]
        if len(labels) > 1:
            chosen = np.choose(idx, rate_grid)
            band_label = np.choose(idx, np.array(labels, dtype=object)[:, None, None]
                                   .repeat(r, 1).repeat(k, 2))
        else:
            chosen, band_label = rate_grid[0], labels[0]
        if earned.attainment is None:
            paren = " (" + band_label + ")"
        else:
            paren = (" (" + pct_text(earned.attainment, (r, k)) + " of the " + quota
                     + " quota, " + band_label + ")")
        return ("Commission at the retroactive rate of " + chosen + " on all " + window
                + f" {noun} of " + credit + paren)

    def _by_line_text(self, d: dict, shape: tuple[int, int]) -> np.ndarray:
        """Each rate row's or band's rate on the credit it priced."""
        if self.rates is not None:
            labels = [f"({row.text()})" for row in self.rates]
            how = "by rate table"
        elif self.tiers.scope == "deal":
            labels = [f"{lab} per deal" for lab in self._band_labels()]
            how = "each deal on its own"
        else:
            labels = [f"booked {lab}" for lab in self._band_labels()]
            how = "each line at the rate when booked"
        r, k = shape
        text = np.full(shape, "", dtype=object)
        for i, part in enumerate(d["portions"]):
            amounts = round_cents(part)
            rate = np.array([self.rate_label(x) for x in d["rates"][i]],
                            dtype=object)[:, None].repeat(k, axis=1)
            frag = rate + " on " + self.value_text(amounts, shape) + " " + labels[i]
            sep = np.where(text == "", "", "; ")
            text = np.where(amounts != 0, text + sep + frag, text)
        return how + ": " + np.where(text == "", "no credit", text)

    # ------------------------------------------------------------------ explorer

    def threshold(self) -> Decimal | None:
        """The ``from`` of the band after a leading zero-rate band (0 without one; None for a
        rate table)."""
        if self.tiers is None:
            return None
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
