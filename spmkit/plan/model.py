"""The plan model: frozen, typed, validated.

Numbers that are money or rates are :class:`~decimal.Decimal`, read from the YAML text
exactly.  Component types live in :mod:`spmkit.components`, one class each, registered
under their ``type_name``; the plan looks the ``type:`` key up in :data:`COMPONENT_TYPES`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field, SerializeAsAny, field_validator, model_validator

from spmkit.components import (  # noqa: F401  (re-exported: the plan's vocabulary)
    COMPONENT_TYPES,
    FILTER_COLUMNS,
    Band,
    Bonus,
    Cap,
    Commission,
    Component,
    Measure,
    Spif,
    Tiers,
)
from spmkit.components.base import component_type
from spmkit.components.fields import (  # noqa: F401  (re-exported)
    DATE_MAX,
    DATE_MIN,
    MAX_BANDS,
    MAX_COMPONENTS,
    MAX_NAME,
    YEAR_START_MAX,
    Frozen,
    Share,
)


class Plan(Frozen):
    """A compensation plan: what a YAML plan file says, validated.

    Build one with :func:`spmkit.plan.load_plan` (a path or a YAML string) or
    ``Plan.model_validate(dict)``.
    """

    plan: str = Field(min_length=1, max_length=MAX_NAME)
    #: What the plan is and what it changes, in a sentence or two a VP reads in a report.
    description: str | None = Field(default=None, max_length=2000)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    year_start: date
    period: Literal["month", "quarter", "year"]
    credit: Literal["direct", "rollup", "overlay"] = "direct"
    #: With ``credit: overlay``: deal columns a payee's roster columns of the same name
    #: must equal for the payee to be credited with the deal.
    overlay_match: tuple[Literal["product", "deal_type", "region", "account"], ...] | None = (
        Field(default=None, min_length=1))
    phasing: tuple[Share, ...] | None = Field(default=None, max_length=12)
    #: ``[FROM, TO]`` (inclusive): the plan applies only on these days of its plan year.
    effective: tuple[date, date] | None = None
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
            kind = component_type(str(item["type"]))
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
        self._check_links()
        if (self.credit == "overlay") != (self.overlay_match is not None):
            raise ValueError("credit: overlay and overlay_match go together: overlay_match "
                             "names the deal columns a payee's roster columns must equal")
        if self.effective is not None:
            first, last = self.effective
            if first > last:
                raise ValueError(f"effective: {first} is after {last}; give [FROM, TO] with "
                                 "FROM on or before TO")
            if last < self.year_start or first > self.year_end:
                raise ValueError(f"effective: [{first}, {last}] lies outside the plan year "
                                 f"{self.year_start} .. {self.year_end}")
        if self.phasing is not None:
            n = {"month": 12, "quarter": 4, "year": 1}[self.period]
            if len(self.phasing) != n:
                raise ValueError(f"phasing needs {n} shares for period '{self.period}', "
                                 f"got {len(self.phasing)}")
            if sum(self.phasing) != 1:
                raise ValueError(f"phasing shares must sum to 1, they sum to {sum(self.phasing)}")
        return self

    def _check_links(self) -> None:
        """Gates and modifiers name other components that have an attainment; no cycles."""
        by_id = {c.id: c for c in self.components}
        for comp in self.components:
            refs = comp.references()
            if not refs:
                continue
            if not comp.linkable:
                raise ValueError(f"component {comp.id!r}: a {comp.type} cannot take a gate or "
                                 "a modifier")
            for ref in refs:
                if ref == comp.id:
                    raise ValueError(f"component {comp.id!r}: its gate or modifier names "
                                     "itself")
                if ref not in by_id:
                    raise ValueError(f"component {comp.id!r}: its gate or modifier names "
                                     f"{ref!r}, which is not a component of this plan "
                                     f"({', '.join(by_id)})")
                if not by_id[ref].attains:
                    raise ValueError(f"component {comp.id!r}: its gate or modifier names "
                                     f"{ref!r}, a {by_id[ref].type} with no attainment")
        graph = {c.id: c.references() for c in self.components}
        state: dict[str, int] = {}

        def visit(node: str, path: list[str]) -> None:
            state[node] = 1
            for ref in graph[node]:
                if state.get(ref) == 1:
                    cycle = path[path.index(ref):] + [ref]
                    raise ValueError("gates and modifiers form a cycle: " + " -> ".join(cycle))
                if ref not in state:
                    visit(ref, path + [ref])
            state[node] = 2

        for cid in graph:  # components, a handful
            if cid not in state:
                visit(cid, [cid])

    @property
    def year_end(self) -> date:
        """The last day of the plan year."""
        y, m = self.year_start.year + 1, self.year_start.month
        return date.fromordinal(date(y, m, 1).toordinal() - 1)

    def days(self) -> tuple[date, date]:
        """The first and last day the plan applies: its ``effective`` days within the plan
        year, or the whole plan year."""
        if self.effective is None:
            return self.year_start, self.year_end
        return max(self.effective[0], self.year_start), min(self.effective[1], self.year_end)

    def warnings(self) -> list[str]:
        """What in the plan is valid but probably a mistake (``spmkit validate`` shows it)."""
        return [w for comp in self.components for w in comp.warnings()]

    def measure_columns(self) -> tuple[str, ...]:
        """Numeric deals columns its components measure (``measure: {column: NAME}``):
        pass them to :func:`spmkit.tables.load_inputs` (``measure_columns=``)."""
        return tuple(sorted({c for comp in self.components for c in comp.measure_columns()}))

    def component(self, component_id: str) -> Component:
        for c in self.components:
            if c.id == component_id:
                return c
        raise KeyError(component_id)

    def to_yaml(self) -> str:
        """The plan as YAML that :func:`spmkit.plan.load_plan` reads back to an equal plan."""
        from spmkit.plan.loader import dump_plan

        return dump_plan(self)
