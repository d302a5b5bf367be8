"""The plan explorer's controller: edit a plan, recompute through the engine, compare.

:class:`PlanExplorer` holds the loaded history (:class:`spmkit.tables.Inputs`), a
baseline plan and the plan being edited.  Every edit turns control values into a new
frozen :class:`~spmkit.plan.Plan` by rebuilding the plan's data and validating it with
:func:`spmkit.plan.load_plan` (so an invalid edit raises the same
:class:`~spmkit.errors.PlanError` a YAML file would), then recomputes with the same public
functions the CLI and the reports use: :func:`spmkit.payout.calculate`,
:func:`spmkit.scenario.kpis`, :func:`spmkit.scenario.rep_deltas`,
:func:`spmkit.scenario.rep_outcomes` and :func:`spmkit.scenario.pay_curve`.

A failed edit leaves the explorer exactly as it was: the last good plan and its figures.
The baseline is the baseline plan on the loaded history (no uplift); it is computed once.
The controller holds no widget code; :mod:`spmkit.report.explorer_widgets` is its view.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spmkit.errors import PlanError, Problem, SpmkitError
from spmkit.money import format_money
from spmkit.outputs import atomic_file
from spmkit.plan import COMPONENT_TYPES, Plan, dump_plan, load_plan, plan_to_dict

#: Where edits are reported from in error messages.
SOURCE = "plan explorer"

#: KPIs shown in the headline table, in order.
HEADLINE_METRICS = (
    "total_payout_cents",
    "credited_revenue_cents",
    "cost_of_sales",
    "target_incentive_cents",
    "payout_pct_of_target",
    "median_attainment",
    "share_at_or_above_100",
    "reps",
)

_CACHE_SIZE = 32


@dataclass(frozen=True)
class Snapshot:
    """Everything the explorer shows for one plan and uplift; numbers the library returned.

    Attributes
    ----------
    plan : Plan
        The edited plan these figures belong to.
    uplift : float
        Sales uplift applied to the history (0.1 = every deal 10% larger).
    result : spmkit.payout.Result
        The engine's result for ``plan`` on the (scaled) history.
    kpis, baseline_kpis : pandas.Series
        :func:`spmkit.scenario.kpis` of the result and of the baseline.
    headline : pandas.DataFrame
        Index: :data:`HEADLINE_METRICS`; columns ``baseline``, ``scenario``, ``delta``
        (object dtype: money stays integer cents, ratios are floats).
    rep_deltas : pandas.DataFrame
        :func:`spmkit.scenario.rep_deltas` (baseline -> edited): ``rep_id, name, region,
        role, attainment, baseline_payout_cents, payout_cents, delta_cents, delta_pct``.
    pay_curves : pandas.DataFrame
        Long: ``plan, attainment, payout_cents, payout_pct_of_target`` for the baseline and
        the edited plan (``plan`` is :attr:`baseline_label` / :attr:`scenario_label`).
    outcomes : pandas.DataFrame
        Long :func:`spmkit.scenario.rep_outcomes` of both, with a ``plan`` column.
    """

    plan: Plan
    uplift: float
    result: Any
    kpis: pd.Series
    baseline_kpis: pd.Series
    headline: pd.DataFrame
    rep_deltas: pd.DataFrame
    pay_curves: pd.DataFrame
    outcomes: pd.DataFrame
    baseline_label: str
    scenario_label: str
    #: The edits from the start plan, in words (``commission, band 2, rate: 0.1 -> 0.12``).
    changes: tuple[str, ...] = ()

    @property
    def total_payout_cents(self) -> int:
        return int(self.kpis["total_payout_cents"])

    @property
    def delta_cents(self) -> int:
        return int(self.headline.loc["total_payout_cents", "delta"])

    def movers(self, n: int = 5) -> pd.DataFrame:
        """The ``n`` reps who gain most and the ``n`` who lose most versus the baseline.

        Returns
        -------
        pandas.DataFrame
            :attr:`rep_deltas` columns plus ``direction`` (``gain`` / ``loss``); gains first
            (largest gain first), then losses (largest loss first). Reps with no change
            are left out.
        """
        from spmkit.scenario.metrics import movers

        return movers(self.rep_deltas, n)


def slugify(name: str) -> str:
    """A file-name-safe slug of a plan name: ``"AE 2026 (draft)"`` -> ``"ae-2026-draft"``."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def find_scenarios_dir(start: str | Path | None = None) -> Path:
    """The project's ``scenarios/`` folder: in ``start`` (default: cwd) or its parents.

    Falls back to ``start/scenarios`` when none exists (it is created on first save).
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "scenarios").is_dir():
            return folder / "scenarios"
    return here / "scenarios"


def to_decimal(value: Any, key: str) -> Decimal:
    """A control's value as an exact decimal (floats via their shortest 12-digit text).

    Raises
    ------
    PlanError
        When the value is not a finite number; names ``key``.
    """
    if isinstance(value, bool):
        raise PlanError(Problem(SOURCE, f"{value!r} is not a number", where=key))
    if isinstance(value, Decimal):
        out = value
    elif isinstance(value, (int, np.integer)):
        out = Decimal(int(value))
    elif isinstance(value, (float, np.floating)):
        out = Decimal(format(float(value), ".12g")) if np.isfinite(value) else Decimal("NaN")
    else:
        try:
            out = Decimal(str(value).strip().replace("_", "").replace(",", ""))
        except InvalidOperation:
            raise PlanError(Problem(SOURCE, f"{value!r} is not a number", where=key)) from None
    if not out.is_finite():
        raise PlanError(Problem(SOURCE, f"{value!r} is not a finite number", where=key))
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _diff(a: Any, b: Any, prefix: str, out: list[str]) -> None:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in list(a) + [k for k in b if k not in a]:
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in b:
                out.append(f"{path}: {_fmt(a[key])} -> (none)")
            elif key not in a:
                out.append(f"{path}: (none) -> {_fmt(b[key])}")
            else:
                _diff(a[key], b[key], path, out)
    elif (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple))
          and len(a) == len(b)):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, f"{prefix}[{i}]", out)
    elif a != b:
        out.append(f"{prefix}: {_fmt(a)} -> {_fmt(b)}")


_COMPONENT_PATH = re.compile(r"^components\[(\d+)\]\.?(.*)$")


def speak_path(path: str, data: Mapping[str, Any] | Plan) -> str:
    """A plan key path in the words of the explorer's labels, numbers counted from 1:
    ``components[0].tiers.bands[1].from`` -> ``commission, band 2, from``;
    ``components[1].curve[2][1]`` -> ``bonus, point 3, payout``.  Other paths unchanged."""
    m = _COMPONENT_PATH.match(str(path))
    if not m:
        return str(path)
    comps = data.components if isinstance(data, Plan) else data.get("components", [])
    i = int(m[1])
    if i < len(comps):
        comp = comps[i]
        cid = comp.id if isinstance(data, Plan) else comp.get("id", f"component {i + 1}")
    else:
        cid = f"component {i + 1}"
    rest = m[2]
    rest = re.sub(r"tiers\.bands\[(\d+)\]", lambda x: f"band {int(x[1]) + 1}", rest)
    rest = rest.replace("tiers.bands", "bands")
    rest = re.sub(r"curve\[(\d+)\]\[0\]", lambda x: f"point {int(x[1]) + 1}, attainment", rest)
    rest = re.sub(r"curve\[(\d+)\]\[1\]", lambda x: f"point {int(x[1]) + 1}, payout", rest)
    rest = re.sub(r"curve\[(\d+)\]", lambda x: f"point {int(x[1]) + 1}", rest)
    rest = re.sub(r"rates\[(\d+)\]", lambda x: f"rate row {int(x[1]) + 1}", rest)
    rest = rest.replace(".", ", ")
    return cid + (f", {rest}" if rest else "")


def _speak_message(message: str, path: str) -> str:
    """Validation messages count bands and points from 0 (as the YAML list does); the
    explorer's labels count from 1."""
    if "bands" in path or "curve" in path:
        return re.sub(r"\b(band|point) (\d+)\b", lambda x: f"{x[1]} {int(x[2]) + 1}",
                      message)
    return message


