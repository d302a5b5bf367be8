"""``spmkit calc`` on deals of any size: a slice of deals at a time, in bounded memory.

How it works (``docs/engine.md`` says more):

1. **Read, check, credit and measure, a slice at a time.**  The small tables (quotas,
   roster, splits, fx, overlays, payments) are loaded whole, as
   :func:`spmkit.tables.load_inputs` loads them.  The deals are read :data:`CHUNK_ROWS`
   rows at a time (Parquet batches, blocks of CSV lines; :func:`spmkit.tables.read_slices`)
   and every slice goes through the very same mapping, parsing and validation as a whole
   table.  Every line of a deal (split, overlay, roll-up, clawback) comes from that deal,
   so a slice's deals, with the split, overlay and payment rows of those deals, are
   credited and measured by the very same :func:`spmkit.payout.measure` as a whole table,
   into a partial rep x period grid; partial grids add up exactly
   (:func:`spmkit.dask_engine.combine`: a measure is a sum over credit lines).  Each
   slice's credit lines, sorted, go to a temporary Parquet file, and its deal ids (with
   their line or row numbers) to another.  :data:`WORKERS` slices are worked on at once,
   on threads (Arrow, numpy, Parquet and DuckDB release the GIL); their results are added
   in slice order.  What the warnings need of the deals is kept as
   :class:`spmkit.checks.DealFacts`.
2. **Check across slices, in DuckDB.**  A ``deal_id`` repeated in two slices is found by
   one grouped query over the id files and reported with the same message as within a
   slice; a split, overlay or payment naming a deal no slice has, once all are read.
3. **Earn once.**  The earners, payouts and explanations run once on the summed grid
   (:func:`spmkit.payout.calculate` with ``measured=``).
4. **Write in order.**  The credit lines are ordered by deal first: the ids are cut into
   ranges (at quantiles of a sample of them), and
   :func:`spmkit.payout.write_outputs` has DuckDB read and sort one range at a time from
   the slices' files (each sorted in small row groups, so a range reads only its own).

Memory follows the slice, not the table.  The results are the same to the byte for any
slice size (``tests/test_stream.py``).  A plan with a running tier needs all of a rep's
lines in order in one place, so its deals are also kept in temporary files and credited
at once, as on the Dask engine.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import contextvars
import dataclasses
import errno
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spmkit.errors import InputError, Problem, SpmkitError
from spmkit.plan import Plan
from spmkit.progress import step as progress_step

__all__ = ["CHUNK_ROWS", "calculate_files"]

#: Deals per slice (about 0.4 GB of working memory each, a slice per worker thread).
CHUNK_ROWS = 500_000
#: Slices worked on at once, at most (one per core).
WORKERS = 2
#: DuckDB's memory for the cross-slice checks and the ranges written (it spills beyond it).
DUCKDB_MEMORY = "512MB"
#: Rows per row group of the temporary files of credit lines (sorted by deal id).
PART_GROUP = 65_536
#: Deal ids sampled to cut the ranges (the cuts need not be exact quantiles).
SAMPLE = 200_000
_SMALL = ("quotas", "roster", "splits", "fx", "overlays", "payments")
_BY_DEAL = ("splits", "overlays", "payments")


@dataclasses.dataclass(frozen=True)
class Streamed:
    """What :func:`calculate_files` returns: the results, the small tables as loaded (the
    deals left out: ``inputs.deals`` has no rows) and the facts of the deals."""

    results: list
    inputs: Any
    facts: Any
    workdir: Any  # the temporary folder holding the credit lines; removed by close()

    def close(self) -> None:
        self.workdir.cleanup()

    def __enter__(self) -> Streamed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _workers() -> int:
    """Slices worked on at once: a thread per core (the work is mostly Arrow, numpy and
    Parquet, which release the GIL), each holding one slice in memory."""
    return max(1, min(WORKERS, os.cpu_count() or 1))


def _dedupe(problems: list[Problem]) -> list[Problem]:
    """Problems in order, each once (every slice reports a missing column alike)."""
    return list(dict.fromkeys(problems))


@contextlib.contextmanager
def duckdb_in(workdir: Path, doing: str) -> Any:
    """A DuckDB connection with :data:`DUCKDB_MEMORY`, spilling into ``workdir``; its
    errors said as ours: a file it cannot read or write (a full disk) is a file error
    (exit 2), running out of its memory one message saying what it was ``doing``."""
    import duckdb

    con = duckdb.connect(config={"memory_limit": DUCKDB_MEMORY, "threads": os.cpu_count() or 1,
                                 "temp_directory": str(workdir / "duckdb"),
                                 "preserve_insertion_order": True})
    try:
        yield con
    except duckdb.IOException as exc:  # e.g. a full disk: a file error, not a bug
        raise OSError(errno.EIO, str(exc).splitlines()[0], str(workdir)) from None
    except duckdb.OutOfMemoryException:
        raise SpmkitError(f"DuckDB ran out of its {DUCKDB_MEMORY} while {doing}; give a "
                          "smaller --chunk-rows") from None
    finally:
        con.close()


def _write_part(frame: pd.DataFrame, path: Path, extra: Mapping[str, np.ndarray] | None = None,
                *, groups: bool = False) -> None:
    """A frame to a temporary Parquet file; with ``groups``, in small row groups, so that a
    query for a range of its (sorted) first column reads only the row groups in the range
    (DuckDB skips the others by their min and max)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name, values in (extra or {}).items():
        table = table.append_column(name, pa.array(values))
    pq.write_table(table, path, row_group_size=PART_GROUP if groups else None)


