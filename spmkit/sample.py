"""A synthetic but realistic sales organisation to try plans on.

:func:`generate` builds the input tables of a sales org — deals, roster, quotas, splits,
fx and payments (and, on request, overlays) — from a seed, with the texture of real data:
~150 selling reps in four regions under a manager tree (solution engineers beside them
on request), right-skewed rep productivity, lognormal deal sizes, quarter-end and Q4
seasonality, split deals, cancellations (clawbacks), foreign-currency deals, margins,
units and payments, hires who ramp up, leavers (a mid-year role change on request) and a
few recoverable draws.  The same seed always gives
the same tables (and :func:`write_sample` byte-identical files); nothing reads the clock.

The tables are returned in *file form*: every column is text, exactly as written to CSV
(money with two decimals, dates ``YYYY-MM-DD``, missing values as empty strings), so
they go through the same loaders (:mod:`spmkit.tables`) as a customer's exports.

The history is simulated one year at a time, because what happens in a year depends on
the year before (all per rep unless said otherwise):

- **Roles**: about 70% Account Executives, 20% Account Managers and 10% Inside Sales, each
  with its own target incentive, pay mix, deal rate, deal size and deal-type mix.
  Managers (first-line ``Manager``, two ``Director`` s, one ``VP``) own no deals and get
  no quota.  **Solution Engineers** (``solution_engineers=True``: about one per ten reps
  in each region, reporting to the region's director) own no deals and get no quota
  either, so the selling plans never pay them; ``overlays=True`` adds them and
  ``overlays.csv``, crediting each SE with the new and expansion deals (not Services) of
  the reps they support in their region.
- **Sales**: a rep's expected deals in a month are the role's rate x skill^0.7 x a yearly
  drift x the year's **company shock** x the year's **regional shock** x the business trend
  (:data:`BUSINESS_GROWTH` a year) x the rep's **ramp** x the month's share of the year's
  selling days (seasonality, quarter-end pushes, few weekend closes).  Skill is lognormal
  (mean 1, sigma 0.35); the company shock is an AR(1) in logs (:data:`COMPANY_SHOCK`), the
  regional shocks independent (:data:`REGIONAL_SHOCK`).  Deal size is lognormal by role,
  times skill^0.3.
- **Deal counts are overdispersed**: negative binomial per rep and month (shape
  :data:`COUNT_SHAPE`, variance mu + mu^2/shape), not Poisson.
- **Ramp follows tenure**: a hire reaches full productivity after 9 to 13 months (drawn
  per rep), linearly: ``min(1, (months since the hire month + 0.5) / ramp_months)``.
- **Quotas are set from the prior year**, never from the year they judge: a rep's annual
  quota for year Y is ``(0.5 x own + 0.5 x role median) x (1 + QUOTA_GROWTH)``, where
  ``own`` is the rep's credited bookings of Y-1 (own deals and split shares by share, at
  the fx plan rates, before cancellations) annualized by the months employed in Y-1, and
  the role median is over the reps with history: employed at least nine months of Y-1 and
  hired at least 182 days before it began.  Reps without history get the role median.
  For the first year the prior year is not in the tables: it is drawn from each rep's
  expected sales with luck (sigma 0.2) and the year's shocks.
- **Quotas by period, only while employed**: the annual quota is phased over months by the
  year's selling-day seasonality, times the share of the month's calendar days the rep
  is employed (selling), times the quota setter's ramp for hires
  ``min(1, (months since hire + 0.5) / 11)``; the months are summed into the quotas
  table's periods (``quota_period``: ``year``, the annual form, by default; ``quarter``,
  the period of the bundled plans, which ``spmkit sample`` writes; or ``month``) and
  rounded to whole $100 (whole $1,000 for annual quotas).  There is no row for a period
  in which the rep is not employed.
- **The share of reps at quota is whatever this gives** (no scaling to a target share).
- **Attrition depends on performance**: at the start of each year, each rep employed then
  leaves during the year with probability ``1 / (1 + exp(2.2 + 2.0 x ln attainment))``,
  attainment being the prior year's credited bookings over quota (about 10% at 100%,
  30% at 50%, 5% at 150%; 13-15% a year in all).  Each year about 13% of the starting
  headcount is hired (:data:`HIRE_RATE`), about as many as leave.
- **Deals** fall only while a rep sells (``hire_date`` .. ``term_date``); about 5.5% are
  split with a colleague of the region; about 2% are cancelled 30-120 days after close
  (only while the deal's credited reps still sell: a clawback after a rep left would be
  credit in a period without quota); about 12% of EMEA deals are in EUR or GBP.  Each
  deal has a ``margin`` (deal currency, by product, with noise) and ``units`` (whole
  units).
- **Payments** (``payments.csv``, deal currency): net 30/45/60 terms with a few days'
  noise, 12% paid late (15-90 days more), 10% paid in two parts, a third of which never
  pay the second part; a deal cancelled before it is due is not paid.  Payments after the
  last day of the history, or in a later calendar year than a credited rep leaves, are
  not in the table (the engine takes anyone with a credit line in the plan year, a
  collection too, for a payee).  Payments of a deal never exceed its amount.
- **A mid-year role change** (``role_change=True``): one Account Executive
  becomes a Manager on 1 July of the plan year (and sells no more) and one Account
  Manager becomes an Account Executive on 1 April (with the new role's target incentive;
  their selling behaviour is left as it was).  Each has two roster rows with
  ``effective_from``/``effective_to`` (inclusive, blank = open); the columns are there
  only then.  These two reps do not leave.
- About half of the plan year's new Account Executives and Account Managers get a
  recoverable quarterly draw of half their quarterly target incentive.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

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
#: Gross margin by product (share of the amount; each deal varies with sigma 0.05).
PRODUCT_MARGIN: tuple[float, ...] = (0.78, 0.66, 0.82, 0.35)
#: List price of one unit by product (plan currency): licences, devices, seats, hours.
PRODUCT_UNIT_PRICE: tuple[float, ...] = (1_200.0, 2_500.0, 900.0, 150.0)

DEAL_TYPES: tuple[str, ...] = ("new", "expansion", "renewal")
DEAL_TYPE_SIZE: tuple[float, ...] = (1.0, 0.8, 0.9)

#: Plan-currency (USD) per unit of each foreign currency, and its share of foreign deals.
FX_RATES: dict[str, str] = {"EUR": "1.08", "GBP": "1.27"}
FX_SHARES: tuple[float, ...] = (0.7, 0.3)

#: Month weights of deal closing (Jan..Dec): quarter-end months high, Q4 peak in December.
MONTH_WEIGHTS = np.array([0.75, 0.9, 1.45, 0.85, 0.95, 1.45, 0.75, 0.85, 1.45, 1.05, 1.2, 2.1])

HOSTILE_NAME = "<b>Zoë</b> O'Brien & <script>alert(1)</script>"

#: Annual growth of a rep's deal rate (headcount stays about level) and the growth built
#: into quotas.
BUSINESS_GROWTH = 0.09
QUOTA_GROWTH = 0.08
#: Company shock: AR(1) in logs, (persistence, innovation sigma); regional shock sigma.
COMPANY_SHOCK = (0.5, 0.08)
REGIONAL_SHOCK = 0.05
#: Negative-binomial shape of monthly deal counts (smaller = more overdispersed).
COUNT_SHAPE = 4.0
#: Months to full productivity (drawn uniformly per rep) and the quota setter's ramp.
RAMP_MONTHS = (9.0, 13.0)
QUOTA_RAMP_MONTHS = 11.0
#: Hires a year, as a share of the headcount at the start of the history: about as many
#: as leave.
HIRE_RATE = 0.13
#: Attrition: P(leave) = 1 / (1 + exp(-(a + b ln attainment))).
ATTRITION = (-2.2, -2.0)

QuotaPeriod = Literal["month", "quarter", "year"]
QUOTA_PERIODS: tuple[str, ...] = ("month", "quarter", "year")


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

#: Solution engineers: role name, target incentive and base salary (whole dollars), and
#: selling reps per SE in a region.
SE_ROLE = "Solution Engineer"
SE_TARGET_INCENTIVE = 30_000
SE_BASE_SALARY = 130_000
REPS_PER_SE = 10

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
#: Added to the roster when it holds a role change.
EFFECTIVE_COLUMNS = ("effective_from", "effective_to")
DEAL_COLUMNS = ("deal_id", "rep_id", "close_date", "amount", "currency", "product",
                "deal_type", "region", "account", "cancel_date", "margin", "units")
PAYMENT_COLUMNS = ("deal_id", "paid_date", "amount")
OVERLAY_COLUMNS = ("deal_id", "rep_id", "share")
#: The tables :func:`generate` returns (``overlays`` only with ``overlays=True``).
TABLES = ("deals", "roster", "quotas", "splits", "fx", "payments", "overlays")


def _check_args(reps: int, years: int, last_year: int, quota_period: str) -> None:
    problems = []
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 1:
        problems.append(Problem("--reps", f"the number of reps must be at least 1, got {reps!r}"))
    elif reps > 20_000:
        problems.append(Problem("--reps", f"at most 20000 reps, got {reps}"))
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or not 1 <= years <= 10:
        problems.append(Problem("--years", f"the number of years must be 1 to 10, got {years!r}"))
    if not isinstance(last_year, (int, np.integer)) or not 1900 <= last_year <= 2200:
        problems.append(Problem("last_year", f"must be a year, got {last_year!r}"))
    if quota_period not in QUOTA_PERIODS:
        problems.append(Problem("--quota-period", "must be one of "
                                f"{', '.join(QUOTA_PERIODS)}, got {quota_period!r}"))
    if problems:
        raise SpmkitError(problems)


def _dates(days: np.ndarray) -> np.ndarray:
    """datetime64[D] -> 'YYYY-MM-DD' text (NaT -> '')."""
    out = np.datetime_as_string(days, unit="D").astype(object)
    out[np.isnat(days)] = ""
    return out


def _money(*cents: np.ndarray) -> list[np.ndarray]:
    """Arrays of cents as money text with two decimals (object arrays), in one
    :func:`~spmkit.money.format_cents` call."""
    flat = np.concatenate([np.asarray(c, dtype=np.int64).ravel() for c in cents])
    text = format_cents(flat).to_numpy(dtype=object)
    return np.split(text, np.cumsum([np.size(c) for c in cents])[:-1])


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


def _month_index(days: np.ndarray) -> np.ndarray:
    """datetime64[D] -> months since 1970-01 (int)."""
    return days.astype("datetime64[M]").astype(np.int64)


def _mean_deal_size(role: Role) -> float:
    """Expected deal size (plan currency) of a rep of skill 1 in ``role``."""
    product = float(np.dot(PRODUCT_SHARES, PRODUCT_SIZE))
    kind = float(np.dot(role.type_mix, DEAL_TYPE_SIZE))
    return role.size_median * float(np.exp(role.size_sigma**2 / 2)) * product * kind


def _shocks(rng: np.random.Generator, years: int) -> tuple[np.ndarray, np.ndarray]:
    """Company (``years + 1``: the year before the history first) and regional
    (``years + 1`` x regions) multipliers, mean 1."""
    rho, sigma = COMPANY_SHOCK
    eps = rng.standard_normal(years + 1)
    level = np.empty(years + 1)
    level[0] = eps[0] * sigma / np.sqrt(1 - rho**2)
    for k in range(1, years + 1):          # a loop over years (at most 11)
        level[k] = rho * level[k - 1] + sigma * eps[k]
    company = np.exp(level - sigma**2 / (1 - rho**2) / 2)
    regional = rng.lognormal(-REGIONAL_SHOCK**2 / 2, REGIONAL_SHOCK, size=(years + 1,
                                                                             len(REGIONS)))
    return company, regional


def _role_medians(values: np.ndarray, use: np.ndarray, role: np.ndarray,
                  fallback: np.ndarray) -> np.ndarray:
    """Per rep: the median of ``values`` over the reps of its role where ``use`` (the
    role's ``fallback`` when there are none)."""
    out = np.empty(len(values))
    for r in range(len(ROLES)):            # a loop over the three roles
        pool = values[(role == r) & use]
        out[role == r] = float(np.median(pool)) if len(pool) else float(fallback[r])
    return out


def generate(reps: int = 150, years: int = 2, seed: int = 7, last_year: int = 2025,
             hostile_names: bool = False, *, quota_period: QuotaPeriod = "year",
             solution_engineers: bool = False, overlays: bool = False,
             role_change: bool = False) -> dict[str, pd.DataFrame]:
    """Generate the tables of a synthetic sales org (the model is in the module docstring).

    Parameters
    ----------
    reps : int
        Number of selling reps in the roster over the whole history, leavers and hires
        included (managers and solution engineers come on top: about one first-line
        manager per eight reps in each region, one SE per ten, two directors and a VP).
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
    quota_period : {"year", "quarter", "month"}
        The quotas table's form: ``rep_id, year, quota`` (annual, the default: it suits a
        plan of any period), or ``rep_id, period_start, quota`` by quarter or month, which
        only a plan of that period reads.  The engine spreads an annual quota evenly over
        the plan's periods, also those before a hire or after a leaver; period quotas
        are zero there (``spmkit sample`` writes quarterly quotas, the bundled plans'
        period).
    solution_engineers : bool
        Add the solution engineers to the roster (no quota, no deals; nothing else
        changes).  Off by default: tools that take every rep who manages no one for a
        seller (capacity planning, sample accounts) would count them.
    overlays : bool
        Add the ``overlays`` table (SE overlay credit; implies ``solution_engineers``;
        nothing else changes).  Off by default: the overlays table credits its reps under
        *every* plan, so the bundled plans would count the SEs as payees without a quota.
    role_change : bool
        Give two reps a mid-year role change (two roster rows each, effective-dated).
        Off by default: the roster then has two rows for a rep, which only loaders of
        effective-dated rosters read.

    Returns
    -------
    dict of DataFrame, all columns text as written to CSV:
        ``deals``: deal_id, rep_id, close_date, amount, currency, product, deal_type,
        region, account, cancel_date, margin (deal currency), units;
        ``roster``: rep_id, name, manager_id, role, region, target_incentive,
        base_salary, hire_date, term_date, draw, draw_type (and effective_from,
        effective_to with ``role_change``);
        ``quotas``: rep_id, period_start (or year), quota (selling reps, periods employed);
        ``splits``: deal_id, rep_id, share;
        ``fx``: currency, rate;
        ``payments``: deal_id, paid_date, amount (deal currency);
        ``overlays`` (with ``overlays``): deal_id, rep_id, share.

    Raises
    ------
    SpmkitError
        When ``reps``, ``years`` or ``quota_period`` is out of range.
    """
    _check_args(reps, years, last_year, quota_period)
    rng = np.random.default_rng(seed)
    n_years = int(years)
    first_year = last_year - n_years + 1
    day0 = np.datetime64(f"{first_year}-01-01", "D")
    day_end = np.datetime64(f"{last_year}-12-31", "D")
    one_day = np.timedelta64(1, "D")
    year_starts = np.datetime64(f"{first_year}", "Y") + np.arange(n_years)
    year_starts = year_starts.astype("datetime64[D]")
    year_ends = np.append(year_starts[1:], day_end + one_day) - one_day
    plan_start = year_starts[-1]
    nat = np.datetime64("NaT", "D")

    # --- day weights: seasonality by month, quarter-end pushes ------------------------
    days = np.arange(day0, day_end + one_day)
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

    # --- the month grid of the history ----------------------------------------------------
    n_months = 12 * n_years
    month_starts = (np.datetime64(f"{first_year}-01", "M") + np.arange(n_months)).astype(
        "datetime64[D]")
    ms_idx = (month_starts - day0).astype(np.int64)
    me_idx = np.append(ms_idx[1:], len(days)) - 1
    month_weight = cum[me_idx + 1] - cum[ms_idx]
    year_weight = month_weight.reshape(n_years, 12).sum(axis=1)
    month_days = me_idx - ms_idx + 1
    month_abs = _month_index(month_starts)

    # --- selling reps: region, role, skill, ramp, shocks, hires ---------------------------
    n = int(reps)
    region = rng.choice(len(REGIONS), size=n, p=REGION_SHARES)
    role_counts = np.floor(np.array([r.share for r in ROLES]) * n).astype(int)
    role_counts[0] += n - role_counts.sum()
    role = rng.permutation(np.repeat(np.arange(len(ROLES)), role_counts))
    skill = rng.lognormal(-0.35**2 / 2, 0.35, size=n)
    drift = rng.lognormal(-0.12**2 / 2, 0.12, size=(n, n_years + 1))  # col 0: year before
    ramp_months = rng.uniform(*RAMP_MONTHS, size=n)
    company, regional = _shocks(rng, n_years)                          # index 0: year before
    trend = (1 + BUSINESS_GROWTH) ** (np.arange(-1, n_years) - (n_years - 1))
    rate = np.array([r.deals_per_year for r in ROLES])[role]
    mean_size = np.array([_mean_deal_size(r) for r in ROLES])[role]

    # Most reps were hired before the history; each year HIRE_RATE of the starting
    # headcount is hired (mid-January to October), about as many as leave.
    hire_share = HIRE_RATE / (1 + HIRE_RATE * n_years)   # of all the reps, per year
    k_hire = np.floor(rng.random(n) / hire_share).astype(np.int64)
    hire_year = np.where(k_hire < n_years, k_hire, -1)
    hired_in = hire_year >= 0
    hire = day0 - rng.integers(60, 9 * 365, size=n).astype("timedelta64[D]")
    offset = rng.integers(14, 300, size=n).astype("timedelta64[D]")
    hire = np.where(hired_in, year_starts[np.maximum(hire_year, 0)] + offset, hire)
    hire_idx = (hire - day0).astype(np.int64)
    hire_month = _month_index(hire)

    # The mid-year role changes: a veteran AE promoted to Manager, a veteran AM made AE.
    keys = rng.random(n)
    promote_on = np.datetime64(f"{last_year}-07-01", "D")
    lateral_on = np.datetime64(f"{last_year}-04-01", "D")

    def pick(kind: int) -> int:
        """The veteran of role ``kind`` with the smallest key (-1: none, or no change)."""
        cand = ~hired_in & (role == kind)
        return int(np.argmin(np.where(cand, keys, np.inf))) if role_change and cand.any() else -1

    promoted, lateral = pick(0), pick(1)
    stays = np.zeros(n, dtype=bool)
    stays[[i for i in (promoted, lateral) if i >= 0]] = True
    term = np.full(n, nat)
    sell_to = np.full(n, day_end)              # the last day a rep sells (term or change)
    if promoted >= 0:
        sell_to[promoted] = promote_on - one_day

    # --- the year before the history: drawn, not in the tables ---------------------------
    prev_start = np.datetime64(f"{first_year - 1}-01-01", "D")
    months_prev = _months_employed(hire, np.full(n, day0 - one_day), prev_start,
                                   day0 - one_day)
    tenure_prev = _month_index(np.datetime64(f"{first_year - 1}-06-01", "D")) - hire_month
    ramp_prev = np.clip((tenure_prev + 0.5) / ramp_months, 0.0, 1.0)
    luck = rng.lognormal(-0.2**2 / 2, 0.2, size=n)
    own = (rate * mean_size * skill * drift[:, 0] * company[0] * regional[0, region]
           * trend[0] * ramp_prev * luck)
    own = np.where(months_prev > 0, own, np.nan)
    history = (months_prev >= 9) & (hire <= prev_start - np.timedelta64(182, "D"))
    base_level = np.array([r.deals_per_year * _mean_deal_size(r) for r in ROLES])
    # Attainment before the history: performance against the role, the ramp set aside (as
    # a ramped quota would).
    relative = own / (_role_medians(own, history, role, base_level * trend[0])
                      * np.maximum(ramp_prev, 0.05))
    attainment = relative / (0.5 * relative + 0.5)    # against a quota half its own history

    # --- the history, a year at a time -----------------------------------------------------
    a_att, b_att = ATTRITION
    month_quota = np.zeros((n, n_months))
    selling = np.zeros((n, n_months), dtype=bool)
    parts: list[dict[str, np.ndarray]] = []
    by_region = np.argsort(region, kind="stable")
    region_count = np.bincount(region, minlength=len(REGIONS))
    region_first = np.concatenate([[0], np.cumsum(region_count)[:-1]])
    fx_names = np.array(list(FX_RATES), dtype=object)
    fx_rate = np.array([float(v) for v in FX_RATES.values()])
    emea = REGIONS.index("EMEA")
    for k in range(n_years):               # a loop over years: each depends on the last
        ys, ye = year_starts[k], year_ends[k]
        # Who leaves this year: more likely after a poor year.
        eligible = (hire < ys) & np.isnat(term) & ~stays
        att = np.where(np.isfinite(attainment), np.clip(attainment, 0.05, 20.0), 1.0)
        p_leave = 1.0 / (1.0 + np.exp(-(a_att + b_att * np.log(att))))
        leave = eligible & (rng.random(n) < p_leave)
        term_at = ys + rng.integers(20, 341, size=n).astype("timedelta64[D]")
        term = np.where(leave, term_at, term)
        sell_to = np.where(leave, np.minimum(sell_to, term_at), sell_to)
        sell_idx = (sell_to - day0).astype(np.int64)

        # Quotas of year k from year k-1 (never from year k), by month while employed.
        full = np.where(history, 0.5 * np.nan_to_num(own), 0.0)
        full = (full + np.where(history, 0.5, 1.0)
                * _role_medians(own, history, role, base_level * trend[k])) * (1 + QUOTA_GROWTH)
        g = np.arange(12 * k, 12 * k + 12)
        a = np.maximum(hire_idx[:, None], ms_idx[g][None, :])
        b = np.minimum(sell_idx[:, None], me_idx[g][None, :])
        active = b >= a
        a, b = np.where(active, a, 0), np.where(active, b, 0)
        tenure = month_abs[g][None, :] - hire_month[:, None]
        calendar_share = np.where(active, (b - a + 1) / month_days[g][None, :], 0.0)
        quota_ramp = np.clip((tenure + 0.5) / QUOTA_RAMP_MONTHS, 0.0, 1.0)
        phase = month_weight[g] / year_weight[k]
        month_quota[:, g] = full[:, None] * phase[None, :] * quota_ramp * calendar_share
        selling[:, g] = active

        # Deals: negative-binomial counts per rep and month, days by seasonality.
        level = (rate * (skill * drift[:, k + 1]) ** 0.7 * company[k + 1]
                 * regional[k + 1, region] * trend[k + 1])
        ramp = np.clip((tenure + 0.5) / ramp_months[:, None], 0.0, 1.0)
        mu = level[:, None] * ramp * np.where(active, cum[b + 1] - cum[a], 0.0) / year_weight[k]
        counts = rng.negative_binomial(COUNT_SHAPE, COUNT_SHAPE / (COUNT_SHAPE + mu))
        cell = np.repeat(np.arange(n * 12), counts.ravel())
        m = len(cell)
        rep = cell // 12
        ca, cb = a.ravel()[cell], b.ravel()[cell]
        pos = cum[ca] + rng.random(m) * (cum[cb + 1] - cum[ca])
        day_idx = np.clip(np.searchsorted(cum, pos, side="right") - 1, ca, cb)
        close = day0 + day_idx.astype("timedelta64[D]")

        product = rng.choice(len(PRODUCTS), size=m, p=PRODUCT_SHARES)
        type_cdf = np.cumsum(np.array([r.type_mix for r in ROLES]), axis=1)[role[rep]]
        deal_type = (rng.random(m)[:, None] > type_cdf).sum(axis=1).clip(0, 2)
        median = np.array([r.size_median for r in ROLES])[role[rep]]
        sigma = np.array([r.size_sigma for r in ROLES])[role[rep]]
        size = (median * np.exp(sigma * rng.standard_normal(m))
                * np.array(PRODUCT_SIZE)[product] * np.array(DEAL_TYPE_SIZE)[deal_type]
                * (skill * drift[:, k + 1])[rep] ** 0.3)
        usd_cents = np.maximum(np.rint(size * 100), 50_000).astype(np.int64)
        # ~12% of EMEA deals (about 3% overall) in EUR or GBP
        foreign = (region[rep] == emea) & (rng.random(m) < 0.12)
        fx_pick = rng.choice(len(FX_RATES), size=m, p=FX_SHARES)
        amount_cents = np.where(foreign, np.rint(usd_cents / fx_rate[fx_pick]).astype(np.int64),
                                usd_cents)
        plan_value = amount_cents / 100 * np.where(foreign, fx_rate[fx_pick], 1.0)

        # Splits: ~5.5% of deals shared with a colleague of the region selling that day.
        o_region = region[rep]
        want = rng.random(m) < 0.055
        slot = (rng.random(m) * region_count[o_region]).astype(np.int64)
        partner = by_region[region_first[o_region] + slot]
        slot = np.where(partner == rep, (slot + 1) % np.maximum(region_count[o_region], 1), slot)
        partner = by_region[region_first[o_region] + slot]
        split = (want & (partner != rep) & (hire[partner] <= close)
                 & (close <= sell_to[partner]))
        mix = rng.integers(0, 3, size=m)
        owner_share = np.where(split, np.array([0.5, 0.6, 0.7])[mix], 1.0)
        partner = np.where(split, partner, -1)

        # Credited bookings of the year (before cancellations): next year's quota basis.
        credit = np.bincount(rep, weights=plan_value * owner_share, minlength=n)
        credit += np.bincount(partner[split], weights=plan_value[split]
                              * (1 - owner_share[split]), minlength=n)
        months_k = _months_employed(hire, sell_to, ys, ye)
        own = np.where(months_k > 0, credit * 12 / np.maximum(months_k, 1), np.nan)
        history = (months_k >= 9) & (hire <= ys - np.timedelta64(182, "D"))
        annual_quota = month_quota[:, g].sum(axis=1)
        attainment = np.where(annual_quota > 0, credit / np.where(annual_quota > 0,
                                                                   annual_quota, 1), np.nan)
        parts.append({"rep": rep, "day": day_idx, "product": product, "type": deal_type,
                      "usd": usd_cents, "amount": amount_cents, "foreign": foreign,
                      "fx": fx_pick, "partner": partner, "mix": mix})

    deal = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    m = len(deal["rep"])
    deal_rep, day_idx = deal["rep"], deal["day"]
    close = day0 + day_idx.astype("timedelta64[D]")
    product, amount_cents = deal["product"], deal["amount"]
    partner = deal["partner"]
    split = partner >= 0

    # --- margin and units ------------------------------------------------------------------
    margin_share = np.clip(np.array(PRODUCT_MARGIN)[product] + 0.05 * rng.standard_normal(m),
                           0.05, 0.95)
    margin_cents = np.rint(amount_cents * margin_share).astype(np.int64)
    units = np.maximum(1, np.rint(deal["usd"] / 100 / np.array(PRODUCT_UNIT_PRICE)[product]
                                  * rng.lognormal(0.0, 0.15, size=m))).astype(np.int64)

    # --- cancellations: ~2%, 30-120 days after close, while the credited reps still sell
    # (a clawback after a rep left would be credit in a period without a quota) ------------
    term_year = np.where(np.isnat(term), 10_000,
                         term.astype("datetime64[Y]").astype(np.int64) + 1970)
    last_year_of = np.minimum(term_year[deal_rep], np.where(split, term_year[partner], 10_000))
    last_sell = np.minimum(sell_to[deal_rep], np.where(split, sell_to[partner], day_end))
    cancel = close + rng.integers(30, 121, size=m).astype("timedelta64[D]")
    cancelled = (rng.random(m) < 0.02) & (cancel <= last_sell)
    cancel = np.where(cancelled, cancel, nat)

    # --- accounts: each rep works a pool of 60 accounts -----------------------------------
    account_no = deal_rep * 60 + rng.integers(0, 60, size=m) + 1
    account = ("ACC" + pd.Series(account_no).astype("str").str.zfill(6)).to_numpy(dtype=object)

    # --- order deals and give them ids ----------------------------------------------------
    order = np.lexsort((rng.random(m), deal_rep, day_idx))
    amount_text, margin_text = _money(amount_cents[order], margin_cents[order])
    rep_ids = _ids("R", n, max(3, len(str(n))))
    deal_ids = _ids("D", m, max(6, len(str(m))))
    currency = np.where(deal["foreign"], fx_names[deal["fx"]], "USD").astype(object)
    deals = pd.DataFrame({
        "deal_id": deal_ids,
        "rep_id": rep_ids[deal_rep[order]],
        "close_date": _dates(close[order]),
        "amount": amount_text,
        "currency": currency[order],
        "product": np.array(PRODUCTS, dtype=object)[product[order]],
        "deal_type": np.array(DEAL_TYPES, dtype=object)[deal["type"][order]],
        "region": np.array(REGIONS, dtype=object)[region[deal_rep[order]]],
        "account": account[order],
        "cancel_date": _dates(cancel[order]),
        "margin": margin_text,
        "units": pd.Series(units[order]).astype("str").to_numpy(dtype=object),
    })

    # --- splits: owner first, then the partner -------------------------------------------
    s_idx = np.flatnonzero(split[order])
    s_deal = order[s_idx]
    mix = deal["mix"][s_deal]
    splits = pd.DataFrame({
        "deal_id": np.repeat(deal_ids[s_idx], 2),
        "rep_id": np.column_stack([rep_ids[deal_rep[s_deal]],
                                   rep_ids[partner[s_deal]]]).ravel(),
        "share": np.column_stack([np.array(["0.5", "0.6", "0.7"], dtype=object)[mix],
                                  np.array(["0.5", "0.4", "0.3"], dtype=object)[mix]]).ravel(),
    })

    # --- payments: terms, late and partial payers; in the deal's currency ------------------
    o_amount = amount_cents[order]
    o_close = close[order]
    o_cancel = cancel[order]
    o_last = last_year_of[order]
    lag = (rng.choice(np.array([30, 45, 60]), size=m, p=[0.45, 0.30, 0.25])
           + np.rint(3 * rng.standard_normal(m)).astype(np.int64))
    late = rng.random(m) < 0.12
    lag = np.maximum(lag + np.where(late, rng.integers(15, 91, size=m), 0), 1)
    partial = rng.random(m) < 0.10
    first = np.where(partial, np.floor(o_amount * rng.uniform(0.3, 0.7, size=m)).astype(
        np.int64), o_amount)
    second_lag = lag + rng.integers(30, 91, size=m)
    never = partial & (rng.random(m) < 1 / 3)
    paid1 = o_close + lag.astype("timedelta64[D]")
    paid2 = o_close + second_lag.astype("timedelta64[D]")
    unpaid = ~np.isnat(o_cancel) & (o_cancel <= paid1)
    pay_deal = np.concatenate([np.arange(m), np.arange(m)])
    pay_date = np.concatenate([paid1, paid2])
    pay_amount = np.concatenate([first, o_amount - first])
    keep = np.concatenate([~unpaid, partial & ~never & ~unpaid])
    keep &= pay_date <= day_end
    keep &= pay_date.astype("datetime64[Y]").astype(np.int64) + 1970 <= o_last[pay_deal]
    keep &= pay_amount > 0
    p_order = np.lexsort((pay_deal[keep], pay_date[keep]))
    payments = pd.DataFrame({
        "deal_id": deal_ids[pay_deal[keep][p_order]],
        "paid_date": _dates(pay_date[keep][p_order]),
        "amount": _money(pay_amount[keep][p_order])[0],
    })

    # --- quotas: the months summed into the table's periods -------------------------------
    per = {"month": 1, "quarter": 3, "year": 12}[quota_period]
    unit = 1_000 if quota_period == "year" else 100
    period_quota = month_quota.reshape(n, n_months // per, per).sum(axis=2)
    period_on = selling.reshape(n, n_months // per, per).any(axis=2)
    rounded = np.maximum(np.rint(period_quota / unit), 1).astype(np.int64) * unit * 100
    qr, qp = np.nonzero(period_on)
    quotas = pd.DataFrame({"rep_id": rep_ids[qr]})
    if quota_period == "year":
        quotas["year"] = pd.Series(first_year + qp).astype("str").to_numpy(dtype=object)
    else:
        quotas["period_start"] = _dates(month_starts[qp * per])
    quotas["quota"] = _money(rounded[qr, qp])[0]

    # --- roster: selling reps, SEs and the manager tree ----------------------------------
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
    se_per_region = np.where(region_count > 0,
                             np.maximum(1, np.rint(region_count / REPS_PER_SE).astype(int)), 0)
    if not (solution_engineers or overlays):
        se_per_region = np.zeros_like(se_per_region)
    n_se = int(se_per_region.sum())
    se_region = np.repeat(np.arange(len(REGIONS)), se_per_region)
    se_first = np.concatenate([[0], np.cumsum(se_per_region)[:-1]])
    se_ids = _ids("S", n_se, 3)
    names = _names(rng, n + n_mgr + 3)
    if hostile_names:
        names[min(2, n - 1)] = HOSTILE_NAME
    mgr_hire = plan_start - rng.integers(2 * 365, 12 * 365, size=n_mgr + 3).astype(
        "timedelta64[D]")
    # SEs from their own stream, so that adding them changes nothing else.
    se_rng = np.random.default_rng([int(seed), 1])
    se_names = _names(se_rng, n_se)
    se_hire = plan_start - se_rng.integers(2 * 365, 12 * 365, size=n_se).astype(
        "timedelta64[D]")
    role_ti = np.array([r.target_incentive for r in ROLES])[role]
    role_base = np.array([r.base_salary for r in ROLES])[role]
    # A few new hires of the plan year get a recoverable quarterly draw of half their
    # quarterly target incentive.
    plan_hire = hired_in & (hire_year == n_years - 1)
    gets_draw = plan_hire & (rng.random(n) < 0.5) & (role != 2)
    leader_base = np.array([MANAGER_BASE["VP"]] + [MANAGER_BASE["Director"]] * 2
                           + [MANAGER_BASE["Manager"]] * n_mgr)
    money = _money(role_ti * 100, role_base * 100, role_ti * 100 // 8, leader_base * 100,
                   [SE_TARGET_INCENTIVE * 100, SE_BASE_SALARY * 100, 0,
                    MANAGER_BASE["Manager"] * 100, ROLES[0].target_incentive * 100,
                    ROLES[0].base_salary * 100])
    ti_text, base_text, draw_text, leader_base_text, (se_ti, se_base, zero, mgr_base,
                                                      ae_ti, ae_base) = money
    draw = np.where(gets_draw, draw_text, "")
    draw_type = np.where(gets_draw, "recoverable", "")
    sellers = pd.DataFrame({
        "rep_id": rep_ids,
        "name": names[:n],
        "manager_id": mgr_ids[rep_mgr],
        "role": np.array([r.name for r in ROLES], dtype=object)[role],
        "region": np.array(REGIONS, dtype=object)[region],
        "target_incentive": ti_text,
        "base_salary": base_text,
        "hire_date": _dates(hire),
        "term_date": _dates(term),
        "draw": draw.astype(object),
        "draw_type": draw_type.astype(object),
    })
    leaders = pd.DataFrame({
        "rep_id": np.concatenate([[vp_id], dir_ids, mgr_ids]),
        "name": np.concatenate([names[n + n_mgr:n + n_mgr + 3], names[n:n + n_mgr]]),
        "manager_id": np.concatenate([[""], [vp_id, vp_id], dir_ids[mgr_dir]]),
        "role": ["VP", "Director", "Director"] + ["Manager"] * n_mgr,
        "region": ["Global", "Americas", "International"]
        + [REGIONS[r] for r in mgr_region],
        "target_incentive": zero,
        "base_salary": leader_base_text,
        "hire_date": _dates(mgr_hire),
        "term_date": "",
        "draw": "",
        "draw_type": "",
    })
    engineers = pd.DataFrame({
        "rep_id": se_ids,
        "name": se_names,
        "manager_id": dir_ids[np.where(se_region <= 1, 0, 1)],
        "role": SE_ROLE,
        "region": np.array(REGIONS, dtype=object)[se_region],
        "target_incentive": se_ti,
        "base_salary": se_base,
        "hire_date": _dates(se_hire),
        "term_date": "",
        "draw": "",
        "draw_type": "",
    })
    frames = [leaders, sellers, engineers]
    columns = list(ROSTER_COLUMNS)
    changed = [i for i in (promoted, lateral) if i >= 0]
    if changed:
        columns += list(EFFECTIVE_COLUMNS)
        for frame in frames:
            frame["effective_from"] = ""
            frame["effective_to"] = ""
        new_rows = sellers.iloc[changed].copy()
        for i, row in zip(changed, range(len(changed)), strict=True):   # two reps
            on = promote_on if i == promoted else lateral_on
            sellers.loc[i, "effective_to"] = str(on - one_day)
            label = new_rows.index[row]
            new_rows.loc[label, "effective_from"] = str(on)
            if i == promoted:
                new_rows.loc[label, ["manager_id", "role", "target_incentive", "base_salary"]] = [
                    dir_ids[0 if region[i] <= 1 else 1], "Manager", zero, mgr_base]
            else:
                new_rows.loc[label, ["role", "target_incentive", "base_salary"]] = [
                    ROLES[0].name, ae_ti, ae_base]
        frames.append(new_rows)
    roster = pd.concat(frames, ignore_index=True)[columns]

    fx = pd.DataFrame({"currency": list(FX_RATES), "rate": list(FX_RATES.values())})
    tables = {"deals": deals, "roster": roster, "quotas": quotas, "splits": splits, "fx": fx,
              "payments": payments}
    if overlays:
        # Each seller is supported by one SE of the region; SEs are credited with the
        # seller's new and expansion deals of every product but Services.
        o_rep = deal_rep[order]
        se_of = se_first[region[o_rep]] + rank_in_region[o_rep] % np.maximum(
            se_per_region[region[o_rep]], 1)
        covered = ((deals["product"] != "Services") & (deals["deal_type"] != "renewal")
                   ).to_numpy(bool)
        tables["overlays"] = pd.DataFrame({"deal_id": deal_ids[covered],
                                           "rep_id": se_ids[se_of[covered]],
                                           "share": "1"})
    return tables


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
    """Generate a sample org (keyword arguments as :func:`generate`) and write its tables
    as CSV files (``deals.csv``, ``roster.csv``, ``quotas.csv``, ``splits.csv``,
    ``fx.csv``, ``payments.csv``, and ``overlays.csv`` when asked) into ``out_dir``;
    nothing is written when generation fails.

    Returns the paths written.
    """
    tables = generate(**kw)  # type: ignore[arg-type]
    return write_tables(tables, out_dir)
