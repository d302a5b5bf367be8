"""What every component type is: one frozen class carrying all of its behaviour.

A component type subclasses :class:`Component`, sets ``type_name`` (its YAML ``type:``)
and defines, in that one class:

- its YAML fields (pydantic fields, validated when a plan loads);
- ``measures()``: what it measures, as data (:class:`MeasureSpec`), which the rows engine
  executes; nothing outside the class filters credit lines for it;
- ``earn(grid, num, scale)``: its earnings and payouts on the rep x period grid;
- ``explain(grid, earned)``: a sentence per rep and period saying why;
- ``editable``: the fields the plan explorer offers (names from :data:`EDITABLE`).

A class that sets ``type_name`` but lacks one of these parts fails when it is defined,
with a message naming the part, rather than when a plan first uses it.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from spmkit.components.fields import (
    ALLOW_NEGATIVE,
    MAX_AMOUNT,
    MAX_CURVE_POINTS,
    MAX_NAME,
    POINT_LIMIT,
    RATE_LIMIT,
    Amount,
    Attainment,
    FilterValues,
    Frozen,
    Multiple,
    Payout,
    Point,
    Share,
    Weight,
    check_ascending,
    is_money_column,
)

if TYPE_CHECKING:  # pragma: no cover
    from spmkit.grid import Earned, Grid, Num

#: ``type:`` name -> component class.
COMPONENT_TYPES: dict[str, type[Component]] = {}

#: Deal columns a component filter may name.
FILTER_COLUMNS = ("product", "deal_type", "region", "account")
#: Columns a rate table's ``when`` may name: deal columns and the payee's roster ``role``.
WHEN_COLUMNS = (*FILTER_COLUMNS, "role")

#: Field kinds the plan explorer knows how to edit.  ``attainment``: the ``ytd``/``period``
#: basis; ``weight``; ``threshold`` (through ``threshold()``/``set_threshold``); ``tiers``:
#: bands and method; ``curve``: points and ``above_last``; ``cap``: kinds in ``cap_kinds``.
EDITABLE = ("attainment", "weight", "threshold", "tiers", "curve", "cap")

#: The parts a registered component type must define itself.
REQUIRED_PARTS = ("measures", "earn", "explain", "editable")

#: Environment variable naming modules (comma-separated) that define more component types.
PLUGINS_VARIABLE = "SPMKIT_COMPONENTS"

def _per_item(measure: Any) -> bool:
    """Whether a ``measure:`` counts things (deals, units), so rates are money per item."""
    if measure == "count":
        return True
    return isinstance(measure, dict) and isinstance(measure.get("column"), str) \
        and not is_money_column(measure["column"])


def component_type(name: str) -> type[Component] | None:
    """The class registered for ``type: name``, importing the modules named in
    ``$SPMKIT_COMPONENTS`` first if it is not yet known (so the CLI, and report kernels,
    can run plans with a team's own component types)."""
    if name not in COMPONENT_TYPES:
        for module in filter(None, (m.strip() for m in
                                    os.environ.get(PLUGINS_VARIABLE, "").split(","))):
            try:
                importlib.import_module(module)
            except ImportError as exc:
                raise ValueError(f"${PLUGINS_VARIABLE} names module {module!r}, which cannot "
                                 f"be imported: {exc}") from None
    return COMPONENT_TYPES.get(name)


class Cap(Frozen):
    """A plan-year cap on a component's payout: a fixed amount or a multiple of its target."""

    amount: Amount | None = None
    ti_multiple: Multiple | None = None

    @model_validator(mode="after")
    def _one(self) -> Cap:
        if (self.amount is None) == (self.ti_multiple is None):
            raise ValueError("a cap needs exactly one of 'amount' or 'ti_multiple'")
        return self


@dataclass(frozen=True)
class MeasureSpec:
    """What a component measures, as data the rows engine executes.

    Attributes
    ----------
    value : {"amount", "share", "lines", "column"}
        What each selected credit line adds: its credited amount in cents; its credit
        share of the deal (parts per billion); 1; or its credited part of the deals column
        ``column`` (hundredths, split and converted like the amount).  For ``share`` and ``lines`` a
        clawback line adds minus its share (or minus 1).
    filter : mapping of deal column -> accepted values, optional
        Which credit lines: those whose deal's column holds one of the values.
    deal_window : (date, date), optional
        Only lines whose deal closed inside the window (both ends included).
    clawback : bool
        Whether clawback lines count (reversing the deal's credit); ``False`` leaves them out.
    credit_memos : bool
        Whether lines of credit memos (deals with a negative amount) count.
    collections : bool
        Collection lines (payments received, rule ``collection``) instead of the deals'
        credit lines.
    roles : tuple of str, optional
        Which credit lines by the payee's role in the deal: ``seller`` (owner and split
        lines), ``rollup`` (a manager's roll-up lines) and ``overlay``; ``None`` for all.
    unless : tuple of filters
        Lines matching any of these filters are left out (first-match rate tables).
    band : (low, high), optional
        Per line, on the line's own value (grid units; ``high`` None for no top): the part
        of the line inside ``[low, high)`` (``band_whole`` False) or the whole line when its
        value lies there (True).  Clawback lines mirror the lines they reverse.
    running : (low, high), optional
        The whole line when the rep's running total after it, in the window
        (``running_window``), lies in ``[low, high)`` as a fraction of the window's quota
        (or, with ``running_basis: value``, in grid units).  Lines run in ``credit_date``,
        then ``deal_id``, order.

    Filters may name deal columns and the roster columns ``role`` and ``region`` (a deal's
    own ``region`` when it has one, else its payee's).

    Every measure is summed per payee and per period of the line's ``credit_date``.
    """

    value: Literal["amount", "share", "lines", "column"] = "amount"
    filter: tuple[tuple[str, tuple[str, ...]], ...] = ()
    column: str | None = None
    deal_window: tuple[date, date] | None = None
    clawback: bool = True
    credit_memos: bool = True
    roles: tuple[str, ...] | None = None
    unless: tuple[tuple[tuple[str, tuple[str, ...]], ...], ...] = ()
    band: tuple[int, int | None] | None = None
    band_whole: bool = False
    running: tuple[Decimal, Decimal | None] | None = None
    running_window: Literal["period", "ytd"] = "ytd"
    running_basis: Literal["attainment", "value"] = "attainment"
    running_quota: str | None = None
    collections: bool = False

    @property
    def unit(self) -> int:
        """Grid values per plan unit: cents per currency unit, parts per billion per deal."""
        return {"amount": 100, "share": 1_000_000_000, "lines": 1, "column": 100}[self.value]


class Requirement(Frozen):
    component: str = Field(min_length=1, max_length=MAX_NAME)
    min_attainment: Attainment


class Gate(Frozen):
    """``gate: {requires: [...], locks: all | {above: X}}``: while any requirement is unmet
    (the other component's attainment for the same window below ``min_attainment``), the
    component earns nothing (``all``), or earns above ``X`` only at the rate just below it."""

    requires: tuple[Requirement, ...] = Field(min_length=1)
    locks: Literal["all"] | dict[Literal["above"], Attainment] = "all"

    @property
    def above(self) -> Decimal | None:
        return None if self.locks == "all" else self.locks["above"]


class Ratio(Frozen):
    ratio: tuple[str, str]


class Modifier(Frozen):
    """``modifier: {of: ID | {ratio: [A, B]}, table: [[x, f], ...], method: step | linear}``:
    earnings for the window times the factor at the other component's attainment (or at
    measure A / measure B)."""

    of: str | Ratio
    table: tuple[tuple[Point, Payout], ...] = Field(min_length=1, max_length=MAX_CURVE_POINTS)
    method: Literal["step", "linear"] = "step"

    @field_validator("table")
    @classmethod
    def _ordered(cls, table: tuple) -> tuple:
        check_ascending([x for x, _ in table], "modifier table", "row", "has x")
        return table

    @property
    def references(self) -> tuple[str, ...]:
        return self.of.ratio if isinstance(self.of, Ratio) else (self.of,)


class Holdback(Frozen):
    """``holdback: {share: S, months: M}`` or ``{share: S, release: year_end}``."""

    share: Share
    months: Annotated[int, Field(ge=0, le=120)] | None = None
    release: Literal["year_end"] | None = None

    @model_validator(mode="after")
    def _one(self) -> Holdback:
        if (self.months is None) == (self.release is None):
            raise ValueError("a holdback needs exactly one of 'months' or 'release: year_end'")
        return self


class Component(Frozen):
    """Base of every component type.  See the module docstring for the protocol."""

    type_name: ClassVar[str] = ""
    #: Whether it pays by attainment (pay curves include it; SPIFs, say, do not).
    uses_attainment: ClassVar[bool] = False
    #: Field kinds the plan explorer may edit, from :data:`EDITABLE`.
    editable: ClassVar[tuple[str, ...]] = ()
    #: Cap forms the component accepts.
    cap_kinds: ClassVar[tuple[str, ...]] = ("amount", "ti_multiple")
    #: Whether it has an attainment that gates and modifiers of other components can read.
    attains: ClassVar[bool] = False
    #: Whether its earner applies ``gate`` and ``modifier`` (through :meth:`linked`).
    linkable: ClassVar[bool] = False

    id: str = Field(min_length=1, max_length=MAX_NAME)
    type: str
    filter: dict[str, FilterValues] | None = None
    cap: Cap | None = None
    weight: Weight = Decimal(1)
    #: Negative rates, ``bcr_multiple`` and ``per_deal`` are refused unless this is true.
    allow_negative: bool = Field(default=False, strict=True)
    gate: Gate | None = None
    modifier: Modifier | None = None
    holdback: Holdback | None = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if not cls.type_name:
            return
        own = cls.__mro__[:cls.__mro__.index(Component)]
        missing = [part for part in REQUIRED_PARTS if not any(part in vars(k) for k in own)]
        if missing:
            raise TypeError(f"component type {cls.type_name!r} ({cls.__name__}) lacks "
                            + ", ".join(missing) + ": a component type defines its "
                            + ", ".join(REQUIRED_PARTS) + " in its own class")
        unknown = [e for e in cls.editable if e not in EDITABLE]
        if unknown:
            raise TypeError(f"component type {cls.type_name!r}: unknown editable field "
                            f"{', '.join(unknown)}; use names from {', '.join(EDITABLE)}")
        if "threshold" in cls.editable and not any("threshold" in vars(k) for k in own):
            raise TypeError(f"component type {cls.type_name!r} lists 'threshold' as editable "
                            "but defines no threshold()")
        COMPONENT_TYPES[cls.type_name] = cls

    @model_validator(mode="wrap")
    @classmethod
    def _negatives_opt_in(cls, data: Any, handler: Any) -> Any:
        """Validate with ``allow_negative`` known to the nested rate validators."""
        given = data if isinstance(data, dict) else {}  # the shape decides the bounds
        tokens = [(ALLOW_NEGATIVE, ALLOW_NEGATIVE.set(given.get("allow_negative") is True)),
                  (RATE_LIMIT, RATE_LIMIT.set(MAX_AMOUNT if _per_item(given.get("measure"))
                                              else None)),
                  (POINT_LIMIT, POINT_LIMIT.set(MAX_AMOUNT if given.get("basis") == "value"
                                                else None))]
        try:
            return handler(data)
        finally:
            for var, token in reversed(tokens):
                var.reset(token)

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

    # ------------------------------------------------------------------ the protocol

    def measure_columns(self) -> tuple[str, ...]:
        """Numeric deals columns it measures (loaded with the deals)."""
        return ()

    def warnings(self) -> list[str]:
        """Things in the component that are probably a mistake, though valid."""
        return []

    def quota_name(self) -> str | None:
        """The named quota it attains against (``quota: NAME``), or None for the quota."""
        return None

    def quota_of(self, grid: Grid) -> np.ndarray:
        """Its quota on the grid, cents per payee and period."""
        name = self.quota_name()
        return grid.quota if name is None else grid.named_quotas[name]

    def references(self) -> tuple[str, ...]:
        """Ids of the other components its gate and modifier read."""
        refs = tuple(r.component for r in self.gate.requires) if self.gate else ()
        return refs + (self.modifier.references if self.modifier else ())

    def linked(self, grid: Grid, num: Num, scale: np.ndarray | None, earnings: np.ndarray,
               window: str, *, held: np.ndarray | None = None) -> np.ndarray:
        """Earnings for the window after the gate and the modifier.

        ``held`` is what the component would earn while a ``locks: {above: X}`` gate is
        unmet (the earner computes it; ``None`` for ``locks: all``)."""
        from spmkit.grid import attainment_of, measure_of

        if self.gate is not None:
            met = None
            for req in self.gate.requires:
                ok = attainment_of(grid, num, scale, req.component, window) >= num.const(
                    req.min_attainment)
                met = ok if met is None else met & ok
            earnings = np.where(met, earnings, num.const(0) if held is None else held)
        if self.modifier is not None:
            m = self.modifier
            if isinstance(m.of, Ratio):
                x = num.div(measure_of(grid, num, scale, m.of.ratio[0], window),
                            measure_of(grid, num, scale, m.of.ratio[1], window))
            else:
                x = attainment_of(grid, num, scale, m.of, window)
            earnings = earnings * self.modifier_factor(x, num)
        return earnings

    def link_notes(self, grid: Grid) -> np.ndarray:
        """(R, K) text on the gate and modifier, for the payout's ``explain``."""
        from spmkit.grid import EXACT, attainment_of, measure_of, pct_text

        shape = grid.shape
        notes = np.full(shape, "", dtype=object)
        window = getattr(self, "attainment", "period")
        if self.gate is not None:
            unmet = np.full(shape, "", dtype=object)
            for req in self.gate.requires:
                att = attainment_of(grid, EXACT, None, req.component, window)
                short = att < req.min_attainment
                text = (f"{req.component} at " + pct_text(att, shape)
                        + f" of quota, needs {float(req.min_attainment) * 100:g}%")
                unmet = np.where(short, np.where(unmet == "", text, unmet + ", " + text), unmet)
            locked = ("nothing earned while it is unmet" if self.gate.above is None else
                      f"from {float(self.gate.above) * 100:g}% paid at the rate below it")
            notes = np.where(unmet != "", "; gate unmet: " + unmet + "; " + locked, notes)
        if self.modifier is not None:
            m = self.modifier
            if isinstance(m.of, Ratio):
                x = EXACT.div(measure_of(grid, EXACT, None, m.of.ratio[0], window),
                              measure_of(grid, EXACT, None, m.of.ratio[1], window))
                what = f"{m.of.ratio[0]} / {m.of.ratio[1]} at "
            else:
                x = attainment_of(grid, EXACT, None, m.of, window)
                what = f"{m.of} attainment at "
            factor = np.array([f"{float(f):g}" for f in np.ravel(self.modifier_factor(x, EXACT))],
                              dtype=object).reshape(shape)
            notes = notes + "; modifier x" + factor + " (" + what + pct_text(x, shape) + ")"
        return notes

    def modifier_factor(self, x: np.ndarray, num: Num) -> np.ndarray:
        """The modifier table's factor at ``x``: ``step`` (the row with the largest x not
        above it; f0 below x0) or ``linear`` (between rows; flat outside)."""
        rows = [(num.const(a), num.const(f)) for a, f in self.modifier.table]
        factor = np.full(np.shape(x), rows[0][1], dtype=object if num.exact else num.dtype)
        for i, (a, f) in enumerate(rows):  # table rows, not reps
            if self.modifier.method == "linear" and i + 1 < len(rows):
                a2, f2 = rows[i + 1]
                factor = np.where((x >= a) & (x < a2), f + (x - a) * (f2 - f) / (a2 - a), factor)
            else:
                factor = np.where(x >= a, f, factor)
        return factor

    def filter_items(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The filter as the hashable pairs a :class:`MeasureSpec` holds."""
        return tuple(sorted((self.filter or {}).items()))

    def measures(self) -> dict[str, MeasureSpec]:
        """Name -> what to measure; ``"value"`` is the measure attainment is computed on."""
        raise NotImplementedError

    def earn(self, grid: Grid, num: Num, scale: np.ndarray | None = None) -> Earned:
        """Earnings to date and payouts on the grid (``scale``: per-rep what-if multipliers)."""
        raise NotImplementedError

    def explain(self, grid: Grid, earned: Earned) -> np.ndarray:
        """An (R, K) object array of sentences: why each payout is what it is."""
        raise NotImplementedError

    def editable_fields(self) -> tuple[str, ...]:
        """The fields the explorer may edit on this component (its type's ``editable``,
        narrowed where the component's own shape leaves some out)."""
        return self.editable

    def threshold(self) -> Decimal | None:
        """The attainment below which the component pays nothing (None: it has none)."""
        return None

    @classmethod
    def set_threshold(cls, data: dict[str, Any], value: Decimal) -> None:
        """Move the threshold in the component's plan data (a dict, edited in place)."""
        raise ValueError(f"a {cls.type_name} has no threshold")


class ColumnMeasure(Frozen):
    """``measure: {column: NAME}``: a numeric deals column such as ``margin`` or ``units``."""

    column: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=MAX_NAME)

    @field_validator("column")
    @classmethod
    def _not_canonical(cls, value: str) -> str:
        if value in ("amount", "deal_id", "rep_id", "close_date", "cancel_date", "currency",
                     *FILTER_COLUMNS):
            raise ValueError(f"{value!r} is a standard deals column; measure a numeric "
                             "column of your own, such as margin or units")
        return value


class Measured(Component):
    """Fields and helpers shared by components that measure credit and attain against a
    quota (``measure``, ``basis``); each concrete type still defines its own protocol."""

    attains: ClassVar[bool] = True

    measure: Literal["amount", "count", "collections"] | ColumnMeasure = "amount"
    basis: Literal["attainment", "value"] = "attainment"
    #: Take the quota from the quotas table's rows whose ``measure`` is this name.
    quota: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)

    def quota_name(self) -> str | None:
        return self.quota

    def value_spec(self) -> MeasureSpec:
        """``amount``: credited cents; ``count``: each credited deal counts its credited
        share (a clawback line counts minus that share)."""
        if isinstance(self.measure, ColumnMeasure):
            return MeasureSpec(value="column", column=self.measure.column,
                               filter=self.filter_items())
        return MeasureSpec(value="share" if self.measure == "count" else "amount",
                           filter=self.filter_items(),
                           collections=self.measure == "collections")

    def measure_columns(self) -> tuple[str, ...]:
        return (self.measure.column,) if isinstance(self.measure, ColumnMeasure) else ()

    def measures(self) -> dict[str, MeasureSpec]:
        return {"value": self.value_spec()}

    @property
    def unit(self) -> int:
        """Grid values per plan unit of the measure (100 cents; 10^9 per deal counted)."""
        return self.value_spec().unit

    def quota_units(self, quota_cents: np.ndarray, num: Num) -> np.ndarray:
        """Quotas (cents of the quotas table's ``quota``) in the measure's grid units."""
        return num.arr(quota_cents) * num.const(self.unit) / num.const(100)

    @property
    def item(self) -> str | None:
        """What the measure counts (``deal``, ``unit``), or None for money."""
        if self.measure == "count":
            return "deal"
        if isinstance(self.measure, ColumnMeasure) and not is_money_column(
                self.measure.column):
            return "unit"
        return None

    def value_text(self, values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """Measure values as text: money, or a number of deals or units."""
        from spmkit.grid import money_grid

        if self.item is None:
            return money_grid(values, shape)
        return np.array([f"{v / self.unit:g}" for v in np.ravel(values)],
                        dtype=object).reshape(shape)

    def rate_label(self, rate: Any) -> str:
        """A rate as text: a percentage of credit, or money per deal or unit."""
        from spmkit.grid import rate_text

        return rate_text(rate) if self.item is None else f"{Decimal(rate):,.2f} per {self.item}"

    def point_text(self, point: Decimal) -> str:
        """A tier ``from`` or curve x as text: a percentage of quota, or a value."""
        if self.basis == "attainment":
            return f"{float(point) * 100:g}%"
        return f"{point:,.2f}" if self.item is None else f"{point:g}"
