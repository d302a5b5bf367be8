"""Deals -> credit lines: owner and split credit, fx at plan rates, clawbacks, roll-ups.

Every function is vectorized over deals; the only Python loops run over currencies and
over the depth of the manager tree.  Roll-ups walk up the tree one level at a time from
the reps that hold credit lines, so memory grows with the roll-up lines produced (each
line times the managers above its rep), never with the square of the tree's depth.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from spmkit.components.fields import is_money_column
from spmkit.errors import InputError, Problem
from spmkit.money import (
    CentsOverflowError,
    mul_div_round,
    overflow_problem,
    share_cents,
    split_cents,
)
from spmkit.plan import Plan
from spmkit.tables import current_roster

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
        try:
            amounts[rows] = mul_div_round(amounts[rows], num, den)
        except CentsOverflowError:
            first = int(np.flatnonzero(rows)[0])
            problems.append(overflow_problem(
                source, f"an amount in {code} converted at the fx rate {rates[code]} (deals "
                f"such as {deals['deal_id'].iloc[first]})", column="amount"))
    if problems:
        raise InputError(problems)
    return amounts, foreign


def _tree(roster: pd.DataFrame) -> tuple[pd.Index, np.ndarray]:
    """The roster's rep ids and, per rep, the position of its manager (-1 at the top).

    A cycle is an error.  It is found by pointer doubling (``up = up[up]``, about
    log2(reps) steps over all reps at once): memory linear in the roster, whatever its depth.
    """
    ids = pd.Index(roster["rep_id"].astype("str"))
    parent = ids.get_indexer(roster["manager_id"].astype("str")).astype(np.int64)
    n = len(ids)
    up = np.append(np.where(parent >= 0, parent, n), n)  # n: above the top, stays there
    reach = 1
    while reach <= n:  # after this, up[i] is the rep 2**k >= n + 1 levels above i
        up = up[up]
        reach *= 2
    looped = up[:n] != n
    if looped.any():  # up[i] is on the cycle that i leads into
        rep = min(ids[up[:n][looped]])
        raise InputError(Problem("roster", f"the manager_id tree has a cycle through {rep}",
                                 column="manager_id"))
    return ids, parent


def ancestors(roster: pd.DataFrame) -> pd.DataFrame:
    """Every (rep_id, ancestor_id) pair of the roster's ``manager_id`` tree.

    Loops over the depth of the tree, not over reps.  A cycle is an error.  The result
    has one row per pair, so a chain of n reps gives n(n - 1)/2 rows: the roll-up itself
    does not use it (see :func:`rollup_lines`).
    """
    ids, parent = _tree(roster)
    reps, above = [], []
    rep = np.flatnonzero(parent >= 0)
    at = parent[rep]
    while len(rep):
        reps.append(rep)
        above.append(at)
        at = parent[at]
        rep, at = rep[at >= 0], at[at >= 0]
    rep = np.concatenate(reps) if reps else np.zeros(0, dtype=np.int64)
    at = np.concatenate(above) if above else np.zeros(0, dtype=np.int64)
    values = ids.to_numpy()
    return pd.DataFrame({"rep_id": pd.Series(values[rep], dtype="str"),
                         "ancestor_id": pd.Series(values[at], dtype="str")})


def rollup_lines(lines: pd.DataFrame, roster: pd.DataFrame,
                 rollup_to: pd.Index | None = None) -> pd.DataFrame:
    """Each credit line once more for every manager above its rep (rule ``+rollup``).

    Walks up the tree one level per step, carrying only the lines still below a manager:
    memory is linear in the lines produced.  With ``rollup_to``, only those managers
    receive lines (the walk still passes through the others).

    An effective-dated roster (``effective_from``/``effective_to``, several rows per rep)
    gives a tree per stretch of days between changes of someone's ``manager_id``: each
    line climbs the tree in force on its ``credit_date`` (a loop over those changes, not
    over reps or lines).
    """
    if not {"effective_from", "effective_to"} & set(roster.columns):
        return _rollup_walk(lines, roster, rollup_to)
    rows = roster.assign(
        _lo=(roster["effective_from"] if "effective_from" in roster
             else pd.Series(pd.NaT, index=roster.index, dtype="datetime64[us]")))
    rows = rows.sort_values(["rep_id", "_lo"], kind="stable", na_position="first")
    same_rep = rows["rep_id"].to_numpy() == np.roll(rows["rep_id"].to_numpy(), 1)
    moved = same_rep & (rows["manager_id"].fillna("").to_numpy()
                        != np.roll(rows["manager_id"].fillna("").to_numpy(), 1))
    if len(rows):
        moved[0] = False
    cuts = np.unique(rows.loc[moved, "_lo"].dropna().to_numpy("datetime64[us]"))
    epoch = np.searchsorted(cuts, lines["credit_date"].to_numpy("datetime64[us]"),
                            side="right")
    parts = []
    for e in range(len(cuts) + 1):  # one tree per change of a manager_id
        chosen = epoch == e
        if not chosen.any():
            continue
        if e:  # rows started by the change that opens this stretch
            started = rows.loc[~(rows["_lo"] > cuts[e - 1]).to_numpy(bool)]
        else:  # before the first change (or no change at all)
            started = rows.loc[~(rows["_lo"] >= cuts[0]).to_numpy(bool)] if len(cuts) else rows
        tree = pd.concat([started.drop_duplicates("rep_id", keep="last"),
                          rows.drop_duplicates("rep_id", keep="first")]
                         ).drop_duplicates("rep_id", keep="first")
        parts.append(_rollup_walk(lines.loc[chosen], tree, rollup_to))
    return (pd.concat(parts, ignore_index=True) if parts
            else _rollup_walk(lines.iloc[:0], rows.drop_duplicates("rep_id"), rollup_to))


def _rollup_walk(lines: pd.DataFrame, roster: pd.DataFrame,
                 rollup_to: pd.Index | None = None) -> pd.DataFrame:
    """:func:`rollup_lines` on one tree (one row per rep)."""
    ids, parent = _tree(roster)
    receives = np.ones(len(ids), dtype=bool) if rollup_to is None else ids.isin(rollup_to)
    at = ids.get_indexer(lines["rep_id"].astype("str")).astype(np.int64)
    row = np.flatnonzero(at >= 0)
    at = parent[at[row]]
    rows, reps = [], []
    while True:
        row, at = row[at >= 0], at[at >= 0]
        if not len(row):
            break
        paid = receives[at]
        rows.append(row[paid])
        reps.append(at[paid])
        at = parent[at]
    row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    rep = np.concatenate(reps) if reps else np.zeros(0, dtype=np.int64)
    up = lines.take(row).reset_index(drop=True)
    return up.assign(rep_id=pd.Series(ids.to_numpy()[rep], dtype="str"),
                     rule=up["rule"] + "+rollup")


def _collections(lines: pd.DataFrame, payments: pd.DataFrame, deals: pd.DataFrame,
                 fx: pd.DataFrame | None, currency: str | None, source: str) -> pd.DataFrame:
    """Each payment credited to the deal's credited reps by their shares (rule
    ``collection``), dated ``paid_date``, at the deal's fx plan rate; not clawed back."""
    pay = payments[["deal_id", "paid_date", "amount_cents"]].merge(
        deals[["deal_id", "currency"]].drop_duplicates("deal_id") if "currency" in deals
        else deals[["deal_id"]].drop_duplicates("deal_id"), on="deal_id", how="inner")
    if currency is not None and len(pay):
        if "currency" not in pay:
            pay["currency"] = pd.Series(pd.NA, index=pay.index, dtype="str")
        pay["amount_cents"], _ = convert_currency(pay, fx, currency, source)
    sellers = lines.loc[~lines["clawback"].to_numpy(bool)].drop(columns=["amount_cents"])
    out = sellers.merge(pay[["deal_id", "paid_date", "amount_cents"]], on="deal_id",
                        how="inner")
    out["amount_cents"] = share_cents(out["amount_cents"].to_numpy(np.int64),
                                      out["share_ppb"].to_numpy(np.int64))
    kind = out["rule"].str.replace("overlay", "collection+overlay", regex=False)
    kind = kind.where(kind.str.startswith("collection"), "collection+" + kind)
    return out.assign(credit_date=out["paid_date"], rule=kind).drop(columns="paid_date")


