"""The Dask engine: crediting and measuring spread over a cluster; only the grid comes back.

How it works (``docs/engine.md`` says more):

1. The deals are cut into partitions of whole deals (``deal_id`` is unique, so every deal
   lies in exactly one partition) and scattered to the workers.  The small tables
   (quotas, roster, fx) and the tables keyed by deal (splits, overlays, payments) are
   scattered once to every worker; each partition keeps the rows of its own deals.
2. ``map_partitions`` runs the very same :func:`spmkit.payout.measure` on each partition:
   crediting (fx, splits, overlays, clawbacks, roll-ups once per deal: all lines of a deal
   are in its partition) and every component's measures, into a partial rep x period grid.
3. The partial grids are gathered and added, exactly (``spmkit.money.checked_sum``; a sum
   beyond int64 is an error): a measure on the grid is a sum over credit lines, and every
   line belongs to one deal, so the partial sums add up to the whole.  Per-rep facts
   (quotas, target incentive, days employed, draws) come from the roster and quotas, which
   every partition sees whole, so they are the same in each.
4. The earners, payouts and explanations run once, on the driver, on the summed grid:
   :func:`spmkit.payout.calculate` with ``measured=``.  The results are byte-identical to
   the default engine's for any number of partitions.

A running tier (``tiers.scope: running``) needs all lines of a rep, in order, in one
place, which partitions of deals do not give; plans with one run in a single partition
(still on the cluster, still exact).  For ``spmkit calc`` the credit lines it writes are
gathered too (the five columns of ``credits``); :func:`measure` with ``lines=False``
gathers the grid alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from spmkit.errors import SpmkitError
from spmkit.money import CentsOverflowError, checked_cumsum, checked_sum, overflow_problem
from spmkit.plan import Plan
from spmkit.progress import step as progress_step
from spmkit.tables import Inputs

__all__ = ["calculate", "calculate_plans", "connect", "measure", "needs_rep_order"]

#: The columns of the credit lines that ``calculate`` turns into the ``credits`` output.
LINE_COLUMNS = ["deal_id", "rep_id", "credit_date", "amount_cents", "rule"]
#: Grid fields that are sums over credit lines; every other per-rep field is a fact of the
#: roster or the quotas, the same in every partition.
SUMMED = ("credit", "measures")
_BY_DEAL = ("splits", "overlays", "payments")


def connect(scheduler: str) -> Any:
    """A ``distributed.Client`` for a scheduler address (``tcp://host:8786``).

    Raises
    ------
    SpmkitError
        Dask is not installed, or the scheduler cannot be reached.
    """
    try:
        from distributed import Client
    except ImportError:
        raise SpmkitError("--engine dask needs Dask: pip install 'spmkit[dask]'") from None
    try:
        return Client(scheduler, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SpmkitError(f"cannot reach the Dask scheduler {scheduler!r}: {exc}") from None


def needs_rep_order(plan: Plan) -> bool:
    """Whether a measure of ``plan`` needs all lines of a rep in order (a running tier)."""
    return any(getattr(spec, "running", None) is not None
               for comp in plan.components for spec in comp.measures().values())


def _partition(deals: pd.DataFrame, plan: Plan, context: Inputs, with_lines: bool
               ) -> pd.DataFrame:
    """One partition: its deals measured as the default engine measures all of them."""
    from spmkit.payout import measure as measure_rows

    deals = deals.reset_index(drop=True)
    ids = deals["deal_id"]
    mine = {t: None if getattr(context, t, None) is None
            else getattr(context, t).loc[lambda f: f["deal_id"].isin(ids)].reset_index(drop=True)
            for t in _BY_DEAL}
    grid, lines, summary = measure_rows(plan, dataclasses.replace(context, deals=deals, **mine))
    kept = lines[LINE_COLUMNS] if with_lines else None
    return pd.DataFrame({"grid": [grid], "lines": [kept], "summary": [summary]}, dtype=object)


_META = pd.DataFrame({"grid": pd.Series([], dtype=object), "lines": pd.Series([], dtype=object),
                      "summary": pd.Series([], dtype=object)})


def measure(plan: Plan, inputs: Inputs, client: Any, *, partitions: int | None = None,
            lines: bool = True) -> tuple[Any, pd.DataFrame | None, dict[str, int]]:
    """:func:`spmkit.payout.measure` on a Dask cluster: ``(grid, lines, summary)``.

    Parameters
    ----------
    plan, inputs
        As for :func:`spmkit.payout.measure`.
    client : distributed.Client
        The cluster to run on.
    partitions : int, optional
        How many partitions of deals (default: one per worker).  The result does not depend
        on it.
    lines : bool
        Gather the credit lines' ``deal_id, rep_id, credit_date, amount_cents, rule`` (for
        the ``credits`` output); ``False``: the grid alone (``lines`` is ``None``).
    """
    import dask
    import dask.dataframe as dd

    deals = inputs.deals
    n = partitions or max(1, len(client.scheduler_info().get("workers", {})))
    if n < 1:
        raise SpmkitError(f"settings: partitions must be at least 1, not {n}")
    if needs_rep_order(plan):
        n = 1  # a running tier: every rep's lines in one place (docs/engine.md)
    n = max(1, min(n, len(deals)))  # no empty partitions
    context = dataclasses.replace(inputs, deals=deals.iloc[:0])
    with dask.config.set({"dataframe.convert-string": False}):  # keep the loaders' dtypes
        shared = client.scatter(context, broadcast=True, hash=False)
        bounds = np.linspace(0, len(deals), n + 1).astype(np.int64)
        chunks = client.scatter([deals.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:],
                                                                 strict=True)], hash=False)
        frame = dd.from_delayed(chunks, meta=deals.iloc[:0], verify_meta=False)
        parts = frame.map_partitions(_partition, plan, shared, lines, meta=_META,
                                     enforce_metadata=False, align_dataframes=False)
        gathered = client.compute(parts, sync=True)
    grids = list(gathered["grid"])
    grid = combine(grids, source=(getattr(inputs, "sources", None) or {}).get("deals", "deals"))
    summaries = list(gathered["summary"])
    summary = {key: sum(int(s[key]) for s in summaries) for key in summaries[0]}
    summary["payees"] = len(grid.rep_ids)
    all_lines = None
    if lines:
        all_lines = pd.concat(list(gathered["lines"]), ignore_index=True)
    progress_step("credit", summary.get("credit_lines", 0))
    progress_step("measure", summary.get("credit_lines", 0))
    return grid, all_lines, summary


def combine(grids: list[Any], *, source: str = "deals") -> Any:
    """One grid from the partial grids of partitions of the deals: line sums added exactly,
    per-rep facts placed by rep.

    Raises
    ------
    CentsOverflowError
        A rep's credit or measure (in a period, or year to date) beyond int64 cents.
    """
    first = grids[0]
    if len(grids) == 1:
        return first
    payees = pd.Index(np.concatenate([np.asarray(g.rep_ids) for g in grids])).unique()
    payees = payees.sort_values()
    at = [payees.get_indexer(np.asarray(g.rep_ids)) for g in grids]
    k = first.periods.count

    def summed(arrays: list[np.ndarray], what: str) -> np.ndarray:
        stack = np.zeros((len(arrays), len(payees), k), dtype=np.int64)
        for i, (a, rows) in enumerate(zip(arrays, at, strict=True)):
            stack[i, rows] = a
        total, over = checked_sum(stack, axis=0)
        ytd_over = checked_cumsum(total, axis=1)[1]
        if over.any() or ytd_over.any():
            r = int(np.argmax((over | ytd_over).any(axis=1)))
            raise CentsOverflowError(overflow_problem(source, f"the {what} of rep {payees[r]}",
                                                      column="amount"))
        return total

    def per_rep(values: list[Any]) -> Any:
        if values[0] is None:
            return None
        if isinstance(values[0], Mapping):
            return {key: per_rep([v[key] for v in values]) for key in values[0]}
        arrays = [np.asarray(v) for v in values]
        out = np.zeros((len(payees), *arrays[0].shape[1:]), dtype=arrays[0].dtype)
        for a, rows in zip(arrays, at, strict=True):
            out[rows] = a
        return out

    changes: dict[str, Any] = {"rep_ids": payees.to_numpy()}
    for fld in dataclasses.fields(first):
        name = fld.name
        values = [getattr(g, name) for g in grids]
        if name == "rep_ids":
            continue
        if name == "credit":
            changes[name] = summed(values, "credit")
        elif name == "measures":
            changes[name] = {cid: {m: summed([v[cid][m] for v in values],
                                             f"credit measured by component {cid!r}")
                                   for m in named} for cid, named in first.measures.items()}
        elif _is_per_rep(values[0], len(first.rep_ids)):
            changes[name] = per_rep(values)
    return dataclasses.replace(first, **changes)


def _is_per_rep(value: Any, rows: int) -> bool:
    if isinstance(value, np.ndarray):
        return value.ndim >= 1 and value.shape[0] == rows
    if isinstance(value, Mapping) and value:
        return all(_is_per_rep(v, rows) for v in value.values())
    return False


def calculate(plan: Plan, inputs: Inputs, client: Any, *, partitions: int | None = None):
    """:func:`spmkit.payout.calculate` with crediting and measures on a Dask cluster.

    Examples
    --------
    >>> from distributed import Client, LocalCluster          # doctest: +SKIP
    >>> with LocalCluster(n_workers=2) as cluster, Client(cluster) as client:  # doctest: +SKIP
    ...     result = calculate(plan, inputs, client)
    """
    from spmkit.payout import calculate as calculate_rows

    measured = measure(plan, inputs, client, partitions=partitions)
    return calculate_rows(plan, inputs, measured=measured)


def calculate_plans(plans: list[Plan], inputs: Inputs, client: Any, *,
                    partitions: int | None = None) -> list:
    """:func:`spmkit.payout.calculate_plans` on a Dask cluster (same checks, same results)."""
    from spmkit.payout import calculate_plans as calculate_rows

    return calculate_rows(plans, inputs, engine=lambda plan, data: calculate(
        plan, data, client, partitions=partitions))
