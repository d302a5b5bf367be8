"""Fault injection: ``spmkit calc`` and ``spmkit report`` killed at random points.

After every kill the output folder must hold, as a reader sees it (``committed_files``:
it finishes a commit a killed run left unfinished and checks the record's sizes and
SHA-256), either the complete previous set or the complete new one, byte for byte the set
a run that was not killed writes; the visible files must be exactly that set; a run
stopped with SIGTERM must clean up at once, and after the next run no staging folder,
journal or temporary folder may be left.

``calc`` runs in processes forked from a server that has already imported spmkit (the
real ``spmkit.cli.main`` in a process of its own, without paying the imports each time), so
the suite can afford many kills; one ``calc`` and the reports run as real commands.  Kill
times come from a seeded generator (``SPMKIT_FAULT_SEED`` picks another seed).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PLANS

from spmkit.outputs import JOURNAL, STAGE_PREFIX, STATE, atomic_dir, committed_files

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals and fork: POSIX only")

SEED = int(os.environ.get("SPMKIT_FAULT_SEED", "20260131"))
KILLED_CALC_RUNS = 20
#: the variants a calc run writes: each a different set (plan x format)
VARIANTS = {"A": ("baseline.yaml", "csv"), "B": ("accelerator.yaml", "parquet"),
            "C": ("accelerator.yaml", "csv")}


# ----------------------------------------------------------------------------- helpers

def _cli_child(argv: list[str], log: str) -> None:
    """The body of a forked ``spmkit`` process: the real entry point, output to ``log``."""
    from spmkit.cli import main

    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.exit(main(argv))


SMALL_SETS = {"old": {"payouts.parquet": b"P" * 5000, "credits.parquet": b"C" * 9000,
                      "summary.parquet": b"S"},
              "new": {"payouts.csv": b"p" * 4000, "credits.csv": b"c" * 7000}}


def _set_child_dying_at(step: int, out: str, which: str) -> None:
    """Write the set ``SMALL_SETS[which]`` into ``out``, but kill this process (SIGKILL) at
    the ``step``-th rename, unlink or rmdir from the commit point on (1: the journal's)."""
    import spmkit.outputs as o

    calls = [0]
    real_write = o._write_json

    def arm(path, *args, **kwargs):
        if path.name == o.JOURNAL and not calls[0]:
            for name in ("replace", "unlink", "rmdir"):
                real = getattr(os, name)

                def hit(*a, _real=real, **k):
                    calls[0] += 1
                    if calls[0] == step:
                        os.kill(os.getpid(), signal.SIGKILL)
                    return _real(*a, **k)
                setattr(os, name, hit)
        return real_write(path, *args, **kwargs)

    o._write_json = arm
    with atomic_dir(out, kind="calc") as stage:
        for name, data in SMALL_SETS[which].items():
            (stage / name).write_bytes(data)


@pytest.fixture(scope="module")
def forked() -> multiprocessing.context.BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["spmkit.cli", "spmkit.commands.calc", "spmkit.payout",
                                "spmkit.plan", "spmkit.tables", "test_fault_injection"])
    return ctx


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sample org (12 reps, 2024-2025) and the plan files, in one folder."""
    from spmkit.sample import write_sample

    folder = tmp_path_factory.mktemp("fault-inputs")
    write_sample(folder / "data", reps=12, years=2, seed=3)
    for name in ("baseline.yaml", "accelerator.yaml"):
        (folder / name).write_text(PLANS[name], encoding="utf-8")
    return folder


def calc_argv(inputs: Path, variant: str, out: Path) -> list[str]:
    plan, fmt = VARIANTS[variant]
    data = inputs / "data"
    return ["calc", "--plan", str(inputs / plan), "--deals", str(data / "deals.csv"),
            "--quotas", str(data / "quotas.csv"), "--roster", str(data / "roster.csv"),
            "--splits", str(data / "splits.csv"), "--fx", str(data / "fx.csv"),
            "--format", fmt, "--out", str(out)]


def reader(out: Path, kind: str) -> dict[str, bytes]:
    """The set as a reader sees it (finishing an unfinished commit first)."""
    return {name: p.read_bytes() for name, p in committed_files(out, kind).items()}


def visible(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())
            if not p.name.startswith(".spmkit-")}


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir()
                  if p.name.startswith(".spmkit-") and p.name != STATE)


def stage_of(out: Path, pid: int) -> Path | None:
    """The staging folder of process ``pid`` in ``out``, if it has one."""
    for stage in out.glob(f"{STAGE_PREFIX}*"):
        try:
            if json.loads((stage / ".spmkit-stage.json").read_text())["pid"] == pid:
                return stage
        except (OSError, ValueError, KeyError):
            continue
    return None


def wait_for_stage(out: Path, proc, pid: int, timeout: float = 300) -> bool:
    """Wait until ``pid`` has a staging folder in ``out`` (False if it ended first)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if out.is_dir() and stage_of(out, pid) is not None:
            return True
        if proc_done(proc):
            return False
        time.sleep(0.002)
    raise AssertionError(f"no staging folder from {pid} within {timeout}s")