def _once_per_deal(up: pd.DataFrame, base: pd.DataFrame, measured: list[str]) -> pd.DataFrame:
    """Roll-up without duplicates: a manager is credited at most once per deal (and once
    per reversal), with the sum of the credit below them limited to the deal's amount."""
    up = up.assign(_cash=up["rule"].str.startswith("collection"))
    keys = ["rep_id", "deal_id", "clawback", "_cash", "credit_date"]
    repeated = up.duplicated(keys, keep=False).to_numpy()
    if not repeated.any():
        return up.drop(columns="_cash")
    many = up.loc[repeated]
    rules = many["rule"].str.removesuffix("+rollup")
    summed = many.assign(_rule=rules).groupby(keys, sort=False).agg(
        amount_cents=("amount_cents", "sum"), share_ppb=("share_ppb", "sum"),
        **{c: (c, "sum") for c in measured},
        kinds=("_rule", "nunique"), _rule=("_rule", "first"))
    first = many.drop_duplicates(keys).set_index(keys)
    deal = base.drop_duplicates("deal_id").set_index("deal_id")["amount_cents"]
    limit = np.abs(deal.reindex(summed.index.get_level_values("deal_id")).to_numpy(np.int64))
    amount = summed["amount_cents"].to_numpy(np.int64)
    capped = np.sign(amount) * np.minimum(np.abs(amount), limit)
    mixed = summed["kinds"].to_numpy() > 1
    fx = first["rule"].str.contains(r"\+fx").to_numpy()
    claw = summed.index.get_level_values("clawback").to_numpy(bool)
    # lines of one kind keep it (split+rollup); a mix of kinds is plain rollup
    cash = summed.index.get_level_values("_cash").to_numpy(bool)
    rule = np.where(mixed, np.where(cash, "collection+", "") + "rollup" + np.where(fx, "+fx", "")
                    + np.where(claw, "+clawback", ""),
                    summed["_rule"].to_numpy().astype(str) + "+rollup")
    merged = first.assign(**{c: summed[c].to_numpy(np.int64) for c in measured},
                          amount_cents=capped,
                          share_ppb=np.minimum(summed["share_ppb"].to_numpy(np.int64), PPB),
                          rule=rule).reset_index()
    return pd.concat([up.loc[~repeated], merged[up.columns]],
                     ignore_index=True).drop(columns="_cash")