def _speak_error(exc: SpmkitError, data: Mapping[str, Any]) -> SpmkitError:
    """An edit's validation error in the explorer's words (see :func:`speak_path`)."""
    problems = []
    for p in exc.problems:
        if isinstance(p, Problem):
            path = p.column or p.where or ""
            problems.append(Problem(SOURCE, _speak_message(p.message, path),
                                    where=speak_path(path, data) if path else None))
            continue
        problems.append(p)
    return type(exc)(problems)


def plan_threshold(plan: Plan, component_id: str) -> Decimal | None:
    """The attainment below which a component pays nothing (``Component.threshold``).

    Commission: the ``from`` of the band after a leading zero-rate band (0 when the tiers
    pay from the first dollar). Bonus: the first curve point's attainment. ``None`` for
    components without one (SPIFs).
    """
    return plan.component(component_id).threshold()


def plan_changes(before: Plan, after: Plan) -> list[str]:
    """Human-readable key-path differences: ``components[0].tiers.bands[1].rate: 0.12 -> 0.15``.

    A list that changes length (bands added or removed) is shown whole.
    """
    out: list[str] = []
    _diff(plan_to_dict(before), plan_to_dict(after), "", out)
    return out


def edit_summary(before: Plan, after: Plan) -> list[str]:
    """:func:`plan_changes` in the explorer's words (``commission, band 2, rate: 0.1 ->
    0.12``), for labels."""
    out = []
    for change in plan_changes(before, after):
        path, _, rest = change.partition(": ")
        plan = after if _COMPONENT_PATH.match(path) else before
        out.append(f"{speak_path(path, plan)}: {rest}")
    return out


