"""Building scenario reports: one from arguments, or many from a manifest.

:func:`build_report` checks the data and every plan (load, then a quick payout run) before
any kernel starts, then runs the shipped ``scenario_report.ipynb``.  :func:`run_manifest`
runs the named reports of a ``reports.yaml`` one by one (a failure does not stop the
others) into ``<out>/<YYYY-MM-DD>/<name>/`` and writes an ``index.html`` listing them.

A manifest::

    out: reports                  # output root, relative to this file (default: reports)
    reports:
      - name: ae-2026             # folder name: letters, digits, '.', '_', '-'
        data: data                # data folder (deals, quotas, roster, ...)
        mapping: crm.yaml         # optional: a mapping of your own files, with or
                                  # instead of data (its tables replace data's)
        baseline: scenarios/baseline.yaml
        scenarios: [scenarios/accelerator.yaml]
        audience: executive       # or analyst (default executive)
        out: other-root           # optional: this report's output root instead
        draws: 2000               # optional Monte Carlo draws (default 2000)
        seed: 0                   # optional seed (default 0)
        title: AE plan 2026       # optional report title

Paths in a manifest are relative to the manifest's folder, and the ``out`` folders must lie
inside it unless ``allow_outside`` (``--allow-outside``) is given.  A report's folder is an
output set (:mod:`spmkit.outputs`): a failed or stopped report leaves the previous one, and
no empty folders.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from spmkit.errors import InputError, PlanError, Problem, SpmkitError
from spmkit.outputs import atomic_file
from spmkit.report.html import index_html
from spmkit.report.notebook import AUDIENCES, run_notebook

__all__ = [
    "REPORT_NOTEBOOK",
    "Manifest",
    "ReportSpec",
    "RunOutcome",
    "build_report",
    "load_manifest",
    "run_manifest",
    "validate_report_inputs",
]

REPORT_NOTEBOOK = "scenario_report.ipynb"
DEFAULT_TITLE = "Compensation plan scenarios"


def validate_report_inputs(data: str | Path, baseline: str | Path,
                           scenarios: Sequence[str | Path],
                           warnings: list | None = None) -> list[str]:
    """Check a report's inputs without starting a kernel; return the plan names.

    Loads the data folder (:func:`spmkit.tables.load_data_dir`), loads every plan and runs
    :func:`spmkit.payout.calculate` on each, so bad input fails fast with one message.
    When ``warnings`` is a list, the runs' warnings (:func:`spmkit.checks.run_warnings`)
    are appended to it.

    Raises
    ------
    SpmkitError
        A missing folder or file, a table or plan the loaders reject, a plan the engine
        cannot compute, or two plans with the same ``plan:`` name.
    """
    from spmkit.payout import calculate
    from spmkit.plan import load_plan
    from spmkit.tables import load_data_dir

    data = Path(data)
    if not data.is_dir():
        raise InputError(Problem(str(data), "no such data folder"))
    plan_paths = [Path(baseline), *(Path(s) for s in scenarios)]
    missing = [Problem(str(p), "no such plan file") for p in plan_paths if not p.is_file()]
    if missing:
        raise PlanError(missing)
    plans = {path: load_plan(path) for path in plan_paths}
    inputs = load_data_dir(data, measure_columns=tuple(sorted(
        {c for plan in plans.values() for c in plan.measure_columns()})))
    names: dict[str, Path] = {}
    for path, plan in plans.items():
        if plan.plan in names:
            raise PlanError(Problem(str(path), f"plan name {plan.plan!r} is also the name of "
                                    f"{names[plan.plan]}; plans in a report need distinct "
                                    "names", where="plan"))
        names[plan.plan] = path
        try:
            result = calculate(plan, inputs)
        except SpmkitError as exc:
            raise type(exc)([f"{path}: {p}" if isinstance(p, str) else p
                             for p in exc.problems]) from None
        if warnings is not None:
            from spmkit.checks import run_warnings

            warnings.extend(run_warnings(plan, inputs, result, plan_source=str(path)))
    return list(names)


def build_report(data: str | Path, baseline: str | Path, scenarios: Sequence[str | Path],
                 out: str | Path, *, audience: str = "executive", draws: int = 2000,
                 seed: int = 0, title: str | None = None, mapping: str | Path | None = None,
                 on_warnings: Callable[[list], None] | None = None,
                 margin: float | None = None) -> dict[str, Path]:
    """Validate the inputs, then run the scenario report notebook into ``out``.

    ``margin`` (gross margin on an extra dollar of sales, in (0, 1]) adds each scenario's
    break-even sales uplift to the report.

    Parameters
    ----------
    data, baseline, scenarios
        The data folder, the baseline plan file and the plan files to compare.
    out
        Output folder: ``report.html``, ``report.ipynb``, ``metrics.json`` (per plan name:
        the headline numbers, e.g. ``total_payout``; plus ``_provenance``) and
        ``tables.xlsx`` are written there atomically.
    audience
        ``"executive"`` (aggregates only, no rep names or ids, groups under 5 reps hidden)
        or ``"analyst"`` (adds rep-level tables).
    draws, seed
        Monte Carlo draws and seed.
    title
        Report title.
    mapping
        A mapping file (:mod:`spmkit.mapping`): its tables, with the other tables of
        ``data`` (which may then be None).
    on_warnings
        Called with the runs' warnings (:func:`spmkit.checks.run_warnings`) once the inputs
        are checked, before the notebook runs; it may raise to stop the report.

    Returns
    -------
    dict[str, pathlib.Path]
        As :func:`spmkit.report.notebook.run_notebook`.
    """
    if audience not in AUDIENCES:
        raise SpmkitError(f"audience {audience!r}: must be one of {', '.join(AUDIENCES)}")
    if draws < 1:
        raise SpmkitError(f"draws {draws}: must be at least 1")
    from spmkit.mapping import mapped_data_dir
    from spmkit.report.compose import build_from_files

    with mapped_data_dir(data, mapping) as (folder, imported):
        found: list = list(imported.warnings) if imported else []
        # every input is checked and each plan credited and measured once, here, before
        # any kernel starts; the warnings come from the same runs; the notebook displays it
        report = build_from_files(folder, baseline, scenarios, audience=audience,
                                  draws=draws, seed=seed, title=title or DEFAULT_TITLE,
                                  warnings=found if on_warnings is not None else None,
                                  margin=margin)
        if on_warnings is not None:
            on_warnings(found)
        return _run_report(folder, baseline, scenarios, out, audience=audience, draws=draws,
                           seed=seed, title=title, report=report)


def _run_report(data: Path, baseline: str | Path, scenarios: Sequence[str | Path],
                out: str | Path, *, audience: str, draws: int, seed: int,
                title: str | None, report: Any) -> dict[str, Path]:
    params = {
        "data_dir": str(Path(data).resolve()),
        "baseline": str(Path(baseline).resolve()),
        "scenarios": [str(Path(s).resolve()) for s in scenarios],
        "draws": int(draws),
        "seed": int(seed),
        "title": title or DEFAULT_TITLE,
    }
    return run_notebook(REPORT_NOTEBOOK, params, out, audience=audience, report=report)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReportSpec(_Strict):
    """One named report of a manifest (paths as written, relative to the manifest)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    data: str | None = None
    mapping: str | None = None  # a mapping file (docs/mapping.md); with or instead of data
    baseline: str
    scenarios: tuple[str, ...] = ()
    audience: Literal["executive", "analyst"] = "executive"
    out: str | None = None
    draws: int = Field(default=2000, ge=1)
    seed: int = 0
    title: str | None = None


