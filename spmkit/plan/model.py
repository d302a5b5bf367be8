"""The plan model: frozen, typed, validated; one class per component ``type:``.

Numbers that are money or rates are :class:`~decimal.Decimal`, read from the YAML text
exactly.  A component type is registered by subclassing :class:`Component` with a
``type_name``; the loader looks the ``type:`` key up in :data:`COMPONENT_TYPES`.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializeAsAny,
    field_validator,
    model_validator,
)

#: ``type:`` name -> component class.
COMPONENT_TYPES: dict[str, type[Component]] = {}

#: Deal columns a component filter may name.
FILTER_COLUMNS = ("product", "deal_type", "region", "account")

# Bounds.  Past them a number is a typo, not a plan, and the engine's int64 cents and
# float64 what-ifs would overflow; each is named in the message that rejects a value.
#: A tier or SPIF ``rate``: at most 1000% of the credited amount.
MAX_RATE = Decimal(10)
#: ``bcr_multiple`` and a cap's ``ti_multiple``.
MAX_MULTIPLE = Decimal(100)
#: A component's ``weight`` (share of the target incentive).
MAX_WEIGHT = Decimal(10)
#: A band's ``from`` and a curve point's attainment (fractions of quota: 1000 = 100,000%).
MAX_ATTAINMENT = Decimal(1000)
#: A curve point's payout (fraction of target: 100 = 10,000%).
MAX_PAYOUT = Decimal(100)
#: ``per_deal`` and a cap's ``amount``, in plan-currency units.
MAX_AMOUNT = Decimal(10) ** 9
#: Decimal places a plan number may have (a float's shortest repr needs fewer).
MAX_PLACES = 30
#: Size bounds of one plan (the loader also bounds the YAML: see spmkit.plan.loader).
MAX_COMPONENTS = 1_000
MAX_BANDS = 10_000
MAX_CURVE_POINTS = 10_000
MAX_NAME = 200
#: Plan dates: the plan year starts no earlier than DATE_MIN and ends before 9999-12-31.
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(9999, 12, 31)
YEAR_START_MAX = date(9998, 12, 1)

#: While a component validates: does it say ``allow_negative: true``?
_ALLOW_NEGATIVE: ContextVar[bool] = ContextVar("spmkit_allow_negative", default=False)


def _number_text(value: Decimal) -> str:
    """A number for a message: ``1,000,000,000``, ``0.05``, ``1E+30``; never very long."""
    exponent = value.as_tuple().exponent
    text = format(value, ",f") if isinstance(exponent, int) and abs(exponent) <= 20 else ""
    if not text or len(text) > 24:
        text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def bounded(low: Decimal | int, high: Decimal | int, *, signed: bool = False) -> Any:
    """An after-validator: a finite Decimal in [low, high] with at most MAX_PLACES places.

    ``signed``: a negative value is accepted only inside a component that says
    ``allow_negative: true`` (and then down to ``-high``).
    """
    low, high = Decimal(low), Decimal(high)

    def check(value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("must be a finite number")
        if signed and value < 0:
            if not _ALLOW_NEGATIVE.get():
                raise ValueError(
                    f"{_number_text(value)} is negative; a negative value is refused unless "
                    "its component says 'allow_negative: true'")
            if value < -high:
                raise ValueError(f"{_number_text(value)} is out of range: must be between "
                                 f"{_number_text(-high)} and {_number_text(high)}")
        elif value < low:
            raise ValueError(f"{_number_text(value)} is out of range: must be greater than or "
                             f"equal to {_number_text(low)} (and at most {_number_text(high)})")
        elif value > high:
            raise ValueError(f"{_number_text(value)} is out of range: must be between "
                             f"{_number_text(low)} and {_number_text(high)}")
        exponent = value.as_tuple().exponent
        if value and isinstance(exponent, int) and -exponent > MAX_PLACES:
            raise ValueError(f"{_number_text(value)} has more than {MAX_PLACES} decimal places")
        return value

    return AfterValidator(check)


NonNegative = Annotated[Decimal, Field(ge=0)]
Rate = Annotated[Decimal, bounded(0, MAX_RATE, signed=True)]
Multiple = Annotated[Decimal, bounded(0, MAX_MULTIPLE)]
SignedMultiple = Annotated[Decimal, bounded(0, MAX_MULTIPLE, signed=True)]
Attainment = Annotated[Decimal, bounded(0, MAX_ATTAINMENT)]
Payout = Annotated[Decimal, bounded(0, MAX_PAYOUT)]
Amount = Annotated[Decimal, bounded(0, MAX_AMOUNT)]
SignedAmount = Annotated[Decimal, bounded(0, MAX_AMOUNT, signed=True)]
Weight = Annotated[Decimal, bounded(0, MAX_WEIGHT)]
Share = Annotated[Decimal, bounded(0, 1)]


def _plan_date(value: date) -> date:
    if not DATE_MIN <= value <= DATE_MAX:
        raise ValueError(f"{value} is out of range: plan dates are between {DATE_MIN} and "
                         f"{DATE_MAX}")
    return value


PlanDate = Annotated[date, AfterValidator(_plan_date)]


def _filter_values(value: Any) -> Any:
    """A filter's values: a non-empty list of plain values (one value alone is a list)."""
    if value is None:
        raise ValueError("needs a list of values, e.g. [Widget Pro] (it is empty)")
    if isinstance(value, (str, int, Decimal, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ValueError("needs a list of values, e.g. [Widget Pro]")
    if not value:
        raise ValueError("needs at least one value (an empty list matches no deal)")
    out = []
    for v in value:
        if isinstance(v, bool):
            raise ValueError(f"the filter value {v} reads as true/false: quote it "
                             "(e.g. 'yes') to mean the text")
        if not isinstance(v, (str, int, Decimal, float)):
            kind = "nothing" if v is None else f"a {type(v).__name__}"
            raise ValueError(f"a filter value must be plain text, not {kind}")
        text = str(v)
        if not text.strip():
            raise ValueError("a filter value must not be empty")
        out.append(text)
    return tuple(out)


FilterValues = Annotated[tuple[str, ...], BeforeValidator(_filter_values)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Band(Frozen):
    """A tier band: from ``from`` (attainment as a fraction of quota) up to the next band."""

    start: Attainment = Field(alias="from")
    rate: Rate | None = None
    bcr_multiple: SignedMultiple | None = None

    @model_validator(mode="after")
    def _one_rate(self) -> Band:
        if (self.rate is None) == (self.bcr_multiple is None):
            raise ValueError("a band needs exactly one of 'rate' or 'bcr_multiple'")
        return self


class Tiers(Frozen):
    method: Literal["marginal", "retroactive"] = "marginal"
    bands: tuple[Band, ...] = Field(min_length=1)

    @field_validator("bands", mode="before")
    @classmethod
    def _not_too_many(cls, bands: Any) -> Any:
        if isinstance(bands, (list, tuple)) and len(bands) > MAX_BANDS:
            raise ValueError(f"{len(bands):,} bands: a tier table may have at most "
                             f"{MAX_BANDS:,} bands")
        return bands

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


class Cap(Frozen):
    """A plan-year cap on a component's payout: a fixed amount or a multiple of its target."""

    amount: Amount | None = None
    ti_multiple: Multiple | None = None

    @model_validator(mode="after")
    def _one(self) -> Cap:
        if (self.amount is None) == (self.ti_multiple is None):
            raise ValueError("a cap needs exactly one of 'amount' or 'ti_multiple'")
        return self


class Component(Frozen):
    """Base of every component type.  Subclasses set ``type_name`` and register themselves."""

    type_name: ClassVar[str] = ""

    id: str = Field(min_length=1, max_length=MAX_NAME)
    type: str
    filter: dict[str, FilterValues] | None = None
    cap: Cap | None = None
    weight: Weight = Decimal(1)
    #: Negative rates, ``bcr_multiple`` and ``per_deal`` are refused unless this is true.
    allow_negative: bool = Field(default=False, strict=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.type_name:
            COMPONENT_TYPES[cls.type_name] = cls

    @model_validator(mode="wrap")
    @classmethod
    def _negatives_opt_in(cls, data: Any, handler: Any) -> Any:
        """Validate with ``allow_negative`` known to the nested rate validators."""
        allow = isinstance(data, dict) and data.get("allow_negative") is True
        token = _ALLOW_NEGATIVE.set(allow)
        try:
            return handler(data)
        finally:
            _ALLOW_NEGATIVE.reset(token)

    @model_validator(mode="after")
    def _no_hidden_negatives(self) -> Component:
        if not self.allow_negative and self.negative_values():
            raise ValueError(f"negative {', '.join(self.negative_values())}: refused unless "
                             "the component says 'allow_negative: true'")
        return self

    def negative_values(self) -> list[str]:
        """The keys holding a negative value (rates, multiples, per-deal amounts)."""
        return []

    @field_validator("filter", mode="before")
    @classmethod
    def _filter_lists(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ValueError("filter must map deal columns to lists of values")
        for key in value:
            if key not in FILTER_COLUMNS:
                raise ValueError(
                    f"filter key {key!r} is not a deal column; "
                    f"use one of {', '.join(FILTER_COLUMNS)}"
                )
        return value

    @property
    def uses_attainment(self) -> bool:
        return False


class Commission(Component):
    """Pays a rate (or a multiple of BCR) on credited amount, in marginal or retroactive tiers."""

    type_name: ClassVar[str] = "commission"
    type: Literal["commission"] = "commission"
    attainment: Literal["ytd", "period"] = "ytd"
    tiers: Tiers

    def negative_values(self) -> list[str]:
        return [f"bands[{i}].{key}" for i, b in enumerate(self.tiers.bands)
                for key, v in (("rate", b.rate), ("bcr_multiple", b.bcr_multiple))
                if v is not None and v < 0]

    @property
    def uses_attainment(self) -> bool:
        return True


class Bonus(Component):
    """Pays a share of target incentive (``weight``) by attainment along a curve."""

    type_name: ClassVar[str] = "bonus"
    type: Literal["bonus"] = "bonus"
    attainment: Literal["ytd", "period"] = "period"
    curve: tuple[tuple[Attainment, Payout], ...] = Field(min_length=1)
    above_last: Literal["cap", "extend"] = "cap"

    @field_validator("curve", mode="before")
    @classmethod
    def _not_too_many(cls, curve: Any) -> Any:
        if isinstance(curve, (list, tuple)) and len(curve) > MAX_CURVE_POINTS:
            raise ValueError(f"{len(curve):,} points: a curve may have at most "
                             f"{MAX_CURVE_POINTS:,} points")
        return curve

    @field_validator("curve")
    @classmethod
    def _ordered(cls, curve: tuple[tuple[Decimal, Decimal], ...]) -> tuple:
        for i in range(1, len(curve)):
            if curve[i][0] <= curve[i - 1][0]:
                raise ValueError(
                    f"curve points out of order: point {i} has attainment {curve[i][0]}, "
                    f"not above the point before it ({curve[i - 1][0]})"
                )
        return curve

    @property
    def uses_attainment(self) -> bool:
        return True


class Spif(Component):
    """Pays per deal or a rate on deals whose credit date falls inside a window."""

    type_name: ClassVar[str] = "spif"
    type: Literal["spif"] = "spif"
    window: tuple[PlanDate, PlanDate]
    per_deal: SignedAmount | None = None
    rate: Rate | None = None
    clawback: bool = False

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


class Plan(Frozen):
    """A compensation plan: what a YAML plan file says, validated.

    Build one with :func:`spmkit.plan.load_plan` (a path or a YAML string) or
    ``Plan.model_validate(dict)``.
    """

    plan: str = Field(min_length=1, max_length=MAX_NAME)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    year_start: date
    period: Literal["month", "quarter", "year"]
    credit: Literal["direct", "rollup"] = "direct"
    phasing: tuple[Share, ...] | None = Field(default=None, max_length=12)
    components: tuple[SerializeAsAny[Component], ...] = Field(min_length=1)

    @field_validator("year_start")
    @classmethod
    def _first_of_month(cls, value: date) -> date:
        if value.day != 1:
            raise ValueError("year_start must be the first day of a month (e.g. 2026-02-01)")
        if not DATE_MIN <= value <= YEAR_START_MAX:
            raise ValueError(f"year_start {value} is out of range: it must be between "
                             f"{DATE_MIN} and {YEAR_START_MAX} (the plan year must end "
                             f"before {DATE_MAX})")
        return value

    @field_validator("components", mode="before")
    @classmethod
    def _dispatch(cls, value: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            raise ValueError("components must be a list")
        if len(value) > MAX_COMPONENTS:
            raise ValueError(f"{len(value):,} components: a plan may have at most "
                             f"{MAX_COMPONENTS:,}")
        out = []
        for item in value:
            if isinstance(item, Component):
                out.append(item)
                continue
            if not isinstance(item, dict) or "type" not in item:
                raise ValueError("every component needs a 'type'")
            kind = COMPONENT_TYPES.get(str(item["type"]))
            if kind is None:
                known = ", ".join(sorted(COMPONENT_TYPES))
                raise ValueError(f"unknown component type {item['type']!r}; known types: {known}")
            out.append(kind.model_validate(item))
        return out

    @model_validator(mode="after")
    def _check(self) -> Plan:
        ids = [c.id for c in self.components]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"component ids must be unique: {', '.join(dupes)} repeated")
        if self.phasing is not None:
            n = {"month": 12, "quarter": 4, "year": 1}[self.period]
            if len(self.phasing) != n:
                raise ValueError(f"phasing needs {n} shares for period '{self.period}', "
                                 f"got {len(self.phasing)}")
            if sum(self.phasing) != 1:
                raise ValueError(f"phasing shares must sum to 1, they sum to {sum(self.phasing)}")
        return self

    def component(self, component_id: str) -> Component:
        for c in self.components:
            if c.id == component_id:
                return c
        raise KeyError(component_id)

    def to_yaml(self) -> str:
        """The plan as YAML that :func:`spmkit.plan.load_plan` reads back to an equal plan."""
        from spmkit.plan.loader import dump_plan

        return dump_plan(self)