def proc_done(proc) -> bool:
    return (proc.poll() is not None) if isinstance(proc, subprocess.Popen) else not proc.is_alive()


def run_forked(ctx, argv: list[str], log: Path):
    proc = ctx.Process(target=_cli_child, args=(argv, str(log)))
    proc.start()
    return proc


# ----------------------------------------------------------------------------- calc

@pytest.fixture(scope="module")
def reference(forked, inputs, tmp_path_factory) -> tuple[dict[str, dict[str, bytes]], float]:
    """Each variant's complete set from a run that was not killed, and the mean run time."""
    where = tmp_path_factory.mktemp("fault-reference")
    start = time.monotonic()
    proc = run_forked(forked, calc_argv(inputs, "A", where / "A"), where / "A.log")
    proc.join(120)
    seconds = time.monotonic() - start  # one run alone: the scale of the kill times
    assert proc.exitcode == 0, (where / "A.log").read_text()
    procs = {v: run_forked(forked, calc_argv(inputs, v, where / v), where / f"{v}.log")
             for v in VARIANTS if v != "A"}
    for variant, proc in procs.items():
        proc.join(120)
        assert proc.exitcode == 0, (where / f"{variant}.log").read_text()
    sets = {v: reader(where / v, "calc") for v in VARIANTS}
    assert len({tuple(sorted(s.items())) for s in sets.values()}) == len(VARIANTS)
    return sets, seconds


def test_calc_killed_at_random_points_leaves_a_complete_set(forked, inputs, reference,
                                                            tmp_path):
    sets, seconds = reference
    rng = random.Random(SEED)
    out, log = tmp_path / "out", tmp_path / "run.log"
    proc = run_forked(forked, calc_argv(inputs, "A", out), log)
    proc.join(120)
    assert proc.exitcode == 0, log.read_text()
    current = "A"
    outcomes = {"kept": 0, "new": 0, "staging left by SIGKILL": 0, "stopped by SIGTERM": 0}
    for i in range(KILLED_CALC_RUNS):
        variant = rng.choice([v for v in VARIANTS if v != current])
        sig = signal.SIGKILL if i % 2 == 0 else signal.SIGTERM
        proc = run_forked(forked, calc_argv(inputs, variant, out), log)
        if i % 3 == 2:  # aim at the write: at most a few ms after the staging folder
            wait_for_stage(out, proc, proc.pid)
            time.sleep(rng.uniform(0, 0.005))
        else:  # anywhere in the run
            time.sleep(rng.uniform(0.1, 1.1) * seconds)
        try:
            os.kill(proc.pid, sig)
        except ProcessLookupError:  # it had finished
            pass
        proc.join(120)
        where = f"run {i} ({variant} over {current}, {sig.name}, seed {SEED})"
        if sig == signal.SIGTERM:
            # stopped by the handler (143), before it was installed (-15: nothing staged
            # yet), or it had finished (0); a stopped run cleans up at once
            assert proc.exitcode in (143, -15, 0), f"{where}: {log.read_text()}"
            assert stage_of(out, proc.pid) is None, where
            if proc.exitcode == 143:
                assert "stopped by signal 15" in log.read_text()
                outcomes["stopped by SIGTERM"] += 1
        else:
            assert proc.exitcode in (-9, 0), where
            outcomes["staging left by SIGKILL"] += stage_of(out, proc.pid) is not None
        got = reader(out, "calc")
        assert got in (sets[current], sets[variant]), where
        assert visible(out) == got, where  # nothing of another set beside it
        outcomes["new" if got == sets[variant] and got != sets[current] else "kept"] += 1
        current = variant if got == sets[variant] else current
    # the next run removes whatever the killed ones left
    proc = run_forked(forked, calc_argv(inputs, "A", out), log)
    proc.join(120)
    assert proc.exitcode == 0, log.read_text()
    assert leftovers(out) == [] and reader(out, "calc") == sets["A"] == visible(out)
    # the kills did hit runs in the middle of their work
    assert outcomes["staging left by SIGKILL"] >= 1, outcomes
    assert outcomes["stopped by SIGTERM"] >= 1, outcomes
    assert outcomes["kept"] >= 1, outcomes


