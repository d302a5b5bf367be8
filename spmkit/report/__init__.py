"""Presentation: figures, display tables, running the shipped notebooks and rendering HTML.

This room only reads what :mod:`spmkit.scenario` and :mod:`spmkit.payout` return; it never
computes a payout.  Submodules are imported on use (``from spmkit.report import figures``)
so importing the package pulls in neither matplotlib nor papermill.
"""

from typing import Any

__all__ = ["build", "build_from_files"]


def build(comparison: Any, audience: str = "executive", **options: Any) -> Any:
    """The report's content for one audience: see :func:`spmkit.report.compose.build`."""
    from spmkit.report.compose import build as _build

    return _build(comparison, audience, **options)


def build_from_files(data: Any, baseline: Any, scenarios: Any = (), **options: Any) -> Any:
    """Load, compare once and build: see :func:`spmkit.report.compose.build_from_files`."""
    from spmkit.report.compose import build_from_files as _build_from_files

    return _build_from_files(data, baseline, scenarios, **options)
