"""Running the shipped notebooks with Papermill and rendering their HTML reports.

A report is a parameterized notebook from the project's ``notebooks/`` folder (shipped in
the wheel as ``spmkit/notebooks/``).  :func:`run_notebook` executes it in a fresh kernel,
renders ``report.html`` (outputs only, sanitized; see :mod:`spmkit.report.html`), keeps
``report.ipynb`` and the files the notebook wrote itself (its ``metrics_path`` sidecar and,
when the notebook takes one, its ``tables_path`` workbook).  Everything is staged and the
files appear in the output folder together, as one set (:func:`spmkit.outputs.atomic_dir`),
only when all of it succeeded; the kernel's working folder, connection file and sockets
live in a private ``spmkit-run-*`` folder that goes with the run
(:func:`spmkit.outputs.scratch_dir`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from spmkit.errors import SpmkitError
from spmkit.outputs import atomic_dir, scratch_dir

__all__ = [
    "AUDIENCES",
    "file_sha256",
    "input_provenance",
    "json_safe",
    "run_notebook",
    "shipped_notebook",
    "shipped_notebooks",
    "write_metrics",
]

AUDIENCES = ("executive", "analyst")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _notebook_dirs() -> list[Path]:
    package = Path(__file__).resolve().parent.parent  # spmkit/
    # a wheel ships them inside the package; an editable install finds the repo's folder
    return [package / "notebooks", package.parent / "notebooks"]


def shipped_notebooks() -> list[str]:
    """File names of the notebooks shipped with spmkit (``scenario_report.ipynb``, ...)."""
    names: set[str] = set()
    for folder in _notebook_dirs():
        if folder.is_dir():
            names.update(p.name for p in folder.glob("*.ipynb"))
    return sorted(names)


def shipped_notebook(name: str) -> Path:
    """The path of the shipped notebook called ``name`` (a bare file name).

    Only notebooks shipped with spmkit are accepted: a path, a name with a folder in it or
    an unknown name raises :class:`SpmkitError` listing the available ones.
    """
    if not name or Path(name).name != name or not name.endswith(".ipynb"):
        raise SpmkitError(f"notebook {name!r}: give the file name of a shipped notebook "
                          f"({', '.join(shipped_notebooks()) or 'none found'})")
    for folder in _notebook_dirs():
        path = folder / name
        if path.is_file():
            return path
    raise SpmkitError(f"notebook {name!r}: no such shipped notebook "
                      f"(available: {', '.join(shipped_notebooks()) or 'none'})")


def json_safe(value: Any) -> Any:
    """``value`` with paths, dates and Decimals as strings/numbers, so Papermill and JSON
    accept it (tuples become lists; mapping keys become strings)."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return json_safe(value.item())
    return str(value)


def file_sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def input_provenance(inputs: Any, plan_paths: Iterable[str | Path]) -> dict[str, Any]:
    """Where a report's numbers came from: row counts, the deals' date window, plan hashes.

    Parameters
    ----------
    inputs
        A :class:`spmkit.tables.Inputs` (frames ``deals``, ``quotas``, ``roster``,
        ``splits``, ``fx``; absent ones ``None``).  ``deals.close_date`` gives the window.
    plan_paths
        Plan files; each is hashed (SHA-256 of its bytes).

    Returns
    -------
    dict
        ``rows`` (table -> row count), ``data_window`` (first and last close date,
        ISO strings), ``plans`` (list of ``{"file", "sha256"}``) and ``spmkit_version``.
    """
    from spmkit import __version__

    rows = {}
    for table in ("deals", "quotas", "roster", "splits", "fx"):
        frame = getattr(inputs, table, None)
        if frame is not None:
            rows[table] = int(len(frame))
    window: dict[str, str | None] = {"first": None, "last": None}
    deals = getattr(inputs, "deals", None)
    if deals is not None and len(deals):
        window = {"first": deals["close_date"].min().date().isoformat(),
                  "last": deals["close_date"].max().date().isoformat()}
    plans = [{"file": Path(p).name, "sha256": file_sha256(p)} for p in plan_paths]
    return {"spmkit_version": __version__, "rows": rows, "data_window": window,
            "plans": plans}


def write_metrics(path: str | Path, metrics: Mapping[str, Any],
                  provenance: Mapping[str, Any]) -> Path:
    """Write a report's sidecar JSON: ``metrics`` (keyed by plan name) plus ``_provenance``.

    The file is ``{<plan name>: {...headline numbers...}, ..., "_provenance": {...}}``,
    sorted keys, two-space indent.  A plan named ``_provenance`` is refused.
    """
    if "_provenance" in metrics:
        raise SpmkitError("metrics: a plan may not be named '_provenance'")
    payload = json_safe({**metrics, "_provenance": dict(provenance)})
    path = Path(path)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, allow_nan=False) + "\n",
                    encoding="utf-8")
    return path