class PlanExplorer:
    """Controller of the plan explorer: the history, a baseline plan and the edited plan.

    Parameters
    ----------
    inputs : spmkit.tables.Inputs
        The loaded history (:func:`spmkit.tables.load_data_dir`).
    baseline : Plan
        What the edited plan is compared with.
    start : Plan, optional
        The plan to start editing from (default: ``baseline``).
    scenarios_dir : path, optional
        Folder of scenario YAML files to start from and to save into (default:
        :func:`find_scenarios_dir`).
    curve_attainment : array, optional
        Attainment points of the pay curves (default ``0, 0.05, ..., 2.0``).

    Notes
    -----
    Edits return the new :class:`Snapshot` and raise :class:`~spmkit.errors.PlanError`
    (an invalid plan) or another :class:`~spmkit.errors.SpmkitError` (e.g. the history
    cannot be computed under the edit); after an error, :attr:`plan` and
    :attr:`snapshot` are unchanged.
    """

    def __init__(self, inputs: Any, baseline: Plan, *, start: Plan | None = None,
                 scenarios_dir: str | Path | None = None,
                 curve_attainment: np.ndarray | None = None):
        self._inputs = inputs
        self._baseline = baseline
        self.scenarios_dir = Path(scenarios_dir) if scenarios_dir else find_scenarios_dir()
        self.curve_attainment = (np.linspace(0, 2, 41) if curve_attainment is None
                                 else np.asarray(curve_attainment, dtype=np.float64))
        self._scaled: dict[float, Any] = {0.0: inputs}
        self._results: OrderedDict[tuple[str, float], Any] = OrderedDict()
        self._curves: OrderedDict[str, pd.DataFrame] = OrderedDict()
        self._outcomes: OrderedDict[tuple[str, float], pd.DataFrame] = OrderedDict()
        self._baseline_result = self._calculate(baseline, 0.0)
        self._baseline_kpis = self._scenario().kpis(self._baseline_result)
        self._curve_kwargs = self._typical_rep(self._baseline_result)
        self._start = start or baseline
        self._start_source = self._start.plan
        self._uplift = 0.0
        self._snapshot = self._compute(self._start, 0.0)

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_paths(cls, data_dir: str | Path | None, baseline: str | Path, *,
                   start: str | Path | None = None, scenarios_dir: str | Path | None = None,
                   currency: str | None = None,
                   mapping: str | Path | None = None) -> PlanExplorer:
        """Load the history from ``data_dir`` and plans from YAML files.

        ``baseline`` (any plan file) and ``start`` may be paths or file names inside
        ``scenarios_dir``.  With ``mapping`` (:mod:`spmkit.mapping`), its tables replace
        those of ``data_dir``, which may then be None.
        """
        from spmkit.mapping import mapped_data_dir
        from spmkit.tables import load_data_dir

        folder = Path(scenarios_dir) if scenarios_dir else find_scenarios_dir()

        def resolve(p: str | Path) -> Path:
            p = Path(p)
            return p if p.exists() or p.is_absolute() else folder / p

        base_path = resolve(baseline)
        base = load_plan(base_path)
        first = load_plan(resolve(start)) if start is not None else None
        columns = {c for p in (base, first) if p is not None for c in p.measure_columns()}
        with mapped_data_dir(data_dir, mapping) as (folder_in, _):
            inputs = load_data_dir(folder_in, currency=currency,
                                   measure_columns=tuple(sorted(columns)))
        explorer = cls(inputs, base, start=first, scenarios_dir=folder)
        explorer._start_source = (resolve(start) if start is not None else base_path).name
        return explorer

    # ------------------------------------------------------------------ state

    @property
    def inputs(self) -> Any:
        """The loaded history (unscaled)."""
        return self._inputs

    @property
    def baseline(self) -> Plan:
        return self._baseline

    @property
    def baseline_result(self) -> Any:
        """The engine's result for the baseline plan on the history (memoized)."""
        return self._baseline_result

    @property
    def baseline_kpis(self) -> pd.Series:
        return self._baseline_kpis

    @property
    def curve_basis(self) -> dict[str, int]:
        """The typical rep of the pay curves: median annual ``target_incentive_cents`` and
        ``quota_cents`` of the baseline's payees (keys left out when none is positive, so
        :func:`spmkit.scenario.pay_curve`'s defaults apply)."""
        return dict(self._curve_kwargs)

    @property
    def start(self) -> Plan:
        """The plan editing started from (what :meth:`reset` returns to)."""
        return self._start

    @property
    def start_source(self) -> str:
        """Where the starting plan came from: a file name, or the plan's name."""
        return self._start_source

    @property
    def plan(self) -> Plan:
        """The edited plan (always valid: the last edit that succeeded)."""
        return self._snapshot.plan

    @property
    def uplift(self) -> float:
        return self._uplift

    @property
    def snapshot(self) -> Snapshot:
        """Figures for the current plan and uplift."""
        return self._snapshot

    def scenario_files(self) -> list[Path]:
        """The ``*.yaml`` files in :attr:`scenarios_dir`, sorted by name."""
        if not self.scenarios_dir.is_dir():
            return []
        return sorted(p for p in self.scenarios_dir.glob("*.yaml") if p.is_file())

    # ------------------------------------------------------------------ whole-plan edits

    def start_from(self, source: Plan | str | Path) -> Snapshot:
        """Start editing from another plan (a Plan, a path, or a file in scenarios_dir).

        The uplift is kept; the edits so far are dropped.
        """
        if isinstance(source, Plan):
            plan, label = source, source.plan
        else:
            path = Path(source)
            if not path.exists() and not path.is_absolute():
                path = self.scenarios_dir / path
            plan, label = load_plan(path), path.name
        snap = self._set(plan, self._uplift)
        self._start, self._start_source = plan, label
        return snap

    def reset(self) -> Snapshot:
        """Back to the starting plan with no uplift."""
        return self._set(self._start, 0.0)

    def apply(self, plan: Plan | Mapping[str, Any]) -> Snapshot:
        """Use ``plan`` (a Plan or its data) as the edited plan, validated afresh."""
        data = plan_to_dict(plan) if isinstance(plan, Plan) else dict(plan)
        return self._set(self._validate(data), self._uplift)

    def edit(self, change: Callable[[dict[str, Any]], None]) -> Snapshot:
        """Apply ``change`` to a copy of the plan's data (YAML key names), validate, recompute."""
        data = _mutable(plan_to_dict(self.plan))
        change(data)
        return self._set(self._validate(data), self._uplift)

    def set_uplift(self, uplift: float) -> Snapshot:
        """Scale every deal by ``1 + uplift`` (``0.1`` = +10%) through ``scale_sales``."""
        try:
            value = float(uplift)
        except (TypeError, ValueError):
            raise SpmkitError(Problem(SOURCE, f"{uplift!r} is not a number",
                                      column="uplift")) from None
        if not np.isfinite(value) or value <= -1:
            raise SpmkitError(Problem(SOURCE, "the sales uplift must be above -100%",
                                      column="uplift"))
        return self._set(self.plan, round(value, 6))

    def set_period(self, period: str) -> Snapshot:
        """The payout period: ``month``, ``quarter`` or ``year``."""
        return self.edit(lambda d: d.__setitem__("period", period))

    def set_name(self, name: str) -> Snapshot:
        """Rename the plan (a roster ``plan`` column selects payees by this name)."""
        return self.edit(lambda d: d.__setitem__("plan", str(name).strip()))

    # ------------------------------------------------------------------ component edits

    def set_band(self, component_id: str, index: int, *, start: Any = None, rate: Any = None,
                 bcr_multiple: Any = None) -> Snapshot:
        """Change band ``index`` of a commission's tiers: its ``from``, ``rate`` or
        ``bcr_multiple`` (setting one of the last two replaces the other)."""
        if rate is not None and bcr_multiple is not None:
            raise PlanError(Problem(SOURCE, "a band needs exactly one of 'rate' or "
                                            "'bcr_multiple'",
                                    where=f"{component_id}, band {index + 1}"))

        def change(d: dict[str, Any]) -> None:
            comp = self._component(d, component_id, "tiers")
            key = f"{component_id}, band {index + 1}"
            bands = comp["tiers"]["bands"]
            band = dict(bands[self._index(bands, index, key, "band")])
            if start is not None:
                band["from"] = to_decimal(start, key + ", from")
            if rate is not None:
                band.pop("bcr_multiple", None)
                band["rate"] = to_decimal(rate, key + ", rate")
            if bcr_multiple is not None:
                band.pop("rate", None)
                band["bcr_multiple"] = to_decimal(bcr_multiple, key + ", x BCR")
            bands[index] = band

        return self.edit(change)

    def add_band(self, component_id: str, after: int | None = None, *, start: Any = None,
                 rate: Any = None, bcr_multiple: Any = None) -> Snapshot:
        """Add a band to a commission's tiers after band ``after`` (0-based; default the
        last).  Its ``from`` defaults to halfway to the next band's (the last band's + 0.5
        at the end); its rate or BCR multiple to the band before's."""
        if rate is not None and bcr_multiple is not None:
            raise PlanError(Problem(SOURCE, "a band needs exactly one of 'rate' or "
                                            "'bcr_multiple'", where=f"{component_id}, bands"))

        def change(d: dict[str, Any]) -> None:
            comp = self._component(d, component_id, "tiers")
            bands = comp["tiers"]["bands"]
            i = len(bands) - 1 if after is None else after
            key = f"{component_id}, band {i + 2}"
            prev = dict(bands[self._index(bands, i, f"{component_id}, band {i + 1}", "band")])
            band = {k: v for k, v in prev.items() if k in ("rate", "bcr_multiple")}
            if start is not None:
                band["from"] = to_decimal(start, key + ", from")
            elif i + 1 < len(bands):
                band["from"] = (to_decimal(prev["from"], key) + to_decimal(
                    bands[i + 1]["from"], key)) / 2
            else:
                band["from"] = to_decimal(prev["from"], key) + Decimal("0.5")
            if rate is not None:
                band.pop("bcr_multiple", None)
                band["rate"] = to_decimal(rate, key + ", rate")
            if bcr_multiple is not None:
                band.pop("rate", None)
                band["bcr_multiple"] = to_decimal(bcr_multiple, key + ", x BCR")
            bands.insert(i + 1, band)

        return self.edit(change)

    def remove_band(self, component_id: str, index: int) -> Snapshot:
        """Remove band ``index`` (0-based) of a commission's tiers; the first band stays
        (a tier table starts at 0), so removing it is refused."""

        def change(d: dict[str, Any]) -> None:
            comp = self._component(d, component_id, "tiers")
            bands = comp["tiers"]["bands"]
            key = f"{component_id}, band {index + 1}"
            self._index(bands, index, key, "band")
            if index == 0:
                raise PlanError(Problem(SOURCE, "the first band cannot be removed: the tiers "
                                        "start at 0 (set its rate to 0 for a threshold)",
                                        where=key))
            del bands[index]

        return self.edit(change)

    def set_method(self, component_id: str, method: str) -> Snapshot:
        """A commission's tier method: ``marginal`` or ``retroactive``."""
        return self.edit(lambda d: self._component(d, component_id, "tiers")["tiers"]
                         .__setitem__("method", method))

    def set_curve_point(self, component_id: str, index: int, *, attainment: Any = None,
                        payout: Any = None) -> Snapshot:
        """Move point ``index`` of a bonus curve (attainment -> payout / target)."""

        def change(d: dict[str, Any]) -> None:
            comp = self._component(d, component_id, "curve")
            key = f"{component_id}, point {index + 1}"
            curve = [list(p) for p in comp["curve"]]
            point = curve[self._index(curve, index, key, "point")]
            if attainment is not None:
                point[0] = to_decimal(attainment, key + ", attainment")
            if payout is not None:
                point[1] = to_decimal(payout, key + ", payout")
            comp["curve"] = curve

        return self.edit(change)

    def add_curve_point(self, component_id: str, after: int | None = None, *,
                        attainment: Any = None, payout: Any = None) -> Snapshot:
        """Add a point to a bonus curve after point ``after`` (0-based; default the last).
        Defaults: halfway to the next point (the last point + 0.5 attainment, same payout,
        at the end)."""

        def change(d: dict[str, Any]) -> None:
            comp = self._component(d, component_id, "curve")
            curve = [list(p) for p in comp["curve"]]
            i = len(curve) - 1 if after is None else after
            key = f"{component_id}, point {i + 2}"
            prev = curve[self._index(curve, i, f"{component_id}, point {i + 1}", "point")]
            x0, y0 = to_decimal(prev[0], key), to_decimal(prev[1], key)
            if i + 1 < len(curve):
                x1, y1 = to_decimal(curve[i + 1][0], key), to_decimal(curve[i + 1][1], key)
                point = [(x0 + x1) / 2, (y0 + y1) / 2]
            else:
                point = [x0 + Decimal("0.5"), y0]
            if attainment is not None:
                point[0] = to_decimal(attainment, key + ", attainment")
            if payout is not None:
                point[1] = to_decimal(payout, key + ", payout")
            curve.insert(i + 1, point)
            comp["curve"] = curve

        return self.edit(change)

    def remove_curve_point(self, component_id: str, index: int) -> Snapshot:
        """Remove point ``index`` (0-based) of a bonus curve."""

        def change(d: dict[str, Any]) -> None:
            comp = self._component(d, component_id, "curve")
            curve = [list(p) for p in comp["curve"]]
            self._index(curve, index, f"{component_id}, point {index + 1}", "point")
            del curve[index]
            comp["curve"] = curve

        return self.edit(change)

    def set_above_last(self, component_id: str, above_last: str) -> Snapshot:
        """A bonus curve after its last point: ``cap`` (flat) or ``extend``."""
        return self.edit(lambda d: self._component(d, component_id, "curve")
                         .__setitem__("above_last", above_last))

    def set_cap(self, component_id: str, *, amount: Any = None,
                ti_multiple: Any = None) -> Snapshot:
        """A component's plan-year cap: an ``amount`` (currency units) or a ``ti_multiple``;
        neither removes the cap."""

        def change(d: dict[str, Any]) -> None:
            comp = self._component(d, component_id, "cap")
            if amount is None and ti_multiple is None:
                comp.pop("cap", None)
                return
            cap: dict[str, Any] = {}
            if amount is not None:
                cap["amount"] = to_decimal(amount, f"{component_id}, cap amount")
            if ti_multiple is not None:
                cap["ti_multiple"] = to_decimal(ti_multiple,
                                                f"{component_id}, cap x target incentive")
            comp["cap"] = cap

        return self.edit(change)

    def set_weight(self, component_id: str, weight: Any) -> Snapshot:
        """A component's weight (its share of the annual target incentive)."""
        return self.edit(lambda d: self._component(d, component_id, "weight").__setitem__(
            "weight", to_decimal(weight, f"{component_id}, weight")))

    def set_attainment_basis(self, component_id: str, basis: str) -> Snapshot:
        """A component's attainment basis: ``ytd`` (trued up) or ``period``."""
        return self.edit(lambda d: self._component(d, component_id, "attainment").__setitem__(
            "attainment", basis))

    def threshold(self, component_id: str) -> Decimal | None:
        """:func:`plan_threshold` of the edited plan."""
        return plan_threshold(self.plan, component_id)

    def set_threshold(self, component_id: str, threshold: Any) -> Snapshot:
        """Set :meth:`threshold`.

        Commission: with a leading zero-rate band its end moves (0 removes it); without
        one, a zero-rate band from 0 is inserted and the first band starts at the
        threshold. Bonus: the first curve point moves.
        """
        key = f"{component_id}, threshold"
        value = to_decimal(threshold, key)

        def change(d: dict[str, Any]) -> None:
            comp = self._component(d, component_id, "threshold", key)
            COMPONENT_TYPES[comp["type"]].set_threshold(comp, value)

        return self.edit(change)

    # ------------------------------------------------------------------ saving

    def save(self, path: str | Path | None = None, *, note: str = "", name: str | None = None,
             overwrite: bool = False) -> Path:
        """Write the edited plan as a commented scenario YAML.

        Parameters
        ----------
        path : path, optional
            A ``.yaml``/``.yml`` file, or a folder (default :attr:`scenarios_dir`) in which
            the file is named after the plan (``<slug of the plan name>.yaml``).
        note : str
            Free text for the leading comment block.
        name : str, optional
            Save under this plan name (the ``plan:`` key) instead of the current one.
        overwrite : bool
            Replace an existing file; without it an existing file is an error.

        Returns
        -------
        Path
            The file written. It loads back with :func:`spmkit.plan.load_plan` to a plan
            equal to the saved one.

        Raises
        ------
        PlanError
            An empty or invalid name.
        SpmkitError
            The file exists and ``overwrite`` is false.
        """
        plan = self.plan
        if name is not None and str(name).strip() != plan.plan:
            data = plan_to_dict(plan)
            data["plan"] = str(name).strip()
            plan = self._validate(data)
        slug = slugify(plan.plan)
        target = Path(path) if path is not None else self.scenarios_dir
        if target.suffix.lower() not in (".yaml", ".yml"):
            if not slug:
                raise PlanError(Problem(SOURCE, f"cannot make a file name from the plan name "
                                                f"{plan.plan!r}; use letters or digits",
                                        column="plan"))
            target = target / f"{slug}.yaml"
        if target.exists() and not overwrite:
            raise SpmkitError(Problem(str(target), "already exists; choose another name or "
                                                   "save with overwrite"))
        text = dump_plan(plan, header=self._header(plan, note))
        if load_plan(text, name=str(target)) != plan:  # pragma: no cover - a dump_plan bug
            raise SpmkitError(Problem(str(target), "the plan did not survive a YAML round trip"))
        with atomic_file(target) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return target

    def _header(self, plan: Plan, note: str) -> str:
        from spmkit import __version__

        snap = self._snapshot
        h = snap.headline
        money = format_money(np.array([h.loc["total_payout_cents", "scenario"],
                                       h.loc["total_payout_cents", "baseline"]], dtype=np.int64))
        lines = [
            f"{plan.plan}: saved from the spmkit {__version__} plan explorer on "
            f"{date.today().isoformat()}.",
            f"Started from {self._start_source}; compared with the baseline "
            f"{self._baseline.plan!r}.",
        ]
        if note.strip():
            lines += ["", *[f"Note: {line}" if i == 0 else f"      {line}"
                            for i, line in enumerate(note.strip().splitlines())]]
        changes = plan_changes(self._start, plan)
        lines += ["", "Changes from the starting plan:" if changes else
                  "No changes from the starting plan."]
        lines += [f"  {c}" for c in changes]
        lines += ["", f"On the history at save time (sales uplift {snap.uplift:+.0%}):",
                  f"total payout {money[0]} vs baseline {money[1]}; cost of sales "
                      f"{float(h.loc['cost_of_sales', 'scenario']):.2%} vs "
                      f"{float(h.loc['cost_of_sales', 'baseline']):.2%}."]
        return "\n".join(lines)

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _scenario() -> Any:
        import spmkit.scenario as scenario

        return scenario

    def _component(self, data: dict[str, Any], component_id: str,
                   editable: str | None = None, key: str | None = None) -> dict[str, Any]:
        """The plan data of a component; with ``editable``, one whose type offers that field
        to the explorer (``Component.editable``)."""
        for comp in data["components"]:
            if comp["id"] == component_id:
                kind = COMPONENT_TYPES.get(comp["type"])
                if editable is not None and (kind is None or editable not in
                                             kind.model_validate(comp).editable_fields()):
                    raise PlanError(Problem(SOURCE, f"a {comp['type']} has no {editable} "
                                                    "to edit", where=key or component_id))
                return comp
        known = ", ".join(c["id"] for c in data["components"])
        raise PlanError(Problem(SOURCE, f"no component {component_id!r}; the plan has {known}",
                                where=component_id))

    @staticmethod
    def _index(items: list, index: int, key: str, item: str = "item") -> int:
        if not 0 <= index < len(items):
            raise PlanError(Problem(SOURCE, f"no {item} {index + 1}; there are {len(items)}",
                                    where=key))
        return index

    def _validate(self, data: dict[str, Any]) -> Plan:
        try:
            return load_plan(data, name=f"edited plan {data.get('plan', '')!r}")
        except PlanError as exc:
            raise _speak_error(exc, data) from None

    def _set(self, plan: Plan, uplift: float) -> Snapshot:
        if plan == self._snapshot.plan and uplift == self._uplift:
            return self._snapshot
        snap = self._compute(plan, uplift)  # raises before any state changes
        self._snapshot, self._uplift = snap, uplift
        return snap

    def _inputs_for(self, uplift: float) -> Any:
        if uplift not in self._scaled:
            if len(self._scaled) > _CACHE_SIZE:
                self._scaled = {0.0: self._inputs}
            self._scaled[uplift] = self._scenario().scale_sales(self._inputs, 1.0 + uplift)
        return self._scaled[uplift]

    def _calculate(self, plan: Plan, uplift: float) -> Any:
        from spmkit.payout import calculate

        key = (plan.model_dump_json(), uplift)
        if key not in self._results:
            self._results[key] = calculate(plan, self._inputs_for(uplift))
            _trim(self._results)
        self._results.move_to_end(key)
        return self._results[key]

    def _rep_outcomes(self, plan: Plan, uplift: float, result: Any) -> pd.DataFrame:
        key = (plan.model_dump_json(), uplift)
        if key not in self._outcomes:
            self._outcomes[key] = self._scenario().rep_outcomes(result)
            _trim(self._outcomes)
        self._outcomes.move_to_end(key)
        return self._outcomes[key]

    def _curve(self, plan: Plan) -> pd.DataFrame:
        key = plan.model_dump_json()
        if key not in self._curves:
            self._curves[key] = self._scenario().pay_curve(
                plan, attainment=self.curve_attainment, **self._curve_kwargs)
            _trim(self._curves)
        self._curves.move_to_end(key)
        return self._curves[key]

    @staticmethod
    def _typical_rep(result: Any) -> dict[str, int]:
        """Median target incentive and annual quota of the baseline's payees (for curves)."""
        totals = result.rep_totals().merge(result.reps[["rep_id", "target_incentive_cents"]],
                                           on="rep_id", how="left")
        out: dict[str, int] = {}
        ti = pd.to_numeric(totals["target_incentive_cents"], errors="coerce").dropna()
        ti = ti[ti > 0]
        q = totals["quota_cents"][totals["quota_cents"] > 0]
        if len(ti):
            out["target_incentive_cents"] = int(np.rint(ti.median()))
        if len(q):
            out["quota_cents"] = int(np.rint(q.median()))
        return out

    def _compute(self, plan: Plan, uplift: float) -> Snapshot:
        sc = self._scenario()
        result = self._calculate(plan, uplift)
        kpis = sc.kpis(result)
        base_kpis = self._baseline_kpis
        headline = _headline(base_kpis, kpis)
        deltas = sc.rep_deltas(self._baseline_result, result)
        changes = tuple(edit_summary(self._start, plan))
        base_label, label = _labels(self._baseline.plan, plan.plan, edited=bool(changes))
        curves = pd.concat([
            self._curve(self._baseline).assign(plan=base_label),
            self._curve(plan).assign(plan=label),
        ], ignore_index=True)
        curves = curves[["plan"] + [c for c in curves.columns if c != "plan"]]
        outcomes = pd.concat([
            self._rep_outcomes(self._baseline, 0.0, self._baseline_result).assign(plan=base_label),
            self._rep_outcomes(plan, uplift, result).assign(plan=label),
        ], ignore_index=True)
        return Snapshot(plan=plan, uplift=uplift, result=result, kpis=kpis,
                        baseline_kpis=base_kpis, headline=headline, rep_deltas=deltas,
                        pay_curves=curves, outcomes=outcomes, baseline_label=base_label,
                        scenario_label=label, changes=changes)


