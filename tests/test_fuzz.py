"""Fuzzing the plan loader, the table loaders and ``spmkit validate`` (issue 13, item 4).

The contract: whatever bytes the plan or table files hold, loading either succeeds or
raises :class:`~spmkit.errors.SpmkitError` (the CLI's exit 2 with one message); anything
else is a bug.  The CLI must exit 0 or 2, with no traceback and no ``internal error``,
within 2 GB of memory.

The inputs are mutations of good plans and tables (see ``tests/fuzz_targets.py``),
generated from a hypothesis-driven :class:`random.Random`.  In ``make test`` every test
is derandomized and database-free, so a run is reproducible, and the whole file stays
within about 30 s of wall time.  For a longer run, set ``SPMKIT_FUZZ_SECONDS``: the
hypothesis tests then draw ten times as many examples from a random seed, and
``test_fuzz_campaign`` runs plain seeds for that long and lists *every* distinct
failure (not just the first) with its input::

    SPMKIT_FUZZ_SECONDS=300 .venv/bin/python -m pytest tests/test_fuzz.py -q -k campaign

or, without pytest, ``.venv/bin/python tests/fuzz_targets.py --seconds 300 --out DIR``.
"""

from __future__ import annotations

import os
import random
import traceback
from pathlib import Path

import fuzz_targets as fz
import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

FUZZ_SECONDS = float(os.environ.get("SPMKIT_FUZZ_SECONDS") or 0)
LONG = FUZZ_SECONDS > 0


