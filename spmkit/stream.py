"""``spmkit calc`` on deals of any size: a slice of deals at a time, in bounded memory.

How it works (``docs/engine.md`` says more):

1. **Read and check, a slice at a time.**  The small tables (quotas, roster, splits, fx,
   overlays, payments) are loaded whole, as :func:`spmkit.tables.load_inputs` loads them.
   The deals are read :data:`CHUNK_ROWS` rows at a time (Parquet batches, blocks of CSV
   lines; :func:`spmkit.tables.read_slices`) and every slice goes through the very same
   mapping, parsing and validation as a whole table; its rows are kept, parsed, in a
   temporary Parquet file with their line or row numbers.  What the warnings need of the
   deals is kept as :class:`spmkit.checks.DealFacts`.
2. **Check across slices, in DuckDB.**  A ``deal_id`` repeated in two slices is found by
   one grouped query and reported with the same message as within a slice.
3. **Credit and measure by ranges of deal ids.**  DuckDB cuts the deal ids into ranges of
   about :data:`CHUNK_ROWS` deals (cut at quantiles of a sample of the ids) and reads one
   range at a time, in file order (each slice's file is sorted by deal id in small row
   groups, so a range reads only its own row groups).  Every line of a deal (split,
   overlay, roll-up, clawback) comes from that deal, so the rows of a range, with the
   split, overlay and payment rows of its deals, are credited and measured by the very
   same :func:`spmkit.payout.measure` as a whole table, into a partial rep x period
   grid.  Partial grids add up exactly
   (:func:`spmkit.dask_engine.combine`: a measure is a sum over credit lines), and each
   range's credit lines, sorted, go to a temporary Parquet file.  Ranges follow the
   order of the credit lines (by ``deal_id`` first), so the files in range order are the
   credit lines in order.
4. **Earn once.**  The earners, payouts and explanations run once on the summed grid
   (:func:`spmkit.payout.calculate` with ``measured=``), and
   :func:`spmkit.payout.write_outputs` streams the credit lines from the temporary files
   into the output, a row group at a time.

Memory follows the slice, not the table.  The results are the same to the byte for any
slice size (``tests/test_stream.py``).  A plan with a running tier needs all of a rep's
lines in order in one place, so it runs as one range, as on the Dask engine.
"""

from __future__ import annotations

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

#: Deals per slice read, and per range credited (about 0.3 GB of working memory each).
CHUNK_ROWS = 1_000_000
#: DuckDB's memory for the cross-slice checks and the ranges (it spills beyond it).
DUCKDB_MEMORY = "512MB"
#: Rows per row group of the temporary files of deals (sorted by deal id).
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


def _dedupe(problems: list[Problem]) -> list[Problem]:
    """Problems in order, each once (every slice reports a missing column alike)."""
    return list(dict.fromkeys(problems))


def _connect(workdir: Path) -> Any:
    import duckdb

    return duckdb.connect(config={"memory_limit": DUCKDB_MEMORY, "threads": os.cpu_count() or 1,
                                  "temp_directory": str(workdir / "duckdb"),
                                  "preserve_insertion_order": True})


