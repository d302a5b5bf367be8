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
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:  # pragma: no cover
    from spmkit.grid import Earned, Grid, Num

#: ``type:`` name -> component class.
COMPONENT_TYPES: dict[str, type[Component]] = {}

#: Deal columns a component filter may name.
FILTER_COLUMNS = ("product", "deal_type", "region", "account")

#: Field kinds the plan explorer knows how to edit.  ``attainment``: the ``ytd``/``period``
#: basis; ``weight``; ``threshold`` (through ``threshold()``/``set_threshold``); ``tiers``:
#: bands and method; ``curve``: points and ``above_last``; ``cap``: kinds in ``cap_kinds``.
EDITABLE = ("attainment", "weight", "threshold", "tiers", "curve", "cap")

#: The parts a registered component type must define itself.
REQUIRED_PARTS = ("measures", "earn", "explain", "editable")

#: Environment variable naming modules (comma-separated) that define more component types.
PLUGINS_VARIABLE = "SPMKIT_COMPONENTS"

NonNegative = Annotated[Decimal, Field(ge=0)]


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


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Cap(Frozen):
    """A plan-year cap on a component's payout: a fixed amount or a multiple of its target."""

    amount: NonNegative | None = None
    ti_multiple: NonNegative | None = None

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
    value : {"amount", "share", "lines"}
        What each selected credit line adds: its credited amount in cents; its credit
        share of the deal (parts per billion); or 1.  For ``share`` and ``lines`` a
        clawback line adds minus its share (or minus 1).
    filter : mapping of deal column -> accepted values, optional
        Which credit lines: those whose deal's column holds one of the values.
    deal_window : (date, date), optional
        Only lines whose deal closed inside the window (both ends included).
    clawback : bool
        Whether clawback lines count (reversing the deal's credit); ``False`` leaves them out.
    credit_memos : bool
        Whether lines of credit memos (deals with a negative amount) count.
    roles : tuple of str, optional
        Which credit lines by the payee's role in the deal: ``seller`` (owner and split
        lines) and ``rollup`` (a manager's roll-up lines); ``None`` for all.

    Every measure is summed per payee and per period of the line's ``credit_date``.
    """

    value: Literal["amount", "share", "lines"] = "amount"
    filter: tuple[tuple[str, tuple[str, ...]], ...] = ()
    deal_window: tuple[date, date] | None = None
    clawback: bool = True
    credit_memos: bool = True
    roles: tuple[str, ...] | None = None

    @property
    def unit(self) -> int:
        """Grid values per plan unit: cents per currency unit, parts per billion per deal."""
        return {"amount": 100, "share": 1_000_000_000, "lines": 1}[self.value]


class Component(Frozen):
    """Base of every component type.  See the module docstring for the protocol."""

    type_name: ClassVar[str] = ""
    #: Whether it pays by attainment (pay curves include it; SPIFs, say, do not).
    uses_attainment: ClassVar[bool] = False
    #: Field kinds the plan explorer may edit, from :data:`EDITABLE`.
    editable: ClassVar[tuple[str, ...]] = ()
    #: Cap forms the component accepts.
    cap_kinds: ClassVar[tuple[str, ...]] = ("amount", "ti_multiple")

    id: str = Field(min_length=1)
    type: str
    filter: dict[str, tuple[str, ...]] | None = None
    cap: Cap | None = None
    weight: NonNegative = Decimal(1)

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

    # ------------------------------------------------------------------ the protocol

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

    def threshold(self) -> Decimal | None:
        """The attainment below which the component pays nothing (None: it has none)."""
        return None

    @classmethod
    def set_threshold(cls, data: dict[str, Any], value: Decimal) -> None:
        """Move the threshold in the component's plan data (a dict, edited in place)."""
        raise ValueError(f"a {cls.type_name} has no threshold")


class Measured(Component):
    """Fields and helpers shared by components that measure credit and attain against a
    quota (``measure``, ``basis``); each concrete type still defines its own protocol."""

    measure: Literal["amount", "count"] = "amount"
    basis: Literal["attainment", "value"] = "attainment"

    def value_spec(self) -> MeasureSpec:
        """``amount``: credited cents; ``count``: each credited deal counts its credited
        share (a clawback line counts minus that share)."""
        return MeasureSpec(value="amount" if self.measure == "amount" else "share",
                           filter=self.filter_items())

    def measures(self) -> dict[str, MeasureSpec]:
        return {"value": self.value_spec()}

    @property
    def unit(self) -> int:
        """Grid values per plan unit of the measure (100 cents; 10^9 per deal counted)."""
        return self.value_spec().unit

    def quota_units(self, quota_cents: np.ndarray, num: Num) -> np.ndarray:
        """Quotas (cents of the quotas table's ``quota``) in the measure's grid units."""
        return num.arr(quota_cents) * num.const(self.unit) / num.const(100)

    def value_text(self, values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """Measure values as text: money, or a count of deals."""
        from spmkit.grid import money_grid

        if self.measure == "amount":
            return money_grid(values, shape)
        return np.array([f"{v / self.unit:g}" for v in np.ravel(values)],
                        dtype=object).reshape(shape)

    def rate_label(self, rate: Any) -> str:
        """A rate as text: a percentage of credit, or money per deal counted."""
        from spmkit.grid import rate_text

        return rate_text(rate) if self.measure == "amount" else f"{Decimal(rate):,.2f} per deal"

    def point_text(self, point: Decimal) -> str:
        """A tier ``from`` or curve x as text: a percentage of quota, or a value."""
        if self.basis == "attainment":
            return f"{float(point) * 100:g}%"
        return f"{point:,.2f}" if self.measure == "amount" else f"{point:g}"