def fuzz_settings(ci_examples: int) -> settings:
    """Derandomized and without an example database (reproducible in CI); many more
    examples when SPMKIT_FUZZ_SECONDS is set."""
    return settings(
        max_examples=ci_examples if not LONG else ci_examples * 10,
        deadline=None,
        derandomize=not LONG,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


randoms = st.randoms(use_true_random=False, note_method_calls=False)


def _note_case(case: object) -> None:
    note("input:\n" + fz._show(case, limit=4000))


class ContractViolation(AssertionError):
    """A loader raised something other than SpmkitError (or hung, or used > 2 GB)."""


def _run(check, case, folder: Path, *, hypothesis: bool = True) -> str:
    if hypothesis:
        _note_case(case)
    failure = None
    try:
        with fz.guard():
            outcome = check(case, folder)
    except Exception as exc:  # noqa: BLE001 - anything that escapes is the finding
        parts = traceback.format_exception(exc)
        trace = "".join(parts if len(parts) < 16 else [*parts[:8], "  ...\n", *parts[-7:]])
        failure = f"{' | '.join(fz.signature(exc))}\n{trace}"
    if failure is not None:
        # Raised from this one line, outside the except block (no __context__): hypothesis
        # tells failures apart by where they were raised, and a RecursionError is raised
        # at a different depth on every replay, which it would call flaky.  The traceback
        # is in the message instead.
        if not hypothesis:
            failure += "\ninput:\n" + fz._show(case, limit=2000)
        raise ContractViolation(failure)
    if hypothesis:
        event(f"outcome: {outcome}")  # --hypothesis-show-statistics: how many inputs load
    return outcome


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# --------------------------------------------------------------------------- in process


@fuzz_settings(200)
@given(rng=randoms)
def test_fuzz_plan_loader(rng: random.Random, workdir: Path) -> None:
    """load_plan on mutated plans: a Plan (that survives to_yaml) or a SpmkitError."""
    _run(fz.check_plan, fz.plan_case(rng), workdir / "plan")


@pytest.mark.parametrize("table", fz.TABLE_NAMES)
@fuzz_settings(25)
@given(rng=randoms)
def test_fuzz_table_loader(table: str, rng: random.Random, workdir: Path) -> None:
    """load_deals / load_quotas / load_roster / load_splits / load_fx on mutated CSV."""
    case = fz.table_case(rng, table)
    _run(lambda data, folder: fz.check_table(table, data, folder), case, workdir / table)


@pytest.mark.parametrize("table", fz.TABLE_NAMES)
@fuzz_settings(8)
@given(rng=randoms)
def test_fuzz_table_rows(table: str, rng: random.Random, workdir: Path) -> None:
    """A table that loads also loads with its rows reversed, to the same values; a row
    alone has the values it has among the others; accepted dates are full dates and plain
    amounts exact cents (see fuzz_targets.check_table_rows)."""
    case = fz.table_case(rng, table)
    _run(lambda data, folder: fz.check_table_rows(table, data, folder), case,
         workdir / f"rows-{table}")


@fuzz_settings(10)
@given(rng=randoms)
def test_fuzz_load_inputs(rng: random.Random, workdir: Path) -> None:
    """load_inputs on five tables, one or two of them mutated (cross checks included)."""
    _run(fz.check_inputs, fz.tables_case(rng), workdir / "inputs")


@fuzz_settings(12)
@given(rng=randoms)
def test_fuzz_validate_in_process(rng: random.Random, workdir: Path) -> None:
    """``spmkit --debug validate`` in process (plan + tables + the engine)."""
    _run(fz.check_validate, fz.validate_case(rng), workdir / "validate")


@pytest.mark.parametrize("target,case", [(t, c) for _, t, c in fz.KNOWN_CASES],
                         ids=[name for name, _, _ in fz.KNOWN_CASES])
def test_fuzz_known_cases(target: str, case: object, workdir: Path) -> None:
    """Inputs that broke the contract once (or that issue 13 names), every run."""
    _run(lambda c, folder: fz.check_known(target, c, folder), case, workdir / "known",
         hypothesis=False)


# --------------------------------------------------------------------------- subprocess


def _heavy_case(name: str) -> dict[str, bytes | None]:
    """Inputs that need a process of their own: the memory limit applies to the CLI."""
    if name.startswith("random-"):  # heavy mutations: big alias fan-outs, 200,000 rows...
        return fz.validate_case(random.Random(1000 + int(name.split("-")[1])), heavy=True)
    files = {"plan": fz.PLAN_2026.encode(), **{t: fz._valid_csv(t) for t in fz.TABLE_NAMES}}
    if name == "alias-bomb":  # 10**9 strings if aliases are expanded
        files["plan"] = (fz.billion_laughs(9, 10).encode()
                         + files["plan"].split(b"\n", 1)[1])
    elif name == "nesting-100000":
        files["plan"] = fz.deep_nesting(100_000, "flow").encode()
    elif name == "huge-amounts-20000-rows":  # sums far beyond int64 cents
        header = ",".join(fz.TABLES["deals"][0])
        rows = "".join(f"D{i},A1,2026-02-10,9999999999999999.99,USD,Widget,new,East,Acme,\n"
                       for i in range(20_000))
        files["deals"] = (header + "\n" + rows).encode()
    elif name == "bad-bytes":  # not UTF-8, control characters, BOM and CRLF
        files["plan"] = files["plan"].replace(b"Test AE", b"Test \xff\x01AE")
        files["deals"] = files["deals"].replace(b"Acme", b"Ac\xc3me", 1)
        files["quotas"] = b"\xef\xbb\xbfrep_id,year,quota\r\nA1,2026,1\r\n"
    return files


#: In CI: a good case (the harness works), then each kind of resource attack.  A long run
#: adds broken bytes and heavy random mutations (alias fan-outs, 200,000-row tables).
HEAVY = ["valid", "alias-bomb", "nesting-100000", "huge-amounts-20000-rows"]
if LONG:
    HEAVY += ["bad-bytes", *(f"random-{i}" for i in range(10))]


@pytest.mark.parametrize("name", HEAVY)
def test_fuzz_cli_subprocess(name: str, tmp_path: Path) -> None:
    """``spmkit validate`` as a process under a 2 GB address-space limit: exit 0 or 2,
    one message, no traceback, no internal error, within the time limit."""
    files = _heavy_case(name)
    rc, out, err = fz.run_cli(files, tmp_path, timeout=120)
    problem = fz.cli_problem(rc, err)
    assert problem is None, (f"{name}: {problem}\nstdout: {out[-1000:]}\nstderr: {err[-3000:]}"
                             f"\ninput:\n{fz._show(files, limit=500)}")
    if name == "valid":
        assert rc == 0 and out.startswith("ok:"), err


# --------------------------------------------------------------------------- long mode


@pytest.mark.skipif(not LONG, reason="set SPMKIT_FUZZ_SECONDS to run a fuzzing campaign")
def test_fuzz_campaign(tmp_path: Path) -> None:
    """Every target on plain seeds for SPMKIT_FUZZ_SECONDS; lists every distinct failure
    (minimized) instead of stopping at the first."""
    seed = int(os.environ.get("SPMKIT_FUZZ_SEED", "0"))
    failures, stats = fz.campaign(FUZZ_SECONDS, list(fz.TARGETS), seed, tmp_path,
                                  log=lambda s: None)
    text = fz.report(failures, tmp_path)
    assert not failures, (f"{len(failures)} distinct failures (outcomes {stats}); repro files "
                          f"in {tmp_path}\n\n{text}")
