"""Tables straight from a database: a URL in place of a file.

Any table argument (``--deals``, ``--roster``, ``load_inputs(deals=...)``, ...) may name a
PostgreSQL table or query instead of a file::

    postgresql://analyst@warehouse:5432/comp?table=deals
    postgresql://analyst@warehouse:5432/comp?table=sales.deals_2026
    postgresql://analyst@warehouse:5432/comp?query=select * from deals where fiscal_year = 2026

The rows arrive as one Arrow table through ADBC (``adbc-driver-postgresql``, libpq's
binary COPY protocol, no per-row Python objects) and then pass through the very same
column mapping, parsing and validation as a Parquet file.  ``numeric(p, s)`` columns
arrive as Arrow decimals and unconstrained ``numeric`` as its exact digits (never a binary
float), ``date`` columns as dates, ``timestamptz`` as its date in UTC.

A database table has no line numbers, so a problem names the row by its key
(``postgresql://analyst@warehouse:5432/comp?table=deals, row with deal_id 'D7', column
'amount': not a number``).  The password is never part of a message: give it in the URL,
in ``PGPASSWORD`` or in ``~/.pgpass`` (libpq reads both), and every message shows the URL
without it.  A bad URL, a server that cannot be reached, a missing table or a failing
query is one :class:`~spmkit.errors.InputError`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote, unquote, urlencode, urlsplit, urlunsplit

import numpy as np
import pandas as pd
import pyarrow as arrow

from spmkit.errors import InputError, Problem

__all__ = ["is_database_url", "read_database", "redact", "row_keys", "row_name"]

#: URL schemes read from a database (libpq accepts both spellings).
SCHEMES = ("postgresql", "postgres")

#: The columns that name a row of each input table in messages, in order (those present).
KEYS: dict[str, tuple[str, ...]] = {
    "deals": ("deal_id",),
    "quotas": ("rep_id", "period_start", "year", "measure"),
    "roster": ("rep_id", "effective_from"),
    "splits": ("deal_id", "rep_id"),
    "overlays": ("deal_id", "rep_id"),
    "fx": ("currency",),
    "payments": ("deal_id", "paid_date"),
}

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_PASSWORD_RE = re.compile(r"://([^/@:]*):[^/@]*@")
_IDENT_RE = re.compile(r"^[^\x00]{1,63}$")
_LONG_QUERY = 80


def is_database_url(src: object) -> bool:
    """Whether ``src`` is a text naming a database (``scheme://...``) rather than a file."""
    return isinstance(src, str) and _SCHEME_RE.match(src.strip()) is not None


def redact(url: str) -> str:
    """``url`` without its password (and with a long query shortened), for messages."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        netloc = parts.netloc
    except ValueError:  # not even a URL: still never show what looks like a password
        return _PASSWORD_RE.sub(r"://\1@", text)
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        user = user.split(":", 1)[0]
        netloc = f"{user}@{host}"
    pairs = []
    for key, value in _params(parts.query):
        if key == "password":
            continue
        if key == "query" and len(value) > _LONG_QUERY:
            value = value[: _LONG_QUERY - 3] + "..."
        pairs.append((key, value))
    query = urlencode(pairs, safe=" *,=()'<>+", quote_via=quote)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _params(query: str) -> list[tuple[str, str]]:
    """``a=1&b=2`` as pairs, %-escapes decoded; unlike a web form, ``+`` stays ``+`` (SQL
    adds with it).  Write ``&`` inside a query as ``%26``."""
    pairs = []
    for part in query.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return pairs


def _split(url: str) -> tuple[str, str, str]:
    """``(libpq URI, SQL, label)``; the URI keeps every connection parameter but ours."""
    text = url.strip()
    label = redact(text)
    try:
        parts = urlsplit(text)
        _ = parts.port  # a port that is not a number is an error here, not in libpq
    except ValueError as exc:
        raise InputError(Problem(label, f"not a valid database URL ({exc})")) from None
    if parts.scheme.lower() not in SCHEMES:
        raise InputError(Problem(label, f"unsupported database {parts.scheme + '://'!r}; "
                                 "spmkit reads postgresql://user@host:port/database?table=NAME"))
    if not parts.path.strip("/"):
        raise InputError(Problem(label, "the URL names no database: postgresql://user@host:"
                                 "port/DATABASE?table=NAME"))
    params = _params(parts.query)
    table = [v for k, v in params if k == "table"]
    query = [v for k, v in params if k == "query"]
    if len(table) + len(query) != 1:
        raise InputError(Problem(label, "a database URL names exactly one table or query: "
                                 "add ?table=NAME or ?query=SELECT ..."))
    if table:
        sql = f"SELECT * FROM {_qualified(table[0], label)}"
    else:
        sql = query[0].strip().rstrip(";").strip()
        if not sql:
            raise InputError(Problem(label, "the query is empty"))
    rest = [(k, v) for k, v in params if k not in ("table", "query")]
    uri = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), ""))
    return uri, sql, label


def _qualified(name: str, label: str) -> str:
    """``schema.table`` (or ``table``) as quoted SQL identifiers."""
    names = [unquote(n).strip().strip('"') for n in name.strip().split(".")]
    if not 1 <= len(names) <= 3 or not all(_IDENT_RE.match(n) for n in names):
        raise InputError(Problem(label, f"{name!r} is not a table name (use NAME or "
                                 "SCHEMA.NAME)"))
    return ".".join('"' + n.replace('"', '""') + '"' for n in names)


def _scrub(message: str, url: str) -> str:
    """A driver's message without the password (should libpq ever repeat it)."""
    text = " ".join(str(message).split())
    try:
        password = urlsplit(url.strip()).password
    except ValueError:
        password = None
    for secret in filter(None, (password, password and unquote(password))):
        text = text.replace(secret, "***")
    return text


def read_database(url: str) -> tuple[arrow.Table, str]:
    """Fetch the table or query a database URL names, as Arrow; and its label for messages.

    Parameters
    ----------
    url : str
        ``postgresql://[user[:password]@]host[:port]/database?table=NAME`` or
        ``...?query=SELECT ...``; other parameters (``sslmode=require``, ...) go to libpq.

    Returns
    -------
    (pyarrow.Table, str)
        The rows (``numeric`` as decimals or exact text), and the URL without its password.

    Raises
    ------
    InputError
        A malformed URL, a driver that is not installed, a server that cannot be reached,
        a missing table or a failing query.
    """
    uri, sql, label = _split(url)
    try:
        import adbc_driver_postgresql.dbapi as dbapi
    except ImportError:
        raise InputError(Problem(label, "reading a database needs the PostgreSQL driver: "
                                 "pip install 'spmkit[database]' (adbc-driver-postgresql)")) \
            from None
    try:
        with dbapi.connect(uri) as conn, conn.cursor() as cursor:
            cursor.execute(sql)
            table = cursor.fetch_arrow_table()
    except Exception as exc:  # noqa: BLE001 - any driver failure is one message for the user
        what = "cannot read from the database"
        raise InputError(Problem(label, f"{what}: {_scrub(_driver_message(exc), url)}")) \
            from None
    return _plain(table), label


def _driver_message(exc: BaseException) -> str:
    """The first line of the server's or libpq's own words, without ADBC's framing."""
    text = str(exc).strip()
    text = re.sub(r"^(?:[A-Z_]+: )?(?:\[libpq\] )?", "", text)
    first = [line.strip() for line in text.splitlines() if line.strip()]
    return first[0] if first else type(exc).__name__


def _plain(table: arrow.Table) -> arrow.Table:
    """Extension columns (PostgreSQL ``numeric`` and other opaque types) as plain Arrow:
    ``numeric(p, s)`` as ``decimal128(p, s)``, unconstrained ``numeric`` (and any value a
    decimal cannot hold, such as ``NaN``) as its exact decimal text, parsed like a CSV amount;
    both keep every digit."""
    columns = []
    for fld, col in zip(table.schema, table.columns, strict=True):
        if isinstance(fld.type, arrow.BaseExtensionType):
            col = arrow.chunked_array([chunk.storage for chunk in col.chunks],
                                      type=fld.type.storage_type)
            decimal = _numeric_type(fld)
            if decimal is not None:
                try:
                    col = col.cast(decimal)
                except arrow.ArrowInvalid:
                    pass  # NaN or infinity: the text path reports the row
        columns.append(col)
    return arrow.table(columns, names=table.column_names)


def _numeric_type(fld: arrow.Field) -> arrow.DataType | None:
    """``decimal128(p, s)`` for a ``numeric(p, s)`` column (PostgreSQL's typmod)."""
    meta = fld.metadata or {}
    if meta.get(b"POSTGRESQL:type") != b"numeric":
        return None
    try:
        typmod = int(meta.get(b"POSTGRESQL:typmod", b"-1")) - 4
    except ValueError:
        return None
    precision, scale = typmod >> 16, typmod & 0xFFFF
    if typmod < 0 or not 0 < precision <= 38 or scale > precision:
        return None
    return arrow.decimal128(precision, scale)


# --------------------------------------------------------------------------- row names


def row_keys(frame: pd.DataFrame, table: str) -> tuple[tuple[str, pd.Series], ...]:
    """The key columns of ``frame`` (after the column mapping) that name its rows."""
    return tuple((c, frame[c]) for c in KEYS.get(table, ()) if c in frame.columns)


def row_name(keys: Sequence[tuple[str, pd.Series]], pos: int) -> str:
    """``row with deal_id 'D7'`` (``row with deal_id 'D7', rep_id 'R1'``) for a message."""
    parts = []
    for name, values in keys:
        v = values.iloc[pos]
        if _missing(v):
            continue
        if isinstance(v, pd.Timestamp | np.datetime64):
            v = pd.Timestamp(v).date().isoformat()
        text = str(v).strip()
        if text:
            parts.append(f"{name} {text!r}")
    return "row with " + ", ".join(parts) if parts else f"row {pos + 1}"


def _missing(v: object) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
