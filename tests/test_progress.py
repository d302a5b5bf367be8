"""Progress on a terminal (spmkit.progress): every stage with its rows on stderr when stderr
is a terminal; nothing when it is a pipe or with --quiet; nothing on stdout, ever."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from spmkit import progress
from spmkit.tables import load_deals

STAGES = ("load", "credit", "measure", "earn", "write")


def _calc_args(sample_data: Path, plan: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "spmkit.cli", "calc", "--plan", str(plan),
            "--deals", str(sample_data / "deals.csv"), "--quotas", str(sample_data / "quotas.csv"),
            "--roster", str(sample_data / "roster.csv"), "--splits",
            str(sample_data / "splits.csv"), "--fx", str(sample_data / "fx.csv"),
            "--out", str(out), *extra]


def _on_a_terminal(args: list[str]) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal (stdout a pipe): (status, terminal text, stdout)."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=follower, close_fds=True)
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        stdout = proc.stdout.read().decode()
        status = proc.wait(timeout=300)
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    return status, b"".join(chunks).decode().replace("\r\n", "\n"), stdout  # tty: onlcr


def _stage_lines(text: str) -> dict[str, str]:
    """Each stage's finished lines, joined (the status line's overwrites dropped)."""
    lines = [part.rsplit("\r", 1)[-1].replace("\x1b[K", "") for part in text.split("\n")]
    stages: dict[str, str] = {}
    for line in lines:
        m = re.match(r"spmkit calc: (\w+)\s", line)
        if m and m.group(1) in STAGES:
            stages[m.group(1)] = stages.get(m.group(1), "") + line + "\n"
    return stages


def test_a_run_on_a_terminal_shows_every_stage_with_its_rows(sample_data, plan_files, tmp_path):
    status, terminal, stdout = _on_a_terminal(
        _calc_args(sample_data, plan_files["baseline"], tmp_path / "out"))
    assert status == 0, terminal
    stages = _stage_lines(terminal)
    assert list(stages) == list(STAGES)
    deals = sum(1 for _ in (sample_data / "deals.csv").open()) - 1  # less the header
    assert re.search(rf"load\s+deals\.csv\s+{deals:,} rows", stages["load"])
    credit_lines = int(re.search(r"(\d+) credit lines", stdout).group(1))
    assert f"{credit_lines:,} credit lines" in stages["credit"]
    written = sum(sum(1 for _ in (tmp_path / "out" / f).open()) - 1
                  for f in ("payouts.csv", "credits.csv"))
    assert f"{written:,} rows" in stages["write"]
    assert "spmkit calc: done in" in terminal
    assert "spmkit calc:" not in stdout  # progress never mixes with the results


def test_quiet_on_a_terminal_shows_no_progress(sample_data, plan_files, tmp_path):
    status, terminal, stdout = _on_a_terminal(
        _calc_args(sample_data, plan_files["baseline"], tmp_path / "out", "--quiet"))
    assert status == 0, terminal
    assert _stage_lines(terminal) == {}
    assert "done in" not in terminal and "working..." not in terminal
    assert "wrote" in stdout


def test_a_pipe_gets_no_progress(sample_data, plan_files, tmp_path):
    proc = subprocess.run(_calc_args(sample_data, plan_files["baseline"], tmp_path / "out"),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert _stage_lines(proc.stderr) == {}
    assert "done in" not in proc.stderr and "\r" not in proc.stderr
    assert "payees" in proc.stdout


def test_an_error_on_a_terminal_leaves_the_message_on_a_clean_line(sample_data, plan_files,
                                                                  tmp_path):
    args = _calc_args(sample_data, plan_files["baseline"], tmp_path / "out")
    args[args.index("--deals") + 1] = str(tmp_path / "missing.csv")
    status, terminal, _ = _on_a_terminal(args)
    assert status == 2
    last = terminal.rstrip("\r\n").split("\n")[-1].rsplit("\r", 1)[-1].replace("\x1b[K", "")
    assert last.startswith("spmkit calc: error: missing.csv: file not found")
    assert "done in" not in terminal


def test_the_library_is_silent_without_a_reporter(sample_data, capsys):
    load_deals(sample_data / "deals.csv")
    assert capsys.readouterr() == ("", "")


def test_a_reporter_counts_the_rows_of_each_stage(sample_data):
    stream = io.StringIO()
    with progress.reporting(stream, command="spmkit test", enabled=True, tick=0):
        frame = load_deals(sample_data / "deals.csv")
    lines = stream.getvalue().splitlines()
    assert re.match(rf"spmkit test: load\s+deals\.csv\s+{len(frame):,} rows\s+\d+\.\d s$",
                    lines[0])
    assert lines[1].startswith("spmkit test: done in ")
    assert len(lines) == 2


def test_a_stream_that_is_not_a_terminal_is_quiet_by_default(sample_data):
    stream = io.StringIO()
    with progress.reporting(stream) as reporter:
        load_deals(sample_data / "deals.csv")
    assert reporter is None
    assert stream.getvalue() == ""


@pytest.mark.parametrize("command", ["validate", "explain", "report"])
def test_every_long_command_takes_quiet(command):
    proc = subprocess.run([sys.executable, "-m", "spmkit.cli", command, "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "--quiet" in proc.stdout
