"""Progress of a long run on a terminal: each stage (load, credit, measure, earn, write) with
its rows and time, on stderr.

The library announces what it has done with :func:`step`; that costs nothing unless a
reporter is active.  The command line activates one (:func:`shown`) only when stderr is a
terminal and ``--quiet`` is not given, so pipes, files, CI logs and notebooks stay clean.
While a stage runs, a single status line ticks its elapsed seconds in place; each finished
stage leaves one line::

    spmkit calc: load     deals.parquet         1,000,000 rows           1.9 s
    spmkit calc: credit                         1,250,000 credit lines   0.8 s
    spmkit calc: measure                        1,250,000 credit lines   0.4 s
    spmkit calc: earn                               4,000 rep-periods    0.1 s
    spmkit calc: write    out                   1,254,000 rows           2.2 s
    spmkit calc: done in 5.4 s

The reporter lives in a :class:`contextvars.ContextVar` for the duration of one command,
so nothing global is set and concurrent runs (threads, notebooks) do not see each other's.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr
from contextvars import ContextVar
from typing import IO, Any

__all__ = ["STAGES", "Reporter", "reporting", "shown", "step"]

#: The stages of a calculation, in the order they run, and what their rows are.
STAGES: dict[str, str] = {
    "load": "rows",
    "credit": "credit lines",
    "measure": "credit lines",
    "earn": "rep-periods",
    "write": "rows",
}

_current: ContextVar[Reporter | None] = ContextVar("spmkit_progress", default=None)

#: Seconds between refreshes of the status line of a running stage.
TICK = 1.0


def step(stage: str, rows: int, what: str = "") -> None:
    """Report that ``stage`` has finished ``rows`` rows (of ``what``, e.g. a file name).

    A no-op unless a :func:`reporting` block is active in this context.
    """
    reporter = _current.get()
    if reporter is not None:
        reporter.step(stage, rows, what)


class Reporter:
    """Writes one line per finished stage to ``stream``, and a ticking status line between.

    Parameters
    ----------
    stream : text stream
        A terminal (stderr).
    command : str
        Shown at the start of every line (``spmkit calc``).
    tick : float
        Seconds between refreshes of the status line; 0 or less: no status line.
    """

    def __init__(self, stream: IO[str], command: str, *, tick: float = TICK):
        self.stream = stream
        self.command = command
        self.started = self.last = time.perf_counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._status = False
        self._thread: threading.Thread | None = None
        if tick > 0:
            self._thread = threading.Thread(target=self._ticker, args=(tick,),
                                            name="spmkit-progress", daemon=True)
            self._thread.start()

    def step(self, stage: str, rows: int, what: str = "") -> None:
        now = time.perf_counter()
        unit = STAGES.get(stage, "rows")
        if "://" in what and "?" in what:  # a database URL: its table or query says most
            what = what.split("?", 1)[1]
            label = what if len(what) <= 24 else what[:21] + "..."
        else:  # a path: its end says most
            label = what if len(what) <= 24 else "..." + what[-21:]
        line = (f"{self.command}: {stage:<8} {label:<24} {int(rows):>12,} {unit:<13} "
                f"{now - self.last:6.1f} s")
        with self._lock:
            self._write(("\r\x1b[K" if self._status else "") + line + "\n")
            self._status = False
            self.last = now

    def close(self, ok: bool = True) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            clear = "\r\x1b[K" if self._status else ""
            total = time.perf_counter() - self.started
            self._write(clear + (f"{self.command}: done in {total:.1f} s\n" if ok else ""))
            self._status = False

    def _ticker(self, tick: float) -> None:
        while not self._stop.wait(tick):
            with self._lock:
                if self._stop.is_set():
                    return
                elapsed = time.perf_counter() - self.last
                self._write(f"\r\x1b[K{self.command}: working... {elapsed:.0f} s")
                self._status = True

    def print(self, text: str) -> int:
        """Write someone else's ``text`` (a warning) on a clean line: the status line goes."""
        with self._lock:
            if self._status:
                self._write("\r\x1b[K")
                self._status = False
            return self.stream.write(text)

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: progress is not worth failing
            pass


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


@contextmanager
def reporting(stream: IO[str] | None = None, *, command: str = "spmkit",
              enabled: bool | None = None, tick: float = TICK) -> Iterator[Reporter | None]:
    """Show progress of the library calls inside the block on ``stream`` (default stderr).

    ``enabled=None`` shows it only when the stream is a terminal.  Yields the reporter, or
    ``None`` when progress is off.
    """
    stream = sys.stderr if stream is None else stream
    on = _is_terminal(stream) if enabled is None else enabled
    reporter = Reporter(stream, command, tick=tick) if on else None
    token = _current.set(reporter)
    ok = False
    try:
        yield reporter
        ok = True
    finally:
        _current.reset(token)
        if reporter is not None:
            reporter.close(ok)


def shown(func: Callable[[Any], int]) -> Callable[[Any], int]:
    """Decorate a subcommand: progress on stderr while it runs, when stderr is a terminal
    and the command was not given ``--quiet``."""

    @functools.wraps(func)
    def run(args: Any) -> int:
        quiet = bool(getattr(args, "quiet", False))
        command = f"spmkit {getattr(args, 'command', '') or ''}".strip()
        stream = sys.stderr
        with reporting(stream, command=command,
                       enabled=not quiet and _is_terminal(stream)) as reporter:
            if reporter is None:
                return func(args)
            with redirect_stderr(_Beside(stream, reporter)):  # warnings: on a clean line
                return func(args)

    return run


class _Beside:
    """stderr while a status line shows: wipes it before anyone else writes."""

    def __init__(self, stream: IO[str], reporter: Reporter):
        self._stream = stream
        self._reporter = reporter

    def write(self, text: str) -> int:
        return self._reporter.print(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
