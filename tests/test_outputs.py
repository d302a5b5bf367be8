"""spmkit.outputs: all-or-nothing files, output sets, and what a stopped run leaves behind.

The killing itself (SIGKILL/SIGTERM at random points of real runs) is in
test_fault_injection.py; here every step of the protocol is checked in-process.
"""

import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import spmkit.outputs as outputs
from spmkit.errors import SpmkitError
from spmkit.outputs import (
    JOURNAL,
    STAGE_PREFIX,
    STATE,
    atomic_dir,
    atomic_file,
    committed_files,
    scratch_dir,
)


def write_set(out: Path, files: dict[str, str], kind: str | None = "calc") -> None:
    with atomic_dir(out, kind=kind) as stage:
        for name, text in files.items():
            (stage / name).write_text(text, encoding="utf-8")


def visible(folder: Path) -> dict[str, str]:
    """The files a person sees in ``folder`` (spmkit's hidden bookkeeping left out)."""
    return {p.name: p.read_text(encoding="utf-8") if p.is_file() else "<dir>"
            for p in sorted(folder.iterdir()) if not p.name.startswith(".spmkit-")}


def leftovers(folder: Path) -> list[str]:
    """Staging folders, journals and temporary files in ``folder``."""
    return sorted(p.name for p in folder.iterdir()
                  if p.name.startswith(".spmkit-") and p.name != STATE)


def read_set(out: Path, kind: str = "calc") -> dict[str, str]:
    return {name: p.read_text(encoding="utf-8") for name, p in committed_files(out, kind).items()}


# ----------------------------------------------------------------------------- atomic_file

def test_atomic_file_gets_the_usual_mode_and_appears_only_on_success(tmp_path):
    old = os.umask(0o022)
    try:
        target = tmp_path / "quotas.csv"
        with atomic_file(target) as tmp:
            tmp.write_text("x", encoding="utf-8")
            assert not target.exists()
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        with pytest.raises(RuntimeError), atomic_file(target) as tmp:
            tmp.write_text("half", encoding="utf-8")
            raise RuntimeError("boom")
        assert target.read_text(encoding="utf-8") == "x"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["quotas.csv"]
    finally:
        os.umask(old)


def test_atomic_file_removes_what_a_killed_run_left_and_keeps_a_live_ones(tmp_path):
    dead = tmp_path / ".spmkit-tmp-index.html.dead"
    dead.write_text("half", encoding="utf-8")
    os.utime(dead, (time.time() - 60, time.time() - 60))
    with atomic_file(tmp_path / "a.html") as live:  # held by this run while it writes
        live.write_text("a", encoding="utf-8")
        os.utime(live, (time.time() - 60, time.time() - 60))
        with atomic_file(tmp_path / "b.html") as tmp:
            tmp.write_text("b", encoding="utf-8")
        assert live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "b.html"]


# ----------------------------------------------------------------------------- atomic_dir

def test_atomic_dir_leaves_nothing_on_error_and_refuses_a_file(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), atomic_dir(out) as stage:
        (stage / "payouts.csv").write_text("half", encoding="utf-8")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "f").write_text("", encoding="utf-8")
    with pytest.raises(SpmkitError, match="not a folder"), atomic_dir(tmp_path / "f"):
        pass


def test_a_failed_run_removes_every_folder_it_made(tmp_path):
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "a" / "2026-01-31" / "x") as stage:
        (stage / "report.html").write_text("half", encoding="utf-8")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_the_files_appear_only_when_the_set_is_complete(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"payouts.csv": "old p", "credits.csv": "old c"})
    with atomic_dir(out, kind="calc") as stage:
        (stage / "payouts.csv").write_text("new p", encoding="utf-8")
        assert visible(out) == {"credits.csv": "old c", "payouts.csv": "old p"}
        (stage / "credits.csv").write_text("new c", encoding="utf-8")
    assert visible(out) == {"credits.csv": "new c", "payouts.csv": "new p"}
    assert read_set(out) == visible(out)
    assert leftovers(out) == []


def test_a_csv_set_removes_the_earlier_parquet_set_and_keeps_other_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "old.parquet").write_text("not spmkit's", encoding="utf-8")
    write_set(out, {"payouts.parquet": "P", "credits.parquet": "C"})
    write_set(out, {"payouts.csv": "p", "credits.csv": "c"})
    assert visible(out) == {"credits.csv": "c", "notes.txt": "mine",
                            "old.parquet": "not spmkit's", "payouts.csv": "p"}
    assert read_set(out) == {"credits.csv": "c", "payouts.csv": "p"}


