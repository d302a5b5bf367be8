"""Input tables: read deals, quotas, roster, splits and fx from CSV, Parquet, Excel or a frame.

Any table may also come from a database: a URL such as
``postgresql://user@host:5432/comp?table=deals`` (or ``?query=SELECT ...``) is read as Arrow
by :mod:`spmkit.sources` and validated like a Parquet file; problems name the row by its key.

Every loader returns a new DataFrame with canonical column names and dtypes (see
``docs/internals.md``) or raises one :class:`~spmkit.errors.InputError` listing *every*
problem found, each naming the file, the line (CSV, header = line 1) or row (Excel sheet
row; 1-based for Parquet and DataFrames) and the column.

How values are read:

- CSV is read as text (UTF-8, a leading Excel BOM and CRLF line ends are fine; an empty
  field is missing), so amounts are parsed exactly from their digits.  Excel cells are
  read as text too; Parquet and DataFrame columns keep their types.
- Amounts become int64 cents, exactly: numbers via :func:`spmkit.money.parse_cents`, text
  by the same digit rule (half away from zero: ``"1234.565"`` -> 123457).  Thousands
  separators must be well formed (``1,234.50``); ``1,5`` is rejected rather than read as 15.
- Dates are full ISO dates (``2026-01-31``, also with a time part such as
  ``1996-07-04 00:00:00.000`` and a UTC offset such as ``2026-03-31T23:30:00-05:00``) or
  real date cells (Excel, Parquet, DataFrame datetimes), normalized to midnight
  ``datetime64[us]``.  The date is the calendar date as written: an offset never moves
  it, whatever the other rows hold.  ``2026``, ``2026-03``, ``20260115``, ``2026-1-5``
  and numbers are not dates.
- Ids and text are stripped of surrounding whitespace; blank means missing.  Currency
  codes are upper-cased, ``draw_type`` lower-cased.
- Split shares are exact to 9 decimal places (``share_ppb``, parts per billion; finer
  digits in text are an error, binary floats are rounded to the nearest ppb) and must sum
  to exactly 1 per deal.
- Columns the loader does not know are ignored.  A ``mapping`` renames source columns
  to canonical ones before anything else (``{"Opportunity Owner": "rep_id"}``).  A column
  name given twice in a header, or two columns that the mapping turns into one name, is
  an error (which of the two holds the amounts?).

Structure checks (required columns, dtypes, nullability, value ranges, unique keys) run
through pandera schemas with ``lazy=True``; checks across rows (split sums, duplicate
keys with both lines, the manager tree) are vectorized pandas.  Nothing here loops over
deals in Python.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as arrow
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pandera.errors import SchemaErrors

from spmkit.errors import InputError, Problem
from spmkit.money import decimal_text, parse_cents, parse_fixed
from spmkit.progress import step as progress_step

__all__ = [
    "Inputs",
    "load_data_dir",
    "load_deals",
    "load_fx",
    "load_inputs",
    "load_overlays",
    "load_payments",
    "load_quotas",
    "load_roster",
    "load_splits",
]

Source = str | Path | pd.DataFrame

#: At most this many problems are listed per kind of problem; the rest are counted.
PER_CHECK_LIMIT = 50
SUFFIXES = (".csv", ".parquet", ".xlsx")
DRAW_TYPES = ("recoverable", "non_recoverable")
PPB = 1_000_000_000

_DATE = "datetime64[us]"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class Inputs:
    """The validated input tables of one calculation.

    ``deals`` is required; the others are ``None`` when not given.  ``sources`` maps each
    table name to the file (or table) name it came from, for messages further down.
    """

    deals: pd.DataFrame
    quotas: pd.DataFrame | None = None
    roster: pd.DataFrame | None = None
    splits: pd.DataFrame | None = None
    fx: pd.DataFrame | None = None
    sources: Mapping[str, str] = field(default_factory=dict)
    overlays: pd.DataFrame | None = None
    payments: pd.DataFrame | None = None
    #: An effective-dated roster's rows (``effective_from``/``effective_to``), several per
    #: rep; ``roster`` then holds each rep's latest row (:func:`current_roster`).
    roster_rows: pd.DataFrame | None = None


# --------------------------------------------------------------------------- locating


@dataclass(frozen=True)
class _Loc:
    """Where each row of a frame came from: ``line N`` (CSV) or ``row N``."""

    name: str
    kind: str
    numbers: np.ndarray  # int64, one per frame position
    by_key: bool = False  # a database table: rows are named by their key, not a number
    keys: tuple = ()  # (column, values) pairs naming rows (spmkit.sources.row_keys)

    def where(self, pos: int) -> str:
        if self.keys:
            from spmkit.sources import row_name

            return row_name(self.keys, pos)
        return f"{self.kind} {int(self.numbers[pos])}"

    def number(self, pos: int) -> int:
        return int(self.numbers[pos])


class _Collector:
    """Collects problems of one table, capped per kind, sorted by row at the end."""

    def __init__(self, loc: _Loc):
        self.loc = loc
        self.items: list[tuple[int, int, Problem]] = []

    def add(self, message: str, *, pos: int | None = None, column: str | None = None) -> None:
        where = None if pos is None else self.loc.where(pos)
        order = -1 if pos is None else self.loc.number(pos)
        self.items.append((order, len(self.items), Problem(self.loc.name, message, where, column)))

    def rows(
        self,
        mask: np.ndarray | pd.Series,
        column: str | None,
        message: Callable[[int], str] | str,
    ) -> None:
        """One problem per True position in ``mask`` (the first few, then a count)."""
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        for pos in positions[:PER_CHECK_LIMIT]:
            text = message if isinstance(message, str) else message(int(pos))
            self.add(text, pos=int(pos), column=column)
        more = len(positions) - PER_CHECK_LIMIT
        if more > 0:
            what = message if isinstance(message, str) else "the same problem"
            self.add(f"{more} more rows: {what}", column=column)

    def problems(self) -> list[Problem]:
        return [p for _, _, p in sorted(self.items, key=lambda t: (t[0], t[1]))]


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class _Keep:
    """Deal rows to keep: owned by one of ``reps`` or one of ``deals`` (``spmkit explain``
    reads one rep's deals, not all)."""

    reps: tuple[str, ...]
    deals: tuple[str, ...]

    def mask(self, frame: pd.DataFrame) -> np.ndarray | None:
        """Rows of a raw frame to keep (``None``: it lacks the key columns; keep all)."""
        if "rep_id" not in frame.columns or "deal_id" not in frame.columns:
            return None
        rep = frame["rep_id"].astype("str").str.strip()
        deal = frame["deal_id"].astype("str").str.strip()
        return (rep.isin(self.reps) | deal.isin(self.deals)).to_numpy(bool)


def _read_kept_parquet(path: Path, keep: _Keep) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows of a Parquet file that ``keep`` selects, read by DuckDB with the filter
    pushed into the scan, and their row numbers in the file."""
    import duckdb

    con = duckdb.connect()
    try:
        table = con.sql(
            "SELECT * FROM read_parquet($path, file_row_number = true) "
            "WHERE CAST(rep_id AS VARCHAR) IN (SELECT unnest($reps::VARCHAR[])) "
            "OR CAST(deal_id AS VARCHAR) IN (SELECT unnest($deals::VARCHAR[])) "
            "ORDER BY file_row_number",
            params={"path": str(path), "reps": list(keep.reps), "deals": list(keep.deals)},
        ).to_arrow_table()
    finally:
        con.close()
    numbers = table.column("file_row_number").to_numpy().astype(np.int64) + 1
    table = table.drop_columns(["file_row_number"])
    return _arrow_frame(table), numbers


def _read(
    src: Source, table: str, name: str | None, keep: _Keep | None = None
) -> tuple[pd.DataFrame, _Loc]:
    """The raw frame (columns stripped, fully blank rows dropped) and where rows came from.

    With ``keep`` (deals only, a Parquet file), only the rows it selects are read."""
    if isinstance(src, pd.DataFrame):
        frame = src.reset_index(drop=True)
        n = len(frame)
        return frame, _Loc(name or table, "row", np.arange(1, n + 1, dtype=np.int64))
    if not isinstance(src, (str, Path)):
        raise TypeError(f"{table}: expected a path or a DataFrame, got {type(src).__name__}")
    from spmkit.sources import is_database_url

    if is_database_url(src):  # postgresql://...?table=NAME or ?query=SELECT ...
        from spmkit.sources import read_database

        rows, url = read_database(str(src))
        frame = _arrow_frame(rows)
        return frame, _Loc(name or url, "row", np.arange(1, len(frame) + 1, dtype=np.int64),
                           by_key=True)
    path = Path(src)
    label = name or path.name
    if not path.is_file():
        raise InputError(Problem(label, f"file not found: {path}"))
    suffix = path.suffix.lower()
    with _reader_errors(label):
        if suffix == ".csv":
            frame = pd.read_csv(
                path, dtype=str, keep_default_na=False, na_values=[""],
                encoding="utf-8-sig", skip_blank_lines=False,
            )
            kind, first = "line", 2
        elif suffix == ".xlsx":
            frame = pd.read_excel(path, sheet_name=0, dtype=str)
            kind, first = "row", 2
        elif suffix == ".parquet" and keep is not None:
            if not {"rep_id", "deal_id"} <= set(pq.read_schema(path).names):
                frame = _read_parquet(path)
            else:
                frame, kept = _read_kept_parquet(path, keep)
                return frame, _Loc(label, "row", kept)
            kind, first = "row", 1
        elif suffix == ".parquet":
            frame = _read_parquet(path)
            kind, first = "row", 1
        else:
            raise InputError(Problem(
                label, f"unsupported file type {suffix or '(none)'!r}; use .csv, .parquet or .xlsx"
            ))
        if suffix != ".parquet":
            _check_header(path, label, f"{kind} 1")
    numbers = np.arange(first, first + len(frame), dtype=np.int64)
    if kind == "line" or suffix == ".xlsx":
        blank = frame.isna().all(axis=1).to_numpy()
        if blank.any():
            frame = frame.loc[~blank].reset_index(drop=True)
            numbers = numbers[~blank]
    return frame, _Loc(label, kind, numbers)


def read_slices(src: Source, table: str, rows: int, name: str | None = None
                ) -> Iterator[tuple[pd.DataFrame, _Loc]]:
    """The raw rows of a table in slices of at most ``rows`` (as :func:`_read` gives them
    whole, numbered as in the file): a Parquet file a batch at a time, a CSV file a block
    of lines at a time; other sources in one slice."""
    path = Path(src) if isinstance(src, (str, Path)) else None
    from spmkit.sources import is_database_url

    suffix = path.suffix.lower() if path is not None and not is_database_url(src) else ""
    if suffix not in (".parquet", ".csv") or not path.is_file():
        yield _read(src, table, name)
        return
    label = name or path.name
    with _reader_errors(label):
        if suffix == ".csv":
            _check_header(path, label, "line 1")
            reader = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                                 encoding="utf-8-sig", skip_blank_lines=False, chunksize=rows)
            kind, first = "line", 2
        else:
            reader = (_arrow_frame(arrow.Table.from_batches([b])) for b in
                      pq.ParquetFile(path).iter_batches(batch_size=rows))
            kind, first = "row", 1
        at = first
        for frame in reader:  # slices of rows, not rows
            if at > first and not len(frame):
                continue
            frame = frame.reset_index(drop=True)
            numbers = np.arange(at, at + len(frame), dtype=np.int64)
            at += len(frame)
            if kind == "line":
                blank = frame.isna().all(axis=1).to_numpy()
                if blank.any():
                    frame = frame.loc[~blank].reset_index(drop=True)
                    numbers = numbers[~blank]
            yield frame, _Loc(label, kind, numbers)
        if at == first:  # no rows at all: the whole (empty) table, with its columns
            yield _read(src, table, name)


@contextlib.contextmanager
def _reader_errors(label: str) -> Iterator[None]:
    """A reader's failure as one problem naming the file (not a traceback)."""
    try:
        yield
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        raise InputError(Problem(label, f"cannot read the file as UTF-8 text ({exc.reason})")) \
            from None
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file for the user
        raise InputError(Problem(label, f"cannot read the file: {exc}")) from None


def _header(path: Path) -> list[str]:
    """The header row as written (the readers rename a repeated ``amount`` to ``amount.1``)."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return next(csv.reader(fh), [])
    row = pd.read_excel(path, sheet_name=0, header=None, nrows=1, dtype=str)
    return [] if row.empty else ["" if _is_missing(v) else str(v) for v in row.iloc[0]]


def _check_header(path: Path, label: str, where: str) -> None:
    """A column name given twice is an error: which of the two holds the amounts?"""
    names = [name.strip() for name in _header(path)]
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(names, start=1):
        if name:
            seen.setdefault(name, []).append(i)
    problems = [
        Problem(label, f"column {name!r} appears {len(at)} times in the header (columns "
                f"{', '.join(map(str, at[:-1]))} and {at[-1]}); keep one", where, name)
        for name, at in seen.items() if len(at) > 1
    ]
    if problems:
        raise InputError(problems)


def _read_parquet(path: Path) -> pd.DataFrame:
    return _arrow_frame(pq.read_table(path))


def _arrow_frame(table: arrow.Table) -> pd.DataFrame:
    """An Arrow table (Parquet file, database rows) as a frame: dates as timestamps."""
    columns = []
    for fld, col in zip(table.schema, table.columns, strict=True):
        if arrow.types.is_date(fld.type):
            col = col.cast(arrow.timestamp("us"))
        columns.append(col)
    table = arrow.table(columns, names=table.column_names)
    # decimals stay Arrow decimals: spmkit.money reads their exact digits without text
    del columns
    return table.to_pandas(
        split_blocks=True, self_destruct=True,  # hand Arrow's buffers over, don't copy
        types_mapper=lambda t: pd.ArrowDtype(t) if arrow.types.is_decimal(t) else None)


def _apply_mapping(
    frame: pd.DataFrame, mapping: Mapping[str, str] | None, out: _Collector, strict: bool
) -> tuple[pd.DataFrame, dict[str, str], set[str]]:
    """Strip column names, rename by ``mapping``; returns frame, canonical->source, used keys."""
    stripped = [str(c).strip() for c in frame.columns]
    if list(frame.columns) != stripped:
        frame = frame.set_axis(stripped, axis=1)
    found = list(frame.columns)
    used: set[str] = set()
    shown: dict[str, str] = {}
    if mapping:
        rename = {}
        for source_col, canonical in mapping.items():
            key = str(source_col).strip()
            if key in found:
                rename[key] = canonical
                shown[canonical] = key
                used.add(source_col)
            elif strict:
                out.add(f"the column mapping names column {key!r}, which the file lacks "
                        f"(columns found: {', '.join(found) or 'none'})", column=key)
        if rename:
            frame = frame.rename(columns=rename)
    origins: dict[str, list[str]] = {}
    for before, after in zip(found, frame.columns, strict=True):
        origins.setdefault(after, []).append(before)
    for col, names in origins.items():
        if len(names) < 2:
            continue
        if len(set(names)) == 1:
            out.add(f"column {col!r} appears {len(names)} times; keep one", column=col)
        else:
            listed = ", ".join(repr(n) for n in names[:-1]) + f" and {names[-1]!r}"
            out.add(f"columns {listed} {'both' if len(names) == 2 else 'all'} become {col!r} "
                    "after the column mapping; map only one of them", column=col)
    return frame, shown, used


def _require(frame: pd.DataFrame, required: list[str], out: _Collector, shown: dict) -> None:
    """Required columns, checked by pandera; names the columns found."""
    schema = pa.DataFrameSchema({c: pa.Column(nullable=True) for c in required})
    try:
        schema.validate(frame.head(0), lazy=True)
    except SchemaErrors as err:
        cases = err.failure_cases
        missing = cases.loc[cases["check"] == "column_in_dataframe", "failure_case"].tolist()
        found = ", ".join(map(str, frame.columns)) or "none"
        for col in missing:
            out.add(f"missing required column {col!r} (columns found: {found})", column=col)


# --------------------------------------------------------------------------- parsing


def _text(s: pd.Series) -> pd.Series:
    """``str`` dtype, surrounding whitespace stripped, blank -> missing."""
    if pd.api.types.is_float_dtype(s.dtype):
        x = s.to_numpy(dtype=np.float64, na_value=np.nan)
        ok = np.isfinite(x)
        if ok.any() and np.all(x[ok] == np.round(x[ok])) and np.all(np.abs(x[ok]) < 2**53):
            s = s.astype("Int64")  # ids such as 5.0 read from a column with gaps -> "5"
    if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
        t = s
    else:
        t = s.astype("str")
    t = t.str.strip()
    return t.mask(t == "")


def _raw_text(values: pd.Series, pos: int) -> str:
    v = values.iloc[pos]
    return repr(str(v).strip()) if not _is_missing(v) else "(blank)"


def _is_missing(v: object) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


#: A date as ISO 8601 text: ``YYYY-MM-DD``, optionally followed by a time of day
#: (``T`` or a space, ``HH:MM``, seconds and fractions optional) and a UTC offset (``Z``,
#: ``+05:30``, ``-0500``, ``+05``).  The calendar date is the date part as written: an
#: offset is accepted and never shifts the date (``2026-03-31T23:30:00-05:00`` is
#: 31 March whatever the other rows hold).  Partial or compact forms (``2026``,
#: ``2026-03``, ``20260115``, ``2026-1-5``) are not dates.
_DATE_RE = (
    r"^(?:[1-9]\d{3}|0[1-9]\d{2}|00[1-9]\d|000[1-9])-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    r"(?:[Tt ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?"
    r"(?:\s*(?:[Zz]|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?))?)?$"
)


def _text_dates(t: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """ISO date text (see ``_DATE_RE``) -> ``(datetime64[us] at midnight, bad)``; vectorized
    with Arrow's string kernels.  Missing values are NaT and not bad."""
    arr = arrow.array(t, type=arrow.string(), from_pandas=True)
    present = arr.is_valid().to_numpy(zero_copy_only=False)
    shaped = pc.fill_null(pc.match_substring_regex(arr, _DATE_RE), False)
    part = pc.if_else(shaped, pc.utf8_slice_codeunits(arr, 0, 10), None)
    stamp = pc.strptime(part, format="%Y-%m-%d", unit="us", error_is_null=True)
    # strptime rolls 2026-02-30 over to 2 March: a real date keeps its month
    real = pc.equal(pc.month(stamp), pc.cast(pc.utf8_slice_codeunits(part, 5, 7), arrow.int64()))
    ok = pc.fill_null(real, False).to_numpy(zero_copy_only=False)
    values = stamp.to_numpy(zero_copy_only=False).astype(_DATE)
    values[~ok] = np.datetime64("NaT")
    return values, present & ~ok


def _wall_clock(v: object) -> object:
    """A datetime-like value without its time zone: its own local (wall-clock) time."""
    if isinstance(v, datetime) and v.tzinfo is not None:
        return v.replace(tzinfo=None)
    return v


def _dates(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Midnight ``datetime64[us]`` and a mask of values that are not dates.

    One rule for every date column: the calendar date as written.  Text must be a full ISO
    date (``_DATE_RE``); a time part and a UTC offset may follow and are dropped, never
    converted.  Date and timestamp columns (Parquet, Excel, DataFrames) give their date; a
    time-zone-aware timestamp gives its date in its own zone.  Numbers are not dates.
    """
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        d = s.dt.tz_localize(None)  # wall-clock time in the column's own zone
        return d.dt.normalize().astype(_DATE), np.zeros(len(s), dtype=bool)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.dt.normalize().astype(_DATE), np.zeros(len(s), dtype=bool)
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
        # Python dates mixed with text (DataFrame input, rare): one isinstance per value
        raw = s.to_numpy()
        stamped = np.fromiter((isinstance(v, (date, np.datetime64)) for v in raw), dtype=bool,
                              count=len(raw))
        values, bad = _text_dates(_text(s.where(~stamped)))
        if stamped.any():
            given = pd.to_datetime(pd.Series([_wall_clock(v) for v in raw[stamped]],
                                             dtype=object), errors="coerce")
            values[stamped] = given.dt.normalize().to_numpy(_DATE)
        return pd.Series(values), bad
    values, bad = _text_dates(_text(s))
    return pd.Series(values), bad


def _money(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(cents, missing, bad)`` for a column of amounts (see :func:`spmkit.money.parse_cents`)."""
    return parse_cents(s)


def _fixed(
    s: pd.Series, places: int, *, exact: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(value x 10**places as int64, missing, bad)`` (see :func:`spmkit.money.parse_fixed`)."""
    return parse_fixed(s, places, exact=exact)


def _decimals(s: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Exact :class:`Decimal` objects (small tables only: one Python call per value)."""
    def one(v: object) -> Decimal | None:
        if _is_missing(v):
            return None
        if isinstance(v, Decimal):
            return v
        if isinstance(v, float):
            return Decimal(repr(v))
        text = str(v).strip().replace("_", "x")
        if not text:
            return None
        try:
            d = Decimal(text)
        except InvalidOperation:
            return Decimal("NaN")
        return d

    vals = [one(v) for v in s.tolist()]
    missing = np.array([v is None for v in vals], dtype=bool)
    bad = np.array([v is not None and not v.is_finite() for v in vals], dtype=bool)
    return pd.Series(vals, dtype=object), missing, bad


def _years(s: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Nullable Int64 calendar years and masks (missing, not a year)."""
    if pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_float_dtype(s.dtype):
        x = s.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(x)
    else:
        t = decimal_text(s) if s.dtype == object else _text(s)
        missing = t.isna().to_numpy()
        x = pd.to_numeric(t, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    ok = np.isfinite(x) & (x == np.round(np.nan_to_num(x))) & (x >= 1) & (x <= 9999)
    bad = ~ok & ~missing
    years = pd.array(np.where(ok, np.nan_to_num(x), 0).astype(np.int64), dtype="Int64")
    years[~ok] = pd.NA
    return pd.Series(years), missing, bad


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class _Col:
    name: str  # canonical source column
    kind: str  # id | text | upper | lower | date | money | share | rate | year
    required: bool = False  # the column must exist
    nullable: bool = True  # a blank value is allowed
    out: str | None = None  # output name (amount -> amount_cents)
    alt: str | None = None  # an already-converted source column accepted instead
    blank: int | None = None  # value for blank money cells (draw -> 0)
    checks: tuple[tuple[pa.Check, str], ...] = ()  # pandera checks and their messages

    @property
    def output(self) -> str:
        return self.out or self.name


_NONNEG = ((pa.Check.ge(0), "must not be negative"),)
_SPECS: dict[str, tuple[_Col, ...]] = {
    "deals": (
        _Col("deal_id", "id", required=True, nullable=False),
        _Col("rep_id", "id", required=True, nullable=False),
        _Col("close_date", "date", required=True, nullable=False),
        _Col("amount", "money", required=True, nullable=False, out="amount_cents",
             alt="amount_cents"),
        _Col("currency", "upper"),
        _Col("product", "text"),
        _Col("deal_type", "text"),
        _Col("region", "text"),
        _Col("account", "text"),
        _Col("cancel_date", "date"),
    ),
    "quotas": (
        _Col("rep_id", "id", required=True, nullable=False),
        _Col("period_start", "date"),
        _Col("year", "year"),
        _Col("quota", "money", required=True, nullable=False, out="quota_cents",
             alt="quota_cents", checks=_NONNEG),
        _Col("measure", "text"),
    ),
    "roster": (
        _Col("rep_id", "id", required=True, nullable=False),
        _Col("name", "text"),
        _Col("manager_id", "id"),
        _Col("role", "text"),
        _Col("region", "text"),
        _Col("plan", "text"),
        _Col("target_incentive", "money", out="target_incentive_cents",
             alt="target_incentive_cents", blank=0, checks=_NONNEG),
        _Col("base_salary", "money", out="base_salary_cents", alt="base_salary_cents",
             blank=0, checks=_NONNEG),
        _Col("draw", "money", out="draw_cents", alt="draw_cents", blank=0, checks=_NONNEG),
        _Col("draw_type", "lower", checks=(
            (pa.Check.isin(list(DRAW_TYPES)), "must be 'recoverable' or 'non_recoverable'"),)),
        _Col("hire_date", "date"),
        _Col("term_date", "date"),
        _Col("effective_from", "date"),
        _Col("effective_to", "date"),
    ),
    "splits": (
        _Col("deal_id", "id", required=True, nullable=False),
        _Col("rep_id", "id", required=True, nullable=False),
        _Col("share", "share", required=True, nullable=False, out="share_ppb",
             checks=((pa.Check.in_range(1, PPB), "must be more than 0 and at most 1"),)),
    ),
    "payments": (
        _Col("deal_id", "id", required=True, nullable=False),
        _Col("paid_date", "date", required=True, nullable=False),
        _Col("amount", "money", required=True, nullable=False, out="amount_cents",
             alt="amount_cents", checks=_NONNEG),
    ),
    "overlays": (
        _Col("deal_id", "id", required=True, nullable=False),
        _Col("rep_id", "id", required=True, nullable=False),
        _Col("share", "share", out="share_ppb", blank=PPB,
             checks=((pa.Check.in_range(1, PPB), "must be more than 0 and at most 1"),)),
    ),
    "fx": (
        _Col("currency", "upper", required=True, nullable=False),
        _Col("rate", "rate", required=True, nullable=False),
    ),
}
_UNIQUE = {"roster": "rep_id", "fx": "currency"}  # deal ids: see _check_deals (faster)
#: Roster columns kept only when the file has them.
_ONLY_WHEN_GIVEN = ("plan", "effective_from", "effective_to")
#: Columns that make a roster effective-dated: several rows per rep, none overlapping.
EFFECTIVE = ("effective_from", "effective_to")
_OPEN_FROM = pd.Timestamp("0001-01-01").as_unit("us")  # a blank effective_from
_OPEN_TO = pd.Timestamp("9999-12-31").as_unit("us")  # a blank effective_to
_DTYPES = {
    "id": "str", "text": "str", "upper": "str", "lower": "str", "date": _DATE,
    "money": "Int64", "share": "Int64", "year": "Int64", "rate": object,
}
_WHAT = {
    "date": "not a date (expected YYYY-MM-DD)",
    "money": "not a number",
    "share": "not a number with at most 9 decimal places",
    "year": "not a calendar year",
    "rate": "not a number",
}


def _schema(table: str, present: set[str]) -> pa.DataFrameSchema:
    cols = {}
    for spec in _SPECS[table]:
        if spec.output not in present:
            continue
        cols[spec.output] = pa.Column(
            _DTYPES[spec.kind],
            checks=[c for c, _ in spec.checks],
            nullable=spec.nullable,
            unique=_UNIQUE.get(table) == spec.output and not (
                table == "roster" and present & set(EFFECTIVE)),
        )
    return pa.DataFrameSchema(cols, name=table)


# --------------------------------------------------------------------------- the loader


@dataclass
class _Loaded:
    frame: pd.DataFrame
    loc: _Loc
    used: set[str]


def _load(
    table: str,
    src: Source,
    mapping: Mapping[str, str] | None,
    name: str | None,
    *,
    strict_mapping: bool = True,
    extra: tuple[str, ...] = (),
    keep: _Keep | None = None,
    raw: tuple[pd.DataFrame, _Loc] | None = None,
) -> _Loaded:
    raw, loc = _read(src, table, name, keep if not mapping else None) if raw is None else raw
    out = _Collector(loc)
    raw, shown, used = _apply_mapping(raw, mapping, out, strict_mapping)
    kept = keep.mask(raw) if keep is not None else None
    if kept is not None and not kept.all():  # files read whole: keep the rows asked for
        from dataclasses import replace

        raw = raw.loc[kept].reset_index(drop=True)
        loc = out.loc = replace(loc, numbers=loc.numbers[kept])
    if loc.by_key:  # a database table: name rows by their key columns
        from dataclasses import replace

        from spmkit.sources import row_keys

        loc = out.loc = replace(loc, keys=row_keys(raw, table))
    specs = _SPECS[table] + tuple(  # numeric columns a plan measures (blank is 0)
        _Col(c, "money", required=True, out=measure_column(c), blank=0) for c in extra)
    present = set(raw.columns)

    def label(col: str) -> str:
        return shown.get(col, col)

    required = [s.name for s in specs if s.required and not (s.alt and s.alt in present)]
    if table == "quotas" and "period_start" not in present and "year" not in present:
        out.add("missing column: quotas need 'period_start' (one row per rep and period) or "
                f"'year' (annual); columns found: {', '.join(map(str, raw.columns)) or 'none'}",
                column="period_start")
    _require(raw, required, out, shown)
    if out.items:
        raise InputError(out.problems())

    n = len(raw)
    data: dict[str, object] = {}
    flagged: dict[str, np.ndarray] = {}  # output column -> rows already reported
    sources = [s.name if s.name in present else (s.alt if s.alt in present else None)
               for s in specs]
    for i, spec in enumerate(specs):
        src_col = sources[i]
        if src_col is None:
            if table == "roster" and spec.name in _ONLY_WHEN_GIVEN:
                continue  # only when the file has it
            data[spec.output] = _empty(spec, n)
            continue
        col = raw[src_col]
        if src_col not in sources[i + 1:]:  # free the raw column as soon as it is parsed
            raw = raw.drop(columns=src_col)
        shown_col = label(src_col)
        if spec.kind in ("id", "text", "upper", "lower"):
            t = _text(col)
            if spec.kind == "upper":
                t = t.str.upper()
            elif spec.kind == "lower":
                t = t.str.lower()
            data[spec.output] = t
            continue
        if spec.kind == "date":
            values, bad = _dates(col)
        elif spec.kind == "money":
            cents, missing, bad = _money(col)
            if src_col == spec.alt:  # already in cents: must be whole
                whole = cents % 100 == 0
                bad = bad | (~whole & ~missing)
                cents = cents // 100
            values = pd.array(cents, dtype="Int64")
            if spec.blank is not None:
                values[missing] = spec.blank
            else:
                values[missing | bad] = pd.NA
            values = pd.Series(values)
        elif spec.kind == "share":
            ppb, missing, bad = _fixed(col, 9, exact=True)
            values = pd.array(ppb, dtype="Int64")
            values[missing | bad] = pd.NA
            if spec.blank is not None:  # an overlay's blank share is 1
                values[missing & ~bad] = spec.blank
            values = pd.Series(values)
        elif spec.kind == "year":
            values, missing, bad = _years(col)
        else:  # rate
            values, missing, bad = _decimals(col)
            values = values.where(~bad, None)
        what = _WHAT[spec.kind]
        out.rows(bad, shown_col, lambda pos, c=col, w=what: f"{w}: {_raw_text(c, pos)}")
        data[spec.output] = values
        flagged[spec.output] = bad
    frame = pd.DataFrame(data, index=pd.RangeIndex(n))
    if table == "splits":
        frame.insert(2, "share", frame["share_ppb"].astype("float64") / PPB)

    _validate(table, frame, loc, out, flagged, label)
    _CHECKS[table](frame, out, label)
    if out.items:
        raise InputError(out.problems())
    progress_step("load", len(frame), loc.name)
    return _Loaded(_finish(table, frame), loc, used)


def _empty(spec: _Col, n: int) -> object:
    dtype = _DTYPES[spec.kind]
    if spec.kind in ("money", "share") and spec.blank is not None:
        return pd.Series(pd.array(np.full(n, spec.blank, dtype=np.int64), dtype="Int64"))
    if dtype == "str":
        return pd.Series(arrow.nulls(n, arrow.large_string()), dtype="str")
    if dtype == _DATE:
        return pd.Series(np.full(n, np.datetime64("NaT"), dtype=_DATE))
    return pd.Series(pd.array([pd.NA] * n, dtype="Int64"))


def _validate(
    table: str,
    frame: pd.DataFrame,
    loc: _Loc,
    out: _Collector,
    flagged: dict[str, np.ndarray],
    label: Callable[[str], str],
) -> None:
    """Run the pandera schema lazily and turn its failure cases into problems."""
    schema = _schema(table, set(frame.columns))
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as err:
        cases = err.failure_cases
    else:
        return
    messages = {
        spec.output: [m for _, m in spec.checks] for spec in _SPECS[table]
    }
    source_name = {spec.output: spec.name for spec in _SPECS[table]}
    for (column, check), group in cases.groupby(["column", "check"], sort=False, dropna=False):
        column = str(column)
        shown = label(source_name.get(column, column))
        idx = pd.to_numeric(group["index"], errors="coerce").dropna().astype(np.int64).to_numpy()
        mask = np.zeros(len(frame), dtype=bool)
        mask[idx] = True
        if column in flagged:
            mask &= ~flagged[column]  # already reported as unparseable
        if check == "not_nullable":
            out.rows(mask, shown, "value is missing (required)")
        elif check == "field_uniqueness":
            _duplicates(frame, [column], out, shown, only=mask)
        elif str(check).startswith("dtype("):  # a loader bug, but say it plainly
            out.add(f"has type {group['failure_case'].iloc[0]}, expected {check[6:-1]}",
                    column=shown)
        else:
            number = group["check_number"].iloc[0]
            texts = messages.get(column, [])
            text = texts[int(number)] if pd.notna(number) and int(number) < len(texts) else check
            values = frame[column]
            scale = {"share_ppb": PPB}.get(column, 100 if column.endswith("_cents") else 1)
            out.rows(mask, shown, lambda pos, v=values, t=text, s=scale:
                     f"{t}: {_show(v.iloc[pos], s)}")


def _show(value: object, scale: int) -> str:
    if scale != 1 and not _is_missing(value):
        return str(Decimal(int(value)) / Decimal(scale))
    return repr(value)


def _duplicates(
    frame: pd.DataFrame,
    cols: list[str],
    out: _Collector,
    column: str,
    *,
    only: np.ndarray | None = None,
    what: str | None = None,
) -> None:
    """Report every repeat of a key, naming the first line it appeared on."""
    keys = frame[cols]
    present = keys.notna().all(axis=1).to_numpy()
    pos = np.flatnonzero(present if only is None else present & only)
    if len(pos) < 2:
        return
    sub = keys.iloc[pos]
    dup = sub.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    sub = sub.loc[dup].assign(_pos=pos[dup])
    first = sub.groupby(cols, sort=False)["_pos"].transform("min").to_numpy()
    later = sub["_pos"].to_numpy() != first
    positions = sub["_pos"].to_numpy()[later]
    firsts = first[later]
    key_vals = sub.loc[later, cols]
    mask = np.zeros(len(frame), dtype=bool)
    mask[positions] = True
    first_of = dict(zip(positions.tolist(), firsts.tolist(), strict=True))
    key_of = dict(zip(positions.tolist(), key_vals.itertuples(index=False), strict=True))

    def message(p: int) -> str:
        key = ", ".join(f"{c} {_fmt(v)}" for c, v in zip(cols, key_of[p], strict=True))
        also = f"(also on {out.loc.where(first_of[p])})"
        return f"duplicate {what}: {key} {also}" if what else f"duplicate {key} {also}"

    out.rows(mask, column, message)


def _fmt(v: object) -> str:
    if isinstance(v, pd.Timestamp):
        return repr(v.strftime("%Y-%m-%d"))
    if isinstance(v, (int, np.integer)):
        return str(v)
    return repr(str(v))


# --------------------------------------------------------------------------- per-table rules


def _has_duplicates(values: pd.Series) -> bool:
    """Whether a column repeats a value: Arrow's sort then a neighbour compare (10M ids in
    about a second; hashing them all takes several)."""
    arr = arrow.array(values.dropna(), from_pandas=True)
    if len(arr) < 2:
        return False
    ordered = arr.take(pc.sort_indices(arr))
    return bool(pc.any(pc.equal(ordered[1:], ordered[:-1])).as_py())


def _check_deals(frame: pd.DataFrame, out: _Collector, label: Callable[[str], str]) -> None:
    if _has_duplicates(frame["deal_id"]):
        _duplicates(frame, ["deal_id"], out, label("deal_id"))
    early = (frame["cancel_date"] < frame["close_date"]).fillna(False).to_numpy(dtype=bool)
    out.rows(early, label("cancel_date"), lambda p: (
        f"cancel_date {frame['cancel_date'].iloc[p]:%Y-%m-%d} is before close_date "
        f"{frame['close_date'].iloc[p]:%Y-%m-%d}"))


def _check_quotas(frame: pd.DataFrame, out: _Collector, label: Callable[[str], str]) -> None:
    has_period = frame["period_start"].notna().to_numpy()
    has_year = frame["year"].notna().to_numpy()
    out.rows(~has_period & ~has_year, label("period_start"),
             "a quota needs a period_start (per period) or a year (annual)")
    both = has_period & has_year
    out.rows(both, label("year"), "give period_start or year, not both")
    periodic, annual = has_period & ~has_year, has_year & ~has_period
    if periodic.any() and annual.any():
        p, a = int(np.argmax(periodic)), int(np.argmax(annual))
        out.add("the file mixes quotas per period (period_start, first on "
                f"{out.loc.where(p)}) with annual quotas (year, first on {out.loc.where(a)}); "
                "use one form", column=label("year"))
    keyed, by = frame, []
    if frame["measure"].notna().any():  # named quotas: one row per rep, period and measure
        keyed, by = frame.assign(measure=frame["measure"].fillna("")), ["measure"]
    _duplicates(keyed, ["rep_id", "period_start", *by], out, label("period_start"),
                only=periodic, what="quota row")
    _duplicates(keyed, ["rep_id", "year", *by], out, label("year"),
                only=annual, what="quota row")


def _check_roster(frame: pd.DataFrame, out: _Collector, label: Callable[[str], str]) -> None:
    reps = frame["rep_id"]
    mgr = frame["manager_id"]
    unknown = (mgr.notna() & ~mgr.isin(reps.dropna())).to_numpy(dtype=bool)
    out.rows(unknown, label("manager_id"),
             lambda p: f"manager_id {mgr.iloc[p]!r} is not a rep_id in the roster")
    own = (mgr.notna() & (mgr == reps)).fillna(False).to_numpy(dtype=bool)
    out.rows(own, label("manager_id"), lambda p: f"rep {reps.iloc[p]!r} is their own manager")
    early = (frame["term_date"] < frame["hire_date"]).fillna(False).to_numpy(dtype=bool)
    out.rows(early, label("term_date"), lambda p: (
        f"term_date {frame['term_date'].iloc[p]:%Y-%m-%d} is before hire_date "
        f"{frame['hire_date'].iloc[p]:%Y-%m-%d}"))
    no_type = ((frame["draw_cents"].fillna(0) != 0) & frame["draw_type"].isna()).to_numpy(bool)
    out.rows(no_type, label("draw_type"),
             "a draw is given, so draw_type must be 'recoverable' or 'non_recoverable'")
    if set(EFFECTIVE) & set(frame.columns):
        _check_effective(frame, out, label)


def _check_effective(frame: pd.DataFrame, out: _Collector, label: Callable[[str], str]) -> None:
    """Effective-dated rows: each row's span is ordered, and one rep's rows never overlap."""
    lo = frame["effective_from"] if "effective_from" in frame else pd.Series(
        pd.NaT, index=frame.index, dtype=_DATE)
    hi = frame["effective_to"] if "effective_to" in frame else pd.Series(
        pd.NaT, index=frame.index, dtype=_DATE)
    backwards = (hi < lo).fillna(False).to_numpy(dtype=bool)
    out.rows(backwards, label("effective_to"), lambda p: (
        f"effective_to {hi.iloc[p]:%Y-%m-%d} is before effective_from {lo.iloc[p]:%Y-%m-%d}"))
    rows = pd.DataFrame({"rep": frame["rep_id"], "lo": lo.fillna(_OPEN_FROM),
                         "hi": hi.fillna(_OPEN_TO), "pos": np.arange(len(frame))})
    rows = rows.dropna(subset=["rep"]).sort_values(["rep", "lo", "pos"], kind="stable")
    same = rows["rep"].to_numpy() == np.roll(rows["rep"].to_numpy(), 1)
    prev_hi = np.roll(rows["hi"].to_numpy(), 1)
    prev_pos = np.roll(rows["pos"].to_numpy(), 1)
    clash = same & (rows["lo"].to_numpy() <= prev_hi)
    clash[0] = False
    mask = np.zeros(len(frame), dtype=bool)
    mask[rows["pos"].to_numpy()[clash]] = True
    earlier = dict(zip(rows["pos"].to_numpy()[clash].tolist(), prev_pos[clash].tolist(),
                       strict=True))

    def message(p: int) -> str:
        q = earlier[p]
        start = "open" if pd.isna(lo.iloc[p]) else f"{lo.iloc[p]:%Y-%m-%d}"
        end = "open" if pd.isna(hi.iloc[q]) else f"{hi.iloc[q]:%Y-%m-%d}"
        return (f"roster rows of rep {frame['rep_id'].iloc[p]!r} overlap: this row starts "
                f"({start}) before the row on {out.loc.where(q)} ends ({end})")

    out.rows(mask, label("effective_from"), message)


def current_roster(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per rep from an effective-dated roster: the rep's latest row (by
    ``effective_from``), with ``hire_date`` the earliest of the rep's rows.  A roster
    without effective dates is returned as it is."""
    if rows is None or not set(EFFECTIVE) & set(rows.columns):
        return rows
    start = rows["effective_from"] if "effective_from" in rows else pd.Series(
        pd.NaT, index=rows.index, dtype=_DATE)
    order = (rows.assign(_from=start.fillna(_OPEN_FROM), _pos=np.arange(len(rows)))
             .sort_values(["rep_id", "_from", "_pos"], kind="stable"))
    latest = order.drop_duplicates("rep_id", keep="last")
    first_hire = order.groupby("rep_id", sort=False)["hire_date"].min()
    latest = latest.assign(hire_date=latest["rep_id"].map(first_hire).astype(_DATE))
    return latest.sort_values("_pos").drop(columns=["_from", "_pos"]).reset_index(drop=True)


def _check_overlays(frame: pd.DataFrame, out: _Collector, label: Callable[[str], str]) -> None:
    _duplicates(frame, ["deal_id", "rep_id"], out, label("rep_id"), what="overlay")


def _check_splits(frame: pd.DataFrame, out: _Collector, label: Callable[[str], str]) -> None:
    _duplicates(frame, ["deal_id", "rep_id"], out, label("rep_id"), what="split")
    ppb = frame["share_ppb"]
    in_range = ((ppb > 0) & (ppb <= PPB)).fillna(False)
    ok = frame["deal_id"].notna() & ppb.notna() & in_range
    bad_deals = frame.loc[~ok, "deal_id"].dropna()
    use = (ok & ~frame["deal_id"].isin(bad_deals)).to_numpy()
    if not use.any():
        return
    sub = pd.DataFrame({"deal_id": frame["deal_id"][use],
                        "ppb": frame["share_ppb"][use].astype(np.int64),
                        "pos": np.flatnonzero(use)})
    g = sub.groupby("deal_id", sort=False).agg(total=("ppb", "sum"), first=("pos", "min"),
                                               rows=("pos", "size"))
    wrong = g[g["total"] != PPB]
    mask = np.zeros(len(frame), dtype=bool)
    mask[wrong["first"].to_numpy()] = True
    info = dict(zip(wrong["first"].tolist(), zip(wrong.index.tolist(), wrong["total"].tolist(),
                                                 wrong["rows"].tolist(), strict=True),
                    strict=True))

    def message(p: int) -> str:
        deal, total, rows = info[p]
        lines = f"{rows} rows" if rows > 1 else "1 row"
        return (f"the shares of deal {deal!r} sum to {Decimal(int(total)) / PPB} ({lines}), "
                "not exactly 1")

    out.rows(mask, label("share"), message)


#: fx rates beyond these cannot be plan rates (and 1e999999999 would take the conversion
#: hours of big-integer arithmetic): plan-currency per unit, from 10**-12 to 10**12.
FX_RATE_LIMITS = (Decimal("1e-12"), Decimal("1e12"))


def _check_fx(frame: pd.DataFrame, out: _Collector, label: Callable[[str], str]) -> None:
    rates = frame["rate"]
    given = [v is not None and not _is_missing(v) for v in rates.tolist()]  # a small table
    bad = np.array([g and v <= 0 for g, v in zip(given, rates.tolist(), strict=True)],
                   dtype=bool)
    out.rows(bad, label("rate"), lambda p: f"rate must be positive: {rates.iloc[p]}")
    low, high = FX_RATE_LIMITS
    wild = np.array([g and v > 0 and not low <= v <= high
                     for g, v in zip(given, rates.tolist(), strict=True)], dtype=bool)
    out.rows(wild, label("rate"), lambda p: (
        f"rate {rates.iloc[p]} is out of range: a plan rate (plan currency per unit) is "
        f"between {low:f} and {high:,f}"))


_CHECKS: dict[str, Callable[[pd.DataFrame, _Collector, Callable[[str], str]], None]] = {
    "deals": _check_deals,
    "quotas": _check_quotas,
    "roster": _check_roster,
    "splits": _check_splits,
    "fx": _check_fx,
    "overlays": _check_overlays,
    "payments": lambda frame, out, label: None,
}


def _finish(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Final dtypes once everything is valid."""
    out = frame.copy()
    for col in out.columns:
        if col.endswith("_cents") or col == "share_ppb":
            out[col] = out[col].astype(np.int64)
    return out


# --------------------------------------------------------------------------- public loaders


def measure_column(name: str) -> str:
    """The deals frame's column holding a measured column ``name`` (``measure: {column:
    name}``), in hundredths (cents of a money column)."""
    return f"measure_{name}_cents"


def load_deals(src: Source, *, mapping: Mapping[str, str] | None = None,
               name: str | None = None, measure_columns: tuple[str, ...] = ()
               ) -> pd.DataFrame:
    """Load won deals.

    Parameters
    ----------
    src : path (.csv, .parquet, .xlsx), database URL (:mod:`spmkit.sources`) or DataFrame
        (not modified)
        Required columns ``deal_id, rep_id, close_date, amount``; optional ``currency,
        product, deal_type, region, account, cancel_date``; others are ignored.  An
        ``amount_cents`` column (whole cents) is accepted instead of ``amount``.
    mapping : dict, optional
        Source column name -> canonical name, applied first.
    name : str, optional
        Name used in messages (default: the file name, or ``"deals"``).

    Returns
    -------
    DataFrame
        ``deal_id`` str, ``rep_id`` str, ``close_date`` datetime64[us], ``amount_cents``
        int64 (may be negative: credit memos), ``currency``, ``product``, ``deal_type``,
        ``region``, ``account`` str or NA, ``cancel_date`` datetime64[us] or NaT; and for
        each of ``measure_columns`` (numeric columns plans measure, such as ``margin`` or
        ``units``; required, blank is 0) an int64 column ``measure_<name>_cents``.

    Raises
    ------
    InputError
        Missing columns, blank or non-numeric amounts, impossible dates, duplicate
        ``deal_id`` (both lines named), ``cancel_date`` before ``close_date``.

    Examples
    --------
    >>> import pandas as pd
    >>> load_deals(pd.DataFrame({"deal_id": ["D1"], "rep_id": ["R1"],
    ...     "close_date": ["2026-01-15"], "amount": ["1234.565"]}))["amount_cents"].tolist()
    [123457]
    """
    return _load("deals", src, mapping, name, extra=tuple(measure_columns)).frame


def load_quotas(src: Source, *, mapping: Mapping[str, str] | None = None,
                name: str | None = None) -> pd.DataFrame:
    """Load quotas: per period (``rep_id, period_start, quota``) or annual (``year``).

    Returns
    -------
    DataFrame
        ``rep_id`` str, ``period_start`` datetime64[us] (NaT in the annual form), ``year``
        Int64 (NA in the period form), ``quota_cents`` int64 (>= 0), ``measure`` str (the
        quota's name for components that say ``quota: NAME``; NA for the quota every other
        component uses).

    Raises
    ------
    InputError
        Blank, non-numeric or negative quotas; rows with neither (or both) period_start and
        year; a file mixing both forms; duplicate (rep_id, period_start) or (rep_id, year).
    """
    return _load("quotas", src, mapping, name).frame


def load_roster(src: Source, *, mapping: Mapping[str, str] | None = None,
                name: str | None = None, all_rows: bool = False) -> pd.DataFrame:
    """Load the roster: one row per rep.

    An effective-dated roster (columns ``effective_from``, ``effective_to``, inclusive,
    blank is open) may hold several rows per rep that do not overlap; it returns each rep's
    latest row (:func:`current_roster`), or every row with ``all_rows=True``.

    Returns
    -------
    DataFrame
        ``rep_id``, ``name``, ``manager_id`` (NA at the top), ``role``, ``region``, ``plan``
        (only if the file has it) str; ``target_incentive_cents``, ``base_salary_cents``,
        ``draw_cents`` int64 (0 when blank); ``draw_type`` str or NA; ``hire_date``,
        ``term_date`` datetime64[us] or NaT.

    Raises
    ------
    InputError
        Duplicate rep_id, manager_id not in the roster, term_date before hire_date,
        negative money, a draw without a valid draw_type; effective-dated rows of one rep
        that overlap.
    """
    rows = _load("roster", src, mapping, name).frame
    return rows if all_rows else current_roster(rows)


def load_splits(src: Source, *, mapping: Mapping[str, str] | None = None,
                name: str | None = None) -> pd.DataFrame:
    """Load deal splits: ``deal_id, rep_id, share``.

    Returns
    -------
    DataFrame
        ``deal_id``, ``rep_id`` str, ``share`` float64, ``share_ppb`` int64 (share x 1e9,
        exact from the text).

    Raises
    ------
    InputError
        Shares <= 0 or > 1 or not numbers, shares of a deal not summing to exactly 1,
        duplicate (deal_id, rep_id).
    """
    return _load("splits", src, mapping, name).frame


def load_overlays(src: Source, *, mapping: Mapping[str, str] | None = None,
                  name: str | None = None) -> pd.DataFrame:
    """Load overlays: ``deal_id, rep_id, share`` (share in (0, 1], blank is 1).

    Overlay reps are credited with their share of the deal in addition to the owner's or
    split credit, under every plan (rule ``overlay``).

    Returns
    -------
    DataFrame
        ``deal_id``, ``rep_id`` str, ``share_ppb`` int64 (share x 1e9, exact from the text).
    """
    return _load("overlays", src, mapping, name).frame


def load_payments(src: Source, *, mapping: Mapping[str, str] | None = None,
                  name: str | None = None) -> pd.DataFrame:
    """Load payments received: ``deal_id, paid_date, amount`` (in the deal's currency).

    Components with ``measure: collections`` are credited as the cash arrives.

    Returns
    -------
    DataFrame
        ``deal_id`` str, ``paid_date`` datetime64[us], ``amount_cents`` int64 (>= 0).
    """
    return _load("payments", src, mapping, name).frame


def load_fx(src: Source, *, mapping: Mapping[str, str] | None = None,
            name: str | None = None) -> pd.DataFrame:
    """Load plan fx rates: ``currency, rate`` (plan currency per unit).

    Returns
    -------
    DataFrame
        ``currency`` str (upper case), ``rate`` object (:class:`~decimal.Decimal`, exact).

    Raises
    ------
    InputError
        Missing or non-positive rates, duplicate currencies.
    """
    return _load("fx", src, mapping, name).frame


_TABLES = ("deals", "quotas", "roster", "splits", "fx", "overlays", "payments")


def load_inputs(
    deals: Source,
    quotas: Source | None = None,
    roster: Source | None = None,
    splits: Source | None = None,
    fx: Source | None = None,
    *,
    mapping: Mapping[str, str] | Mapping[str, Mapping[str, str]] | None = None,
    currency: str | None = None,
    overlays: Source | None = None,
    payments: Source | None = None,
    measure_columns: tuple[str, ...] = (),
    only_reps: Collection[str] | None = None,
) -> Inputs:
    """Load all tables and check them against each other; report every problem at once.

    With ``only_reps``, only the deals these reps own, or are credited by a split or an
    overlay row, are loaded (with the split, overlay and payment rows of those deals): what
    one rep's statement needs.  From Parquet, the other rows are never read.

    Parameters
    ----------
    deals, quotas, roster, splits, fx : path or DataFrame
        As for the single loaders; all but ``deals`` are optional.
    mapping : dict, optional
        Either per table (``{"deals": {"Owner": "rep_id"}}``) or one flat mapping applied
        to every table that has the column (a key no table has is an error).
    currency : str, optional
        The plan currency; deals in any other currency need an fx row.

    Returns
    -------
    Inputs

    Raises
    ------
    InputError
        Everything the single loaders reject, plus: reps in deals, quotas or splits not in
        the roster (when given); splits naming deals not in deals; deal currencies without
        an fx rate.
    """
    sources = {"deals": deals, "quotas": quotas, "roster": roster, "splits": splits, "fx": fx,
               "overlays": overlays, "payments": payments}
    nested = is_nested(mapping)
    problems: list[Problem] = []
    loaded: dict[str, _Loaded] = {}
    used: set[str] = set()
    order = list(sources.items())
    if only_reps is not None:  # the deals last: which to keep follows from splits, overlays
        order = order[1:] + order[:1]
    for table, src in order:
        if src is None:
            continue
        table_mapping = (mapping or {}).get(table) if nested else mapping
        keep = None
        if table == "deals" and only_reps is not None:
            reps = tuple(sorted({str(r) for r in only_reps}))
            credited = [v.frame.loc[v.frame["rep_id"].isin(reps), "deal_id"]
                        for t, v in loaded.items() if t in ("splits", "overlays")]
            keep = _Keep(reps, tuple(sorted(set(pd.concat(credited).astype("str"))))
                         if credited else ())
        try:
            loaded[table] = _load(table, src, table_mapping, None, strict_mapping=nested,
                                  extra=tuple(measure_columns) if table == "deals" else (),
                                  keep=keep)
        except InputError as err:
            problems.extend(p for p in err.problems if isinstance(p, Problem))
            continue
        used |= loaded[table].used
    if mapping and not nested and len(loaded) == sum(s is not None for s in sources.values()):
        for key in mapping:
            if key not in used:
                problems.append(Problem("mapping", f"no input table has column {key!r}",
                                        column=str(key)))
    if only_reps is not None and "deals" in loaded:
        for table in ("splits", "overlays", "payments"):
            if table in loaded:
                loaded[table] = _rows_of(loaded[table], loaded["deals"].frame["deal_id"])
        people = pd.concat([pd.Series(sorted({str(r) for r in only_reps}), dtype="str")] + [
            loaded[t].frame["rep_id"] for t in ("deals", "splits", "overlays") if t in loaded])
        for table in ("quotas", "roster"):  # the people on those deals: a small grid
            if table in loaded:
                loaded[table] = _rows_of(loaded[table], people, key="rep_id")
    problems.extend(_cross_checks(loaded, currency))
    if problems:
        raise InputError(problems)
    frames = {t: v.frame for t, v in loaded.items()}
    roster_frame = frames.get("roster")
    if roster_frame is not None and set(EFFECTIVE) & set(roster_frame.columns):
        frames["roster"], frames["roster_rows"] = current_roster(roster_frame), roster_frame
    return Inputs(**frames, sources={t: v.loc.name for t, v in loaded.items()})


def is_nested(mapping: Mapping | None) -> bool:
    """Whether ``mapping`` is per table (``{"deals": {...}}``) rather than one flat mapping.

    Raises
    ------
    InputError
        A per-table mapping naming a table spmkit does not have.
    """
    nested = bool(mapping) and all(isinstance(v, Mapping) for v in mapping.values())
    if nested:
        unknown = set(mapping) - set(_TABLES)
        if unknown:
            raise InputError(Problem("mapping", f"unknown table(s) {sorted(unknown)}; "
                                     f"use {', '.join(_TABLES)}"))
    return nested


def _rows_of(child: _Loaded, ids: pd.Series, key: str = "deal_id") -> _Loaded:
    """A table's rows for these deals (or reps), keeping where each row came from."""
    from dataclasses import replace

    mask = child.frame[key].isin(ids).to_numpy(bool)
    return _Loaded(child.frame.loc[mask].reset_index(drop=True),
                   replace(child.loc, numbers=child.loc.numbers[mask]), child.used)


def _missing_keys(
    child: _Loaded, col: str, parent: pd.Series, parent_name: str, what: str
) -> list[Problem]:
    """One problem per distinct unknown key: its first row and how many rows use it."""
    values = child.frame[col]
    unknown = (values.notna() & ~values.isin(parent.dropna())).to_numpy(dtype=bool)
    if not unknown.any():
        return []
    pos = np.flatnonzero(unknown)
    sub = pd.DataFrame({"key": values.iloc[pos].to_numpy(), "pos": pos})
    g = sub.groupby("key", sort=False)["pos"].agg(["min", "size"])
    out = []
    for key, first, count in zip(g.index.tolist()[:PER_CHECK_LIMIT], g["min"].tolist(),
                                 g["size"].tolist(), strict=False):
        rows = f" ({count} rows)" if count > 1 else ""
        out.append(Problem(child.loc.name, f"{what} {key!r} is not in {parent_name}{rows}",
                           child.loc.where(first), col))
    if len(g) > PER_CHECK_LIMIT:
        out.append(Problem(child.loc.name, f"{len(g) - PER_CHECK_LIMIT} more unknown {what}s",
                           None, col))
    return out


def _cross_checks(loaded: dict[str, _Loaded], currency: str | None) -> list[Problem]:
    problems: list[Problem] = []
    roster = loaded.get("roster")
    if roster is not None:
        for table in ("deals", "quotas", "splits", "overlays"):
            if table in loaded:
                problems += _missing_keys(loaded[table], "rep_id", roster.frame["rep_id"],
                                          f"the roster ({roster.loc.name})", "rep_id")
    deals = loaded.get("deals")
    for table in ("splits", "overlays", "payments"):
        if deals is not None and table in loaded:
            problems += _missing_keys(loaded[table], "deal_id", deals.frame["deal_id"],
                                      f"the deals ({deals.loc.name})", "deal_id")
    if deals is not None and "payments" in loaded:
        problems += _overpaid(loaded["payments"], deals)
    if deals is not None and currency is not None:
        plan = currency.strip().upper()
        fx = loaded.get("fx")
        rates = fx.frame["currency"] if fx is not None else pd.Series([], dtype="str")
        cur = deals.frame["currency"]
        foreign = cur.where(cur != plan)
        where = "the fx table" + (f" ({fx.loc.name})" if fx is not None else " (none given)")
        for p in _missing_keys(
            _Loaded(pd.DataFrame({"currency": foreign}), deals.loc, set()),
            "currency", rates, where, "currency",
        ):
            problems.append(Problem(p.source, p.message.replace(" is not in ", " has no rate in "),
                                    p.where, p.column))
    return problems


def _overpaid(payments: _Loaded, deals: _Loaded) -> list[Problem]:
    """Payments of a deal adding up to more than its amount (in the deal's currency)."""
    pay = payments.frame
    total = pay.groupby("deal_id", sort=False)["amount_cents"].sum()
    amount = deals.frame.drop_duplicates("deal_id").set_index("deal_id")["amount_cents"]
    over = total[total > amount.reindex(total.index).abs().fillna(np.inf)]
    out = []
    for deal_id, paid in list(over.items())[:PER_CHECK_LIMIT]:
        first = int(np.flatnonzero((pay["deal_id"] == deal_id).to_numpy())[0])
        out.append(Problem(payments.loc.name, f"payments of deal {deal_id!r} add up to "
                           f"{Decimal(int(paid)) / 100:,.2f}, more than its amount of "
                           f"{Decimal(int(amount[deal_id])) / 100:,.2f}",
                           payments.loc.where(first), "amount"))
    return out


def _find(folder: Path, table: str) -> Path | None:
    found = [folder / f"{table}{s}" for s in SUFFIXES if (folder / f"{table}{s}").is_file()]
    if len(found) > 1:
        names = " and ".join(p.name for p in found)
        raise InputError(Problem(str(folder), f"both {names} exist; keep one {table} file"))
    return found[0] if found else None


def load_data_dir(
    path: str | Path,
    *,
    currency: str | None = None,
    mapping: Mapping[str, str] | Mapping[str, Mapping[str, str]] | None = None,
    measure_columns: tuple[str, ...] = (),
) -> Inputs:
    """Load ``deals.*``, ``quotas.*`` (required) and ``roster.*``, ``splits.*``, ``fx.*``
    (optional) from a folder; each may be .csv, .parquet or .xlsx.

    Raises
    ------
    InputError
        The folder or a required file is missing, a table appears in two formats, or any
        problem :func:`load_inputs` finds.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(Problem(str(folder), "data folder not found"))
    problems: list[Problem] = []
    files: dict[str, Path | None] = {}
    for table in _TABLES:
        try:
            files[table] = _find(folder, table)
        except InputError as err:
            problems.extend(p for p in err.problems if isinstance(p, Problem))
            files[table] = None
            continue
        if files[table] is None and table in ("deals", "quotas"):
            problems.append(Problem(str(folder), f"no {table} file (expected {table}.csv, "
                                    f"{table}.parquet or {table}.xlsx)"))
    if problems:
        raise InputError(problems)
    return load_inputs(files["deals"], files["quotas"], files["roster"], files["splits"],
                       files["fx"], mapping=mapping, currency=currency,
                       overlays=files["overlays"], payments=files["payments"],
                       measure_columns=measure_columns)