def calculate_files(plans: Sequence[Plan], sources: Mapping[str, Any], *,
                    mapping: Mapping | None = None, currency: str | None = None,
                    measure_columns: tuple[str, ...] = (), chunk_rows: int = CHUNK_ROWS,
                    ) -> Streamed:
    """:func:`spmkit.payout.calculate_plans` on tables given as files (or database URLs,
    or frames), reading the deals a slice at a time.

    Parameters
    ----------
    plans : list of Plan
    sources : dict
        Table -> source, as for :func:`spmkit.tables.load_inputs` (``deals`` required).
    mapping, currency, measure_columns
        As for :func:`spmkit.tables.load_inputs`.
    chunk_rows : int
        Deals per slice and per range (the results do not depend on it).

    Returns
    -------
    Streamed
        Use it as a context manager: its results' credit lines live in a temporary folder
        until it is closed (:func:`spmkit.payout.write_outputs` reads them from there).

    Raises
    ------
    InputError
        Everything :func:`spmkit.tables.load_inputs` rejects, every problem at once.
    """
    from spmkit.payout import check_plans
    from spmkit.tables import is_nested

    if chunk_rows < 1:
        raise InputError(Problem("settings", f"chunk rows must be at least 1, not {chunk_rows}"))
    nested = is_nested(mapping)

    def mapping_of(table: str) -> Any:
        return (mapping or {}).get(table) if nested else mapping

    check_plans(plans)
    workdir = tempfile.TemporaryDirectory(prefix="spmkit-calc-")
    try:
        return _run(plans, sources, mapping_of, nested, bool(mapping) and not nested, currency,
                    measure_columns, chunk_rows, Path(workdir.name), workdir)
    except BaseException:
        workdir.cleanup()
        raise


