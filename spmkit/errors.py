"""Errors for people: every problem names its file, row or key and what is wrong.

A :class:`SpmkitError` carries one or more :class:`Problem` records.  Loaders and
validators collect every problem they find before raising, so the user sees them all
at once; the CLI prints ``str(error)`` and exits with status 2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input.

    ``source`` is a file name (or a table name such as ``deals`` for a DataFrame),
    ``where`` a location inside it (``line 12``, ``row 3``, ``components[1].tiers``),
    ``column`` the column or key when there is one.
    """

    source: str
    message: str
    where: str | None = None
    column: str | None = None

    def __str__(self) -> str:
        parts = [self.source]
        if self.where:
            parts.append(self.where)
        if self.column:
            parts.append(f"column {self.column!r}")
        return f"{', '.join(parts)}: {self.message}"


class SpmkitError(Exception):
    """Bad input or settings. ``str()`` is a message fit for a person."""

    def __init__(self, problems: Problem | str | Iterable[Problem], *, limit: int = 50):
        if isinstance(problems, (Problem, str)):
            problems = [problems]
        self.problems: list[Problem | str] = list(problems)
        self.limit = limit
        super().__init__(self._render())

    def _render(self) -> str:
        items = [str(p) for p in self.problems]
        if len(items) == 1:
            return items[0]
        shown = items[: self.limit]
        more = len(items) - len(shown)
        text = f"{len(items)} problems:\n" + "\n".join(f"  - {p}" for p in shown)
        if more:
            text += f"\n  ... and {more} more"
        return text


class InputError(SpmkitError):
    """A table (deals, quotas, roster, splits, fx) is malformed or inconsistent."""


class PlanError(SpmkitError):
    """A plan file is malformed or says something spmkit cannot compute."""


def raise_if(problems: list[Problem], cls: type[SpmkitError] = InputError) -> None:
    """Raise ``cls(problems)`` when the list is not empty."""
    if problems:
        raise cls(problems)
