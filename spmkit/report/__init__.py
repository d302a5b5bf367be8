"""Presentation: figures, display tables, running the shipped notebooks and rendering HTML.

This room only reads what :mod:`spmkit.scenario` and :mod:`spmkit.payout` return; it never
computes a payout.  Submodules are imported on use (``from spmkit.report import figures``)
so importing the package pulls in neither matplotlib nor papermill.
"""
