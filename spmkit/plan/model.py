"""The plan model: frozen, typed, validated; one class per component ``type:``.

Numbers that are money or rates are :class:`~decimal.Decimal`, read from the YAML text
exactly.  A component type is registered by subclassing :class:`Component` with a
``type_name``; the loader looks the ``type:`` key up in :data:`COMPONENT_TYPES`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
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

NonNegative = Annotated[Decimal, Field(ge=0)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


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


class Cap(Frozen):
    """A plan-year cap on a component's payout: a fixed amount or a multiple of its target."""

    amount: NonNegative | None = None
    ti_multiple: NonNegative | None = None

    @model_validator(mode="after")
    def _one(self) -> Cap:
        if (self.amount is None) == (self.ti_multiple is None):
            raise ValueError("a cap needs exactly one of 'amount' or 'ti_multiple'")
        return self


class Component(Frozen):
    """Base of every component type.  Subclasses set ``type_name`` and register themselves."""

    type_name: ClassVar[str] = ""

    id: str = Field(min_length=1)
    type: str
    filter: dict[str, tuple[str, ...]] | None = None
    cap: Cap | None = None
    weight: NonNegative = Decimal(1)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.type_name:
            COMPONENT_TYPES[cls.type_name] = cls

    @field_validator("filter", mode="before")
    @classmethod
    def _filter_lists(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ValueError("filter must map deal columns to lists of values")
        out = {}
        for key, vals in value.items():
            if key not in FILTER_COLUMNS:
                raise ValueError(
                    f"filter key {key!r} is not a deal column; "
                    f"use one of {', '.join(FILTER_COLUMNS)}"
                )
            if isinstance(vals, (str, int, float)):
                vals = [vals]
            out[key] = tuple(str(v) for v in vals)
        return out

    @property
    def uses_attainment(self) -> bool:
        return False


class Commission(Component):
    """Pays a rate (or a multiple of BCR) on credited amount, in marginal or retroactive tiers."""

    type_name: ClassVar[str] = "commission"
    type: Literal["commission"] = "commission"
    attainment: Literal["ytd", "period"] = "ytd"
    tiers: Tiers

    @property
    def uses_attainment(self) -> bool:
        return True


class Bonus(Component):
    """Pays a share of target incentive (``weight``) by attainment along a curve."""

    type_name: ClassVar[str] = "bonus"
    type: Literal["bonus"] = "bonus"
    attainment: Literal["ytd", "period"] = "period"
    curve: tuple[tuple[NonNegative, NonNegative], ...] = Field(min_length=1)
    above_last: Literal["cap", "extend"] = "cap"

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
    window: tuple[date, date]
    per_deal: NonNegative | None = None
    rate: Decimal | None = None
    clawback: bool = False

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

    plan: str = Field(min_length=1)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    year_start: date
    period: Literal["month", "quarter", "year"]
    credit: Literal["direct", "rollup"] = "direct"
    phasing: tuple[NonNegative, ...] | None = None
    components: tuple[SerializeAsAny[Component], ...] = Field(min_length=1)

    @field_validator("year_start")
    @classmethod
    def _first_of_month(cls, value: date) -> date:
        if value.day != 1:
            raise ValueError("year_start must be the first day of a month (e.g. 2026-02-01)")
        return value

    @field_validator("components", mode="before")
    @classmethod
    def _dispatch(cls, value: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            raise ValueError("components must be a list")
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