def _run(plans, sources, mapping_of, nested, flat, currency, measure_columns, chunk_rows,
         work, workdir):  # noqa: PLR0913, PLR0915 - the steps of the module docstring
    from spmkit.checks import DealFacts, filter_columns
    from spmkit.dask_engine import combine, needs_rep_order
    from spmkit.payout import CreditParts, calculate, measure
    from spmkit.tables import (
        EFFECTIVE,
        Inputs,
        _arrow_frame,
        _Collector,
        _cross_checks,
        _duplicates,
        _load,
        _Loaded,
        _Loc,
        _missing_keys,
        _rows_of,
        current_roster,
        read_slices,
    )

    problems: list[Problem] = []
    small: dict[str, _Loaded] = {}
    used: set[str] = set()
    for table in _SMALL:  # a handful of tables, not rows
        src = sources.get(table)
        if src is None:
            continue
        try:
            small[table] = _load(table, src, mapping_of(table), None, strict_mapping=nested)
        except InputError as err:
            problems.extend(p for p in err.problems if isinstance(p, Problem))
            continue
        used |= small[table].used
    problems.extend(_cross_checks(small, currency))  # roster keys of quotas, splits, ...

    roster = small.get("roster")
    roster_frame = roster.frame if roster is not None else None
    roster_rows = None
    if roster_frame is not None and set(EFFECTIVE) & set(roster_frame.columns):
        roster_frame, roster_rows = current_roster(roster_frame), roster_frame
    base = {t: small[t].frame for t in ("quotas", "fx") if t in small}
    matched = {t: np.zeros(len(small[t].frame), dtype=bool) for t in _BY_DEAL if t in small}
    whole = [p for p in plans if needs_rep_order(p)]  # running tiers: all deals at once
    direct = [p for p in plans if not needs_rep_order(p)]
    grids: dict[str, Any] = {}
    summaries: dict[str, dict[str, int]] = {}
    order = [p.plan for p in plans]
    lines_of: dict[str, list[Path]] = {p: [] for p in order}
    counts: dict[str, int] = dict.fromkeys(order, 0)
    cross: list[Problem] = []
    source_names = {t: v.loc.name for t, v in small.items()}

    def credit(chosen: Sequence[Plan], frame: pd.DataFrame, where: _Loc, tag: str) -> dict:
        """Credit and measure ``frame`` (deals, each whole) under ``chosen``: the partial
        grids and summaries, and a file of sorted credit lines per plan (for :func:`add`)."""
        chunk: dict[str, _Loaded] = {"deals": _Loaded(frame, where, set())}
        part: dict[str, Any] = {"hits": {}, "plans": []}
        for t in _BY_DEAL:
            if t in small:
                part["hits"][t] = small[t].frame["deal_id"].isin(frame["deal_id"]).to_numpy(bool)
                chunk[t] = _rows_of(small[t], frame["deal_id"])
        for t in ("roster", "fx"):
            if t in small:
                chunk[t] = small[t]
        part["cross"] = _cross_checks(chunk, currency)
        if part["cross"]:
            return part
        inputs = Inputs(deals=frame, **base, roster=roster_frame, roster_rows=roster_rows,
                        **{t: chunk[t].frame for t in _BY_DEAL if t in chunk},
                        sources={"deals": where.name, **source_names})
        credited: dict = {}
        for plan in chosen:  # a handful of plans, not reps
            grid, lines, summary = measure(plan, inputs, credited=credited)
            path = work / f"lines-{order.index(plan.plan)}-{tag}.parquet"
            _write_part(_sorted_lines(lines), path, groups=True)
            part["plans"].append((plan.plan, grid, summary, path, len(lines)))
        return part

    def add(part: dict, source: str) -> None:
        """A slice's (or all deals') :func:`credit` into the run's grids, in slice order."""
        for t, hit in part["hits"].items():
            matched[t] |= hit
        cross.extend(part["cross"])
        for plan, grid, summary, path, n in part["plans"]:  # a handful of plans
            before = grids.get(plan)
            grids[plan] = grid if before is None else combine([before, grid], source=source)
            before = summaries.get(plan)
            summaries[plan] = summary if before is None else {
                k: int(before[k]) + int(summary[k]) for k in before}
            lines_of[plan].append(path)
            counts[plan] += n

    columns = filter_columns(plans)

    def one_slice(i: int, box: list, loc: _Loc) -> dict:
        """One slice of the deals (``box`` holds its raw frame, taken out so that it is freed
        once parsed): parsed and checked, its ids (and with ``whole`` plans its rows) kept on
        disk, credited and measured.  Runs on a worker thread."""
        raw = box.pop()
        try:
            loaded = _load("deals", None, mapping_of("deals"), None, strict_mapping=nested,
                           extra=tuple(measure_columns), raw=(raw, loc))
        except InputError as err:
            return {"problems": [p for p in err.problems if isinstance(p, Problem)], "loc": loc}
        del raw
        frame, where = loaded.frame, loaded.loc
        done: dict[str, Any] = {"problems": [], "loc": where, "used": loaded.used,
                                "rows": len(frame),
                                # no rows, the columns' types: not a view holding the slice
                                "empty": pd.DataFrame({c: pd.Series(dtype=t)
                                                       for c, t in frame.dtypes.items()}),
                                "facts": DealFacts.of(frame, columns)}
        del loaded
        path = work / f"ids-{i:06d}.parquet"
        _write_part(frame[["deal_id"]], path, {"_row": where.numbers})
        done["ids"] = str(path)
        if whole:  # kept whole for the plans that need every deal at once
            path = work / f"deals-{i:06d}.parquet"
            _write_part(frame, path, {"_row": where.numbers})
            done["deals"] = str(path)
        if direct and not problems:
            done["credit"] = credit(direct, frame, where, f"{i:06d}")
        return done

    # 1. the deals, a slice at a time, on a thread per core: parsed, checked, credited
    deal_problems: list[Problem] = []
    ids: list[str] = []
    parts: list[str] = []
    facts = None
    empty = None
    loc0 = None
    rows = 0
    deals_used: set[str] = set()

    def take(done: dict) -> None:
        nonlocal facts, empty, loc0, rows, deals_used
        loc0 = loc0 or done["loc"]
        if done["problems"]:
            deal_problems.extend(done["problems"])
            return
        deals_used |= done["used"]
        empty = done["empty"] if empty is None else empty
        rows += done["rows"]
        facts = done["facts"] if facts is None else facts.merge(done["facts"])
        ids.append(done["ids"])
        if "deals" in done:
            parts.append(done["deals"])
        if "credit" in done and not deal_problems:
            add(done["credit"], done["loc"].name)

    workers = _workers()
    with concurrent.futures.ThreadPoolExecutor(workers, "spmkit-slice") as pool:
        pending: collections.deque = collections.deque()
        try:
            for i, (raw, loc) in enumerate(read_slices(sources["deals"], "deals", chunk_rows)):
                pending.append(pool.submit(contextvars.copy_context().run, one_slice, i, [raw],
                                           loc))
                del raw
                while len(pending) >= workers:  # a slice per worker in memory, no more
                    take(pending.popleft().result())
            while pending:
                take(pending.popleft().result())
        finally:
            for future in pending:
                future.cancel()
    used |= deals_used
    if flat and not problems and not deal_problems:  # every table read: a key none has
        for key in mapping_of("deals") or {}:
            if key not in used:
                problems.append(Problem("mapping", f"no input table has column {key!r}",
                                        column=str(key)))
    problems = _dedupe(deal_problems) + problems
    if problems or loc0 is None:
        raise InputError(problems or [Problem("deals", "no deals table")])
    name, kind = loc0.name, loc0.kind
    keyed = bool(loc0.by_key)

    with duckdb_in(work, "checking and cutting the deals") as con:
        # 2. a deal id repeated across slices (within a slice the loader found it already)
        scan = f"read_parquet({ids!r})"
        dup = con.sql(f"SELECT deal_id, _row FROM {scan} WHERE deal_id IN (SELECT "
                      f"deal_id FROM {scan} GROUP BY deal_id HAVING count(*) > 1) "
                      "ORDER BY _row").to_arrow_table()
        if dup.num_rows:
            frame = _arrow_frame(dup)
            where = _Loc(name, kind, frame["_row"].to_numpy(np.int64), by_key=keyed,
                         keys=_keys_of(frame, keyed))
            out = _Collector(where)
            _duplicates(frame[["deal_id"]], ["deal_id"], out, "deal_id")
            raise InputError(_dedupe(deal_problems + out.problems()))
        if whole and not cross:  # every deal at once, in file order
            got = con.sql(f"SELECT * FROM read_parquet({parts!r}) ORDER BY _row"
                          ).to_arrow_table()
            frame = _arrow_frame(got)
            del got
            numbers = frame.pop("_row").to_numpy(np.int64)
            add(credit(whole, frame, _Loc(name, kind, numbers, by_key=keyed,
                                          keys=_keys_of(frame, keyed)), "all"), name)
            del frame
        for t, hit in matched.items():
            if not hit.all():
                rest = small[t]
                unmatched = _Loaded(rest.frame.loc[~hit].reset_index(drop=True),
                                    dataclasses.replace(rest.loc, numbers=rest.loc.numbers[~hit]),
                                    rest.used)
                cross += _missing_keys(unmatched, "deal_id", pd.Series([], dtype="str"),
                                       f"the deals ({name})", "deal_id")
        if cross:
            raise InputError(_dedupe(cross))
        # 3. where the credit lines are cut into ranges of deal ids, to be written in order
        ranges = max(1, math.ceil(rows / chunk_rows))
        cuts: list[str] = []
        if ranges > 1:  # cut points from a sample of the ids (an exact quantile holds them all)
            step = max(1, rows // SAMPLE)
            sample = con.sql(f"SELECT deal_id FROM {scan} WHERE _row % {step} = 0 "
                             "ORDER BY deal_id").to_arrow_table().column("deal_id")
            at = [len(sample) * j // ranges for j in range(1, ranges)]
            cuts = sorted(set(sample.take(at).to_pylist()) - {sample[0].as_py()}) \
                if len(sample) else []

    small_inputs = Inputs(deals=empty if empty is not None else pd.DataFrame(), **base,
                          roster=roster_frame, roster_rows=roster_rows,
                          **{t: small[t].frame for t in _BY_DEAL if t in small},
                          sources={"deals": name, **source_names})
    results = []
    for plan in plans:  # a handful of plans, not reps
        summary = dict(summaries[plan.plan])
        grid = grids[plan.plan]
        summary["payees"] = len(grid.rep_ids)
        parts_of = CreditParts(tuple(lines_of[plan.plan]), counts[plan.plan], tuple(cuts))
        results.append(calculate(plan, small_inputs, measured=(grid, parts_of, summary)))
    progress_step("slices", rows, name)
    return Streamed(results=results, inputs=small_inputs, facts=facts, workdir=workdir)


def _keys_of(frame: pd.DataFrame, keyed: bool) -> tuple:
    """The key columns naming rows read back, for a database table (its rows have no
    numbers): :func:`spmkit.sources.row_keys`."""
    if not keyed:
        return ()
    from spmkit.sources import row_keys

    return row_keys(frame, "deals")


def _sorted_lines(lines: pd.DataFrame) -> pd.DataFrame:
    from spmkit.payout import CREDIT_ORDER, CREDIT_OUTPUT, _sorted

    return _sorted(lines[CREDIT_OUTPUT], CREDIT_ORDER)
