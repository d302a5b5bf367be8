"""Territories: assign accounts to reps so that every territory carries a fair share of a
weighted index, moving as little as possible; then quotas from territory potential and
overlay quotas from linked territories.

- **Index**: a weighted sum of account fields, e.g. ``leads 50, open_opportunities 200,
  accounts 500`` (eSpatial's weighted balance; ``accounts`` counts 1 per account and
  ``potential`` is in currency units).  Balance is shown as a percentage of the average.
- **Design** (:func:`design_territories`): a mixed-integer program solved with
  :func:`scipy.optimize.milp` (HiGHS).  Binary ``x[a, r]`` = account ``a`` goes to rep
  ``r``; each account goes to exactly one rep; each territory's index within
  ``target x (1 +/- tolerance)`` (the excess beyond the band is a penalized slack, so the
  model is always feasible); the potential moved away from current owners at most
  ``max_moved`` x total potential.  The objective is the potential moved plus a heavy
  penalty on the excess: *the least disruption that brings every territory into the band*.
  Region boundaries (``keep_regions``) remove pairs across regions.  Large problems are
  cut down: each region, and each group of at most 20 reps within it, is its own model,
  and only a candidate set of accounts may move (see ``candidates``);
  ``docs/planning.md`` explains why.
- **Quotas** (:func:`territory_quotas`): a target split by territory potential with the
  quota room's own top-down method (:func:`spmkit.quota.share_quotas`; largest
  remainder, sums exactly).
- **Overlays** (:func:`overlay_quotas`): an overlay's quota is the sum of the quotas of
  the territories linked to it; when a territory and one of its ancestors are both
  linked, only the ancestor counts (SAP Commissions / Callidus Territory and Quota).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spmkit.errors import InputError, Problem, SpmkitError
from spmkit.money import parse_cents, parse_fixed, to_decimal

__all__ = [
    "DEFAULT_INDEX", "TerritoryPlan", "design_territories", "load_accounts", "overlay_quotas",
    "plot_territories", "region_hierarchy", "territory_index", "territory_quotas",
    "territory_reps",
]

#: The index when none is given: potential alone.
DEFAULT_INDEX: dict[str, float] = {"potential": 1.0}

#: Fields every accounts table has for the index: ``accounts`` (1 per account) and
#: ``potential`` (currency units).
BUILTIN_FIELDS = ("accounts", "potential")

#: Above this many account x rep pairs, ``candidates="auto"`` lets only a candidate set move.
FULL_MODEL_PAIRS = 4_000

#: In the candidate model, an account may go to at most this many reps.
RECEIVERS = 12

#: Most reps in one model: more are split into groups solved one after another.
GROUP_REPS = 20

#: Cost of the largest excess beyond the band, per unit (1 = 100% of a target), against 1
#: per percent of all potential moved: 0.1% of excess weighs as much as 10% of potential.
EXCESS_PENALTY = 10_000.0

#: The model's band is this much (at most a tenth of the tolerance) inside the one asked
#: for, so what the solver's optimality gap leaves of the excess stays inside the band.
BAND_MARGIN = 0.001


# --------------------------------------------------------------------------- loading


def load_accounts(src: str | Path | pd.DataFrame, *, fields: Sequence[str] = (),
                  mapping: Mapping[str, str] | None = None,
                  name: str | None = None) -> pd.DataFrame:
    """Load an accounts table: one row per account.

    Parameters
    ----------
    src : path (.csv, .parquet, .xlsx) or DataFrame (not modified)
        Required columns ``account`` and ``potential`` (an amount in currency units, or
        whole cents as ``potential_cents``); optional ``region`` and ``owner`` (the current
        rep; blank = unowned); the workload columns named in ``fields``.  Other columns
        are ignored.
    fields : sequence of str
        Workload columns to read (non-negative numbers, blank = 0), e.g.
        ``["leads", "open_opportunities"]``.  ``accounts`` and ``potential`` are built in
        (an ``accounts`` column, when present and asked for, is read as a count).
    mapping : dict, optional
        Source column name -> canonical name, applied first (``{"Owner": "owner"}``).
    name : str, optional
        Name used in messages (default: the file name, or ``"accounts"``).

    Returns
    -------
    DataFrame: ``account`` str, ``region`` str/NA, ``owner`` str/NA, ``potential_cents``
    int64, then each field as float64.

    Raises
    ------
    InputError
        Every problem at once, each naming the file, line (CSV; header = line 1) or row
        and column: missing columns, blank or duplicate accounts, potential missing, not a
        number or negative, a field that is not a non-negative number.

    Examples
    --------
    >>> a = load_accounts(pd.DataFrame({"account": ["A1"], "potential": ["1,000.50"],
    ...                                 "leads": ["3"]}), fields=["leads"])
    >>> a[["potential_cents", "leads"]].values.tolist()
    [[100050.0, 3.0]]
    """
    from spmkit.tables import _apply_mapping, _Collector, _duplicates, _raw_text, _read, _require
    from spmkit.tables import _text as text

    raw, loc = _read(src, "accounts", name)
    out = _Collector(loc)
    raw, shown, _ = _apply_mapping(raw, mapping, out, True)

    def label(col: str) -> str:
        return shown.get(col, col)

    wanted = [str(f) for f in fields if f not in ("potential",)]
    present = set(raw.columns)
    required = ["account"] + ([] if "potential_cents" in present else ["potential"])
    required += [f for f in wanted if f != "accounts"]
    _require(raw, required, out, shown)
    if out.items:
        raise InputError(out.problems())
    n = len(raw)
    account = text(raw["account"])
    out.rows(account.isna().to_numpy(), label("account"), "value is missing (required)")
    frame = pd.DataFrame({"account": account.astype("str")})
    frame["region"] = (text(raw["region"]) if "region" in present
                       else pd.Series(pd.NA, index=range(n), dtype="str")).astype("str")
    frame["owner"] = (text(raw["owner"]) if "owner" in present
                      else pd.Series(pd.NA, index=range(n), dtype="str")).astype("str")
    pcol = "potential" if "potential" in present else "potential_cents"
    cents, missing, bad = parse_cents(raw[pcol])
    if pcol == "potential_cents":
        whole = cents % 100 == 0
        bad = bad | (~whole & ~missing)
        cents = cents // 100
    out.rows(missing, label(pcol), "value is missing (required)")
    out.rows(bad, label(pcol), lambda p: f"not a number: {_raw_text(raw[pcol], p)}")
    out.rows((cents < 0) & ~bad & ~missing, label(pcol),
             lambda p: f"must not be negative: {_raw_text(raw[pcol], p)}")
    frame["potential_cents"] = cents.astype(np.int64)
    for f in wanted:
        if f == "accounts" and f not in present:
            frame[f] = 1.0
            continue
        micro, missing_f, bad_f = parse_fixed(raw[f], 6)
        out.rows(bad_f, label(f), lambda p, c=raw[f]: f"not a number: {_raw_text(c, p)}")
        out.rows((micro < 0) & ~bad_f, label(f),
                 lambda p, c=raw[f]: f"must not be negative: {_raw_text(c, p)}")
        frame[f] = np.where(missing_f | bad_f, 0, micro) / 1e6
    _duplicates(frame.assign(account=account), ["account"], out, label("account"),
                what="account")
    if out.items:
        raise InputError(out.problems())
    if n == 0:
        raise InputError(Problem(loc.name, "has no accounts"))
    return frame


# --------------------------------------------------------------------------- the index


def _weights(index: Mapping[str, object] | None) -> dict[str, Decimal]:
    items = dict(DEFAULT_INDEX if index is None else index)
    if not items:
        raise InputError("settings: the index needs at least one field and weight")
    out = {}
    for k, v in items.items():
        try:
            d = to_decimal(v if isinstance(v, float) else str(v).strip())
        except InvalidOperation:
            d = Decimal("NaN")
        if not d.is_finite() or d < 0:
            raise InputError(f"settings: index weight of {k!r} must be a non-negative number, "
                             f"got {v!r}")
        out[str(k)] = d
    if not any(out.values()):
        raise InputError("settings: the index weights are all zero")
    return out


def territory_index(frame: pd.DataFrame, index: Mapping[str, object] | None = None
                    ) -> pd.Series:
    """The weighted index of each row: ``sum(weight x field)``.

    ``potential`` is in currency units (from ``potential_cents`` when there is no
    ``potential`` column); ``accounts`` is 1 per row when there is no such column.

    Parameters
    ----------
    frame : DataFrame
        Accounts (as from :func:`load_accounts`) or territories with the fields as columns.
    index : mapping field -> weight, optional
        Default ``{"potential": 1}``.

    Returns
    -------
    Series of float64, aligned with ``frame``.

    Raises
    ------
    InputError
        A weight is negative or a field is missing.

    Examples
    --------
    eSpatial's weighted balance (leads 50, opportunities 200, accounts 500):

    >>> t = pd.DataFrame({"leads": [100], "opportunities": [20], "accounts": [10]})
    >>> territory_index(t, {"leads": 50, "opportunities": 200, "accounts": 500}).tolist()
    [14000.0]
    """
    w = _weights(index)
    total = pd.Series(0.0, index=frame.index)
    missing = []
    for f, weight in w.items():  # a loop over the index's few fields, vectorized over rows
        if f in frame:
            col = frame[f].astype(np.float64)
        elif f == "potential" and "potential_cents" in frame:
            col = frame["potential_cents"].astype(np.float64) / 100
        elif f == "accounts":
            col = pd.Series(1.0, index=frame.index)
        else:
            missing.append(f)
            continue
        total = total + float(weight) * col
    if missing:
        raise InputError(f"accounts: no column for index field(s) {', '.join(map(repr, missing))}"
                         f" (columns: {', '.join(map(str, frame.columns))})")
    return total.rename("index")


# --------------------------------------------------------------------------- reps


def territory_reps(roster: pd.DataFrame, *, as_of: object = None,
                   roles: Sequence[str] | None = None) -> pd.DataFrame:
    """The reps who get territories: selling reps (not managers) employed on ``as_of``
    (default: those without a term date).

    Returns
    -------
    DataFrame: ``rep_id``, ``region`` str/NA, ``weight`` (1.0: an equal share each).
    """
    from spmkit.planning.capacity import selling_reps

    if as_of is None:
        reps = selling_reps(roster, start=pd.Timestamp.min, end=pd.Timestamp.max, roles=roles)
        reps = reps[reps["term_date"].isna().to_numpy()]
    else:
        day = pd.Timestamp(as_of)
        reps = selling_reps(roster, start=day, end=day, roles=roles)
    return pd.DataFrame({"rep_id": reps["rep_id"].astype("str").to_numpy(),
                         "region": reps["region"].astype("str").to_numpy(),
                         "weight": 1.0})


def _rep_table(reps: object, accounts: pd.DataFrame) -> pd.DataFrame:
    if reps is None:
        ids = np.sort(accounts["owner"].dropna().unique().astype(str))
        # each owner's region: the one most of their accounts are in (ties: first by name)
        counts = (accounts.dropna(subset=["owner", "region"])
                  .groupby(["owner", "region"], sort=True).size().rename("n").reset_index()
                  .sort_values("n", ascending=False, kind="stable")
                  .drop_duplicates("owner").set_index("owner")["region"])
        table = pd.DataFrame({"rep_id": ids, "region": counts.reindex(ids).to_numpy(),
                              "weight": 1.0})
    elif isinstance(reps, pd.DataFrame):
        if "rep_id" not in reps:
            raise InputError("reps: needs a 'rep_id' column")
        table = pd.DataFrame({"rep_id": reps["rep_id"].astype("str").to_numpy()})
        table["region"] = (reps["region"].astype("str").to_numpy() if "region" in reps
                           else pd.NA)
        table["weight"] = (pd.to_numeric(reps["weight"], errors="coerce").to_numpy(np.float64)
                           if "weight" in reps else 1.0)
    else:
        ids = [str(r).strip() for r in reps]  # type: ignore[union-attr]
        table = pd.DataFrame({"rep_id": ids, "region": pd.NA, "weight": 1.0})
    table["rep_id"] = table["rep_id"].astype("str")
    table["region"] = table["region"].astype("str")
    problems = []
    if table.empty:
        problems.append(Problem("reps", "there are no reps to assign accounts to"))
    dup = table["rep_id"].duplicated()
    problems += [Problem("reps", f"rep {r!r} is listed twice") for r in table["rep_id"][dup]]
    w = table["weight"].to_numpy(np.float64)
    bad = ~np.isfinite(w) | (w <= 0)
    problems += [Problem("reps", f"rep {r!r}: weight must be a number above 0", column="weight")
                 for r in table["rep_id"][bad]]
    if problems:
        raise InputError(problems)
    return table.reset_index(drop=True)


# --------------------------------------------------------------------------- the design


@dataclass(frozen=True)
class TerritoryPlan:
    """Territories balanced on an index, and what moved.

    Attributes
    ----------
    settings : dict
        The settings used (JSON-safe).
    assignment : DataFrame
        One row per account: ``account``, ``region``, ``owner`` (current; NA when none),
        ``rep_id`` (new owner), ``moved`` (bool: taken from a current owner who keeps a
        territory), ``reassigned`` (bool: unowned, or its owner has no territory, or it
        sat across a region boundary), ``potential_cents`` int64, ``index`` float.
    territories : DataFrame
        One row per rep: ``rep_id``, ``region``, ``weight``, ``accounts``,
        ``potential_cents``, ``index``, ``target_index``, ``pct_of_average`` (index /
        the mean index of all territories), ``pct_of_target`` (index / target: the
        region's average with ``keep_regions``), ``before_index``,
        ``before_pct_of_average``, ``accounts_in``, ``accounts_out``,
        ``potential_in_cents``, ``potential_out_cents``.
    disruption : dict
        ``moved_accounts``, ``moved_potential_cents``, ``moved_share`` (of all potential),
        ``budget_share``, ``reassigned_accounts``, ``reassigned_potential_cents``.
    figures : dict
        ``max_deviation_before``, ``max_deviation`` (largest ``|index / target - 1|``),
        ``within_tolerance``, ``status`` (``optimal`` or ``time limit``), ``mip_gap``
        (the largest of the models'), ``pairs`` (decision variables), ``candidates``
        (``all`` or ``over-to-under``), ``groups`` (models solved).
    notes : tuple of str
    """

    settings: dict
    assignment: pd.DataFrame = field(repr=False)
    territories: pd.DataFrame = field(repr=False)
    disruption: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def regions(self) -> pd.DataFrame:
        """Per region: ``region``, ``reps``, ``potential_cents``, ``index``,
        ``pct_of_average_min``, ``pct_of_average_max`` (its territories' range)."""
        t = self.territories.assign(region=self.territories["region"].fillna("(none)"))
        g = t.groupby("region", sort=True)
        return pd.DataFrame({
            "reps": g.size(), "potential_cents": g["potential_cents"].sum(),
            "index": g["index"].sum(), "pct_of_average_min": g["pct_of_average"].min(),
            "pct_of_average_max": g["pct_of_average"].max(),
        }).reset_index()

    def metrics(self) -> dict[str, Any]:
        """JSON-safe headline numbers."""
        return {"reps": int(len(self.territories)), "accounts": int(len(self.assignment)),
                **{k: (v.item() if hasattr(v, "item") else v) for k, v in self.disruption.items()},
                **{k: (v.item() if hasattr(v, "item") else v) for k, v in self.figures.items()},
                "notes": list(self.notes)}


def _spread(rows: np.ndarray, room_rank: np.ndarray, offset: np.ndarray, k: int
            ) -> np.ndarray:
    """Keep at most ``k`` True per row of ``rows`` (accounts x reps): the reps that come
    first in the room order rotated by each row's ``offset`` (so rows share the load)."""
    r_n = rows.shape[1]
    if r_n <= k or not rows.any():
        return rows
    priority = (room_rank[None, :] - offset[:, None]) % r_n
    priority = np.where(rows, priority, r_n)
    cut = np.partition(priority, k - 1, axis=1)[:, k - 1:k]
    return rows & (priority <= cut)


def _pairs_mask(idx: np.ndarray, pot_share: np.ndarray, owner: np.ndarray, free: np.ndarray,
                allowed: np.ndarray, target: np.ndarray, tolerance: float, max_moved: float,
                full: bool, receivers: int = RECEIVERS) -> np.ndarray:
    """Which (account, rep) pairs the model may use (bool, accounts x reps).

    Every owned account may stay.  ``full``: any owned account may go to any rep.
    Otherwise (the candidate model): an account may move only from a territory above its
    target -- the ones cheapest in potential per unit of index first, enough to take the
    territory down to the band's lower edge twice over -- and only to territories below
    target, at most ``receivers`` of them, spread in round robin over the territories in
    order of room (target - index) so the givers do not all crowd the same few.  Unowned
    accounts may go to up to ``receivers`` territories not above the band.
    """
    a_n, r_n = allowed.shape
    owned = ~free
    own = np.where(owned, owner, 0)
    current = np.bincount(own[owned], weights=idx[owned], minlength=r_n)
    mask = np.zeros((a_n, r_n), dtype=bool)
    mask[np.flatnonzero(owned), own[owned]] = True
    can_move = owned & (pot_share <= max_moved + 1e-12) & (idx > 0)
    if full:
        mask |= can_move[:, None] | free[:, None]
        return mask & allowed
    over = current > target
    room_rank = np.empty(r_n, dtype=np.int64)
    room_rank[np.argsort(-(target - current), kind="stable")] = np.arange(r_n)
    shed = np.maximum(current - (1 - tolerance) * target, 0.0)
    cand = np.flatnonzero(can_move & over[own])
    if cand.size:
        cost = pot_share[cand] / idx[cand]
        cand = cand[np.lexsort((cost, own[cand]))]
        cum = np.cumsum(idx[cand])
        group_start = np.r_[True, own[cand][1:] != own[cand][:-1]]
        base = np.maximum.accumulate(np.where(group_start, cum - idx[cand], 0.0))
        before = cum - idx[cand] - base
        movers = cand[before < 2 * shed[own[cand]]]
        over_rank = np.cumsum(over) - 1
        rows = allowed[movers] & ~over[None, :]
        rows = _spread(rows, room_rank, over_rank[own[movers]] * receivers, receivers)
        mask[movers] |= rows
    loose = np.flatnonzero(free)
    if loose.size:
        open_ = allowed[loose] & (current < (1 + tolerance) * target)[None, :]
        open_ = np.where(open_.any(axis=1, keepdims=True), open_, allowed[loose])
        mask[loose] |= _spread(open_, room_rank, np.arange(loose.size) * receivers, receivers)
    return mask & allowed


@dataclass(frozen=True)
class _Groups:
    count: int
    rep_group: np.ndarray       # group of each rep
    account_group: np.ndarray   # group of each account


def _groups(idx: np.ndarray, owner: np.ndarray, free: np.ndarray, allowed: np.ndarray,
            target: np.ndarray, rep_region: np.ndarray | None, size: int = GROUP_REPS
            ) -> _Groups:
    """Split the reps into groups solved one at a time (one model when there are few).

    With region boundaries each region is a group.  A group of more than ``size`` reps is
    dealt into ``ceil(n / size)`` groups in serpentine order of (index - target), so each
    gets a like mix of territories above and below target.  Owned accounts go with their
    owner's group; unowned ones are cut into the groups in proportion to each group's room
    (target - index of its owned accounts), by cumulative index, among the groups they are
    allowed in.
    """
    a_n, r_n = allowed.shape
    owned = ~free
    current = np.bincount(owner[owned], weights=idx[owned], minlength=r_n)
    base = (np.zeros(r_n, dtype=np.int64) if rep_region is None
            else pd.factorize(pd.Series(rep_region, dtype="str"))[0].astype(np.int64))
    order = np.lexsort((-(current - target), base))
    b = base[order]
    first = np.r_[True, b[1:] != b[:-1]]
    pos = np.arange(r_n) - np.maximum.accumulate(np.where(first, np.arange(r_n), 0))
    members = np.bincount(base)
    parts = np.maximum(np.ceil(members / size).astype(np.int64), 1)
    k = parts[b]
    block, j = pos // k, pos % k
    within = np.where(block % 2 == 0, j, k - 1 - j)
    offset = np.r_[0, np.cumsum(parts)[:-1]]
    rep_group = np.empty(r_n, dtype=np.int64)
    rep_group[order] = offset[b] + within
    count = int(parts.sum())
    account_group = np.where(owned, rep_group[np.where(owned, owner, 0)], -1)
    loose = np.flatnonzero(free)
    if loose.size:
        if count == 1:
            account_group[loose] = 0
        else:
            room = np.maximum(np.bincount(rep_group, weights=target, minlength=count)
                              - np.bincount(rep_group, weights=current, minlength=count), 0)
            # the groups each unowned account may join (any of its allowed reps' groups)
            reach = np.zeros((loose.size, count), dtype=bool)
            rows, cols = np.nonzero(allowed[loose])
            reach[rows, rep_group[cols]] = True
            patterns, which = np.unique(reach, axis=0, return_inverse=True)
            for p in range(len(patterns)):  # one pass per set of reachable groups (regions)
                sel = loose[which.ravel() == p]
                can = np.flatnonzero(patterns[p])
                cum_room = np.cumsum(room[can] + 1e-12)
                cum = np.cumsum(idx[sel]) - idx[sel] / 2
                cut = cum / max(cum[-1] + idx[sel][-1] / 2, 1e-12) * cum_room[-1]
                account_group[sel] = can[np.minimum(np.searchsorted(cum_room, cut),
                                                    len(can) - 1)]
    return _Groups(count=count, rep_group=rep_group, account_group=account_group)


def _solve(idx: np.ndarray, pot_share: np.ndarray, owner: np.ndarray, free: np.ndarray,
           allowed: np.ndarray, target: np.ndarray, tolerance: float, budget: float,
           full: bool, time_limit: float, mip_rel_gap: float
           ) -> tuple[np.ndarray, bool, float, int]:
    """One group's model; returns (rep of each account, optimal?, gap, decision pairs)."""
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    a_n, r_n = allowed.shape
    mask = _pairs_mask(idx, pot_share, owner, free, allowed, target, tolerance, budget, full)
    pa, pr = np.nonzero(mask)
    n_pairs = len(pa)
    moving = ~free[pa] & (pr != owner[pa])
    # x (pairs, binary), then the largest excess beyond the band (continuous)
    n = n_pairs + 1
    col = np.arange(n_pairs)
    assign = sparse.csr_array((np.ones(n_pairs), (pa, col)), shape=(a_n, n))
    # a rep whose target index is 0 (a region without workload) has no balance to keep
    has_target = target > 0
    share = np.divide(idx[pa], target[pr], out=np.zeros(n_pairs), where=has_target[pr])
    load = sparse.csr_array((share, (pr, col)), shape=(r_n, n))
    slack = sparse.csr_array((np.ones(r_n), (np.arange(r_n), np.full(r_n, n_pairs))),
                             shape=(r_n, n))
    tol = tolerance - min(BAND_MARGIN, tolerance / 10)
    moved_row = sparse.csr_array((pot_share[pa][moving], (np.zeros(moving.sum(), np.int64),
                                                          col[moving])), shape=(1, n))
    constraints = [
        LinearConstraint(assign, 1, 1),
        LinearConstraint(load - slack, -np.inf, np.where(has_target, 1 + tol, np.inf)),
        LinearConstraint(load + slack, np.where(has_target, 1 - tol, -np.inf), np.inf),
        LinearConstraint(moved_row, -np.inf, budget),
    ]
    c = np.zeros(n)
    c[col[moving]] = 100 * pot_share[pa][moving]     # percent of all potential moved
    c[-1] = EXCESS_PENALTY                             # per unit of excess (1 = 100%)
    res = milp(c, constraints=constraints, integrality=np.r_[np.ones(n_pairs), 0],
               bounds=Bounds(0, np.r_[np.ones(n_pairs), np.inf]),
               options={"time_limit": time_limit, "mip_rel_gap": mip_rel_gap, "disp": False})
    if res.x is None:
        raise SpmkitError(f"territories: the solver found no assignment in {time_limit:g} s "
                          f"({res.message}); allow more time (--time-limit)")
    chosen = res.x[:n_pairs] > 0.5
    got = np.full(a_n, -1, dtype=np.int64)
    got[pa[chosen]] = pr[chosen]
    if (got < 0).any() or np.bincount(pa[chosen], minlength=a_n).max() > 1:  # pragma: no cover
        raise SpmkitError("territories: the solver returned an incomplete assignment")
    gap = float(getattr(res, "mip_gap", 0.0) or 0.0)
    return got, res.status == 0, gap, n_pairs



def _share(values: np.ndarray, of: np.ndarray | float) -> np.ndarray:
    """values / of, where a zero ``of`` reads as on target for a zero value (1.0) and as
    infinitely far from it otherwise (no 0/0 warnings on territories without workload)."""
    values = np.asarray(values, dtype=np.float64)
    of = np.broadcast_to(np.asarray(of, dtype=np.float64), values.shape)
    fallback = np.where(values == 0, 1.0, np.inf)
    return np.divide(values, of, out=fallback, where=of != 0)

def design_territories(accounts: pd.DataFrame, reps: object = None, *,
                       index: Mapping[str, object] | None = None, tolerance: float = 0.10,
                       max_moved: float = 0.15, keep_regions: bool = False,
                       candidates: str = "auto", time_limit: float = 20.0,
                       mip_rel_gap: float = 0.05) -> TerritoryPlan:
    """Assign accounts to reps so every territory is within ``tolerance`` of its target
    index, keeping current owners where it can.

    Parameters
    ----------
    accounts : DataFrame
        As from :func:`load_accounts` (``account``, ``region``, ``owner``,
        ``potential_cents`` and the index's fields).
    reps : None, sequence of rep ids, or DataFrame
        Who gets a territory.  A DataFrame has ``rep_id`` and optional ``region`` and
        ``weight`` (a rep's share of the index relative to the others, e.g. 0.5 for a rep
        still ramping; default 1); :func:`territory_reps` makes one from a roster.
        None: the current owners.  An account whose owner is not among them is
        reassigned without counting against the disruption budget.
    index : mapping field -> weight, optional
        Default ``{"potential": 1}``.
    tolerance : float
        Every territory's index within ``target x (1 +/- tolerance)``; the target is
        the total index x the rep's weight share (within the rep's region with
        ``keep_regions``).  0 asks for the best balance the budget allows.
    max_moved : float
        Most potential moved from current owners, as a share of all potential.
    keep_regions : bool
        An account only goes to a rep of its region (accounts without a region go
        anywhere; every rep then needs a region).
    candidates : {"auto", "all", "over-to-under"}
        ``all``: any owned account may move to any rep; ``over-to-under``: only accounts
        of territories above target (the cheapest in potential per unit of index, enough
        to take the territory to the band's lower edge twice over), and only to up to 12
        territories below it (a far smaller model); ``auto``: ``all`` up to 4,000
        account x rep pairs in one model.  Unowned and reassigned accounts may go to up to
        12 territories not above the band.
    time_limit : float
        Seconds for the solver, per model: one model per region with ``keep_regions``,
        and one per group of at most 20 reps (:data:`GROUP_REPS`) dealt so each group
        has a like mix of territories above and below target.  The best assignment
        found by then is returned (figures say ``status: time limit``).
    mip_rel_gap : float
        Relative optimality gap at which the solver stops.

    Returns
    -------
    TerritoryPlan

    Raises
    ------
    InputError
        Bad settings, no reps, an account with no rep it may go to.
    SpmkitError
        The solver found no assignment within the time limit.
    """
    problems = []
    for what, v, lo, hi in (("tolerance", tolerance, 0, 1), ("max_moved", max_moved, 0, 1),
                            ("mip_rel_gap", mip_rel_gap, 0, 1),
                            ("time_limit", time_limit, 0.1, 86_400)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
            problems.append(f"settings: {what} {v!r} must be a number from {lo} to {hi}")
    if candidates not in ("auto", "all", "over-to-under"):
        problems.append(f"settings: candidates {candidates!r} must be auto, all or "
                        "over-to-under")
    if problems:
        raise InputError(problems)
    weights = _weights(index)
    acc = accounts.reset_index(drop=True)
    table = _rep_table(reps, acc)
    idx = territory_index(acc, weights).to_numpy(np.float64)
    pot = acc["potential_cents"].to_numpy(np.int64)
    total_pot = int(pot.sum())
    pot_share = pot / total_pot if total_pot else np.zeros(len(pot))
    rep_ids = pd.Index(table["rep_id"], dtype="str")
    owner = rep_ids.get_indexer(acc["owner"].fillna(""))
    a_n, r_n = len(acc), len(table)
    notes: list[str] = []
    gone = acc["owner"].notna().to_numpy() & (owner < 0)
    if gone.any():
        names = sorted(acc.loc[gone, "owner"].unique().tolist())
        notes.append(f"{int(gone.sum())} account(s) of {len(names)} owner(s) without a "
                     f"territory ({', '.join(names[:10])}{', ...' if len(names) > 10 else ''})"
                     " are reassigned")

    # -- regions and targets ----------------------------------------------------------------
    w = table["weight"].to_numpy(np.float64)
    total_idx = float(idx.sum())
    if total_idx <= 0:
        raise InputError("accounts: the index is zero for every account; check the weights")
    acc_region = acc["region"]
    if keep_regions:
        no_region = table["region"].isna().to_numpy()
        if no_region.any():
            raise InputError([Problem("reps", f"rep {r!r} has no region; keeping region "
                                      "boundaries needs one", column="region")
                              for r in table["rep_id"][no_region]])
        allowed = (acc_region.isna().to_numpy()[:, None]
                   | (acc_region.to_numpy(dtype=object)[:, None]
                      == table["region"].to_numpy(dtype=object)[None, :]))
        stranded = ~allowed.any(axis=1)
        if stranded.any():
            raise InputError([Problem("accounts", f"account {a!r} is in region {g!r}, which "
                                      "has no rep", column="region")
                              for a, g in zip(acc.loc[stranded, "account"],
                                              acc.loc[stranded, "region"], strict=True)][:50])
        reg_codes, reg_names = pd.factorize(table["region"])
        loose = acc_region.isna().to_numpy()
        reg_of_acc = pd.Index(reg_names).get_indexer(acc_region.fillna(""))
        reg_idx = np.bincount(reg_of_acc[~loose], weights=idx[~loose], minlength=len(reg_names))
        reg_w = np.bincount(reg_codes, weights=w, minlength=len(reg_names))
        reg_total = reg_idx + idx[loose].sum() * reg_w / w.sum()
        target = reg_total[reg_codes] * w / reg_w[reg_codes]
    else:
        allowed = np.ones((a_n, r_n), dtype=bool)
        target = total_idx * w / w.sum()
    free = owner < 0
    across = ~free & ~allowed[np.arange(a_n), np.where(free, 0, owner)]
    if across.any():
        notes.append(f"{int(across.sum())} account(s) owned across a region boundary are "
                     "reassigned within their region")
    free = free | across
    groups = _groups(idx, np.where(free, -1, owner), free, allowed, target,
                     table["region"].to_numpy(dtype=object) if keep_regions else None)
    full = candidates == "all" or (candidates == "auto" and a_n * r_n <= FULL_MODEL_PAIRS)
    acc_group = groups.account_group
    new = np.full(a_n, -1, dtype=np.int64)
    statuses, gaps, n_pairs = [], [], 0
    for g in range(groups.count):  # a loop over groups of reps (a handful), not accounts
        a_sel = np.flatnonzero(acc_group == g)
        r_sel = np.flatnonzero(groups.rep_group == g)
        if not a_sel.size:
            continue
        local_owner = np.searchsorted(r_sel, owner[a_sel])
        budget = float(max_moved) * (pot_share[a_sel].sum() if groups.count > 1 else 1.0)
        got, ok, gap, pairs = _solve(
            idx[a_sel], pot_share[a_sel], np.where(free[a_sel], -1, local_owner), free[a_sel],
            allowed[np.ix_(a_sel, r_sel)], target[r_sel], float(tolerance), budget,
            full and groups.count == 1,
            float(time_limit), float(mip_rel_gap))
        new[a_sel] = r_sel[got]
        statuses.append(ok)
        gaps.append(gap)
        n_pairs += pairs

    # -- results --------------------------------------------------------------------------
    moved = ~free & (new != owner)
    before = np.bincount(owner[~free], weights=idx[~free], minlength=r_n)
    after = np.bincount(new, weights=idx, minlength=r_n)
    assignment = pd.DataFrame({
        "account": acc["account"].astype("str"), "region": acc["region"].astype("str"),
        "owner": acc["owner"].astype("str"), "rep_id": pd.Series(rep_ids[new], dtype="str"),
        "moved": moved, "reassigned": free, "potential_cents": pot, "index": idx,
    })
    taken = moved | free
    old_of = np.where(moved, owner, 0)
    territories = pd.DataFrame({
        "rep_id": table["rep_id"], "region": table["region"], "weight": w,
        "accounts": np.bincount(new, minlength=r_n).astype(np.int64),
        "potential_cents": np.bincount(new, weights=pot, minlength=r_n).round().astype(np.int64),
        "index": after, "target_index": target,
        "pct_of_average": _share(after, after.mean()),
        "pct_of_target": _share(after, target),
        "before_index": before, "before_pct_of_average": _share(before, after.mean()),
        "accounts_in": np.bincount(new[taken], minlength=r_n).astype(np.int64),
        "accounts_out": np.bincount(old_of[moved], minlength=r_n).astype(np.int64),
        "potential_in_cents": np.bincount(new[taken], weights=pot[taken], minlength=r_n)
        .round().astype(np.int64),
        "potential_out_cents": np.bincount(old_of[moved], weights=pot[moved], minlength=r_n)
        .round().astype(np.int64),
    })
    # exact integer sums (bincount adds in float64: fine below 2**53 cents, checked here)
    if total_pot >= 2**53:  # pragma: no cover
        raise InputError("accounts: total potential is too large to sum exactly")
    moved_cents = int(pot[moved].sum())
    disruption = {
        "moved_accounts": int(moved.sum()), "moved_potential_cents": moved_cents,
        "moved_share": moved_cents / total_pot if total_pot else 0.0,
        "budget_share": float(max_moved),
        "reassigned_accounts": int(free.sum()),
        "reassigned_potential_cents": int(pot[free].sum()),
    }
    dev_after = float(np.abs(_share(after, target) - 1).max())
    dev_before = float(np.abs(_share(before, target) - 1).max())
    status = "optimal" if all(statuses) else "time limit"
    figures = {
        "max_deviation_before": dev_before, "max_deviation": dev_after,
        "within_tolerance": bool(dev_after <= tolerance + 1e-9),
        "status": status, "mip_gap": max(gaps, default=0.0), "pairs": int(n_pairs),
        "candidates": "all" if full and groups.count == 1 else "over-to-under",
        "groups": groups.count,
    }
    if not figures["within_tolerance"]:
        notes.append(f"not every territory is within {tolerance:.0%} of its target (largest "
                     f"deviation {dev_after:.1%}): the disruption budget, large accounts or "
                     "region boundaries stand in the way")
    if status != "optimal":
        notes.append(f"the solver stopped at the {time_limit:g} s time limit; this is the best "
                     "assignment it found")
    settings = {
        "index": {k: str(v) for k, v in weights.items()}, "tolerance": float(tolerance),
        "max_moved": float(max_moved), "keep_regions": bool(keep_regions),
        "candidates": candidates, "time_limit": float(time_limit),
        "mip_rel_gap": float(mip_rel_gap),
    }
    return TerritoryPlan(settings=settings, assignment=assignment, territories=territories,
                         disruption=disruption, figures=figures, notes=tuple(notes))


# --------------------------------------------------------------------------- quotas


def territory_quotas(territories: TerritoryPlan | pd.DataFrame, target_cents: int, *,
                     history: pd.Series | None = None, weight: object = 0,
                     floor: object = "0.5") -> pd.DataFrame:
    """Split a target across territories by their potential (the quota room's
    :func:`spmkit.quota.share_quotas`: largest remainder, sums exactly to the target).

    Parameters
    ----------
    territories : TerritoryPlan or DataFrame with ``rep_id`` and ``potential_cents``
    target_cents : int
    history : Series of cents indexed by rep_id, optional
        Prior-year credit, to blend with ``weight`` (history's weight, 0 = potential only).
    weight, floor :
        As :func:`spmkit.quota.share_quotas`.

    Returns
    -------
    DataFrame: ``rep_id``, ``potential_cents``, ``share`` (float), ``annual_cents`` int64,
    ``reason``.

    Examples
    --------
    >>> t = pd.DataFrame({"rep_id": ["a", "b"], "potential_cents": [300, 100]})
    >>> territory_quotas(t, 1000)["annual_cents"].tolist()
    [750, 250]
    """
    from spmkit.quota import share_quotas

    t = territories.territories if isinstance(territories, TerritoryPlan) else territories
    if isinstance(target_cents, bool) or not isinstance(target_cents, int | np.integer) \
            or target_cents < 0:
        raise InputError(f"settings: the target must be whole cents >= 0, got {target_cents!r}")
    ids = pd.Index(t["rep_id"].astype("str"), name="rep_id")
    potential = pd.Series(t["potential_cents"].to_numpy(np.int64), index=ids)
    if int(potential.sum()) <= 0:
        raise InputError("territories: potential sums to zero; there is nothing to split the "
                         "target by")
    hist = (pd.Series(0, index=ids, dtype=np.int64) if history is None
            else history.reindex(ids, fill_value=0).astype(np.int64))
    table = share_quotas(int(target_cents), hist, potential=potential, weight=weight,
                         floor=floor)
    table["reason"] = table["reason"].str.replace("by potential", "by territory potential",
                                                  regex=False)
    return pd.DataFrame({"rep_id": table["rep_id"],
                         "potential_cents": potential.to_numpy(np.int64),
                         "share": table["share"].to_numpy(np.float64),
                         "annual_cents": table["annual_cents"].to_numpy(np.int64),
                         "reason": table["reason"]})


def region_hierarchy(territories: TerritoryPlan | pd.DataFrame) -> pd.DataFrame:
    """The territory tree ``territory -> parent``: each rep's territory under its region.

    Returns ``territory``, ``parent`` (str; the region, NA for reps without one).
    """
    t = territories.territories if isinstance(territories, TerritoryPlan) else territories
    return pd.DataFrame({"territory": t["rep_id"].astype("str").to_numpy(),
                         "parent": t["region"].astype("str").to_numpy()})


def _ancestors(hierarchy: pd.DataFrame, nodes: pd.Index) -> pd.DataFrame:
    """Every (node, ancestor) pair, the node itself included (a loop over tree depth)."""
    edges = hierarchy.dropna(subset=["parent"])
    pairs = pd.DataFrame({"node": nodes, "ancestor": nodes})
    frontier = pairs
    for _ in range(len(nodes) + 1):
        step = frontier.merge(edges, left_on="ancestor", right_on="territory")[["node", "parent"]]
        step = step.rename(columns={"parent": "ancestor"})
        if step.empty:
            return pairs.reset_index(drop=True)
        loops = step["node"] == step["ancestor"]
        if loops.any():
            raise InputError(f"hierarchy: territory {step.loc[loops, 'node'].iloc[0]!r} is its "
                             "own ancestor (a cycle)")
        pairs = pd.concat([pairs, step], ignore_index=True)
        frontier = step
    raise InputError("hierarchy: the territory tree has a cycle")  # pragma: no cover


def overlay_quotas(quotas: pd.DataFrame, links: str | Path | pd.DataFrame,
                   hierarchy: str | Path | pd.DataFrame | None = None) -> pd.DataFrame:
    """Overlay quotas: the sum of the linked territories' quotas, a parent counted once.

    A territory's quota is its own quota (``quotas``) plus those of all territories under
    it (a roll-up).  An overlay linked to several territories gets the sum of their
    quotas; when a territory and one of its ancestors are both linked, only the ancestor
    counts (its roll-up already holds the child) -- the rule of SAP Commissions / Callidus
    Territory and Quota for overlay territories.

    Parameters
    ----------
    quotas : DataFrame
        ``territory`` (or ``rep_id``) and ``quota_cents`` (or ``annual_cents``): the base
        territories' own quotas.
    links : path or DataFrame
        ``overlay`` and ``territory``: one row per link (a repeated link counts once).
    hierarchy : path or DataFrame, optional
        ``territory`` and ``parent`` (blank at the top); e.g. :func:`region_hierarchy`.

    Returns
    -------
    DataFrame, one row per overlay: ``overlay``, ``linked`` (territories linked),
    ``counted`` (territories counted, ``;``-separated), ``quota_cents`` int64, ``reason``.

    Raises
    ------
    InputError
        Missing columns, a link to an unknown territory, a territory with two parents, a
        cycle; each naming the file (or table) and line or row.

    Examples
    --------
    >>> q = pd.DataFrame({"territory": ["east-1", "east-2", "west-1"],
    ...                   "quota_cents": [100, 200, 400]})
    >>> h = pd.DataFrame({"territory": ["east-1", "east-2", "west-1"],
    ...                   "parent": ["east", "east", "west"]})
    >>> links = pd.DataFrame({"overlay": ["spec", "spec", "spec"],
    ...                       "territory": ["east", "east-1", "west-1"]})
    >>> overlay_quotas(q, links, h)["quota_cents"].tolist()
    [700]
    """
    from spmkit.money import format_money
    from spmkit.tables import _read
    from spmkit.tables import _text as text

    q = quotas.rename(columns={"rep_id": "territory", "annual_cents": "quota_cents"})
    lk_raw, lk_loc = _read(links, "links", None)
    if hierarchy is None:
        h_raw, h_loc = _read(pd.DataFrame({"territory": [], "parent": []}), "hierarchy", None)
    else:
        h_raw, h_loc = _read(hierarchy, "hierarchy", None)
    lk_raw = lk_raw.set_axis([str(c).strip() for c in lk_raw.columns], axis=1)
    h_raw = h_raw.set_axis([str(c).strip() for c in h_raw.columns], axis=1)
    for frame, cols, what in ((q, ("territory", "quota_cents"), "quotas"),
                              (lk_raw, ("overlay", "territory"), lk_loc.name),
                              (h_raw, ("territory", "parent"), h_loc.name)):
        missing = [c for c in cols if c not in frame]
        if missing:
            raise InputError(f"{what}: missing column(s) {', '.join(map(repr, missing))} "
                             f"(columns found: {', '.join(map(str, frame.columns)) or 'none'})")
    own = q.assign(territory=q["territory"].astype("str")).groupby("territory")[
        "quota_cents"].sum().astype(np.int64)
    h = pd.DataFrame({"territory": text(h_raw["territory"]).astype("str"),
                      "parent": text(h_raw["parent"]).astype("str")})
    problems = [Problem(h_loc.name, "territory is missing", h_loc.where(int(i)), "territory")
                for i in np.flatnonzero(h["territory"].isna().to_numpy())[:50]]
    edges = h.dropna()
    twice = edges.drop_duplicates()
    twice = twice[twice["territory"].duplicated()]
    problems += [Problem(h_loc.name, f"territory {t!r} has more than one parent",
                         column="parent") for t in twice["territory"].unique()[:50]]
    if problems:
        raise InputError(problems)
    edges = edges.drop_duplicates()
    nodes = pd.Index(sorted(set(own.index) | set(edges["territory"]) | set(edges["parent"])),
                     dtype="str")
    lk = pd.DataFrame({"overlay": text(lk_raw["overlay"]).astype("str"),
                       "territory": text(lk_raw["territory"]).astype("str")})
    blank = lk.isna().any(axis=1).to_numpy()
    unknown = ~blank & ~lk["territory"].isin(nodes).to_numpy()
    problems = [Problem(lk_loc.name, "overlay and territory are both required",
                        lk_loc.where(int(i))) for i in np.flatnonzero(blank)[:50]]
    problems += [Problem(lk_loc.name, f"overlay {lk['overlay'].iloc[i]!r} is linked to "
                         f"unknown territory {lk['territory'].iloc[i]!r}",
                         lk_loc.where(int(i)), "territory")
                 for i in np.flatnonzero(unknown)[:50]]
    if problems:
        raise InputError(problems)
    lk = lk.drop_duplicates().reset_index(drop=True)
    pairs = _ancestors(edges, nodes)
    rolled = pairs.assign(q=own.reindex(pairs["node"]).fillna(0).to_numpy(np.int64)).groupby(
        "ancestor")["q"].sum()
    strict = pairs[(pairs["node"] != pairs["ancestor"]).to_numpy()]
    covered = lk.merge(strict, left_on="territory", right_on="node").merge(
        lk.rename(columns={"territory": "ancestor"}), on=["overlay", "ancestor"])
    covered = covered[["overlay", "territory"]].drop_duplicates().assign(_under=True)
    kept = lk.merge(covered, on=["overlay", "territory"], how="left")
    kept = kept[kept["_under"].isna().to_numpy()].drop(columns="_under")
    kept = kept.assign(quota_cents=rolled.reindex(kept["territory"]).fillna(0)
                       .to_numpy(np.int64))
    g = kept.groupby("overlay", sort=True)
    total = g["quota_cents"].sum().astype(np.int64)
    counted = g["territory"].agg(lambda s: ";".join(sorted(s)))
    linked = lk.groupby("overlay", sort=True).size()
    out = pd.DataFrame({"overlay": pd.Series(total.index.astype("str"), dtype="str"),
                        "linked": linked.reindex(total.index).to_numpy(np.int64),
                        "counted": counted.reindex(total.index).astype("str").to_numpy(),
                        "quota_cents": total.to_numpy(np.int64)})
    skipped = (out["linked"] - out["counted"].str.count(";") - 1).to_numpy()
    out["reason"] = ("sum of the quotas of " + out["counted"].str.replace(";", ", ")
                     + " = " + format_money(out["quota_cents"]).to_numpy())
    extra = pd.Series([f" ({k} linked territor{'y' if k == 1 else 'ies'} under a linked "
                       "parent, counted once)" for k in skipped.tolist()], dtype="str")
    out["reason"] = out["reason"].where(skipped == 0, out["reason"] + extra.to_numpy())
    return out


# --------------------------------------------------------------------------- figure


def plot_territories(plan: TerritoryPlan, ax: Any = None) -> Any:
    """Each territory's index as a percentage of the average, before and after, with the
    tolerance band.  Reads ``plan.territories`` only; returns the Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    t = plan.territories.sort_values("pct_of_average", ascending=False)
    x = np.arange(len(t))
    tol = plan.settings["tolerance"]
    ax.axhspan(100 * (1 - tol), 100 * (1 + tol), color="0.9", label=f"+/-{tol:.0%} band")
    ax.bar(x, 100 * t["before_pct_of_average"], color="C1", alpha=0.45, label="before")
    ax.bar(x, 100 * t["pct_of_average"], width=0.5, color="C0", label="after")
    ax.axhline(100, color="0.3", lw=0.8)
    ax.set_xticks(x, t["rep_id"].tolist(), rotation=90, fontsize=7)
    ax.set_ylabel("index, % of average")
    ax.legend(loc="upper right")
    return ax