def test_a_run_killed_at_each_step_of_its_commit(forked, tmp_path):
    """A run that dies at each rename and unlink of its commit in turn (SIGKILL sent from
    inside, so it lands exactly there): a reader sees the old or the new set, and the
    next run leaves nothing behind."""
    step, seen = 0, set()
    while True:
        step += 1
        out = tmp_path / f"step{step}"
        with atomic_dir(out, kind="calc") as stage:
            for name, data in SMALL_SETS["old"].items():
                (stage / name).write_bytes(data)
        run = forked.Process(target=_set_child_dying_at, args=(step, str(out), "new"))
        run.start()
        run.join(60)
        got = reader(out, "calc")
        assert got in (SMALL_SETS["old"], SMALL_SETS["new"]), step
        assert visible(out) == got, step
        seen.add("old" if got == SMALL_SETS["old"] else "new")
        with atomic_dir(out, kind="calc") as stage:  # the next run
            (stage / "payouts.csv").write_bytes(b"next")
        assert leftovers(out) == [] and visible(out) == {"payouts.csv": b"next"}
        if run.exitcode == 0:
            break
        assert run.exitcode == -9
    # the journal, two files, three stale files, the record, the journal again, the stage
    assert step >= 9 and seen == {"old", "new"}


def test_the_calc_command_stopped_with_sigterm_cleans_up_at_once(inputs, reference,
                                                                 tmp_path):
    """The real command (its own interpreter, not a fork): SIGTERM while it stages."""
    sets, _ = reference
    out = tmp_path / "out"
    with atomic_dir(out, kind="calc") as stage:  # a complete earlier set
        for name, data in sets["A"].items():
            (stage / name).write_bytes(data)
    proc = subprocess.Popen([sys.executable, "-m", "spmkit.cli", *calc_argv(inputs, "B", out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_stage(out, proc, proc.pid, timeout=120)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (143, 0), err
    if proc.returncode == 143:
        lines = [x for x in err.splitlines() if " warning: " not in x]  # warnings may come first
        assert lines == ["spmkit calc: stopped by signal 15; no partial output was left"], err
    assert leftovers(out) == []
    assert reader(out, "calc") in (sets["A"], sets["B"])
    assert visible(out) == reader(out, "calc")


def test_two_runs_into_one_folder_at_once(forked, inputs, reference, tmp_path):
    sets, _ = reference
    out = tmp_path / "out"
    for first, second in (("A", "B"), ("C", "A")):
        procs = [run_forked(forked, calc_argv(inputs, v, out), tmp_path / f"{v}.log")
                 for v in (first, second)]
        for proc in procs:
            proc.join(120)
        assert [p.exitcode for p in procs] == [0, 0], [
            (tmp_path / f"{v}.log").read_text() for v in (first, second)]
        got = reader(out, "calc")
        assert got in (sets[first], sets[second])
        assert visible(out) == got and leftovers(out) == []


# ----------------------------------------------------------------------------- report

def _kernels_using(folder: Path) -> list[int]:
    """Processes whose command line names ``folder`` (e.g. a kernel's connection file)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if str(folder).encode() in cmd and b"ipykernel" in cmd:
            found.append(int(proc.name))
    return found


@pytest.mark.notebook
def test_report_killed_at_random_points_leaves_a_complete_set(inputs, tmp_path):
    """Two reports into one folder at once, one stopped with SIGTERM and one killed with
    SIGKILL at random points of their notebook runs; then the next report."""
    rng = random.Random(SEED + 2)
    out, tmp, runtime = tmp_path / "out", tmp_path / "tmp", tmp_path / "runtime"
    tmp.mkdir()
    previous = {"report.html": b"<p>earlier</p>", "report.ipynb": b"{}",
                "metrics.json": b"{}", "tables.xlsx": b"xlsx"}
    with atomic_dir(out, kind="report") as stage:
        for name, data in previous.items():
            (stage / name).write_bytes(data)
    env = {**os.environ, "TMPDIR": str(tmp), "JUPYTER_RUNTIME_DIR": str(runtime)}

    def report(title: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "spmkit.cli", "report", "--data", str(inputs / "data"),
             "--baseline", str(inputs / "baseline.yaml"),
             "--scenarios", str(inputs / "accelerator.yaml"), "--out", str(out),
             "--draws", "20", "--title", title],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def complete_set_of() -> str | None:
        """Whose complete set the folder holds: None for the previous one."""
        got = reader(out, "report")
        assert visible(out) == got
        if got == previous:
            return None
        assert sorted(got) == sorted(previous)
        json.loads(got["metrics.json"])
        return next(t for t in ("stopped run", "killed run", "next run")
                    if f"<title>{t}".encode() in got["report.html"])

    runs = {"stopped": (report("stopped run"), signal.SIGTERM),
            "killed": (report("killed run"), signal.SIGKILL)}
    deadline: dict[str, float | None] = {name: None for name in runs}
    while any(p.poll() is None for p, _ in runs.values()):
        for name, (proc, sig) in runs.items():
            if proc.poll() is not None or deadline[name] == 0:
                continue
            if deadline[name] is None and stage_of(out, proc.pid) is not None:
                deadline[name] = time.monotonic() + rng.uniform(0.2, 2.5)
            if deadline[name] and time.monotonic() >= deadline[name]:
                proc.send_signal(sig)
                deadline[name] = 0  # sent
        time.sleep(0.01)
    stopped, killed = runs["stopped"][0], runs["killed"][0]
    assert stopped.returncode in (143, 0), stopped.stderr.read()
    assert killed.returncode in (-9, 0), killed.stderr.read()
    assert stage_of(out, stopped.pid) is None  # SIGTERM: cleaned up at once
    assert not [p for p in tmp.glob("spmkit-run-*")
                if (p / ".spmkit-scratch").read_text().strip() == str(stopped.pid)]
    assert complete_set_of() in (None, "stopped run", "killed run")

    nxt = report("next run")
    _, err = nxt.communicate(timeout=600)
    assert nxt.returncode == 0, err
    assert complete_set_of() == "next run"
    assert leftovers(out) == [] and not (out / JOURNAL).exists()
    assert sorted(p.name for p in tmp.iterdir()) == []  # scratch folders, tmp*.json
    assert not runtime.exists() or list(runtime.iterdir()) == []
    end = time.monotonic() + 10  # the killed run's kernel notices its parent has gone
    while _kernels_using(tmp) and time.monotonic() < end:
        time.sleep(0.2)
    assert _kernels_using(tmp) == []
