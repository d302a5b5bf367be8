"""Generate benchmark inputs: N deals for 5,000 reps, written straight to Parquet.

Everything is vectorized numpy + pyarrow (no per-deal Python), seeded, and reused when
the files already exist (``bench/out/<size>/``, git-ignored).  Files per size:

- ``deals.parquet``: ``deal_id, rep_id, close_date`` (date32), ``amount`` (decimal(18,2)),
  ``currency`` (USD ~92%, EUR, GBP), ``product, deal_type, region, account``,
  ``cancel_date`` (date32, ~1% of deals; may fall after the plan year).
  About 1% of deals closed in December 2025 (history outside the plan year).
- ``quotas.parquet``: annual quotas ``rep_id, year, quota`` (decimal(18,2)).
- ``roster.parquet``: ``rep_id, name, manager_id, role, region, target_incentive,
  base_salary, hire_date, term_date`` (50 managers own no deals and have no quota;
  ~5% of reps are hired and ~3% leave during the year).
- ``fx.parquet``: ``currency, rate`` (decimal(9,4)).

Usage: ``python bench/gen.py [--sizes 1000000 10000000] [--force]``.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

OUT = Path(__file__).resolve().parent / "out"
REPS = 5_000
MANAGERS = 50
YEAR = 2026
PRODUCTS = np.array(["Core", "Widget Pro", "Analytics", "Services", "Platform", "Support"])
PRODUCT_P = np.array([0.35, 0.15, 0.15, 0.15, 0.12, 0.08])
DEAL_TYPES = np.array(["new", "expansion", "renewal"])
DEAL_TYPE_P = np.array([0.45, 0.30, 0.25])
REGIONS = np.array(["NA East", "NA West", "EMEA", "APAC"])
CURRENCIES = np.array(["USD", "EUR", "GBP"])
CURRENCY_P = np.array([0.92, 0.05, 0.03])
FX = {"EUR": "1.0800", "GBP": "1.2700"}
MEAN_DEAL_CENTS = 2_000_000  # 20,000.00
ACCOUNTS = 200_000
CHUNK = 1_000_000
FILES = ("deals.parquet", "quotas.parquet", "roster.parquet", "fx.parquet")


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded numbers, built by Arrow kernels (no Python loop)."""
    text = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, text, "")


def _cents_to_decimal(cents: np.ndarray) -> pa.Array:
    whole = pa.array(cents.astype(np.int64)).cast(pa.decimal128(20, 0))
    cent = pa.scalar(Decimal("0.01"), pa.decimal128(3, 2))
    return pc.multiply(whole, cent).cast(pa.decimal128(18, 2))


def _dates(days: np.ndarray) -> pa.Array:
    """Days since 1970-01-01 (int, -1 for missing) -> date32 with nulls."""
    return pa.array(days.astype(np.int32), type=pa.int32(),
                    mask=days < 0).cast(pa.date32())


def _day(y: int, m: int, d: int) -> int:
    return int((np.datetime64(f"{y:04d}-{m:02d}-{d:02d}") - np.datetime64("1970-01-01"))
               .astype(np.int64))