def _write_part(frame: pd.DataFrame, path: Path, extra: Mapping[str, np.ndarray] | None = None,
                *, by: str | None = None) -> None:
    """A frame to a temporary Parquet file; with ``by``, sorted by that column in small row
    groups, so that a query for a range of it reads only the row groups in the range
    (DuckDB skips the others by their min and max)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name, values in (extra or {}).items():
        table = table.append_column(name, pa.array(values))
    if by is not None:
        table = table.take(pc.sort_indices(table, sort_keys=[(by, "ascending")]))
    pq.write_table(table, path, row_group_size=PART_GROUP if by is not None else None)


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

    # 1. the deals, a slice at a time: parsed and checked, kept on disk with their numbers
    deal_problems: list[Problem] = []
    parts: list[str] = []
    facts = None
    columns = filter_columns(plans)
    loc0 = None
    rows = 0
    deals_used: set[str] = set()
    for i, (raw, loc) in enumerate(read_slices(sources["deals"], "deals", chunk_rows)):
        try:
            loaded = _load("deals", None, mapping_of("deals"), None, strict_mapping=nested,
                           extra=tuple(measure_columns), raw=(raw, loc))
        except InputError as err:
            deal_problems.extend(p for p in err.problems if isinstance(p, Problem))
            loc0 = loc0 or loc
            continue
        del raw
        deals_used |= loaded.used
        loc0 = loc0 or loaded.loc
        rows += len(loaded.frame)
        one = DealFacts.of(loaded.frame, columns)
        facts = one if facts is None else facts.merge(one)
        path = work / f"deals-{i:06d}.parquet"
        _write_part(loaded.frame, path, {"_row": loaded.loc.numbers}, by="deal_id")
        parts.append(str(path))
        del loaded
    used |= deals_used
    if flat and not problems and not deal_problems:  # every table read: a key none has
        for key in mapping_of("deals") or {}:
            if key not in used:
                problems.append(Problem("mapping", f"no input table has column {key!r}",
                                        column=str(key)))
    problems = _dedupe(deal_problems) + problems
    problems.extend(_cross_checks(small, currency))  # roster keys of quotas, splits, ...
    if problems or loc0 is None:
        raise InputError(problems or [Problem("deals", "no deals table")])
    name, kind = loc0.name, loc0.kind
    keyed = bool(loc0.by_key)

    import duckdb

    con = _connect(work)
    try:
        scan = f"read_parquet({parts!r}, union_by_name = true)"
        # 2. a deal id repeated across slices (within a slice the loader found it already)
        dup = con.sql(f"SELECT deal_id, _row FROM {scan} WHERE deal_id IN (SELECT "
                      f"deal_id FROM {scan} GROUP BY deal_id HAVING count(*) > 1) "
                      "ORDER BY _row").to_arrow_table()
        if dup.num_rows:
            frame = _arrow_frame(dup)
            where = _Loc(name, kind, frame["_row"].to_numpy(np.int64), by_key=keyed,
                         keys=_keys_of(frame, keyed))
            out = _Collector(where)
            _duplicates(frame[["deal_id"]], ["deal_id"], out, "deal_id")
            problems = _dedupe(deal_problems + out.problems())
            raise InputError(problems)

        # 3. ranges of deal ids: credit, measure, keep each range's lines
        ranges = 1 if any(needs_rep_order(p) for p in plans) else max(
            1, math.ceil(rows / chunk_rows))
        cuts: list[str] = []
        if ranges > 1:  # cut points from a sample of the ids (an exact quantile holds them all)
            step = max(1, rows // SAMPLE)
            sample = con.sql(f"SELECT deal_id FROM {scan} WHERE _row % {step} = 0 "
                             "ORDER BY deal_id").to_arrow_table().column("deal_id")
            at = [len(sample) * j // ranges for j in range(1, ranges)]
            cuts = sorted(set(sample.take(at).to_pylist()) - {sample[0].as_py()}) \
                if len(sample) else []
        bounds = [None, *cuts, None]
        grids: dict[str, Any] = {}
        summaries: dict[str, dict[str, int]] = {}
        lines_of: dict[str, list[Path]] = {p.plan: [] for p in plans}
        counts: dict[str, int] = {p.plan: 0 for p in plans}
        matched = {t: np.zeros(len(small[t].frame), dtype=bool) for t in _BY_DEAL
                   if t in small}
        roster = small.get("roster")
        roster_frame = roster.frame if roster is not None else None
        roster_rows = None
        if roster_frame is not None and set(EFFECTIVE) & set(roster_frame.columns):
            roster_frame, roster_rows = current_roster(roster_frame), roster_frame
        base = {t: small[t].frame for t in ("quotas", "fx") if t in small}
        cross: list[Problem] = []
        for r, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            cond = " AND ".join([c for c in (
                "deal_id >= $lo" if lo is not None else "",
                "deal_id < $hi" if hi is not None else "") if c]) or "true"
            params = {k: v for k, v in (("lo", lo), ("hi", hi)) if v is not None}
            got = con.sql(f"SELECT * FROM {scan} WHERE {cond} ORDER BY _row",
                          params=params).to_arrow_table()
            frame = _arrow_frame(got)
            del got
            numbers = frame.pop("_row").to_numpy(np.int64)
            where = _Loc(name, kind, numbers, by_key=keyed, keys=_keys_of(frame, keyed))
            deals = _Loaded(frame, where, set())
            chunk = {"deals": deals}
            for t in _BY_DEAL:
                if t in small:
                    hit = small[t].frame["deal_id"].isin(frame["deal_id"]).to_numpy(bool)
                    matched[t] |= hit
                    chunk[t] = _rows_of(small[t], frame["deal_id"])
            if roster is not None:
                chunk["roster"] = roster
            if "fx" in small:
                chunk["fx"] = small["fx"]
            found = _cross_checks(chunk, currency)
            if found or cross:
                cross.extend(found)
                continue
            inputs = Inputs(deals=frame, **base, roster=roster_frame, roster_rows=roster_rows,
                            **{t: chunk[t].frame for t in _BY_DEAL if t in chunk},
                            sources={"deals": name, **{t: v.loc.name for t, v in small.items()}})
            credited: dict = {}
            for plan in plans:  # a handful of plans, not reps
                grid, lines, summary = measure(plan, inputs, credited=credited)
                grids[plan.plan] = grid if plan.plan not in grids else combine(
                    [grids[plan.plan], grid], source=name)
                before = summaries.get(plan.plan)
                summaries[plan.plan] = summary if before is None else {
                    k: int(before[k]) + int(summary[k]) for k in before}
                out_path = work / f"lines-{list(lines_of).index(plan.plan)}-{r:06d}.parquet"
                _write_part(_sorted_lines(lines), out_path)
                lines_of[plan.plan].append(out_path)
                counts[plan.plan] += len(lines)
            del inputs, frame, credited
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
    except duckdb.IOException as exc:  # e.g. a full disk: a file error, not a bug
        raise OSError(errno.EIO, str(exc).splitlines()[0], str(work)) from None
    except duckdb.OutOfMemoryException:
        raise SpmkitError(f"DuckDB ran out of its {DUCKDB_MEMORY} while checking and cutting "
                          "the deals; give a smaller --chunk-rows") from None
    finally:
        con.close()

    small_inputs = Inputs(deals=_empty_deals(parts), **base, roster=roster_frame,
                          roster_rows=roster_rows,
                          **{t: small[t].frame for t in _BY_DEAL if t in small},
                          sources={"deals": name, **{t: v.loc.name for t, v in small.items()}})
    results = []
    for plan in plans:  # a handful of plans, not reps
        summary = dict(summaries[plan.plan])
        grid = grids[plan.plan]
        summary["payees"] = len(grid.rep_ids)
        parts_of = CreditParts(tuple(lines_of[plan.plan]), counts[plan.plan])
        results.append(calculate(plan, small_inputs, measured=(grid, parts_of, summary)))
    progress_step("ranges", rows, name)
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


def _empty_deals(parts: list[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    schema = pq.read_schema(parts[0]) if parts else None
    if schema is None:
        return pd.DataFrame()
    frame = schema.empty_table().to_pandas()
    return frame.drop(columns=[c for c in ("_row",) if c in frame.columns])