class Manifest(_Strict):
    """A ``reports.yaml``: an output root and the named reports."""

    out: str = "reports"
    reports: tuple[ReportSpec, ...] = Field(min_length=1)


def _where(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def load_manifest(path: str | Path) -> Manifest:
    """Read and validate a reports manifest.

    Raises
    ------
    SpmkitError
        Unreadable YAML, unknown keys (named), missing or wrong values, or two reports with
        the same name; every problem is listed with its key.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(Problem(str(path), f"cannot read the manifest: {exc.strerror}")) from None
    except UnicodeDecodeError as exc:
        raise InputError(Problem(str(path), f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} "
                                 f"at offset {exc.start}); save the manifest as UTF-8")) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else None
        raise InputError(Problem(str(path), "not valid YAML", where=where)) from None
    if not isinstance(raw, dict):
        raise InputError(Problem(str(path), "a manifest is a mapping with a 'reports' list"))
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = _where(err["loc"])
            if err["type"] == "extra_forbidden":
                problems.append(Problem(str(path), f"unknown key {str(err['loc'][-1])!r}",
                                        where=where))
            else:
                problems.append(Problem(str(path), err["msg"], where=where))
        raise InputError(problems) from None
    seen: set[str] = set()
    for i, spec in enumerate(manifest.reports):
        if spec.name in seen:
            raise InputError(Problem(str(path), f"report name {spec.name!r} is used twice",
                                     where=f"reports[{i}].name"))
        seen.add(spec.name)
    return manifest


@dataclass(frozen=True)
class RunOutcome:
    """What happened to one report of a manifest."""

    name: str
    status: Literal["ok", "failed"]
    folder: Path
    html: Path | None
    error: str = ""


def _check_outs(path: Path, manifest: Manifest, base: Path) -> None:
    """Every ``out`` of the manifest lies inside the manifest's folder ``base``."""
    problems = []
    outs = [("out", manifest.out)]
    outs += [(f"reports[{i}].out", spec.out) for i, spec in enumerate(manifest.reports)
             if spec.out is not None]
    for where, out in outs:
        if not (base / out).resolve().is_relative_to(base):
            problems.append(Problem(str(path), f"out {out!r} lies outside the manifest's "
                                    f"folder {base}; use a folder inside it, or pass "
                                    "--allow-outside", where=where))
    if problems:
        raise InputError(problems)


def run_manifest(path: str | Path, *, run_date: date | None = None,
                 allow_outside: bool = False) -> tuple[Path, list[RunOutcome]]:
    """Run every report of the manifest at ``path``; a failure does not stop the others.

    Each report goes to ``<out>/<YYYY-MM-DD>/<name>/`` (``out`` from the report, else the
    manifest; relative to the manifest).  ``index.html`` in the manifest's
    ``<out>/<YYYY-MM-DD>/`` lists every report with its status, a link to its HTML and any
    error (escaped).

    Parameters
    ----------
    path
        The manifest file.
    run_date
        The date naming the folder (default: today).
    allow_outside
        Let ``out`` folders lie outside the manifest's folder (else an error, before any
        report runs).

    Returns
    -------
    (pathlib.Path, list[RunOutcome])
        The index file and one outcome per report, in manifest order.

    Raises
    ------
    SpmkitError
        The manifest is unreadable or invalid, or an ``out`` lies outside its folder; no
        report runs then.
    """
    path = Path(path)
    manifest = load_manifest(path)
    base = path.resolve().parent
    if not allow_outside:
        _check_outs(path, manifest, base)
    day = (run_date or date.today()).isoformat()
    root = base / manifest.out / day
    outcomes = []
    for spec in manifest.reports:
        folder = base / (spec.out or manifest.out) / day / spec.name
        try:
            if spec.data is None and spec.mapping is None:
                raise InputError(Problem(str(path), "a report needs 'data' (a folder), "
                                         "'mapping' (a mapping file) or both",
                                         where=spec.name))
            files = build_report(
                base / spec.data if spec.data is not None else None, base / spec.baseline,
                [base / s for s in spec.scenarios],
                folder, audience=spec.audience, draws=spec.draws, seed=spec.seed,
                title=spec.title or spec.name,
                mapping=base / spec.mapping if spec.mapping is not None else None,
            )
            outcomes.append(RunOutcome(spec.name, "ok", folder, files["html"]))
        except SpmkitError as exc:
            outcomes.append(RunOutcome(spec.name, "failed", folder, None, str(exc)))
        except Exception as exc:  # a bug in one report must not stop the others
            outcomes.append(RunOutcome(spec.name, "failed", folder, None,
                                       f"internal error: {type(exc).__name__}: {exc}"))
    rows = [{"name": o.name, "status": o.status, "error": o.error,
             "link": os.path.relpath(o.html, root).replace(os.sep, "/") if o.html else ""}
            for o in outcomes]
    index = root / "index.html"
    with atomic_file(index) as tmp:
        tmp.write_text(index_html(f"spmkit reports {day}", rows), encoding="utf-8")
    return index, outcomes
