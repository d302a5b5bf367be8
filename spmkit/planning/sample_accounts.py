"""A synthetic accounts table to design territories on, consistent with the sample org.

:func:`generate_accounts` takes a roster (the sample's, from :func:`spmkit.sample.generate`,
or any with ``rep_id`` and ``region``) and gives each selling rep a book of accounts:

- Account ids follow the sample deals: the ``k``-th selling rep (in roster order, from 0)
  works ``ACC{k * per_rep + j + 1:06d}``, ``j < per_rep``; with the default 60 per rep
  these are the ids in the sample's ``deals.account`` column.
- ``potential`` (currency units, two decimals) is lognormal per account, times a factor per
  rep (lognormal, ``imbalance``): books differ the way inherited territories do.
- ``open_opportunities`` and ``leads`` are Poisson counts growing with potential.
- ``owner`` is the rep, also for reps who have left (their accounts are for the design to
  reassign); ``unowned`` of the accounts have no owner.

Every column is text, as written to CSV, so the table goes through
:func:`spmkit.planning.territory.load_accounts` as a customer's export would.  The same
seed gives the same table; nothing reads the clock.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from spmkit.errors import SpmkitError
from spmkit.money import format_cents
from spmkit.outputs import atomic_file

__all__ = ["ACCOUNT_COLUMNS", "generate_accounts", "write_accounts"]

ACCOUNT_COLUMNS = ("account", "region", "owner", "potential", "open_opportunities", "leads")


def _sellers(roster: pd.DataFrame) -> pd.DataFrame:
    r = roster.reset_index(drop=True)
    ids = r["rep_id"].astype("str").str.strip()
    managers = (ids.isin(r["manager_id"].astype("str").str.strip())
                if "manager_id" in r else pd.Series(False, index=r.index))
    region = (r["region"].astype("str").str.strip() if "region" in r
              else pd.Series("", index=r.index, dtype="str")).fillna("")
    return pd.DataFrame({"rep_id": ids, "region": region})[
        ~managers.to_numpy()].reset_index(drop=True)


def generate_accounts(roster: pd.DataFrame, *, per_rep: int = 60, seed: int = 7,
                      imbalance: float = 0.25,
                      unowned: float = 0.02, mean_potential: float = 250_000.0
                      ) -> pd.DataFrame:
    """An accounts table for the selling reps of ``roster``.

    Parameters
    ----------
    roster : DataFrame
        Text or loaded form (``rep_id``; optional ``region``, ``manager_id``).  Managers
        (anyone who is a ``manager_id``) get no accounts; reps who have left keep theirs.
    per_rep : int
        Accounts per selling rep (1 to 10,000).
    seed : int
    imbalance : float
        Lognormal sigma of the per-rep factor on potential (0 = books alike).
    unowned : float
        Share of accounts with no owner (new accounts).
    mean_potential : float
        Mean potential of an account, currency units.

    Returns
    -------
    DataFrame of text: ``account, region, owner, potential, open_opportunities, leads``.

    Raises
    ------
    SpmkitError
        No selling rep, or a setting out of range.
    """
    if isinstance(per_rep, bool) or not isinstance(per_rep, int) or not 1 <= per_rep <= 10_000:
        raise SpmkitError(f"per_rep: accounts per rep must be 1 to 10000, got {per_rep!r}")
    if not 0 <= imbalance <= 2 or not 0 <= unowned < 1 or not mean_potential > 0:
        raise SpmkitError("settings: imbalance must be 0-2, unowned 0-1 and mean potential > 0")
    reps = _sellers(roster)
    if reps.empty:
        raise SpmkitError("roster: no selling reps to give accounts to")
    rng = np.random.default_rng(seed)
    n = len(reps)
    total = n * per_rep
    rep = np.repeat(np.arange(n), per_rep)
    sigma = 1.0
    size = rng.lognormal(-sigma**2 / 2, sigma, size=total)
    book = rng.lognormal(-imbalance**2 / 2, imbalance, size=n) if imbalance else np.ones(n)
    potential = np.maximum(np.rint(size * book[rep] * mean_potential * 100), 100_000)
    opportunities = rng.poisson(0.2 + 2.0 * size)
    leads = rng.poisson(1.0 + 6.0 * np.sqrt(size))
    owner = reps["rep_id"].to_numpy(dtype=object)[rep]
    owner = np.where(rng.random(total) < unowned, "", owner)
    numbers = pd.Series(np.arange(1, total + 1)).astype("str").str.zfill(6)
    return pd.DataFrame({
        "account": ("ACC" + numbers).to_numpy(dtype=object),
        "region": reps["region"].to_numpy(dtype=object)[rep],
        "owner": owner,
        "potential": format_cents(potential.astype(np.int64)).to_numpy(dtype=object),
        "open_opportunities": pd.Series(opportunities).astype("str").to_numpy(dtype=object),
        "leads": pd.Series(leads).astype("str").to_numpy(dtype=object),
    })


def write_accounts(accounts: pd.DataFrame, path: str | Path) -> Path:
    """Write an accounts table as CSV (UTF-8, ``\\n`` line ends), atomically."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise SpmkitError(f"{path}: the accounts file must end in .csv")
    with atomic_file(path) as tmp:
        accounts.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")
    return path
