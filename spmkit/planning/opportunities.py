"""The opportunities table: sales opportunities, open and closed, for the year's outlook.

One row per opportunity: ``deal_id, rep_id, stage, amount, created_date, close_date``
(the expected close), with ``won_date`` or ``lost_date`` once it is closed.  For a closed
opportunity ``stage`` is the stage it closed from (the furthest it reached), so win rates
by stage can be read from the history.  :func:`load_opportunities` validates the table
with messages naming the file, row and column; :func:`generate_opportunities` builds a
history consistent with the sample org's won deals (``spmkit sample`` writes it as
``opportunities.csv``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from spmkit.errors import InputError, SpmkitError
from spmkit.money import format_cents

__all__ = ["OPEN_STAGES", "OPPORTUNITY_COLUMNS", "generate_opportunities", "load_opportunities"]

#: Open stages of the sample's sales process, in order.
OPEN_STAGES: tuple[str, ...] = ("Qualify", "Discover", "Propose", "Negotiate")
OPPORTUNITY_COLUMNS = ("deal_id", "rep_id", "stage", "amount", "currency", "created_date",
                       "close_date", "won_date", "lost_date")
_REQUIRED = ("deal_id", "rep_id", "stage", "amount", "created_date")

#: Share of the sample's closed opportunities that are won.
SAMPLE_WIN_RATE = 0.3


# --------------------------------------------------------------------------- loading


def load_opportunities(src: str | Path | pd.DataFrame, *,
                       mapping: Mapping[str, str] | None = None,
                       name: str | None = None) -> pd.DataFrame:
    """Load and validate an opportunities table.

    Parameters
    ----------
    src : path (.csv, .parquet, .xlsx) or DataFrame (not modified)
        Required columns ``deal_id, rep_id, stage, amount, created_date``; optional
        ``close_date`` (expected close), ``won_date``, ``lost_date``, ``currency``.
    mapping : dict, optional
        Source column name -> canonical name.
    name : str, optional
        Name used in messages (default: the file name, or ``"opportunities"``).

    Returns
    -------
    DataFrame
        ``deal_id, rep_id, stage`` str, ``amount_cents`` int64, ``currency`` str or NA,
        ``created_date, close_date, won_date, lost_date`` datetime64[us] (NaT when blank),
        ``status`` str: ``won``, ``lost`` or ``open``.

    Raises
    ------
    InputError
        Missing columns; blank ids, stages, amounts or creation dates; values that are not
        numbers or dates; negative amounts; a row both won and lost; won, lost or expected
        close dates before the creation date; duplicate ``deal_id``.  Every problem names
        the file, the line (row) and the column.
    """
    from spmkit.tables import (
        _apply_mapping,
        _Collector,
        _dates,
        _money,
        _raw_text,
        _read,
        _require,
        _text,
    )

    raw, loc = _read(src, "opportunities", name)
    out = _Collector(loc)
    raw, shown, _ = _apply_mapping(raw, mapping, out, True)
    _require(raw, list(_REQUIRED), out, shown)
    if out.items:
        raise InputError(out.problems())
    n = len(raw)

    def label(col: str) -> str:
        return shown.get(col, col)

    data: dict[str, object] = {}
    for col in ("deal_id", "rep_id", "stage", "currency"):
        data[col] = (_text(raw[col]) if col in raw.columns
                     else pd.Series(pd.array([pd.NA] * n, dtype="str")))
    if "currency" in raw.columns:
        data["currency"] = data["currency"].str.upper()
    cents, missing, bad = _money(raw["amount"])
    out.rows(bad, label("amount"), lambda p: f"not a number: {_raw_text(raw['amount'], p)}")
    out.rows(missing, label("amount"), "value is missing (required)")
    out.rows(~bad & ~missing & (cents < 0), label("amount"),
             lambda p: f"must not be negative: {_raw_text(raw['amount'], p)}")
    data["amount_cents"] = np.where(bad | missing, 0, cents).astype(np.int64)
    for col in ("created_date", "close_date", "won_date", "lost_date"):
        if col not in raw.columns:
            data[col] = pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[us]"))
            continue
        values, bad = _dates(raw[col])
        out.rows(bad, label(col), lambda p, c=col: f"not a date (expected YYYY-MM-DD): "
                                                   f"{_raw_text(raw[c], p)}")
        data[col] = pd.Series(values)
    frame = pd.DataFrame(data, index=pd.RangeIndex(n))
    for col in ("deal_id", "rep_id", "stage"):
        out.rows(frame[col].isna().to_numpy(), label(col), "value is missing (required)")
    created = frame["created_date"]
    given = raw["created_date"].notna().to_numpy() if n else np.zeros(0, bool)
    out.rows(created.isna().to_numpy() & ~given, label("created_date"),
             "value is missing (required)")
    won, lost = frame["won_date"], frame["lost_date"]
    out.rows((won.notna() & lost.notna()).to_numpy(), label("lost_date"),
             "an opportunity is won or lost, not both: clear won_date or lost_date")
    for col in ("won_date", "lost_date", "close_date"):
        early = (frame[col] < created).to_numpy()
        out.rows(early, label(col), lambda p, c=col: (
            f"{frame[c].iloc[p]:%Y-%m-%d} is before created_date "
            f"{created.iloc[p]:%Y-%m-%d}"))
    ids = frame["deal_id"]
    dup = ids.duplicated(keep=False).to_numpy() & ids.notna().to_numpy()
    if dup.any():
        first_pos = pd.Series(np.arange(n)[dup], index=ids[dup].to_numpy()).groupby(
            level=0).min()
        out.rows(dup & ids.duplicated(keep="first").to_numpy(), label("deal_id"),
                 lambda p: f"duplicate deal_id {ids.iloc[p]!r} (first on "
                           f"{loc.where(int(first_pos[ids.iloc[p]]))})")
    if out.items:
        raise InputError(out.problems())
    frame["status"] = np.where(frame["won_date"].notna(), "won",
                               np.where(frame["lost_date"].notna(), "lost", "open"))
    frame["status"] = frame["status"].astype("str")
    return frame


# --------------------------------------------------------------------------- the sample


def _file_deals(deals: pd.DataFrame) -> pd.DataFrame:
    """Deals as ``deal_id, rep_id, close, amount_cents, currency`` from file form (text, as
    :func:`spmkit.sample.generate` returns them) or as loaded (:func:`spmkit.tables.load_deals`)."""
    from spmkit.tables import load_deals

    loaded = deals if "amount_cents" in deals.columns and pd.api.types.is_datetime64_any_dtype(
        deals["close_date"].dtype) else load_deals(deals, name="deals")
    return pd.DataFrame({
        "deal_id": loaded["deal_id"].astype("str").to_numpy(dtype=object),
        "rep_id": loaded["rep_id"].astype("str").to_numpy(dtype=object),
        "close": loaded["close_date"].to_numpy("datetime64[D]"),
        "amount_cents": loaded["amount_cents"].to_numpy(np.int64),
        "currency": (loaded["currency"].astype("str").fillna("").to_numpy(dtype=object)
                     if "currency" in loaded.columns else np.full(len(loaded), "", object)),
    })


def _stage_at(fraction: np.ndarray) -> np.ndarray:
    """The open stage index of an opportunity that is ``fraction`` of the way through its
    cycle (0 .. len(OPEN_STAGES) - 1)."""
    return np.clip(np.floor(fraction * len(OPEN_STAGES)), 0, len(OPEN_STAGES) - 1).astype(int)


def generate_opportunities(deals: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    """An opportunities history consistent with a set of won deals.

    - Every won deal (amount > 0) is a won opportunity: same ``deal_id``, rep, amount and
      currency, created a sales cycle before it closed (lognormal, median 35 days for a
      deal of 10,000, longer for larger deals: size^0.25), ``won_date`` = its close date,
      stage ``Negotiate``.
    - Lost opportunities: about 7 for every 3 won (a 30% win rate), made like the rep's own
      won ones (created around the same days, amounts x lognormal(0, 0.5)) and lost after a
      shorter cycle (median 30 days) at any stage; the later in its cycle, the further it got.
    - Lost ones whose lost date falls after the last deal's close date are still open at
      the end of the history, and so are new opportunities created in its last 90 days at
      each rep's pace: they have a stage by their age, an expected ``close_date`` and no
      outcome.

    Parameters
    ----------
    deals : DataFrame
        Won deals in file form (text, as :func:`spmkit.sample.generate` returns them) or as
        loaded by :func:`spmkit.tables.load_deals`.
    seed : int
        Seed of the generator; the same deals and seed give the same table.

    Returns
    -------
    DataFrame
        In file form (all text): ``deal_id, rep_id, stage, amount, currency, created_date,
        close_date, won_date, lost_date`` (:data:`OPPORTUNITY_COLUMNS`), sorted by
        ``created_date`` then ``deal_id``.  Ids of opportunities that are not won deals
        start with ``O``.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise SpmkitError(f"generate_opportunities: seed must be an integer, not {seed!r}")
    rng = np.random.default_rng(int(seed))
    d = _file_deals(deals)
    d = d[d["amount_cents"] > 0].reset_index(drop=True)
    m = len(d)
    if m == 0:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in OPPORTUNITY_COLUMNS})
    amount = d["amount_cents"].to_numpy(np.int64)
    close = d["close"].to_numpy("datetime64[D]")
    end = close.max()

    # won: the deals, created one sales cycle before they closed
    size = np.maximum(amount / 1_000_000.0, 0.05)
    cycle = np.clip(np.rint(35 * size**0.25 * rng.lognormal(0, 0.55, m)), 3, 365).astype(int)
    won_created = close - cycle.astype("timedelta64[D]")

    # lost: like the rep's own won ones, with their own (shorter) cycles
    n_lost = int(rng.poisson(m * (1 - SAMPLE_WIN_RATE) / SAMPLE_WIN_RATE))
    tpl = rng.integers(0, m, n_lost)
    lost_created = won_created[tpl] + rng.integers(-30, 31, n_lost).astype("timedelta64[D]")
    lost_created = np.minimum(lost_created, end)  # nothing is created after the history
    lost_amount = np.maximum(np.rint(amount[tpl] * rng.lognormal(0, 0.5, n_lost)),
                             50_000).astype(np.int64)
    lost_cycle = np.clip(np.rint(30 * rng.lognormal(0, 0.8, n_lost)), 1, 400).astype(int)
    lost_date = lost_created + lost_cycle.astype("timedelta64[D]")
    lost_stage = _stage_at(rng.random(n_lost) ** 1.5)

    # new ones in the last 90 days, at each rep's pace of won deals per day
    reps, per_rep = np.unique(d["rep_id"].to_numpy(dtype=object), return_counts=True)
    span = max(int((end - close.min()).astype(int)) + 1, 1)
    pace = per_rep / span / SAMPLE_WIN_RATE * 90
    n_new = rng.poisson(pace)
    new_rep = np.repeat(np.arange(len(reps)), n_new)
    k = len(new_rep)
    new_created = end - rng.integers(0, 90, k).astype("timedelta64[D]")
    rep_of = pd.Index(reps).get_indexer(d["rep_id"])
    first_of_rep = np.full(len(reps), -1)
    first_of_rep[rep_of[::-1]] = np.arange(m)[::-1]
    new_tpl = first_of_rep[new_rep] + (rng.random(k) * per_rep[new_rep]).astype(int)
    order_by_rep = np.argsort(rep_of, kind="stable")
    new_tpl = order_by_rep[new_tpl]
    new_amount = np.maximum(np.rint(amount[new_tpl] * rng.lognormal(0, 0.5, k)),
                            50_000).astype(np.int64)
    new_cycle = np.clip(np.rint(35 * rng.lognormal(0, 0.55, k)), 3, 365).astype(int)

    # assemble; lost after the end are open at the end
    n_other = n_lost + k
    still_open = np.concatenate([lost_date > end, np.ones(k, bool)])
    created = np.concatenate([lost_created, new_created])
    age = (end - created).astype(int)
    expected = np.concatenate([lost_created + np.clip(
        np.rint(lost_cycle * rng.lognormal(0, 0.3, n_lost)), 1, None).astype("timedelta64[D]"),
        new_created + new_cycle.astype("timedelta64[D]")])
    expected = np.maximum(expected, np.where(still_open, end + 1, created))
    open_stage = _stage_at(age / np.maximum(age + np.concatenate([lost_cycle, new_cycle]), 1))
    stage = np.where(still_open, open_stage, np.concatenate([lost_stage, np.zeros(k, int)]))
    other_lost = np.where(still_open, np.datetime64("NaT"), np.concatenate(
        [lost_date, np.full(k, np.datetime64("NaT"), "datetime64[D]")]))
    nat = np.full(m, np.datetime64("NaT"), "datetime64[D]")
    names = np.array(OPEN_STAGES, dtype=object)
    frame = pd.DataFrame({
        "deal_id": np.concatenate([d["deal_id"].to_numpy(dtype=object), _ids(n_other)]),
        "rep_id": np.concatenate([d["rep_id"].to_numpy(dtype=object),
                                  d["rep_id"].to_numpy(dtype=object)[tpl], reps[new_rep]]),
        "stage": np.concatenate([np.full(m, OPEN_STAGES[-1], dtype=object), names[stage]]),
        "amount_cents": np.concatenate([amount, lost_amount, new_amount]),
        "currency": np.concatenate([d["currency"].to_numpy(dtype=object),
                                    d["currency"].to_numpy(dtype=object)[tpl],
                                    d["currency"].to_numpy(dtype=object)[new_tpl]]),
        "created": np.concatenate([won_created, created]),
        "close": np.concatenate([close, expected]),
        "won": np.concatenate([close, np.full(n_other, np.datetime64("NaT"), "datetime64[D]")]),
        "lost": np.concatenate([nat, other_lost.astype("datetime64[D]")]),
    })
    frame = frame.sort_values(["created", "deal_id"], kind="stable").reset_index(drop=True)
    return pd.DataFrame({
        "deal_id": frame["deal_id"].to_numpy(dtype=object),
        "rep_id": frame["rep_id"].to_numpy(dtype=object),
        "stage": frame["stage"].to_numpy(dtype=object),
        "amount": format_cents(frame["amount_cents"].to_numpy(np.int64)).to_numpy(dtype=object),
        "currency": frame["currency"].to_numpy(dtype=object),
        "created_date": _dates(frame["created"].to_numpy("datetime64[D]")),
        "close_date": _dates(frame["close"].to_numpy("datetime64[D]")),
        "won_date": _dates(frame["won"].to_numpy("datetime64[D]")),
        "lost_date": _dates(frame["lost"].to_numpy("datetime64[D]")),
    })


def _ids(n: int) -> np.ndarray:
    nums = pd.Series(np.arange(1, n + 1)).astype("str").str.zfill(max(6, len(str(n))))
    return ("O" + nums).to_numpy(dtype=object)


def _dates(days: np.ndarray) -> np.ndarray:
    out = np.datetime_as_string(days, unit="D").astype(object)
    out[np.isnat(days)] = ""
    return out