def credit_lines(plan: Plan, deals: pd.DataFrame, *, splits: pd.DataFrame | None = None,
                 fx: pd.DataFrame | None = None, roster: pd.DataFrame | None = None,
                 rollup_to: pd.Index | None = None, source: str = "deals",
                 overlays: pd.DataFrame | None = None,
                 overlay_to: pd.Index | None = None,
                 payments: pd.DataFrame | None = None) -> pd.DataFrame:
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
    overlays : DataFrame, optional
        The overlays table (:func:`spmkit.tables.load_overlays`): credit in addition.
    overlay_to : Index, optional
        With ``credit: overlay``, the payees credited by ``overlay_match`` (default: every
        rep of the roster).
    payments : DataFrame, optional
        Payments received (:func:`spmkit.tables.load_payments`): collection lines.

    Returns
    -------
    DataFrame
        See :func:`credit_deals`.
    """
    match = None
    if plan.credit == "overlay":
        if roster is None:
            raise InputError(Problem("roster", f"plan {plan.plan!r} credits overlays by "
                                     "matching roster columns, so it needs a roster"))
        missing = [c for c in plan.overlay_match if c not in roster.columns]
        if missing:
            raise InputError(Problem("roster", f"plan {plan.plan!r} matches deals on "
                                     f"{', '.join(missing)}, which the roster lacks",
                                     column=missing[0]))
        people = current_roster(roster)
        people = people if overlay_to is None else people[people["rep_id"].isin(overlay_to)]
        match = people[["rep_id", *plan.overlay_match]].drop_duplicates("rep_id")
    return credit_deals(deals, currency=plan.currency, splits=splits, fx=fx, roster=roster,
                        rollup=plan.credit == "rollup", rollup_to=rollup_to, source=source,
                        overlays=overlays, overlay_match=match, payments=payments)


def credit_deals(deals: pd.DataFrame, *, currency: str | None, splits: pd.DataFrame | None = None,
                 fx: pd.DataFrame | None = None, roster: pd.DataFrame | None = None,
                 rollup: bool = False, rollup_to: pd.Index | None = None,
                 source: str = "deals", overlays: pd.DataFrame | None = None,
                 overlay_match: pd.DataFrame | None = None,
                 payments: pd.DataFrame | None = None) -> pd.DataFrame:
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
    measured = [c for c in src.columns if c.startswith("measure_") and c.endswith("_cents")]
    extra = {}
    for col in measured:  # numeric columns plans measure: money ones at the fx plan rate
        name = col.removeprefix("measure_").removesuffix("_cents")
        if currency is not None and is_money_column(name):
            extra[col], _ = convert_currency(src.assign(amount_cents=src[col]), fx, currency,
                                             source)
        else:
            extra[col] = src[col].to_numpy(np.int64)
    base = pd.DataFrame({
        **extra,
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
        sp = sp.merge(base.loc[is_split], on="deal_id", how="inner", validate="many_to_one")
        # rounded shares; the residue goes to the largest share, ties the smallest rep_id
        for col in ["amount_cents", *measured]:
            sp[col] = split_cents(sp[col].to_numpy(np.int64), sp["share_ppb"].to_numpy(np.int64),
                                  sp["deal_id"].to_numpy(), sp["rep_id"].to_numpy())
        sp = sp.assign(rule="split")
        lines = pd.concat([own, sp], ignore_index=True)
    else:
        lines = base.assign(rep_id=base["owner"], share_ppb=PPB, rule="owner")
    extra = []
    if overlays is not None and len(overlays):  # in addition to the sellers' credit
        ov = overlays[["deal_id", "rep_id", "share_ppb"]].reset_index(drop=True)
        ov = ov.merge(base, on="deal_id", how="inner", validate="many_to_one")
        for col in ["amount_cents", *measured]:
            ov[col] = share_cents(ov[col].to_numpy(np.int64), ov["share_ppb"].to_numpy(np.int64))
        extra.append(ov.assign(rule="overlay"))
    if overlay_match is not None and len(overlay_match):  # credit: overlay, overlay_match
        keys = [c for c in overlay_match.columns if c != "rep_id"]
        om = base.dropna(subset=keys).merge(overlay_match.dropna(subset=keys), on=keys,
                                            how="inner")
        extra.append(om.assign(share_ppb=PPB, rule="overlay"))
    if extra:
        lines = pd.concat([lines, *extra], ignore_index=True)
    lines["rule"] = lines["rule"].where(~lines["fx"], lines["rule"] + "+fx")
    lines = lines.assign(credit_date=lines["deal_date"], clawback=False)

    cancelled = lines["cancel_date"].notna()
    if cancelled.any():
        back = lines.loc[cancelled].assign(
            **{col: (lambda f, c=col: -f[c]) for col in measured},
            amount_cents=lambda f: -f["amount_cents"],
            credit_date=lambda f: f["cancel_date"],
            rule=lambda f: f["rule"] + "+clawback",
            clawback=True,
        )
        lines = pd.concat([lines, back], ignore_index=True)

    if payments is not None and len(payments):
        cash = _collections(lines, payments, deals, fx, currency, source)
        lines = pd.concat([lines, cash.assign(**{c: 0 for c in measured})], ignore_index=True)

    if rollup and roster is not None:
        up = _once_per_deal(rollup_lines(lines, roster, rollup_to), base, measured)
        lines = pd.concat([lines, up], ignore_index=True)

    lines["amount_cents"] = lines["amount_cents"].astype(np.int64)
    lines["share_ppb"] = lines["share_ppb"].astype(np.int64)
    lines["rule"] = lines["rule"].astype("str")
    return lines[CREDIT_COLUMNS + measured]