def test_sets_of_other_kinds_are_kept(tmp_path):
    out = tmp_path / "data"
    write_set(out, {"deals.csv": "d", "quotas.csv": "q"}, kind="tables")
    write_set(out, {"payouts.csv": "p"}, kind="calc")
    write_set(out, {"payouts.csv": "p2", "credits.csv": "c2"}, kind="calc")
    assert visible(out) == {"credits.csv": "c2", "deals.csv": "d", "payouts.csv": "p2",
                            "quotas.csv": "q"}
    assert read_set(out, "tables") == {"deals.csv": "d", "quotas.csv": "q"}


def test_without_a_kind_files_are_added_and_nothing_is_removed(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"a.csv": "a"}, kind=None)
    write_set(out, {"b.csv": "b"}, kind=None)
    assert visible(out) == {"a.csv": "a", "b.csv": "b"}
    assert {n: p.read_text() for n, p in committed_files(out).items()} == visible(out)


def test_an_earlier_file_the_user_changed_is_kept(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"payouts.parquet": "P", "credits.parquet": "C"})
    (out / "payouts.parquet").write_text("edited by hand", encoding="utf-8")
    write_set(out, {"payouts.csv": "p", "credits.csv": "c"})
    assert visible(out) == {"credits.csv": "c", "payouts.csv": "p",
                            "payouts.parquet": "edited by hand"}


def test_a_folder_where_a_file_goes_is_an_error_and_is_kept(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"payouts.csv": "p", "credits.csv": "c"})
    (out / "payouts.csv").unlink()
    (out / "payouts.csv").mkdir()
    (out / "payouts.csv" / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(SpmkitError, match=r"payouts\.csv: is a folder"):
        write_set(out, {"payouts.csv": "p2", "credits.csv": "c2"})
    assert (out / "payouts.csv" / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert visible(out) == {"credits.csv": "c", "payouts.csv": "<dir>"}
    assert leftovers(out) == []


def test_the_root_and_the_home_folder_are_refused(tmp_path, monkeypatch):
    with pytest.raises(SpmkitError, match="root folder"), atomic_dir("/"):
        pass
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(SpmkitError, match="home folder"), atomic_dir(home / "x" / ".."):
        pass
    assert list(home.iterdir()) == []


def test_the_cli_refuses_the_home_folder_with_one_message(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    proc = subprocess.run([sys.executable, "-m", "spmkit.cli", "sample", "--out", str(home),
                           "--reps", "5", "--years", "1"], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "HOME": str(home)})
    assert proc.returncode == 2, proc.stderr
    assert f"{home}: is your home folder" in proc.stderr and "Traceback" not in proc.stderr
    assert list(home.iterdir()) == []


def test_a_dead_runs_staging_is_removed_and_a_live_runs_is_kept(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"payouts.csv": "p"})
    dead = out / f"{STAGE_PREFIX}dead"
    dead.mkdir()
    (dead / "payouts.csv").write_text("half", encoding="utf-8")
    with atomic_dir(out, kind="calc") as first:  # alive: it holds its staging folder
        (first / "payouts.csv").write_text("first", encoding="utf-8")
        assert not dead.exists()
        write_set(out, {"payouts.csv": "second"})  # another run, meanwhile
        assert first.is_dir() and read_set(out) == {"payouts.csv": "second"}
    assert read_set(out) == {"payouts.csv": "first"}
    assert leftovers(out) == []


def test_a_damaged_record_is_one_message_naming_it(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"payouts.csv": "p"})
    (out / STATE).write_text("{not json", encoding="utf-8")
    with pytest.raises(SpmkitError, match=r"\.spmkit-run\.json: the record .* is damaged"):
        write_set(out, {"payouts.csv": "p2"})
    assert visible(out) == {"payouts.csv": "p"} and leftovers(out) == []


def test_a_reader_rejects_a_set_with_a_changed_or_missing_file(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"payouts.csv": "p", "credits.csv": "c"})
    (out / "credits.csv").write_text("c!", encoding="utf-8")
    with pytest.raises(SpmkitError, match=r"credits\.csv: missing or changed"):
        committed_files(out, "calc")
    (out / "credits.csv").unlink()
    with pytest.raises(SpmkitError, match=r"credits\.csv: missing or changed"):
        committed_files(out, "calc")
    with pytest.raises(SpmkitError, match="no complete spmkit report outputs"):
        committed_files(out, "report")


class Crash(Exception):
    """Stands for the process dying at one step of a commit."""