def _mutable(value: Any) -> Any:
    """A deep copy of plan data with tuples as lists and mappings as dicts (for editing)."""
    if isinstance(value, Mapping):
        return {k: _mutable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mutable(v) for v in value]
    return value


def _labels(baseline_name: str, name: str, *, edited: bool = True) -> tuple[str, str]:
    """The baseline's label and the edited plan's: ``edited: NAME`` once it has edits,
    ``NAME (no edits)`` before."""
    return f"baseline: {baseline_name}", (f"edited: {name}" if edited else f"{name} (no edits)")


def _trim(cache: OrderedDict) -> None:
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)


def _headline(baseline: pd.Series, scenario: pd.Series) -> pd.DataFrame:
    """Baseline, scenario and delta of :data:`HEADLINE_METRICS` (object dtype, exact ints)."""
    rows = []
    for metric in HEADLINE_METRICS:
        if metric not in scenario.index or metric not in baseline.index:
            continue
        b, s = baseline[metric], scenario[metric]
        if metric.endswith("_cents") or metric == "reps":
            b, s = int(b), int(s)
        else:
            b, s = float(b), float(s)
        rows.append((metric, b, s, s - b))
    frame = pd.DataFrame(rows, columns=["metric", "baseline", "scenario", "delta"], dtype=object)
    return frame.set_index("metric")
