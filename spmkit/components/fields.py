"""Field types of plan files: bounded numbers, plan dates, filter values.

Past these bounds a number is a typo, not a plan, and the engine's int64 cents and float64
what-ifs would overflow; each bound is named in the message that rejects a value.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

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
#: ``per_deal``, a cap's ``amount``, and points on values (``basis: value``).
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
ALLOW_NEGATIVE: ContextVar[bool] = ContextVar("spmkit_allow_negative", default=False)
#: While a component validates: the largest rate (MAX_RATE on amounts; MAX_AMOUNT per deal
#: with ``measure: count``) and the largest band or curve point (MAX_ATTAINMENT on
#: attainment; MAX_AMOUNT with ``basis: value``).
RATE_LIMIT: ContextVar[Decimal | None] = ContextVar("spmkit_rate_limit", default=None)
POINT_LIMIT: ContextVar[Decimal | None] = ContextVar("spmkit_point_limit", default=None)


def _number_text(value: Decimal) -> str:
    """A number for a message: ``1,000,000,000``, ``0.05``, ``1E+30``; never very long."""
    exponent = value.as_tuple().exponent
    text = format(value, ",f") if isinstance(exponent, int) and abs(exponent) <= 20 else ""
    if not text or len(text) > 24:
        text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def bounded(low: Decimal | int, high: Decimal | int, *, signed: bool = False,
            limit: ContextVar[Decimal | None] | None = None) -> Any:
    """An after-validator: a finite Decimal in [low, high] with at most MAX_PLACES places.

    ``signed``: a negative value is accepted only inside a component that says
    ``allow_negative: true`` (and then down to ``-high``).  ``limit``: a context variable
    that, when set, replaces ``high`` (the component's shape decides the bound).
    """
    low, default_high = Decimal(low), Decimal(high)

    def check(value: Decimal) -> Decimal:
        high = (limit.get() if limit is not None else None) or default_high
        if not value.is_finite():
            raise ValueError("must be a finite number")
        if signed and value < 0:
            if not ALLOW_NEGATIVE.get():
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
#: A commission's rate: a rate on amounts, or money per deal with ``measure: count``.
UnitRate = Annotated[Decimal, bounded(0, MAX_RATE, signed=True, limit=RATE_LIMIT)]
Multiple = Annotated[Decimal, bounded(0, MAX_MULTIPLE)]
SignedMultiple = Annotated[Decimal, bounded(0, MAX_MULTIPLE, signed=True)]
Attainment = Annotated[Decimal, bounded(0, MAX_ATTAINMENT)]
#: A band's ``from`` or a curve's x: a fraction of quota, or a value with ``basis: value``.
Point = Annotated[Decimal, bounded(0, MAX_ATTAINMENT, limit=POINT_LIMIT)]
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





def is_money_column(name: str) -> bool:
    """Whether a measured deals column is money (converted at the fx plan rate like
    ``amount``): every column but quantities named ``units``, ``quantity``, or ending in
    ``_units``, ``_count`` or ``_quantity``."""
    return not (name in ("units", "quantity")
                or name.endswith(("_units", "_count", "_quantity")))


def at_most(limit: int, noun: str, holder: str) -> Any:
    """A before-validator: a list of at most ``limit`` items (checked before they are
    validated one by one, so a huge list costs nothing)."""

    def check(value: Any) -> Any:
        if isinstance(value, (list, tuple)) and len(value) > limit:
            raise ValueError(f"{len(value):,} {noun}: {holder} may have at most {limit:,} "
                             f"{noun}")
        return value

    return BeforeValidator(check)


def check_ascending(points: list[Decimal], what: str, item: str, verb: str) -> None:
    """Points (band starts, curve x-values, table rows) must rise strictly."""
    for i in range(1, len(points)):
        if points[i] <= points[i - 1]:
            raise ValueError(f"{what} out of order: {item} {i} {verb} {points[i]}, not above "
                             f"the {item} before it ({points[i - 1]})")