def test_a_commit_stopped_at_any_step_is_finished_by_the_next_reader(tmp_path, monkeypatch):
    """Each rename, unlink and rmdir of a commit fails in turn; the reader then sees the
    complete new set (the journal is the commit point) or, before it, the old one."""
    real = {name: getattr(os, name) for name in ("replace", "unlink", "rmdir")}
    old = {"payouts.parquet": "P", "credits.parquet": "C"}
    new = {"payouts.csv": "p", "credits.csv": "c", "summary.csv": "s"}
    step, seen = 0, set()
    while True:
        step += 1
        out = tmp_path / f"run{step}"
        write_set(out, old)
        calls = 0

        def failing(name, step=step):
            def call(*args, **kwargs):
                nonlocal calls
                calls += 1
                if calls == step:
                    raise Crash(name)
                return real[name](*args, **kwargs)
            return call

        with monkeypatch.context() as m:
            for name in real:
                m.setattr(os, name, failing(name))
            try:
                write_set(out, new)
                crashed = False
            except Crash:
                crashed = True
        got = read_set(out)  # a reader: finishes an unfinished commit, checks the record
        assert got in (old, new), step
        seen.add("old" if got == old else "new")
        assert visible(out) == got, step  # and then the folder holds exactly that set
        write_set(out, new)  # the next run leaves nothing behind
        assert leftovers(out) == [] and visible(out) == new
        if not crashed:
            break
    assert step > 8 and seen == {"old", "new"}


def test_a_signal_during_a_commit_is_delivered_after_the_set_is_complete(tmp_path,
                                                                         monkeypatch):
    class Stopped(Exception):
        pass

    def stop(signum, frame):
        raise Stopped

    out = tmp_path / "out"
    write_set(out, {"payouts.parquet": "P", "credits.parquet": "C"})
    real_replace = os.replace
    sent = []

    def replace(src, dst, **kw):
        if Path(dst).name == JOURNAL and not sent:  # right at the commit point
            sent.append(True)
            os.kill(os.getpid(), signal.SIGTERM)
        return real_replace(src, dst, **kw)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        monkeypatch.setattr(os, "replace", replace)
        with pytest.raises(Stopped):
            write_set(out, {"payouts.csv": "p", "credits.csv": "c"})
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert sent
    assert visible(out) == {"credits.csv": "c", "payouts.csv": "p"} == read_set(out)
    assert leftovers(out) == []


# ----------------------------------------------------------------------------- scratch

def test_scratch_folders_go_with_their_run_and_dead_ones_at_the_next(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = tmp_path / "spmkit-run-dead"
    dead.mkdir()
    (dead / ".spmkit-scratch").touch()
    (dead / "kernel.json").write_text("{}", encoding="utf-8")
    foreign = tmp_path / "spmkit-run-not-ours"  # no mark: not made by this spmkit
    foreign.mkdir()
    with scratch_dir() as first:
        assert not dead.exists() and foreign.is_dir()
        with pytest.raises(RuntimeError), scratch_dir() as second:
            (second / "kernel.json").write_text("{}", encoding="utf-8")
            assert first.is_dir()  # alive: kept
            raise RuntimeError("boom")
        assert not second.exists() and first.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spmkit-run-not-ours"]


def test_a_stopped_commit_leaves_a_journal_a_reader_can_read(tmp_path, monkeypatch):
    """The journal names the staging folder, the files and the record to write."""
    out = tmp_path / "out"
    write_set(out, {"a.csv": "a"})
    real = outputs._roll_forward
    monkeypatch.setattr(outputs, "_roll_forward", lambda o, j: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        write_set(out, {"b.csv": "b"})
    journal = json.loads((out / JOURNAL).read_text(encoding="utf-8"))
    assert journal["move"] == ["b.csv"] and list(journal["remove"]) == ["a.csv"]
    assert (out / journal["stage"] / "b.csv").is_file()
    assert visible(out) == {"a.csv": "a"}  # nothing moved yet: the reader rolls forward
    monkeypatch.setattr(outputs, "_roll_forward", real)
    assert read_set(out) == {"b.csv": "b"} == visible(out)
    assert leftovers(out) == []


def test_a_csv_that_cannot_be_written_is_a_file_error_naming_the_path(tmp_path):
    """DuckDB's CSV writer failing (a missing folder here, a full disk in life) surfaces as
    an OSError naming the file, which the CLI reports in one line with exit status 2."""
    import pyarrow as pa

    from spmkit.payout import _write_csv

    target = tmp_path / "missing" / "payouts.csv"
    with pytest.raises(OSError) as info:
        _write_csv(pa.table({"rep_id": ["R1"]}), target)
    assert info.value.filename == str(target)
    assert not target.parent.exists()