def _reps(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per rep: productivity, region, quota (cents), target incentive, employment."""
    prod = rng.lognormal(0.0, 0.35, REPS)
    prod /= prod.mean()
    region = rng.integers(0, len(REGIONS), REPS)
    hire = np.full(REPS, -1)
    term = np.full(REPS, -1)
    y0, y1 = _day(YEAR, 1, 1), _day(YEAR, 12, 31)
    hired = rng.random(REPS) < 0.05
    hire[hired] = rng.integers(y0 + 1, y1 - 60, hired.sum())
    hire[~hired] = rng.integers(y0 - 3000, y0 - 30, (~hired).sum())
    left = (rng.random(REPS) < 0.03) & ~hired
    term[left] = rng.integers(y0 + 60, y1, left.sum())
    return {"prod": prod, "region": region, "hire": hire, "term": term}


def write_size(n: int, out: Path, seed: int = 20260101) -> None:
    """Write the four tables for ``n`` deals into ``out`` (atomically per file)."""
    rng = np.random.default_rng(seed)
    reps = _reps(rng)
    out.mkdir(parents=True, exist_ok=True)
    rep_names = _ids("R", np.arange(1, REPS + 1), 5)
    y0 = _day(YEAR, 1, 1)

    # ---- deals, in chunks of a million rows to bound memory
    weights = reps["prod"] / reps["prod"].sum()
    schema = pa.schema([
        ("deal_id", pa.string()), ("rep_id", pa.string()), ("close_date", pa.date32()),
        ("amount", pa.decimal128(18, 2)), ("currency", pa.string()), ("product", pa.string()),
        ("deal_type", pa.string()), ("region", pa.string()), ("account", pa.string()),
        ("cancel_date", pa.date32()),
    ])
    rep_sales = np.zeros(REPS, dtype=np.float64)
    tmp = out / ".deals.parquet.tmp"
    with pq.ParquetWriter(tmp, schema, compression="snappy") as writer:
        for start in range(0, n, CHUNK):
            m = min(CHUNK, n - start)
            rep = rng.choice(REPS, size=m, p=weights)
            # ~1% history in December 2025; the rest spread over 2026 (a little Q-end skew)
            day = rng.integers(0, 365, m)
            qend = rng.random(m) < 0.15
            day[qend] = (rng.integers(0, 4, qend.sum()) * 91 + rng.integers(75, 91, qend.sum()))
            day = np.minimum(day, 364)
            close = y0 + day
            hist = rng.random(m) < 0.01
            close[hist] = y0 - rng.integers(1, 32, hist.sum())
            cents = np.round(rng.lognormal(np.log(MEAN_DEAL_CENTS) - 0.5, 1.0, m)).astype(np.int64)
            cents = np.maximum(cents, 10_000)
            cancel = np.full(m, -1)
            cancelled = rng.random(m) < 0.01
            cancel[cancelled] = close[cancelled] + rng.integers(5, 150, cancelled.sum())
            np.add.at(rep_sales, rep[~hist], cents[~hist])
            table = pa.table({
                "deal_id": _ids("D", np.arange(start + 1, start + m + 1), 9),
                "rep_id": pc.take(rep_names, pa.array(rep)),
                "close_date": _dates(close),
                "amount": _cents_to_decimal(cents),
                "currency": pa.array(CURRENCIES[rng.choice(3, size=m, p=CURRENCY_P)]),
                "product": pa.array(PRODUCTS[rng.choice(len(PRODUCTS), size=m, p=PRODUCT_P)]),
                "deal_type": pa.array(DEAL_TYPES[rng.choice(3, size=m, p=DEAL_TYPE_P)]),
                "region": pa.array(REGIONS[reps["region"][rep]]),
                "account": _ids("A", rng.integers(1, ACCOUNTS + 1, m), 6),
                "cancel_date": _dates(cancel),
            }, schema=schema)
            writer.write_table(table, row_group_size=CHUNK)
    tmp.replace(out / "deals.parquet")

    # ---- quotas: around each rep's expected sales (attainment spread ~ 60%..160%)
    quota = np.round(rep_sales * rng.lognormal(0.0, 0.25, REPS) / 100).astype(np.int64) * 100
    quota = np.maximum(quota, 100_000_00)
    _write(out / "quotas.parquet", pa.table({
        "rep_id": rep_names,
        "year": pa.array(np.full(REPS, YEAR, dtype=np.int32)),
        "quota": _cents_to_decimal(quota),
    }))

    # ---- roster: reps under 50 managers (managers own no deals and have no quota)
    mgr_names = _ids("M", np.arange(1, MANAGERS + 1), 3)
    ti = np.round(rng.normal(60_000, 12_000, REPS), -2).astype(np.int64) * 100
    base = np.round(rng.normal(110_000, 15_000, REPS), -2).astype(np.int64) * 100
    mgr = rng.integers(0, MANAGERS, REPS)
    roster = pa.table({
        "rep_id": pa.concat_arrays([rep_names, mgr_names]),
        "name": pa.concat_arrays([_ids("Rep ", np.arange(1, REPS + 1), 5),
                                  _ids("Manager ", np.arange(1, MANAGERS + 1), 3)]),
        "manager_id": pa.concat_arrays([pc.take(mgr_names, pa.array(mgr)),
                                        pa.nulls(MANAGERS, pa.string())]),
        "role": pa.array(["AE"] * REPS + ["Manager"] * MANAGERS),
        "region": pa.array(np.concatenate([REGIONS[reps["region"]],
                                           REGIONS[np.arange(MANAGERS) % 4]])),
        "target_incentive": _cents_to_decimal(np.concatenate([ti, np.full(MANAGERS, 0)])),
        "base_salary": _cents_to_decimal(np.concatenate([base, np.full(MANAGERS, 150_000_00)])),
        "hire_date": _dates(np.concatenate([reps["hire"], np.full(MANAGERS, y0 - 4000)])),
        "term_date": _dates(np.concatenate([reps["term"], np.full(MANAGERS, -1)])),
    })
    _write(out / "roster.parquet", roster)
    _write(out / "fx.parquet", pa.table({
        "currency": pa.array(list(FX)),
        "rate": pa.array([Decimal(v) for v in FX.values()],
                         type=pa.decimal128(9, 4)),
    }))


def _write(path: Path, table: pa.Table) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)


def ensure(n: int, *, force: bool = False, seed: int = 20260101) -> Path:
    """The folder with the inputs for ``n`` deals, generating them unless already there."""
    out = OUT / str(n)
    if force or not all((out / f).exists() for f in FILES):
        write_size(n, out, seed)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--force", action="store_true", help="regenerate even if present")
    ap.add_argument("--seed", type=int, default=20260101)
    args = ap.parse_args(argv)
    for n in args.sizes:
        print(f"{n:,} deals -> {ensure(n, force=args.force, seed=args.seed)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
