"""A synthetic but realistic sales organisation to try plans on.

:func:`generate` builds the five input tables of a sales org — deals, roster, quotas,
splits and fx — from a seed, with the texture of real data: ~150 selling reps in four
regions under a manager tree, right-skewed rep productivity, lognormal deal sizes,
quarter-end and Q4 seasonality, split deals, cancellations (clawbacks), foreign-currency
deals, new hires and leavers, and a few recoverable draws.  The same seed always gives
the same tables (and :func:`write_sample` byte-identical files); nothing reads the clock.

The tables are returned in *file form*: every column is text, exactly as written to CSV
(money with two decimals, dates ``YYYY-MM-DD``, missing values as empty strings), so
they go through the same loaders (:mod:`spmkit.tables`) as a customer's exports.

Modelling choices (all per rep unless said otherwise):

- Roles: about 70% Account Executives, 20% Account Managers and 10% Inside Sales, each
  with its own target incentive, pay mix, deal rate, deal size and deal-type mix.
  Managers (first-line ``Manager``, two ``Director`` s, one ``VP``) own no deals and get
  no quota: they are not on the selling plans.
- Productivity is lognormal (mean 1, sigma 0.35) with a small year-to-year drift; it
  scales the number of deals (power 0.7) and their size (power 0.3).
- The business grows about 12% a year.  Quotas are set from the prior year's run-rate
  (annualized, blended 40/60 with the role's median run-rate) times 8% growth and noise;
  then, as quota setters aim for 60–70% of reps at quota, each year's quotas are scaled
  together so that about 62% of reps reach 100% of quota (:data:`TARGET_AT_QUOTA`).
  Quotas are whole thousands of dollars.
- A partial-year rep's annual quota is prorated by *months employed*: the calendar
  months of the year that contain at least one employed day, out of 12.
- Deals fall only inside a rep's employment (``hire_date`` .. ``term_date``); about 8%
  of reps are hired during each year, 6% leave during the plan year, and about half of
  the plan year's new Account Executives and Account Managers get a recoverable
  quarterly draw of half their quarterly target incentive.
- Seasonality: quarter-end months weigh more, December most; the last ten days of a
  quarter are busiest; few deals close at weekends.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spmkit.errors import Problem, SpmkitError
from spmkit.money import format_cents
from spmkit.outputs import atomic_dir

#: Regions and their share of the selling reps.
REGIONS: tuple[str, ...] = ("NA East", "NA West", "EMEA", "APAC")
REGION_SHARES: tuple[float, ...] = (0.30, 0.30, 0.25, 0.15)

PRODUCTS: tuple[str, ...] = ("Core", "Widget Pro", "Analytics", "Services")
PRODUCT_SHARES: tuple[float, ...] = (0.45, 0.20, 0.20, 0.15)
#: Multiplier on deal size by product.
PRODUCT_SIZE: tuple[float, ...] = (1.0, 1.25, 0.9, 0.55)

DEAL_TYPES: tuple[str, ...] = ("new", "expansion", "renewal")
DEAL_TYPE_SIZE: tuple[float, ...] = (1.0, 0.8, 0.9)

#: Plan-currency (USD) per unit of each foreign currency, and its share of foreign deals.
FX_RATES: dict[str, str] = {"EUR": "1.08", "GBP": "1.27"}
FX_SHARES: tuple[float, ...] = (0.7, 0.3)

#: Month weights of deal closing (Jan..Dec): quarter-end months high, Q4 peak in December.
MONTH_WEIGHTS = np.array([0.75, 0.9, 1.45, 0.85, 0.95, 1.45, 0.75, 0.85, 1.45, 1.05, 1.2, 2.1])

HOSTILE_NAME = "<b>Zoë</b> O'Brien & <script>alert(1)</script>"

#: Annual growth of the business (deal rate) and the growth built into quotas.
BUSINESS_GROWTH = 0.12
QUOTA_GROWTH = 0.08
#: Share of reps that quota setting aims to see at 100% or more (norm: 60-70%).
TARGET_AT_QUOTA = 0.62


@dataclass(frozen=True)
class Role:
    """A selling role: pay and selling behaviour."""

    name: str
    share: float              # share of selling reps
    target_incentive: int     # annual, whole dollars
    base_salary: int          # annual, whole dollars (pay mix base/incentive)
    deals_per_year: float     # expected deals of an average rep
    size_median: float        # median deal size, dollars
    size_sigma: float         # lognormal sigma of deal size
    type_mix: tuple[float, float, float]  # new, expansion, renewal


ROLES: tuple[Role, ...] = (
    Role("Account Executive", 0.70, 60_000, 90_000, 55.0, 12_600.0, 0.95, (0.70, 0.25, 0.05)),
    Role("Account Manager", 0.20, 40_000, 95_000, 80.0, 7_200.0, 0.8, (0.10, 0.45, 0.45)),
    Role("Inside Sales", 0.10, 20_000, 60_000, 105.0, 3_100.0, 0.7, (0.60, 0.30, 0.10)),
)

#: Manager levels: role, annual base salary (they have no target incentive on these plans).
MANAGER_BASE = {"Manager": 160_000, "Director": 200_000, "VP": 260_000}

FIRST_NAMES = (
    "Aaliyah", "Aiko", "Alejandro", "Amara", "Anders", "Ananya", "Andrew", "Beatriz", "Ben",
    "Carlos", "Chen", "Chloé", "Daniel", "Dmitri", "Elena", "Emeka", "Emily", "Farah",
    "Fatima", "Gabriel", "Grace", "Hannah", "Hiroshi", "Ingrid", "Isabel", "James", "Jana",
    "José", "Julia", "Kai", "Karthik", "Kofi", "Laura", "Leila", "Liam", "Lucas", "Łukasz",
    "Maya", "Mei", "Michael", "Mohammed", "Nadia", "Naomi", "Nikhil", "Noah", "Olivia",
    "Omar", "Paula", "Priya", "Rafael", "Rebecca", "Ryan", "Sakura", "Samuel", "Sarah",
    "Siobhán", "Sofia", "Søren", "Thomas", "Valentina", "Wei", "Yusuf", "Zainab", "Zoe",
)
LAST_NAMES = (
    "Abara", "Andersen", "Bauer", "Becker", "Brown", "Castro", "Chen", "Cohen", "Costa",
    "Davies", "Dubois", "Dunne", "Evans", "Fernández", "Fischer", "Garcia", "Gupta", "Hansen",
    "Hernández", "Ito", "Jensen", "Johnson", "Kaur", "Kim", "Kowalski", "Kumar", "Larsen",
    "Lee", "Lindqvist", "Lopez", "Martin", "Meyer", "Miller", "Moreau", "Müller", "Murphy",
    "Nakamura", "Nguyen", "Novak", "O'Neill", "Okafor", "Olsen", "Patel", "Pereira", "Petrov",
    "Rossi", "Russo", "Sato", "Schmidt", "Silva", "Singh", "Smith", "Suzuki", "Tanaka",
    "Taylor", "Thompson", "Tremblay", "Walsh", "Wang", "Weber", "Williams", "Wilson", "Yamamoto",
    "Zhang",
)

ROSTER_COLUMNS = ("rep_id", "name", "manager_id", "role", "region", "target_incentive",
                  "base_salary", "hire_date", "term_date", "draw", "draw_type")
DEAL_COLUMNS = ("deal_id", "rep_id", "close_date", "amount", "currency", "product",
                "deal_type", "region", "account", "cancel_date")
TABLES = ("deals", "roster", "quotas", "splits", "fx")


def _check_args(reps: int, years: int, last_year: int) -> None:
    problems = []
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 1:
        problems.append(Problem("--reps", f"the number of reps must be at least 1, got {reps!r}"))
    elif reps > 20_000:
        problems.append(Problem("--reps", f"at most 20000 reps, got {reps}"))
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or not 1 <= years <= 10:
        problems.append(Problem("--years", f"the number of years must be 1 to 10, got {years!r}"))
    if not isinstance(last_year, (int, np.integer)) or not 1900 <= last_year <= 2200:
        problems.append(Problem("last_year", f"must be a year, got {last_year!r}"))
    if problems:
        raise SpmkitError(problems)


def _dates(days: np.ndarray) -> np.ndarray:
    """datetime64[D] -> 'YYYY-MM-DD' text (NaT -> '')."""
    out = np.datetime_as_string(days, unit="D").astype(object)
    out[np.isnat(days)] = ""
    return out


def _dollars(x: np.ndarray) -> pd.Series:
    """Whole dollars (int) as money text with two decimals."""
    return format_cents(np.asarray(x, dtype=np.int64) * 100)


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    grid = len(FIRST_NAMES) * len(LAST_NAMES)
    idx = rng.choice(grid, size=n, replace=n > grid)
    first = np.array(FIRST_NAMES, dtype=object)[idx // len(LAST_NAMES)]
    last = np.array(LAST_NAMES, dtype=object)[idx % len(LAST_NAMES)]
    return first + " " + last


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    nums = pd.Series(np.arange(1, n + 1)).astype("str").str.zfill(width)
    return (prefix + nums).to_numpy(dtype=object)


def _months_employed(start: np.ndarray, end: np.ndarray, y0: np.datetime64,
                     y1: np.datetime64) -> np.ndarray:
    """Calendar months of [y0, y1] holding at least one day of [start, end]."""
    a = np.maximum(start, y0)
    b = np.minimum(end, y1)
    ma = a.astype("datetime64[M]").astype(np.int64)
    mb = b.astype("datetime64[M]").astype(np.int64)
    return np.where(b >= a, mb - ma + 1, 0)


def _credit_by_year(n: int, years: int, first_year: int, owner: np.ndarray,
                    close: np.ndarray, usd_cents: np.ndarray, cancel: np.ndarray,
                    split_idx: np.ndarray, partner: np.ndarray,
                    owner_share: np.ndarray) -> np.ndarray:
    """Approximate credit (cents, float) per rep and year: splits shared, cancellations
    netted in the year of their cancel date, foreign deals at their USD value."""
    share = np.ones(len(owner))
    share[split_idx] = owner_share
    credit = np.zeros((n, years))

    def add(reps: np.ndarray, dates: np.ndarray, amounts: np.ndarray) -> None:
        k = dates.astype("datetime64[Y]").astype(np.int64) + 1970 - first_year
        inside = ~np.isnat(dates) & (k >= 0) & (k < years)
        np.add.at(credit, (reps[inside], k[inside]), amounts[inside])

    amount = usd_cents.astype(np.float64)
    add(owner, close, amount * share)
    add(owner, cancel, -amount * share)
    add(partner, close[split_idx], amount[split_idx] * (1 - owner_share))
    add(partner, cancel[split_idx], -amount[split_idx] * (1 - owner_share))
    return credit


def generate(reps: int = 150, years: int = 2, seed: int = 7, last_year: int = 2025,
             hostile_names: bool = False) -> dict[str, pd.DataFrame]:
    """Generate the tables of a synthetic sales org.

    Parameters
    ----------
    reps : int
        Number of selling reps (managers come on top: about one first-line manager
        per eight reps in each region, two directors and a VP).
    years : int
        Calendar years of history, ending with ``last_year`` (the plan year the
        bundled scenarios model): ``years=2`` gives 2024 and 2025.
    seed : int
        Seed of the :class:`numpy.random.Generator`; the same seed gives the same tables.
    last_year : int
        The last (plan) year.
    hostile_names : bool
        When true, one rep's name holds HTML and a script tag (for testing that reports
        escape names).  Nothing else changes.

    Returns
    -------
    dict of DataFrame, all columns text as written to CSV:
        ``deals``: deal_id, rep_id, close_date, amount, currency, product, deal_type,
        region, account, cancel_date;
        ``roster``: rep_id, name, manager_id, role, region, target_incentive,
        base_salary, hire_date, term_date, draw, draw_type;
        ``quotas``: rep_id, year, quota (annual form; selling reps, years employed);
        ``splits``: deal_id, rep_id, share;
        ``fx``: currency, rate.

    Raises
    ------
    SpmkitError
        When ``reps`` or ``years`` is out of range.
    """
    _check_args(reps, years, last_year)
    rng = np.random.default_rng(seed)
    first_year = last_year - years + 1
    day0 = np.datetime64(f"{first_year}-01-01", "D")
    day_end = np.datetime64(f"{last_year}-12-31", "D")
    year_starts = np.array([np.datetime64(f"{y}-01-01", "D") for y in
                            range(first_year, last_year + 1)])
    year_ends = np.array([np.datetime64(f"{y}-12-31", "D") for y in
                          range(first_year, last_year + 1)])
    plan_start = year_starts[-1]

    # --- selling reps: region, role, productivity, employment -------------------------
    n = int(reps)
    region = rng.choice(len(REGIONS), size=n, p=REGION_SHARES)
    role_counts = np.floor(np.array([r.share for r in ROLES]) * n).astype(int)
    role_counts[0] += n - role_counts.sum()
    role = rng.permutation(np.repeat(np.arange(len(ROLES)), role_counts))
    prod = rng.lognormal(-0.35**2 / 2, 0.35, size=n)
    drift = rng.lognormal(-0.12**2 / 2, 0.12, size=(n, years))

    # Most reps were hired before the first year; ~8% are hired during each year and
    # ~6% leave during the plan year.  Hires fall mid-January to October.
    hire = day0 - rng.integers(60, 9 * 365, size=n).astype("timedelta64[D]")
    hire_year = np.full(n, -1)
    u = rng.random(n)
    for k in range(years):
        lo, hi = 0.08 * k, 0.08 * (k + 1)
        hire_year = np.where((u >= lo) & (u < hi), k, hire_year)
    offset = rng.integers(14, 300, size=n).astype("timedelta64[D]")
    hired_in = hire_year >= 0
    hire = np.where(hired_in, year_starts[np.maximum(hire_year, 0)] + offset, hire)
    term = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    leave = (rng.random(n) < 0.06) & ~hired_in
    term_at = plan_start + rng.integers(45, 330, size=n).astype("timedelta64[D]")
    term = np.where(leave, term_at, term)
    employed_to = np.where(np.isnat(term), day_end, term)

    # --- day weights: seasonality by month, quarter-end pushes ------------------------
    days = np.arange(day0, day_end + np.timedelta64(1, "D"))
    months = days.astype("datetime64[M]")
    month_of_year = months.astype(np.int64) % 12
    next_month = (months + np.timedelta64(1, "M")).astype("datetime64[D]")
    days_left = (next_month - days).astype(np.int64)
    quarter_end = month_of_year % 3 == 2
    weight = MONTH_WEIGHTS[month_of_year] * np.where(quarter_end & (days_left <= 10), 2.2, 1.0)
    weight = weight * np.where(quarter_end & (days_left > 10), 0.7, 1.0)
    weekday = (days.astype(np.int64) + 3) % 7                   # 0 = Monday
    weight = weight * np.where(weekday >= 5, 0.1, 1.0)          # few deals close at weekends
    cum = np.concatenate([[0.0], np.cumsum(weight)])

    # --- deals per rep-year --------------------------------------------------------------
    rep_of = np.repeat(np.arange(n), years)
    year_of = np.tile(np.arange(years), n)
    a = np.maximum(hire[rep_of], year_starts[year_of])
    b = np.minimum(employed_to[rep_of], year_ends[year_of])
    ai = (a - day0).astype(np.int64)
    bi = (b - day0).astype(np.int64)
    active = bi >= ai
    ai = np.where(active, ai, 0)
    bi = np.where(active, bi, 0)
    ys = (year_starts[year_of] - day0).astype(np.int64)
    ye = (year_ends[year_of] - day0).astype(np.int64)
    share_of_year = np.where(active, (cum[bi + 1] - cum[ai]) / (cum[ye + 1] - cum[ys]), 0.0)
    rate = np.array([r.deals_per_year for r in ROLES])[role[rep_of]]
    rep_prod = prod[rep_of] * drift[rep_of, year_of]
    new_hire_year = hired_in[rep_of] & (hire_year[rep_of] == year_of)
    ramp = np.where(new_hire_year, 0.8, 1.0)
    expected = (rate * rep_prod**0.7 * ramp * (1 + BUSINESS_GROWTH) ** year_of
                * share_of_year)
    counts = rng.poisson(expected)
    deal_ry = np.repeat(np.arange(len(counts)), counts)
    m = len(deal_ry)
    deal_rep = rep_of[deal_ry]
    pos = cum[ai[deal_ry]] + rng.random(m) * (cum[bi[deal_ry] + 1] - cum[ai[deal_ry]])
    day_idx = np.clip(np.searchsorted(cum, pos, side="right") - 1, ai[deal_ry], bi[deal_ry])
    close = day0 + day_idx.astype("timedelta64[D]")

    # --- product, type, size -------------------------------------------------------------
    product = rng.choice(len(PRODUCTS), size=m, p=PRODUCT_SHARES)
    type_cdf = np.cumsum(np.array([r.type_mix for r in ROLES]), axis=1)[role[deal_rep]]
    deal_type = (rng.random(m)[:, None] > type_cdf).sum(axis=1).clip(0, 2)
    median = np.array([r.size_median for r in ROLES])[role[deal_rep]]
    sigma = np.array([r.size_sigma for r in ROLES])[role[deal_rep]]
    size = (median * np.exp(sigma * rng.standard_normal(m))
            * np.array(PRODUCT_SIZE)[product] * np.array(DEAL_TYPE_SIZE)[deal_type]
            * rep_prod[deal_ry] ** 0.3)
    usd_cents = np.maximum(np.rint(size * 100), 50_000).astype(np.int64)

    # --- currency: ~12% of EMEA deals (about 3% overall) in EUR or GBP -------------------
    emea = region[deal_rep] == REGIONS.index("EMEA")
    foreign = emea & (rng.random(m) < 0.12)
    fx_pick = rng.choice(len(FX_RATES), size=m, p=FX_SHARES)
    fx_names = np.array(list(FX_RATES), dtype=object)
    fx_rate = np.array([float(v) for v in FX_RATES.values()])
    currency = np.where(foreign, fx_names[fx_pick], "USD").astype(object)
    amount_cents = np.where(foreign, np.rint(usd_cents / fx_rate[fx_pick]).astype(np.int64),
                            usd_cents)

    # --- cancellations: ~2%, 30-120 days after close -------------------------------------
    cancelled = rng.random(m) < 0.02
    cancel = np.where(cancelled, close + rng.integers(30, 121, size=m).astype("timedelta64[D]"),
                      np.datetime64("NaT", "D"))

    # --- accounts: each rep works a pool of 60 accounts -----------------------------------
    account_no = deal_rep * 60 + rng.integers(0, 60, size=m) + 1
    account = ("ACC" + pd.Series(account_no).astype("str").str.zfill(6)).to_numpy(dtype=object)

    # --- order deals and give them ids ----------------------------------------------------
    order = np.lexsort((rng.random(m), deal_rep, day_idx))
    rep_ids = _ids("R", n, max(3, len(str(n))))
    deal_ids = _ids("D", m, max(6, len(str(m))))
    deals = pd.DataFrame({
        "deal_id": deal_ids,
        "rep_id": rep_ids[deal_rep[order]],
        "close_date": _dates(close[order]),
        "amount": format_cents(amount_cents[order]).to_numpy(dtype=object),
        "currency": currency[order],
        "product": np.array(PRODUCTS, dtype=object)[product[order]],
        "deal_type": np.array(DEAL_TYPES, dtype=object)[deal_type[order]],
        "region": np.array(REGIONS, dtype=object)[region[deal_rep[order]]],
        "account": account[order],
        "cancel_date": _dates(cancel[order]),
    })

    # --- splits: ~5% of deals shared with a colleague of the same region ------------------
    by_region = np.argsort(region, kind="stable")
    region_count = np.bincount(region, minlength=len(REGIONS))
    region_first = np.concatenate([[0], np.cumsum(region_count)[:-1]])
    owner = deal_rep[order]
    o_region = region[owner]
    want = rng.random(m) < 0.055
    slot = (rng.random(m) * region_count[o_region]).astype(np.int64)
    partner = by_region[region_first[o_region] + slot]
    same = partner == owner
    slot = np.where(same, (slot + 1) % np.maximum(region_count[o_region], 1), slot)
    partner = by_region[region_first[o_region] + slot]
    d_close = close[order]
    ok = (want & (partner != owner) & (hire[partner] <= d_close)
          & (d_close <= employed_to[partner]))
    split_idx = np.flatnonzero(ok)
    mix = rng.integers(0, 3, size=len(split_idx))
    first_share = np.array(["0.5", "0.6", "0.7"], dtype=object)[mix]
    second_share = np.array(["0.5", "0.4", "0.3"], dtype=object)[mix]
    splits = pd.DataFrame({
        "deal_id": np.concatenate([deal_ids[split_idx], deal_ids[split_idx]]),
        "rep_id": np.concatenate([rep_ids[owner[split_idx]], rep_ids[partner[split_idx]]]),
        "share": np.concatenate([first_share, second_share]),
        "_order": np.concatenate([2 * np.arange(len(split_idx)),
                                  2 * np.arange(len(split_idx)) + 1]),
    }).sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)

    # --- quotas from prior-year run-rate --------------------------------------------------
    months_emp = np.stack([_months_employed(hire, employed_to, year_starts[k], year_ends[k])
                           for k in range(years)], axis=1)                        # (n, years)
    credit = _credit_by_year(n, years, first_year, owner, d_close, usd_cents[order],
                             cancel[order], split_idx, partner[split_idx],
                             np.array([0.5, 0.6, 0.7])[mix])
    annualized = np.where(months_emp > 0, credit * 12 / np.maximum(months_emp, 1), np.nan)
    noise = rng.lognormal(0.0, 0.10, size=(n, years))
    quota_cents = np.zeros((n, years), dtype=np.int64)
    for k in range(years):
        # The prior year's run-rate (this year's for the first year: no history).
        basis = annualized[:, max(k - 1, 0)]
        has_history = (months_emp[:, max(k - 1, 0)] >= 6) & np.isfinite(basis)
        standard = np.zeros(n)
        for r in range(len(ROLES)):
            pool = basis[(role == r) & has_history]
            standard[role == r] = (float(np.median(pool)) if len(pool) else
                                   ROLES[r].deals_per_year * ROLES[r].size_median * 160)
        full = (np.where(has_history, 0.4 * np.nan_to_num(basis) + 0.6 * standard, standard)
                * (1 + QUOTA_GROWTH) * noise[:, k])
        prorated = full * months_emp[:, k] / 12
        # Quotas are set so that a healthy share of reps reach them: the year's quotas are
        # scaled together so that about TARGET_AT_QUOTA of the reps would reach 100%.
        working = months_emp[:, k] > 0
        if working.any():
            ratio = credit[working, k] / prorated[working]
            prorated = prorated * max(float(np.quantile(ratio, 1 - TARGET_AT_QUOTA)), 0.05)
        rounded = np.rint(prorated / 100_000) * 100_000          # whole $1,000
        quota_cents[:, k] = np.where(working, np.maximum(rounded, 100_000), 0).astype(np.int64)
    qr, qy = np.nonzero(months_emp > 0)
    quotas = pd.DataFrame({
        "rep_id": rep_ids[qr],
        "year": pd.Series(first_year + qy).astype("str").to_numpy(dtype=object),
        "quota": format_cents(quota_cents[qr, qy]).to_numpy(dtype=object),
    })

    # --- roster: selling reps plus the manager tree ---------------------------------------
    mgr_per_region = np.maximum(1, np.rint(region_count / 8).astype(int))
    mgr_per_region = np.where(region_count > 0, mgr_per_region, 0)
    n_mgr = int(mgr_per_region.sum())
    mgr_region = np.repeat(np.arange(len(REGIONS)), mgr_per_region)
    mgr_first = np.concatenate([[0], np.cumsum(mgr_per_region)[:-1]])
    rank_in_region = np.empty(n, dtype=np.int64)
    rank_in_region[by_region] = np.arange(n) - region_first[region[by_region]]
    rep_mgr = mgr_first[region] + rank_in_region % np.maximum(mgr_per_region[region], 1)
    mgr_ids = _ids("M", n_mgr, 3)
    dir_ids = np.array(["D01", "D02"], dtype=object)
    vp_id = "V01"
    # Directors: D01 leads the Americas (NA East, NA West), D02 International.
    mgr_dir = np.where(mgr_region <= 1, 0, 1)
    names = _names(rng, n + n_mgr + 3)
    if hostile_names:
        names[min(2, n - 1)] = HOSTILE_NAME
    mgr_hire = plan_start - rng.integers(2 * 365, 12 * 365, size=n_mgr + 3).astype(
        "timedelta64[D]")
    role_ti = np.array([r.target_incentive for r in ROLES])[role]
    role_base = np.array([r.base_salary for r in ROLES])[role]
    # A few new hires of the plan year get a recoverable quarterly draw of half their
    # quarterly target incentive.
    plan_hire = hired_in & (hire_year == years - 1)
    gets_draw = plan_hire & (rng.random(n) < 0.5) & (role != 2)
    draw = np.where(gets_draw, format_cents(role_ti * 100 // 8).to_numpy(dtype=object), "")
    draw_type = np.where(gets_draw, "recoverable", "")
    sellers = pd.DataFrame({
        "rep_id": rep_ids,
        "name": names[:n],
        "manager_id": mgr_ids[rep_mgr],
        "role": np.array([r.name for r in ROLES], dtype=object)[role],
        "region": np.array(REGIONS, dtype=object)[region],
        "target_incentive": _dollars(role_ti).to_numpy(dtype=object),
        "base_salary": _dollars(role_base).to_numpy(dtype=object),
        "hire_date": _dates(hire),
        "term_date": _dates(term),
        "draw": draw.astype(object),
        "draw_type": draw_type.astype(object),
    })
    leaders = pd.DataFrame({
        "rep_id": np.concatenate([[vp_id], dir_ids, mgr_ids]),
        "name": np.concatenate([names[n + n_mgr:], names[n:n + n_mgr]]),
        "manager_id": np.concatenate([[""], [vp_id, vp_id], dir_ids[mgr_dir]]),
        "role": ["VP", "Director", "Director"] + ["Manager"] * n_mgr,
        "region": ["Global", "Americas", "International"]
        + [REGIONS[r] for r in mgr_region],
        "target_incentive": "0.00",
        "base_salary": _dollars(np.array([MANAGER_BASE["VP"]] + [MANAGER_BASE["Director"]] * 2
                                         + [MANAGER_BASE["Manager"]] * n_mgr)).to_numpy(
            dtype=object),
        "hire_date": _dates(mgr_hire),
        "term_date": "",
        "draw": "",
        "draw_type": "",
    })
    roster = pd.concat([leaders, sellers], ignore_index=True)[list(ROSTER_COLUMNS)]

    fx = pd.DataFrame({"currency": list(FX_RATES), "rate": list(FX_RATES.values())})
    return {"deals": deals, "roster": roster, "quotas": quotas, "splits": splits, "fx": fx}


def write_tables(tables: dict[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """Write text tables as ``<name>.csv`` into ``out_dir`` all-or-nothing.

    Returns the paths written (in ``out_dir``).
    """
    out_dir = Path(out_dir)
    with atomic_dir(out_dir, kind="tables") as stage:
        for name, frame in tables.items():
            frame.to_csv(stage / f"{name}.csv", index=False, lineterminator="\n",
                         encoding="utf-8")
    return [out_dir / f"{name}.csv" for name in tables]


def write_sample(out_dir: str | Path, **kw: object) -> list[Path]:
    """Generate a sample org (keyword arguments as :func:`generate`) and write its five
    tables as CSV files (``deals.csv``, ``roster.csv``, ``quotas.csv``, ``splits.csv``,
    ``fx.csv``) into ``out_dir``; nothing is written when generation fails.

    Returns the paths written.
    """
    tables = generate(**kw)  # type: ignore[arg-type]
    return write_tables(tables, out_dir)
