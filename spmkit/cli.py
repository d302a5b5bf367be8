"""The ``spmkit`` command: thin; parses arguments and calls the library.

Each group of subcommands lives in ``spmkit/commands/<name>.py`` and exposes
``register(subparsers)``; a subcommand sets ``func`` to a callable taking the parsed
arguments and returning an exit status.  Errors for people (:class:`SpmkitError`) are
printed as one message with exit status 2 and nothing written; ``--debug`` shows the
traceback instead.  SIGTERM and SIGHUP become :class:`Terminated` (exit status 143), so
every ``with`` block cleans up as it does on an error: staging folders and temporary files
are removed and an output folder keeps its previous complete set (``docs/outputs.md``).
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from spmkit import __version__
from spmkit.errors import SpmkitError

COMMAND_MODULES = ("calc", "sample", "quota", "report", "planning", "importing")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spmkit",
        description="Model sales compensation plans on historical sales, to the cent.",
    )
    parser.add_argument("--version", action="version", version=f"spmkit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"spmkit.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"spmkit.commands.{name}":
                continue
            raise
        module.register(sub)
    return parser


class Terminated(SystemExit):
    """The run was asked to stop (SIGTERM, SIGHUP); raised where the run is, so that every
    ``with`` block cleans up on the way out."""

    def __init__(self, signum: int):
        super().__init__(128 + signum)
        self.signum = signum


def _terminate(signum: int, frame: object) -> None:
    for name in ("SIGTERM", "SIGHUP"):  # a repeat must not cut the clean-up short
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    raise Terminated(signum)


@contextmanager
def signals_as_exceptions() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` while the block runs (main thread
    only; the previous handlers are restored afterwards)."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            sig = getattr(signal, name, None)
            if sig is not None:
                previous[sig] = signal.signal(sig, _terminate)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        with signals_as_exceptions():
            return int(args.func(args) or 0)
    except Terminated as exc:
        print(f"spmkit {args.command}: stopped by signal {exc.signum}; no partial output "
              "was left", file=sys.stderr)
        return int(exc.code)
    except SpmkitError as exc:
        if args.debug:
            raise
        print(f"spmkit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `spmkit explain ... | head`: the reader has gone
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("spmkit: interrupted; no partial output was left", file=sys.stderr)
        return 130
    except OSError as exc:  # a path the user gave cannot be read or written
        if args.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"spmkit {args.command}: error: {where}{exc.strerror or exc}; nothing was written",
              file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, not bad input: say so briefly, point to --debug
        if args.debug:
            raise
        print(f"spmkit {args.command}: internal error: {type(exc).__name__}: {exc}\n"
              "run again with --debug for the traceback and report it", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
