"""Import the Northwind Traders order history as spmkit tables (deals, roster, quotas).

Northwind is a real, messy export: dates carry a time part, missing values are the text
``NULL``, discounts make fractions of a cent, and 176 rows of ``orders.csv`` hold
unquoted commas in their address fields.  The import reads only the leading fields of
``orders.csv`` (those the mapping names), which parse cleanly.

The deals and the roster come from ``orders.csv`` and ``employees.csv`` through a mapping
in spmkit's one mapping format (:mod:`spmkit.mapping`, ``docs/mapping.md``;
``examples/northwind/mapping.yaml`` by default): columns, the title -> role recode, the
currency, base salaries by role.  What no mapping can say is done here, from the
export's fixed files: the deal amount from the order lines, the deal's product and type,
the rep's region through the territories, the quotas (prior-year sales, annualized and
grown) and the target incentive (a share of the quota).

**Where it rounds.**  A line's net amount ``unitPrice * quantity * (1 - discount)`` is
computed exactly in integers (price in cents x quantity x (10000 - discount in basis
points), i.e. millionths of a dollar), summed per order, and rounded **once per order**
to the cent, half away from zero.  Nothing is rounded per line.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from spmkit.errors import InputError, Problem, raise_if
from spmkit.mapping import MappingFile, apply_mapping
from spmkit.mapping import load_mapping as _load_mapping
from spmkit.money import format_cents

#: The mapping file shipped with the repository.
DEFAULT_MAPPING = Path(__file__).resolve().parents[1] / "examples" / "northwind" / "mapping.yaml"

#: Exact line amounts are held in millionths of a dollar (1e-4 cent).
UNITS_PER_CENT = 10_000

#: The export's other files and the columns read from them (fixed by the export).
ORDER_LINES = ("order-details.csv", {"deal_id": "orderID", "product_id": "productID",
                                     "unit_price": "unitPrice", "quantity": "quantity",
                                     "discount": "discount"})
PRODUCTS = ("products.csv", {"product_id": "productID", "product": "productName"})
EMPLOYEE_TERRITORIES = ("employee-territories.csv", {"rep_id": "employeeID",
                                                     "territory": "territoryID"})
TERRITORIES = ("territories.csv", {"territory": "territoryID", "region_id": "regionID"})
REGIONS = ("regions.csv", {"region_id": "regionID", "region": "regionDescription"})

#: Quotas: prior-year sales annualized x (1 + growth), rounded to whole ``round_to``
#: dollars; target incentive = this share of the quota, rounded to whole ``round_to``.
GROWTH = Decimal("0.30")
TARGET_INCENTIVE_SHARE = Decimal("0.06")
ROUND_TO = 100

_PRICE_RE = r"^\s*(\d+)(?:\.(\d{1,2}))?\s*$"
_DISCOUNT_RE = r"^\s*(0|1)?(?:\.(\d{1,4}))?\s*$"


def load_mapping(path: str | Path | None = None) -> MappingFile:
    """Read a Northwind mapping file (default :data:`DEFAULT_MAPPING`): a mapping in
    spmkit's format (:func:`spmkit.mapping.load_mapping`) with ``deals`` and ``roster``.

    Raises
    ------
    InputError
        When the file is missing, is not a mapping or lacks a table.
    """
    path = Path(path) if path is not None else DEFAULT_MAPPING
    if not path.is_file():
        raise InputError(Problem(str(path), "no such mapping file"))
    mapping = _load_mapping(path)
    raise_if([Problem(str(path), f"missing table {t!r}", where=t)
              for t in ("deals", "roster") if t not in mapping.tables()])
    return mapping


def _in(source: Path, name: str) -> Path:
    path = source / Path(name).name
    if not path.is_file():
        raise InputError(Problem(str(path), "no such file"))
    return path


def _read_csv(path: Path, columns: dict[str, str]) -> pd.DataFrame:
    """A CSV as text (``NULL`` kept as text), renamed source -> canonical names."""
    frame = pd.read_csv(path, dtype="str", keep_default_na=False, encoding="utf-8-sig")
    missing = [src for src in columns.values() if src not in frame.columns]
    if missing:
        raise InputError([Problem(str(path), "missing column", column=c) for c in missing])
    return frame[list(columns.values())].rename(columns={v: k for k, v in columns.items()})


def _read_leading(path: Path, columns: dict[str, str]) -> pd.DataFrame:
    """Read only the leading fields of a CSV whose later fields hold unquoted commas.

    The header names the fields; each data line is split on its first commas only, up to
    the last field the mapping needs, so the free-text tail is never parsed.
    """
    text = path.read_text(encoding="utf-8-sig")
    lines = pd.Series(text.splitlines(), dtype="str")
    header = lines.iloc[0].split(",") if len(lines) else []
    problems = [Problem(str(path), "missing column", where="line 1", column=src)
                for src in columns.values() if src not in header]
    raise_if(problems)
    positions = {canon: header.index(src) for canon, src in columns.items()}
    width = max(positions.values()) + 1
    body = lines.iloc[1:]
    body = body[body.str.strip() != ""]
    line_no = body.index.to_numpy() + 1
    parts = body.str.split(",", n=width, expand=True, regex=False)
    for j in range(width + 1):
        if j not in parts.columns:
            parts[j] = pd.NA
    short = parts[width - 1].isna().to_numpy()
    if short.any():
        raise InputError([Problem(str(path), f"expected at least {width} fields",
                                  where=f"line {int(n)}") for n in line_no[short]])
    out = pd.DataFrame({canon: parts[pos].str.strip() for canon, pos in positions.items()})
    out.index = line_no
    return out


def _dates(values: pd.Series, path: Path, column: str, *, required: bool) -> pd.Series:
    """Parse ``1996-07-04 00:00:00.000`` (or a bare date) to midnight; ``NULL`` -> NaT."""
    text = values.str.strip()
    missing = text.isin(["", "NULL"])
    parsed = pd.to_datetime(text.where(~missing), format="ISO8601", errors="coerce")
    bad = parsed.isna() & ~missing
    if required:
        bad |= missing
    if bad.any():
        raise InputError([Problem(str(path), f"not a date: {v!r}", where=f"line {int(i)}",
                                  column=column) for i, v in values[bad].items()])
    return parsed.dt.normalize()


def _line_units(lines: pd.DataFrame, path: Path) -> np.ndarray:
    """Exact net amount of each order line in millionths of a dollar (int64)."""
    price = lines["unit_price"].str.extract(_PRICE_RE)
    disc = lines["discount"].str.extract(_DISCOUNT_RE)
    qty = pd.to_numeric(lines["quantity"].str.strip(), errors="coerce")
    problems: list[Problem] = []
    bad_price = price[0].isna()
    bad_disc = (disc[0].isna() & disc[1].isna()) | lines["discount"].str.strip().eq("")
    bad_qty = qty.isna() | (qty < 0) | (qty % 1 != 0)
    for mask, col, what in ((bad_price, "unit_price", "a price with at most 2 decimals"),
                            (bad_disc, "discount", "a discount between 0 and 1"),
                            (bad_qty, "quantity", "a whole quantity")):
        for i in np.flatnonzero(mask.to_numpy()):
            problems.append(Problem(str(path), f"expected {what}, got "
                                    f"{lines[col].iloc[i]!r}", where=f"line {i + 2}",
                                    column=col))
    raise_if(problems)
    cents = (price[0].astype("int64") * 100
             + (price[1].fillna("") + "00").str.slice(0, 2).astype("int64")).to_numpy()
    bp = (disc[0].fillna("0").astype("int64") * 10_000
          + (disc[1].fillna("") + "0000").str.slice(0, 4).astype("int64")).to_numpy()
    if (bp > 10_000).any():
        i = int(np.flatnonzero(bp > 10_000)[0])
        raise InputError(Problem(str(path), "discount above 1", where=f"line {i + 2}",
                                 column="discount"))
    return cents * qty.to_numpy(dtype=np.int64) * (10_000 - bp)


def _round_units(units: np.ndarray) -> np.ndarray:
    """Millionths of a dollar -> cents, half away from zero."""
    mag = (np.abs(units) + UNITS_PER_CENT // 2) // UNITS_PER_CENT
    return np.where(units < 0, -mag, mag).astype(np.int64)


def order_totals(source: str | Path) -> pd.DataFrame:
    """Net amount of every order, exact and rounded once.

    Returns
    -------
    DataFrame with ``deal_id`` (str), ``net_units`` (int64, millionths of a dollar, exact),
    ``amount_cents`` (int64, ``net_units`` rounded half away from zero to the cent),
    ``line_rounded_cents`` (int64, what rounding every line first would give),
    ``lines`` (int64), ``top_product_id`` (str: the line with the largest net amount;
    ties: the first line).  One row per order that has lines, sorted by ``deal_id``.
    """
    source = Path(source)
    path = _in(source, ORDER_LINES[0])
    lines = _read_csv(path, ORDER_LINES[1])
    units = _line_units(lines, path)
    frame = pd.DataFrame({"deal_id": lines["deal_id"].str.strip(), "units": units,
                          "rounded": _round_units(units), "product_id": lines["product_id"],
                          "pos": np.arange(len(lines))})
    grouped = frame.groupby("deal_id", sort=True)
    top = frame.sort_values(["deal_id", "units", "pos"], ascending=[True, False, True],
                            kind="stable").drop_duplicates("deal_id").set_index("deal_id")
    out = pd.DataFrame({
        "net_units": grouped["units"].sum().astype(np.int64),
        "line_rounded_cents": grouped["rounded"].sum().astype(np.int64),
        "lines": grouped.size().astype(np.int64),
    })
    out["amount_cents"] = _round_units(out["net_units"].to_numpy())
    out["top_product_id"] = top["product_id"].reindex(out.index)
    out = out.reset_index()
    return out[["deal_id", "net_units", "amount_cents", "line_rounded_cents", "lines",
                "top_product_id"]]


def reconciliation(totals: pd.DataFrame) -> dict[str, Decimal]:
    """Totals of :func:`order_totals`, in dollars, showing where rounding enters.

    Returns ``exact`` (the exact sum of every line), ``exact_rounded`` (that, rounded
    once), ``per_order`` (sum of orders each rounded once: the deals' total),
    ``per_line`` (sum of lines each rounded first) and ``per_order_minus_exact_rounded``.
    """
    exact = Decimal(int(totals["net_units"].sum())) / Decimal(1_000_000)
    per_order = Decimal(int(totals["amount_cents"].sum())) / 100
    per_line = Decimal(int(totals["line_rounded_cents"].sum())) / 100
    exact_rounded = Decimal(int(_round_units(np.array([int(totals["net_units"].sum())]))[0])) / 100
    return {"exact": exact, "exact_rounded": exact_rounded, "per_order": per_order,
            "per_line": per_line, "per_order_minus_exact_rounded": per_order - exact_rounded}


def _regions(source: Path) -> pd.Series:
    """Employee -> region name: the region of most of their territories (ties: lowest id)."""
    et, terr, reg = (_read_csv(_in(source, name), cols)
                     for name, cols in (EMPLOYEE_TERRITORIES, TERRITORIES, REGIONS))
    for f in (et, terr, reg):
        for c in f.columns:
            f[c] = f[c].str.strip()
    m = et.merge(terr, on="territory", how="left").merge(reg, on="region_id", how="left")
    m = m.dropna(subset=["region"])
    counts = m.groupby(["rep_id", "region_id", "region"]).size().rename("n").reset_index()
    counts["rid"] = pd.to_numeric(counts["region_id"], errors="coerce")
    best = counts.sort_values(["rep_id", "n", "rid"], ascending=[True, False, True],
                              kind="stable").drop_duplicates("rep_id")
    return best.set_index("rep_id")["region"]


def _round_dollars(value: Decimal, step: int) -> int:
    """Round a dollar amount to a multiple of ``step`` dollars, half away from zero; cents."""
    q = (value / step).quantize(Decimal(1), rounding="ROUND_HALF_UP")
    return int(q) * step * 100


def import_northwind(source: str | Path, year: int = 1997,
                     mapping: MappingFile | str | Path | None = None, *,
                     growth: Decimal | str = GROWTH,
                     target_incentive_share: Decimal | str = TARGET_INCENTIVE_SHARE,
                     round_to: int = ROUND_TO) -> dict[str, pd.DataFrame]:
    """Turn the Northwind CSV export into spmkit's deals, roster and quotas.

    Parameters
    ----------
    source : path
        Folder holding the Northwind CSV files (the mapping's ``file`` names are looked
        up here, by file name).
    year : int
        Plan year the quotas are for (calendar year); derived from the year before.
    mapping : MappingFile or path, optional
        The mapping of ``orders.csv`` to deals and ``employees.csv`` to the roster
        (default ``examples/northwind/mapping.yaml``).
    growth : Decimal or str
        Quota growth over the annualized prior year (default 0.30).
    target_incentive_share : Decimal or str
        Target incentive as a share of the quota (default 0.06).
    round_to : int
        Quotas and target incentives are rounded to whole multiples of this many
        dollars, half away from zero (default 100).

    Returns
    -------
    dict of DataFrame, all columns text as written to CSV:
        ``deals``: deal_id, rep_id, close_date, amount, currency, product, deal_type,
        region, account, cancel_date (every order; ``product`` is the product of the
        order's largest line; ``deal_type`` is ``new`` for a customer's first order and
        ``repeat`` after);
        ``roster``: rep_id, name, manager_id, role, region, target_incentive,
        base_salary, hire_date, term_date, draw, draw_type;
        ``quotas``: rep_id, year, quota (annual form, plan year only).

    Raises
    ------
    InputError
        A file is missing or malformed (naming file, line and column), an order's
        employee is not in employees.csv, or there are no orders before ``year``.
    """
    source = Path(source)
    mf = mapping if isinstance(mapping, MappingFile) else load_mapping(mapping)
    if not source.is_dir():
        raise InputError(Problem(str(source), "no such folder"))
    dmap, rmap = mf.model.deals, mf.model.roster
    dcols = {k: v for k, v in dmap.columns.items() if isinstance(v, str)}
    rcols = rmap.columns

    # --- orders -> deals: the leading fields, checked with their line numbers ------------
    orders_path = _in(source, dmap.file)
    raw = _read_leading(orders_path, {v: v for v in dcols.values()})
    for key in ("deal_id", "rep_id", "close_date", "account"):
        if key not in dcols:
            raise InputError(Problem(str(mf.path), f"deals.columns needs {key!r}",
                                     where="deals.columns"))
    close = _dates(raw[dcols["close_date"]], orders_path, "close_date", required=True)
    raw[dcols["close_date"]] = close.dt.strftime("%Y-%m-%d")
    ids = raw[dcols["deal_id"]]
    dupes = ids.duplicated(keep="first")
    if dupes.any():
        raise InputError([Problem(str(orders_path), f"duplicate order {v!r}",
                                  where=f"line {int(i)}", column="deal_id")
                          for i, v in ids[dupes].items()])
    employees_path = _in(source, rmap.file)
    emp_raw = pd.read_csv(employees_path, dtype="str", keep_default_na=False,
                          encoding="utf-8-sig")
    emp_ids = emp_raw[rcols.get("rep_id", "employeeID")].str.strip()
    unknown = ~raw[dcols["rep_id"]].isin(emp_ids)
    if unknown.any():
        raise InputError([Problem(str(orders_path), f"employee {v!r} is not in "
                                  f"{employees_path.name}", where=f"line {int(i)}",
                                  column="rep_id")
                          for i, v in raw[dcols["rep_id"]][unknown].items()])
    role_src = rcols.get("role")
    if isinstance(role_src, str) and role_src in emp_raw:
        recode = rmap.values.get("role", {})
        unmapped = sorted(set(emp_raw[role_src].str.strip()) - set(recode))
        if unmapped:
            raise InputError([Problem(str(mf.path), f"title {t!r} has no role",
                                      where="roster.values.role") for t in unmapped])
    tables, _ = apply_mapping(mf, frames={"deals": (raw.reset_index(drop=True),
                                                    orders_path.name),
                                          "roster": (emp_raw, employees_path.name)})
    orders, emp = tables["deals"], tables["roster"]
    orders["close_date"] = pd.to_datetime(orders["close_date"])
    totals = order_totals(source).set_index("deal_id")
    products = _read_csv(_in(source, PRODUCTS[0]), PRODUCTS[1])
    product_name = products.set_index(products["product_id"].str.strip())["product"]
    regions = _regions(source)

    orders = orders.sort_values(["close_date", "deal_id"], kind="stable")
    amount = totals["amount_cents"].reindex(orders["deal_id"]).fillna(0).astype(np.int64)
    top = totals["top_product_id"].reindex(orders["deal_id"])
    first_order = ~orders["account"].duplicated(keep="first")
    deals = pd.DataFrame({
        "deal_id": orders["deal_id"].to_numpy(),
        "rep_id": orders["rep_id"].to_numpy(),
        "close_date": orders["close_date"].dt.strftime("%Y-%m-%d").to_numpy(),
        "amount": format_cents(amount.to_numpy()).to_numpy(),
        "currency": (orders["currency"].to_numpy() if "currency" in orders else "USD"),
        "product": product_name.reindex(top.to_numpy()).fillna("").to_numpy(),
        "deal_type": np.where(first_order.to_numpy(), "new", "repeat"),
        "region": regions.reindex(orders["rep_id"]).fillna("").to_numpy(),
        "account": orders["account"].to_numpy(),
        "cancel_date": "",
    }).astype("str")

    # --- employees -> roster (renamed and recoded by the mapping) ---------------------------
    role = emp["role"] if "role" in emp else pd.Series("", index=emp.index, dtype="str")
    hire = (_dates(emp["hire_date"].set_axis(emp.index + 2), employees_path, "hire_date",
                   required=False) if "hire_date" in emp
            else pd.Series(pd.NaT, index=emp.index + 2))
    close = orders["close_date"]
    step = int(round_to)
    growth = Decimal(str(growth))
    # --- quotas: prior-year sales, annualized over the months the data covers, x growth ---
    prior = year - 1
    data_first, data_last = close.min(), close.max()
    first_m = max(pd.Timestamp(f"{prior}-01-01"), data_first.to_period("M").to_timestamp())
    last_m = min(pd.Timestamp(f"{prior}-12-01"), data_last.to_period("M").to_timestamp())
    covered = (last_m.year - first_m.year) * 12 + last_m.month - first_m.month + 1
    if covered <= 0:
        raise InputError(Problem(str(orders_path), f"no orders in {prior} to derive the "
                                 f"{year} quotas from", column="close_date"))
    in_prior = (close.dt.year == prior).to_numpy()
    prior_cents = (pd.Series(amount.to_numpy()[in_prior], dtype=np.int64)
                   .groupby(orders["rep_id"].to_numpy()[in_prior]).sum()
                   .reindex(emp["rep_id"]).fillna(0).astype(np.int64))
    factor = Decimal(12) / Decimal(covered) * (1 + growth)
    quota = np.array([_round_dollars(Decimal(int(c)) / 100 * factor, step)
                      for c in prior_cents.to_numpy()], dtype=np.int64)   # one per employee
    if (quota > 0).any():
        fallback = int(np.median(quota[quota > 0]) // (step * 100)) * step * 100
        quota = np.where(quota > 0, quota, fallback)
    quotas = pd.DataFrame({"rep_id": emp["rep_id"].to_numpy(), "year": str(year),
                           "quota": format_cents(quota).to_numpy()}).astype("str")

    ti_share = Decimal(str(target_incentive_share))
    ti = np.array([_round_dollars(Decimal(int(q)) / 100 * ti_share, step) for q in quota],
                  dtype=np.int64)
    from spmkit.money import parse_cents

    base = (parse_cents(emp["base_salary"].replace("", "0"))[0] if "base_salary" in emp
            else np.zeros(len(emp), dtype=np.int64))
    roster = pd.DataFrame({
        "rep_id": emp["rep_id"].to_numpy(),
        "name": (emp["name"] if "name" in emp else emp["rep_id"]).to_numpy(),
        "manager_id": emp["manager_id"].to_numpy() if "manager_id" in emp else "",
        "role": role.to_numpy(),
        "region": regions.reindex(emp["rep_id"]).fillna("").to_numpy(),
        "target_incentive": format_cents(ti).to_numpy(),
        "base_salary": format_cents(np.asarray(base, dtype=np.int64)).to_numpy(),
        "hire_date": hire.dt.strftime("%Y-%m-%d").fillna("").to_numpy(),
        "term_date": "",
        "draw": "",
        "draw_type": "",
    }).astype("str")
    return {"deals": deals, "roster": roster, "quotas": quotas}


def write_northwind(source: str | Path, out_dir: str | Path, year: int = 1997,
                    mapping: MappingFile | str | Path | None = None) -> list[Path]:
    """Import Northwind (see :func:`import_northwind`) and write ``deals.csv``,
    ``roster.csv`` and ``quotas.csv`` into ``out_dir``, all or nothing."""
    from spmkit.sample import write_tables

    return write_tables(import_northwind(source, year=year, mapping=mapping), out_dir)
