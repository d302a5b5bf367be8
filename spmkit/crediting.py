"""Deals -> credit lines: owner and split credit, fx at plan rates, clawbacks, roll-ups.

Every function is vectorized over deals; the only Python loops run over currencies and
over the depth of the manager tree.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from spmkit.errors import InputError, Problem
from spmkit.money import mul_div_round
from spmkit.plan import Plan

PPB = 1_000_000_000  # split shares are held in parts per billion

#: Columns of a credit-lines frame (see :func:`credit_lines`).
CREDIT_COLUMNS = [
    "deal_id", "rep_id", "credit_date", "amount_cents", "rule", "share_ppb", "deal_date",
    "clawback", "product", "deal_type", "region", "account",
]
ATTRIBUTES = ["product", "deal_type", "region", "account"]


def convert_currency(deals: pd.DataFrame, fx: pd.DataFrame | None, currency: str,
                     source: str = "deals") -> tuple[np.ndarray, np.ndarray]:
    """Deal amounts in plan-currency cents, rounded once per deal; and a mask of converted rows.

    Raises
    ------
    InputError
        When a deal's currency has no fx rate.
    """
    amounts = deals["amount_cents"].to_numpy(dtype=np.int64).copy()
    cur = deals["currency"].fillna(currency).astype("str").to_numpy()
    foreign = cur != currency
    if not foreign.any():
        return amounts, foreign
    rates: dict[str, Decimal] = {}
    if fx is not None:
        rates = dict(zip(fx["currency"].astype("str"), fx["rate"], strict=True))
    problems = []
    for code in pd.unique(cur[foreign]):
        if code not in rates:
            first = int(np.flatnonzero(cur == code)[0])
            problems.append(Problem(source, f"currency {code!r} has no fx rate (deal "
                                    f"{deals['deal_id'].iloc[first]}); add it to the fx table",
                                    column="currency"))
            continue
        sign, digits, exp = Decimal(rates[code]).as_tuple()
        num = int("".join(map(str, digits))) * (-1 if sign else 1)
        den = 1
        if exp >= 0:
            num *= 10**exp
        else:
            den = 10**-exp
        rows = cur == code
        amounts[rows] = mul_div_round(amounts[rows], num, den)
    if problems:
        raise InputError(problems)
    return amounts, foreign


def _split_amounts(amount: np.ndarray, share_ppb: np.ndarray) -> np.ndarray:
    """``round(amount * share_ppb / 1e9)`` exactly, without int64 overflow."""
    mag = np.abs(amount)
    hi, lo = np.divmod(mag, PPB)
    prod = lo * share_ppb
    q = hi * share_ppb + prod // PPB
    q += (2 * (prod % PPB) >= PPB).astype(np.int64)
    return np.where(amount < 0, -q, q)


def ancestors(roster: pd.DataFrame) -> pd.DataFrame:
    """Every (rep_id, ancestor_id) pair of the roster's ``manager_id`` tree.

    Loops over the depth of the tree, not over reps.  A cycle is an error.
    """
    edges = roster.loc[roster["manager_id"].notna(), ["rep_id", "manager_id"]]
    edges = edges.rename(columns={"manager_id": "ancestor_id"}).astype("str")
    pairs = [edges]
    frontier = edges
    parent = edges.set_index("rep_id")["ancestor_id"]
    for _ in range(len(roster) + 1):
        nxt = frontier.assign(ancestor_id=frontier["ancestor_id"].map(parent)).dropna()
        if nxt.empty:
            break
        if (nxt["ancestor_id"] == nxt["rep_id"]).any():
            rep = nxt.loc[nxt["ancestor_id"] == nxt["rep_id"], "rep_id"].iloc[0]
            raise InputError(Problem("roster", f"the manager_id tree has a cycle through {rep}",
                                     column="manager_id"))
        pairs.append(nxt)
        frontier = nxt
    return pd.concat(pairs, ignore_index=True)


def credit_lines(plan: Plan, deals: pd.DataFrame, *, splits: pd.DataFrame | None = None,
                 fx: pd.DataFrame | None = None, roster: pd.DataFrame | None = None,
                 rollup_to: pd.Index | None = None, source: str = "deals") -> pd.DataFrame:
    """Credit lines for every deal under ``plan`` (spec rule 1).

    Parameters
    ----------
    plan : Plan
        Gives the plan currency and ``credit: direct | rollup``.
    deals : DataFrame
        As loaded by :func:`spmkit.tables.load_deals`.
    splits, fx, roster : DataFrame, optional
        As loaded by :mod:`spmkit.tables`.
    rollup_to : Index, optional
        With ``credit: rollup``, only these managers receive roll-up lines (default: all).
    source : str
        The deals file's name, for error messages.

    Returns
    -------
    DataFrame
        See :func:`credit_deals`.
    """
    return credit_deals(deals, currency=plan.currency, splits=splits, fx=fx, roster=roster,
                        rollup=plan.credit == "rollup", rollup_to=rollup_to, source=source)


def credit_deals(deals: pd.DataFrame, *, currency: str | None, splits: pd.DataFrame | None = None,
                 fx: pd.DataFrame | None = None, roster: pd.DataFrame | None = None,
                 rollup: bool = False, rollup_to: pd.Index | None = None,
                 source: str = "deals") -> pd.DataFrame:
    """Credit lines for every deal: owner or split credit, fx, clawbacks, roll-ups.

    ``currency`` is the plan currency deals are converted to (``None``: amounts are taken
    as they are). With ``rollup``, each line is also credited to every manager above its
    rep in the roster (only to ``rollup_to`` when given).

    Returns
    -------
    DataFrame
        One row per credit line: ``deal_id, rep_id, credit_date, amount_cents`` (int64),
        ``rule`` (``owner`` or ``split``, then ``+fx``, ``+clawback``, ``+rollup`` as they
        apply), ``share_ppb`` (the rep's share of the deal in parts per billion),
        ``deal_date`` (the deal's close date), ``clawback`` (bool), and the deal attributes
        ``product, deal_type, region, account``.
    """
    if currency is None:
        amount = deals["amount_cents"].to_numpy(dtype=np.int64)
        foreign = np.zeros(len(deals), dtype=bool)
    else:
        amount, foreign = convert_currency(deals, fx, currency, source)
    src = deals.reset_index(drop=True)
    missing = {c: pd.Series(pd.NA, index=src.index, dtype="str")
               for c in ["deal_id", *ATTRIBUTES] if c not in src.columns}
    if "cancel_date" not in src.columns:
        missing["cancel_date"] = pd.Series(pd.NaT, index=src.index, dtype="datetime64[us]")
    src = src.assign(**missing) if missing else src
    base = pd.DataFrame({
        "deal_id": src["deal_id"],
        "owner": src["rep_id"],
        "amount_cents": amount,
        "fx": foreign,
        "deal_date": src["close_date"],
        "cancel_date": src["cancel_date"],
        **{c: src[c] for c in ATTRIBUTES},
    })
    if splits is not None and len(splits):
        split_ids = pd.Index(splits["deal_id"].unique())
        is_split = base["deal_id"].isin(split_ids)
        own = base.loc[~is_split].assign(rep_id=lambda f: f["owner"], share_ppb=PPB,
                                         rule="owner")
        sp = splits[["deal_id", "rep_id", "share_ppb"]].reset_index(drop=True)
        sp = sp.assign(_order=np.arange(len(sp)))
        sp = sp.merge(base.loc[is_split], on="deal_id", how="inner", validate="many_to_one")
        sp["amount_cents"] = sp["amount_cents"] - 0  # keep deal amount for the residue step
        deal_amount = sp["amount_cents"].to_numpy(np.int64)
        share = sp["share_ppb"].to_numpy(np.int64)
        credited = _split_amounts(deal_amount, share)
        sp["amount_cents"] = credited
        residue = deal_amount - sp.groupby("deal_id")["amount_cents"].transform("sum").to_numpy()
        # the residue goes to the largest share; ties: the first row of the splits table
        order = sp.sort_values(["deal_id", "share_ppb", "_order"], ascending=[True, False, True])
        first = order.drop_duplicates("deal_id").index
        sp.loc[first, "amount_cents"] += residue[sp.index.get_indexer(first)]
        sp = sp.drop(columns="_order").assign(rule="split")
        lines = pd.concat([own, sp], ignore_index=True)
    else:
        lines = base.assign(rep_id=base["owner"], share_ppb=PPB, rule="owner")
    lines["rule"] = lines["rule"].where(~lines["fx"], lines["rule"] + "+fx")
    lines = lines.assign(credit_date=lines["deal_date"], clawback=False)

    cancelled = lines["cancel_date"].notna()
    if cancelled.any():
        back = lines.loc[cancelled].assign(
            amount_cents=lambda f: -f["amount_cents"],
            credit_date=lambda f: f["cancel_date"],
            rule=lambda f: f["rule"] + "+clawback",
            clawback=True,
        )
        lines = pd.concat([lines, back], ignore_index=True)

    if rollup and roster is not None:
        pairs = ancestors(roster)
        if rollup_to is not None:
            pairs = pairs[pairs["ancestor_id"].isin(rollup_to)]
        up = lines.merge(pairs, on="rep_id", how="inner")
        up = up.assign(rep_id=up["ancestor_id"], rule=up["rule"] + "+rollup").drop(
            columns="ancestor_id")
        lines = pd.concat([lines, up], ignore_index=True)

    lines["amount_cents"] = lines["amount_cents"].astype(np.int64)
    lines["share_ppb"] = lines["share_ppb"].astype(np.int64)
    lines["rule"] = lines["rule"].astype("str")
    return lines[CREDIT_COLUMNS]