def _execution_error(name: str, exc: Exception) -> SpmkitError:
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = _ANSI.sub("", str(getattr(exc, "evalue", exc))).strip()
    where = ""
    count = getattr(exc, "exec_count", None)
    index = getattr(exc, "cell_index", None)
    if count is not None:
        where = f" in cell [{count}]"
    elif index is not None:
        where = f" in cell {index}"
    message = evalue.splitlines()[0] if evalue else ""
    if len(evalue.splitlines()) > 1:
        message = evalue  # an SpmkitError listing several problems
    return SpmkitError(f"notebook {name}: failed{where}: {ename}: {message}")


def _kernel_options(workdir: Path) -> dict[str, Any]:
    """Keep the kernel's connection file (and, where the platform has them, its IPC
    sockets rather than TCP ports) in the run's private working folder, so they go when it
    goes; keep the kernel's log off our stderr."""
    from traitlets.config import Config

    connection = workdir / "kernel.json"
    manager: dict[str, Any] = {"connection_file": str(connection)}
    # a socket path must stay under the platform's limit (108 bytes on Linux)
    if os.name == "posix" and len(str(workdir / "kernel-ipc-99")) < 100:
        manager["transport"] = "ipc"
    return {"config": Config({"KernelManager": manager}),
            "extra_arguments": ["--Application.log_level=CRITICAL"]}


def run_notebook(notebook: str, parameters: Mapping[str, Any], out_dir: str | Path, *,
                 audience: str = "executive", start_timeout: int = 60,
                 report: Any = None) -> dict[str, Path]:
    """Execute a shipped notebook with Papermill and write its report into ``out_dir``.

    Parameters
    ----------
    notebook
        File name of a shipped notebook, e.g. ``"scenario_report.ipynb"``.
    parameters
        Papermill parameters; made JSON-safe (paths and dates become strings).
        ``metrics_path`` (and ``tables_path`` when the notebook declares it) are set by
        this function to files in the staging folder; ``audience`` is set from the
        argument.
    out_dir
        Output folder; created if needed.  The files replace the previous report's set
        there (a file of that set this run does not write is removed; other files are
        kept).
    audience
        ``"executive"`` (aggregates only; Papermill's parameters are stripped from the
        saved ``report.ipynb``) or ``"analyst"``.
    report
        A :class:`spmkit.report.compose.Report` already built (when the notebook takes a
        ``report_path``): written to the run's private folder for the kernel to display,
        so the plans are not credited again; never part of the output.

    Returns
    -------
    dict[str, pathlib.Path]
        ``html`` (report.html), ``ipynb`` (report.ipynb), ``metrics`` (metrics.json) when
        the notebook wrote it, and ``tables`` (tables.xlsx) when it wrote one.

    Raises
    ------
    SpmkitError
        Unknown notebook or audience, or a cell failed (the message names the notebook,
        the cell and the error; no traceback).  Nothing is written in that case.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from spmkit.report.html import render_html  # heavy (nbconvert): only when rendering

    if audience not in AUDIENCES:
        raise SpmkitError(f"audience {audience!r}: must be one of {', '.join(AUDIENCES)}")
    source = shipped_notebook(notebook)
    declared = papermill.inspect_notebook(str(source))
    out_dir = Path(out_dir).resolve()  # the kernel runs in another folder
    with atomic_dir(out_dir, kind="report") as stage, scratch_dir() as cwd:
        params = dict(json_safe(dict(parameters)))
        params["audience"] = audience
        files = {"metrics": stage / "metrics.json"}
        if "metrics_path" in declared:
            params["metrics_path"] = str(files["metrics"])
        if report is not None and "report_path" in declared:
            from spmkit.report.compose import save_report

            params["report_path"] = str(save_report(report, cwd / "report.pickle"))
        if "tables_path" in declared:
            files["tables"] = stage / "tables.xlsx"
            params["tables_path"] = str(files["tables"])
        executed = stage / "report.ipynb"
        try:
            papermill.execute_notebook(
                str(source), str(executed), parameters=params, kernel_name="python3",
                cwd=str(cwd), progress_bar=False, log_output=False, start_timeout=start_timeout,
                request_save_on_cell_execute=False, **_kernel_options(cwd),
            )
        except PapermillExecutionError as exc:
            raise _execution_error(notebook, exc) from None
        except (RuntimeError, TimeoutError, OSError) as exc:  # the kernel would not start or died
            raise SpmkitError(f"notebook {notebook}: the Python kernel failed "
                              f"({type(exc).__name__}: {exc}); nothing was written") from None
        nb = nbformat.read(executed, as_version=4)
        title = str(params.get("title") or source.stem.replace("_", " "))
        (stage / "report.html").write_text(render_html(nb, title=title), encoding="utf-8")
        if audience == "executive":
            nb.metadata.get("papermill", {}).pop("parameters", None)
            nb.metadata.get("papermill", {}).pop("input_path", None)
            nb.metadata.get("papermill", {}).pop("output_path", None)
            # the injected cell holds the run's paths: executives get the results only
            nb.cells = [c for c in nb.cells
                        if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
            for cell in nb.cells:
                cell.get("metadata", {}).get("papermill", {}).pop("parameters", None)
        nbformat.write(nb, executed)
        written = {"html": "report.html", "ipynb": "report.ipynb"}
        written.update({k: p.name for k, p in files.items() if p.exists()})
    return {key: out_dir / name for key, name in written.items()}
