"""Mappings: how your own files become spmkit's tables (``docs/mapping.md``).

A mapping YAML names, for each of spmkit's tables, its source file and how to build the
table from it::

    deals:
      file: sales_pipeline.csv            # relative to the mapping file
      columns: {deal_id: opportunity_id, rep_id: sales_agent, close_date: close_date,
                amount: close_value, product: product, account: account}
      where: {deal_stage: [Won]}          # keep rows whose column is one of these values
      values: {product: {GTXPro: GTX Pro}}  # recode values of a column
      defaults: {currency: USD}           # a constant for a column the file lacks
    roster:
      file: sales_teams.csv
      columns: {rep_id: sales_agent, name: sales_agent, manager_id: manager,
                region: regional_office}
      defaults: {role: AE}
      managers: {role: Manager}           # people who appear only as a manager_id get a row
      target_incentive: {by_role: {AE: 50000, Manager: 80000}}

Keys on the left are spmkit's names, values the source's.  The steps, in order, per table:
read the file (CSV, Parquet or Excel, as text); keep the rows ``where`` selects (a source
column, or a spmkit name of ``columns``); build the columns (``columns``; without it the
file's columns are taken as they are); recode ``values``; fill ``defaults`` (a constant
column, or the blanks of a mapped column); for the roster, add the ``managers`` and the
``target_incentive``.  Everything is vectorized pandas; nothing loops over rows.

:func:`load_mapping` reads and checks a mapping file (pydantic; unknown keys are errors),
:func:`apply_mapping` builds the tables and an :class:`ImportReport` of what was kept,
dropped and recoded, :func:`write_imported` writes the canonical folder that
:func:`spmkit.tables.load_data_dir` reads, and :func:`mapped_sources` gives the commands
their tables.  Errors name the mapping file, the key and the source file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from spmkit.errors import InputError, Problem

__all__ = ["TABLES", "MappingFile", "ImportReport", "TableReport", "load_mapping",
           "apply_mapping", "write_imported", "mapped_sources", "mapped_data_dir"]

#: The tables a mapping may describe, in the order they are built and written.
TABLES = ("deals", "quotas", "roster", "splits", "fx", "overlays", "payments")


def _scalar(value: Any) -> str:
    """A YAML scalar as the text a cell holds (numbers as written, never a bool)."""
    if isinstance(value, bool) or value is None:
        raise ValueError("a value must be text or a number (quote yes/no/true/false/null)")
    if isinstance(value, (str, int, float)):
        return str(value).strip()
    raise ValueError(f"a value must be text or a number, not {type(value).__name__}")


Scalar = Annotated[str, BeforeValidator(_scalar)]


def _values(value: Any) -> Any:
    """``where`` values: one scalar or a list of them."""
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TableMapping(_Strict):
    """How one table is built from one source file."""

    file: str = Field(min_length=1)
    #: spmkit name -> source column, or a list of source columns joined with a space
    #: (``name: [first_name, last_name]``).
    columns: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    where: dict[str, Annotated[list[Scalar], BeforeValidator(_values)]] = Field(
        default_factory=dict)
    values: dict[str, dict[Scalar, Scalar]] = Field(default_factory=dict)
    defaults: dict[str, Scalar] = Field(default_factory=dict)


class ByRole(_Strict):
    """``{by_role: {ROLE: AMOUNT}}``: an annual amount for every roster row by its role
    (rows whose file gives one keep it)."""

    by_role: dict[Scalar, Scalar] = Field(min_length=1)


class RosterMapping(TableMapping):
    """The roster: a table mapping plus ``managers``, ``target_incentive`` and
    ``base_salary``."""

    managers: dict[str, Scalar] | None = None
    target_incentive: ByRole | None = None
    base_salary: ByRole | None = None


class _MappingModel(_Strict):
    deals: TableMapping | None = None
    quotas: TableMapping | None = None
    roster: RosterMapping | None = None
    splits: TableMapping | None = None
    fx: TableMapping | None = None
    overlays: TableMapping | None = None
    payments: TableMapping | None = None


@dataclass(frozen=True)
class MappingFile:
    """A checked mapping file: the path it was read from and its tables."""

    path: Path
    model: _MappingModel

    @property
    def folder(self) -> Path:
        return self.path.parent

    def tables(self) -> dict[str, TableMapping]:
        """The tables the mapping describes, in :data:`TABLES` order."""
        return {t: getattr(self.model, t) for t in TABLES if getattr(self.model, t) is not None}

    def source(self, table: str) -> Path:
        """The source file of ``table`` (relative paths from the mapping's folder)."""
        name = Path(self.tables()[table].file)
        return name if name.is_absolute() else self.folder / name


def _key(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def load_mapping(path: str | Path) -> MappingFile:
    """Read and check a mapping file.

    Raises
    ------
    InputError
        Unreadable YAML, an unknown table or key, a wrong value; every problem names the
        mapping file and the key.
    """
    from spmkit.plan import safe_load_yaml

    path = Path(path)
    data = safe_load_yaml(path, what="column mapping")
    if not isinstance(data, dict) or not data:
        raise InputError(Problem(str(path), "a mapping names tables (deals, roster, quotas, "
                                 "...) and, for each, its file and columns; see docs/mapping.md"))
    try:
        model = _MappingModel.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = _key(err["loc"])
            if err["type"] == "extra_forbidden":
                what = ("table" if len(err["loc"]) == 1 else "key")
                hint = (f"; tables are {', '.join(TABLES)}" if what == "table" else "")
                problems.append(Problem(str(path), f"unknown {what} {str(err['loc'][-1])!r}"
                                        f"{hint}", where=key))
            else:
                msg = err["msg"].removeprefix("Value error, ")
                problems.append(Problem(str(path), msg, where=key))
        raise InputError(problems) from None
    return MappingFile(path, model)


# --------------------------------------------------------------------------- applying


@dataclass
class TableReport:
    """What building one table did, with counts."""

    table: str
    source: str
    rows_read: int = 0
    rows_kept: int = 0
    dropped: list[tuple[str, int, dict[str, int]]] = field(default_factory=list)
    recoded: list[tuple[str, str, str, int]] = field(default_factory=list)
    filled: list[tuple[str, str, int]] = field(default_factory=list)
    managers_added: int = 0
    target_incentives: int = 0

    def lines(self) -> list[str]:
        out = [f"{self.table}: {self.source}: {self.rows_read:,} rows read, "
               f"{self.rows_kept:,} kept"]
        for column, n, by_value in self.dropped:
            shown = ", ".join(f"{v or '(blank)'} {c:,}" for v, c in list(by_value.items())[:8])
            more = len(by_value) - 8
            out.append(f"  dropped {n:,} rows by where {column!r}"
                       + (f" ({shown}{f', {more} more values' if more > 0 else ''})"
                          if shown else ""))
        for column, before, after, n in self.recoded:
            out.append(f"  recoded {column} {before!r} -> {after!r} in {n:,} rows")
        for column, value, n in self.filled:
            out.append(f"  {column} = {value!r} in {n:,} rows (default)")
        if self.managers_added:
            out.append(f"  added {self.managers_added:,} managers who appear only as a "
                       "manager_id")
        if self.target_incentives:
            out.append(f"  target incentive by role in {self.target_incentives:,} rows")
        return out


@dataclass
class ImportReport:
    """What :func:`apply_mapping` did: one :class:`TableReport` per table, and warnings
    (a ``where`` or ``values`` entry that matched no row)."""

    mapping: str
    tables: list[TableReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [line for t in self.tables for line in t.lines()]


def _read_source(mapping: MappingFile, table: str) -> tuple[pd.DataFrame, str]:
    from spmkit.tables import _read

    path = mapping.source(table)
    if not path.is_file():
        raise InputError(Problem(str(mapping.path), f"file {str(path)!r} not found",
                                 where=f"{table}.file"))
    frame, loc = _read(path, table, path.name)
    frame = frame.set_axis([str(c).strip() for c in frame.columns], axis=1)
    return frame, loc.name


def _text(s: pd.Series) -> pd.Series:
    """A source column as stripped text, blank for missing."""
    if not (pd.api.types.is_string_dtype(s.dtype) or s.dtype == object):
        s = s.astype("str").where(s.notna(), "")
    return s.astype("str").fillna("").str.strip()


def _build(mapping: MappingFile, table: str, spec: TableMapping,
           report: ImportReport, given: tuple[pd.DataFrame, str] | None = None
           ) -> pd.DataFrame:
    raw, name = given if given is not None else _read_source(mapping, table)
    mp = str(mapping.path)
    tr = TableReport(table, name, rows_read=len(raw))
    found = ", ".join(map(str, raw.columns)) or "none"
    problems = []
    for canon, src in spec.columns.items():
        for one in (src if isinstance(src, list) else [src]):
            if one not in raw.columns:
                problems.append(Problem(mp, f"{name} has no column {one!r} (columns found: "
                                        f"{found})", where=f"{table}.columns.{canon}"))
    where_cols: dict[str, str] = {}
    for col in spec.where:
        mapped = spec.columns.get(col)
        src = col if col in raw.columns else (mapped if isinstance(mapped, str) else None)
        if src is None or src not in raw.columns:
            problems.append(Problem(mp, f"{name} has no column {col!r} to select rows by "
                                    f"(columns found: {found})", where=f"{table}.where.{col}"))
        else:
            where_cols[col] = src
    if problems:
        raise InputError(problems)

    keep = np.ones(len(raw), dtype=bool)
    for col, src in where_cols.items():
        text = _text(raw[src])
        wanted = spec.where[col]
        ok = text.isin(wanted).to_numpy()
        dropped = keep & ~ok
        counts = text[dropped].value_counts(sort=True)
        tr.dropped.append((col, int(dropped.sum()), {str(k): int(v) for k, v in counts.items()}))
        unmatched = [v for v in wanted if not (text == v).any()]
        if unmatched:
            report.warnings.append(
                f"{mp}: {table}.where.{col}: no row of {name} has "
                + ", ".join(repr(v) for v in unmatched)
                + f" (values found: {', '.join(repr(v) for v in text.unique()[:10].tolist())})")
        keep &= ok
    raw = raw.loc[keep].reset_index(drop=True)
    tr.rows_kept = len(raw)

    def column(src: str | list[str]) -> pd.Series:
        if isinstance(src, str):
            return _text(raw[src])
        parts = [_text(raw[one]) for one in src]  # joined with a space, blanks skipped
        joined = parts[0].str.cat(parts[1:], sep=" ") if len(parts) > 1 else parts[0]
        return joined.str.split().str.join(" ")

    if spec.columns:
        out = pd.DataFrame({canon: column(src) for canon, src in spec.columns.items()},
                           index=raw.index)
    else:
        out = pd.DataFrame({c: _text(raw[c]) for c in raw.columns}, index=raw.index)

    for col, recode in spec.values.items():
        if col not in out.columns:
            raise InputError(Problem(mp, f"no column {col!r} to recode in the {table} table "
                                     f"(columns: {', '.join(out.columns) or 'none'})",
                                     where=f"{table}.values.{col}"))
        before = out[col]
        hit = before.isin(list(recode))
        counts = before[hit].value_counts()
        for src_value, new_value in recode.items():
            n = int(counts.get(src_value, 0))
            if n:
                tr.recoded.append((col, src_value, new_value, n))
            else:
                report.warnings.append(f"{mp}: {table}.values.{col}: no row of {name} has "
                                       f"{src_value!r}")
        out[col] = before.where(~hit, before.map(recode))

    for col, value in spec.defaults.items():
        if col in out.columns:
            blank = out[col] == ""
            n = int(blank.sum())
            out[col] = out[col].where(~blank, value)
        else:
            n = len(out)
            out[col] = pd.Series(value, index=out.index, dtype="str")
        if n:
            tr.filled.append((col, value, n))

    if isinstance(spec, RosterMapping):
        out = _roster_extras(mapping, spec, out, tr)
    report.tables.append(tr)
    return out.astype("str")


def _roster_extras(mapping: MappingFile, spec: RosterMapping, out: pd.DataFrame,
                   tr: TableReport) -> pd.DataFrame:
    mp = str(mapping.path)
    if spec.managers is not None:
        if "manager_id" not in out.columns or "rep_id" not in out.columns:
            raise InputError(Problem(mp, "managers: the roster needs rep_id and manager_id "
                                     "columns to find the managers", where="roster.managers"))
        ids = out["manager_id"]
        new = pd.Index(ids[(ids != "") & ~ids.isin(out["rep_id"])].unique(), dtype="str")
        if len(new):
            add = pd.DataFrame({c: pd.Series("", index=range(len(new)), dtype="str")
                                for c in out.columns})
            add["rep_id"] = new.to_numpy()
            if "name" in out.columns:
                add["name"] = new.to_numpy()
            for col, value in spec.defaults.items():
                add[col] = value
            if "region" in out.columns and "region" not in spec.managers:
                # a manager's region: the region most of their team is in
                team = out.loc[out["manager_id"].isin(new) & (out["region"] != "")]
                common = (team.groupby(["manager_id", "region"]).size().rename("n")
                          .reset_index().sort_values(["manager_id", "n", "region"],
                                                     ascending=[True, False, True])
                          .drop_duplicates("manager_id").set_index("manager_id")["region"])
                add["region"] = common.reindex(new).fillna("").to_numpy()
            for col, value in spec.managers.items():
                add[col] = value
            out = pd.concat([out, add], ignore_index=True).fillna("")
            tr.managers_added = len(new)
    for key in ("target_incentive", "base_salary"):
        amounts = getattr(spec, key)
        if amounts is not None:
            n = _by_role(mp, out, key, amounts.by_role)
            if key == "target_incentive":
                tr.target_incentives = n
            else:
                tr.filled.append(("base_salary", "by role", n))
    return out


def _by_role(mp: str, out: pd.DataFrame, key: str, by_role: dict[str, str]) -> int:
    """Fill the blanks of ``out[key]`` by role (in place); returns how many."""
    from spmkit.money import parse_cents

    amounts = pd.Series(list(by_role.values()), dtype="str")
    _, missing, bad = parse_cents(amounts)
    problems = [Problem(mp, f"{v!r} is not an amount", where=f"roster.{key}.by_role.{k}")
                for (k, v), b in zip(by_role.items(), (missing | bad).tolist(), strict=True)
                if b]
    if "role" not in out.columns:
        problems.append(Problem(mp, f"{key} by_role needs a role column (map it in columns "
                                "or give it in defaults)", where=f"roster.{key}"))
    if problems:
        raise InputError(problems)
    if key not in out.columns:
        out[key] = ""
    blank = (out[key] == "").to_numpy()
    roles = out["role"]
    unknown = blank & ~roles.isin(list(by_role)).to_numpy()
    if unknown.any():
        names = roles[unknown].value_counts()
        raise InputError([Problem(mp, f"role {r!r} ({n} roster rows) has no amount; add "
                                  "it to by_role", where=f"roster.{key}.by_role")
                          for r, n in names.items()])
    out[key] = out[key].where(~blank, roles.map(by_role))
    return int(blank.sum())


def apply_mapping(mapping: MappingFile | str | Path, *,
                  frames: Mapping[str, tuple[pd.DataFrame, str]] | None = None,
                  ) -> tuple[dict[str, pd.DataFrame], ImportReport]:
    """Build spmkit's tables from the source files a mapping names.

    Parameters
    ----------
    mapping : MappingFile or path
        As from :func:`load_mapping`.
    frames : dict, optional
        Table -> (raw source frame, file name) for sources the caller has read itself
        (e.g. a file that is not valid CSV); the others are read from their ``file``.

    Returns
    -------
    (dict of DataFrame, ImportReport)
        Per table (``deals``, ``roster``, ... in :data:`TABLES` order): a text frame with
        spmkit's column names (as the loaders of :mod:`spmkit.tables` read them), and the
        report of rows read, kept, dropped and recoded.

    Raises
    ------
    InputError
        A source file or a column the mapping names is missing (naming the mapping file,
        the key and the source file), an amount is not a number, a role has no target
        incentive.
    """
    if not isinstance(mapping, MappingFile):
        mapping = load_mapping(mapping)
    report = ImportReport(str(mapping.path))
    tables: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for table, spec in mapping.tables().items():
        try:
            tables[table] = _build(mapping, table, spec, report,
                                   (frames or {}).get(table))
        except InputError as exc:
            problems.extend(p for p in exc.problems if isinstance(p, Problem))
    if problems:
        raise InputError(problems)
    return tables, report


def write_imported(tables: Mapping[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """Write the tables as ``<table>.csv`` into ``out_dir``, all or nothing (the folder
    :func:`spmkit.tables.load_data_dir` reads).  Returns the paths written."""
    from spmkit.sample import write_tables

    return write_tables(dict(tables), out_dir)


def mapped_sources(mapping: str | Path | None, given: Mapping[str, Any],
                   *, required: tuple[str, ...] = ("deals",),
                   ) -> tuple[dict[str, Any], ImportReport | None]:
    """The tables of a command: the mapping's, plus the files given for the others.

    Parameters
    ----------
    mapping : path or None
        The ``--mapping`` file.
    given : dict
        Table -> file given on the command line (None when not given).
    required : tuple of str
        Tables that must come from one or the other.

    Returns
    -------
    (dict, ImportReport or None)
        Table -> DataFrame (from the mapping) or path; the mapping's report.

    Raises
    ------
    InputError
        A table given both ways, a required table from neither, or any mapping error.
    """
    out = {t: v for t, v in given.items() if v is not None}
    report = None
    if mapping is not None:
        mf = load_mapping(mapping)
        twice = sorted(set(mf.tables()) & set(out))
        if twice:
            raise InputError([Problem(str(mf.path), f"the {t} table comes from the mapping "
                                      f"and from --{t}; give it one way", where=t)
                              for t in twice])
        tables, report = apply_mapping(mf)
        out.update(tables)
    missing = [t for t in required if t not in out]
    if missing:
        raise InputError([Problem("inputs", f"no {t} table: give --{t} FILE or a mapping "
                                  f"with a '{t}:' table") for t in missing])
    return out, report


@contextmanager
def mapped_data_dir(data: str | Path | None, mapping: str | Path | None
                    ) -> Iterator[tuple[Path, ImportReport | None]]:
    """A data folder holding the mapping's tables and the others of ``data``.

    Without a mapping this is ``data`` itself.  With one, a temporary folder holds the
    mapping's tables (CSV) and links to the files of ``data`` for the tables the mapping
    does not describe; it is removed when the block ends.
    """
    import shutil
    import tempfile

    from spmkit.tables import SUFFIXES

    if mapping is None:
        if data is None:
            raise InputError(Problem("inputs", "give a data folder or a mapping"))
        yield Path(data), None
        return
    tables, report = apply_mapping(mapping)
    if data is not None and not Path(data).is_dir():
        raise InputError(Problem(str(data), "data folder not found"))
    tmp = Path(tempfile.mkdtemp(prefix="spmkit-mapped-"))
    try:
        for table, frame in tables.items():
            frame.to_csv(tmp / f"{table}.csv", index=False, lineterminator="\n")
        if data is not None:
            for table in TABLES:
                if table in tables:
                    continue
                for suffix in SUFFIXES:
                    src = Path(data) / f"{table}{suffix}"
                    if src.is_file():
                        shutil.copyfile(src, tmp / src.name)
        yield tmp, report
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
