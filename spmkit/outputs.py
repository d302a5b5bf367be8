"""Output sets: a run's files appear together or not at all, and nothing else is touched.

A run stages every file in a hidden folder inside the output folder (same filesystem, so a
rename moves a file without copying it), then commits the set under a lock on the folder:

1. ``.spmkit-commit.json`` (the journal) is renamed into place.  It names the staging
   folder, the files to move in, the files of this kind's previous set to remove, and
   the new ``.spmkit-run.json``.  Renaming the journal into place is the commit point.
2. The staged files are renamed over their targets; the previous set's other files are
   removed when their bytes are still the bytes spmkit wrote; ``.spmkit-run.json`` (the
   record of every committed set: file names, sizes and SHA-256) is replaced; the journal
   is removed, then the staging folder.

Every step can be repeated, so a run killed anywhere is finished ("rolled forward") by the
next run or reader that takes the lock; a run killed before step 1 only leaves a staging
folder, which the next run deletes (a live run holds a lock on its own staging folder, so
it is never mistaken for an orphan).  Readers check the record: :func:`committed_files`.
The full protocol is in ``docs/outputs.md``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locks, see _orphaned
    fcntl = None  # type: ignore[assignment]

from spmkit.errors import SpmkitError

__all__ = [
    "JOURNAL",
    "STAGE_PREFIX",
    "STATE",
    "atomic_dir",
    "atomic_file",
    "committed_files",
    "scratch_dir",
]

STATE = ".spmkit-run.json"  # the record of the committed sets, per kind
JOURNAL = ".spmkit-commit.json"  # a commit in progress
STAGE_PREFIX = ".spmkit-stage-"  # a run's staging folder inside the output folder
TMP_PREFIX = ".spmkit-tmp-"  # atomic_file's temporary file beside its target
SCRATCH_PREFIX = "spmkit-run-"  # a run's private folder in the system temp folder
_STAGE_INFO = ".spmkit-stage.json"  # inside a staging folder: which run it belongs to
_SCRATCH_MARK = ".spmkit-scratch"  # inside a scratch folder: written once it is locked
_RESERVED = ".spmkit-"  # names spmkit keeps for itself; never part of a set
FORMAT = "spmkit-outputs/1"
#: A temporary file or (without file locks) a staging folder this old has no live owner.
_TMP_GRACE_SECONDS = 2.0
_NO_LOCK_STALE_SECONDS = 24 * 3600

log = logging.getLogger("spmkit.outputs")


# ----------------------------------------------------------------------------- locks

def _open_dir(path: Path) -> int:
    return os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def _flock(fd: int, *, blocking: bool) -> bool:
    """Take an exclusive lock on ``fd``; False if another holds it (and not ``blocking``).

    A filesystem without locks counts as locked by us (runs are then not kept apart)."""
    if fcntl is None:  # pragma: no cover
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    except OSError as exc:  # e.g. ENOLCK on some network filesystems
        log.debug("no file lock on fd %s: %s", fd, exc)
    return True


@contextmanager
def _locked_dir(out: Path, *, create: bool = True) -> Iterator[None]:
    """Hold an exclusive lock on the folder ``out`` (a ``flock`` on the folder itself, so
    no lock file is left behind); if ``out`` is removed and made again while we wait, lock
    the new one."""
    if fcntl is None:  # pragma: no cover
        if create:
            out.mkdir(parents=True, exist_ok=True)
        yield
        return
    while True:
        if create:
            out.mkdir(parents=True, exist_ok=True)
        fd = _open_dir(out)
        try:
            _flock(fd, blocking=True)
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(out))
            except FileNotFoundError:
                same = False
        except BaseException:
            os.close(fd)
            raise
        if same:
            break
        os.close(fd)
        if not create:
            raise FileNotFoundError(2, "No such file or directory", str(out))
    try:
        yield
    finally:
        os.close(fd)  # releases the lock


class _Held:
    """A folder this process holds a lock on for as long as it uses it (a staging or
    scratch folder), so another run can tell it from the leftovers of a dead one."""

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None
        if fcntl is not None:
            self.fd = _open_dir(path)
            _flock(self.fd, blocking=False)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _orphaned(path: Path, *, grace: float = 0.0) -> bool:
    """True when no live process holds ``path`` (a folder or file spmkit made)."""
    try:
        age = time.time() - path.lstat().st_mtime
    except OSError:
        return False
    if age < grace:
        return False
    if fcntl is None:  # pragma: no cover - no locks: only very old leftovers
        return age > _NO_LOCK_STALE_SECONDS
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:  # held by a live run, or no locks here: leave it
        return False
    finally:
        os.close(fd)  # the owner is gone and never locks it again


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back while a commit runs, then deliver them.

    A commit is a few renames; finishing it keeps the folder a complete set even when the
    run is stopped.  (SIGKILL cannot be held back: the next run finishes the commit.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous: dict[int, Any] = {}
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            previous[sig] = signal.signal(sig, lambda signum, frame: pending.append(signum))
        except (ValueError, OSError):  # pragma: no cover
            pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(pending):
            signal.raise_signal(sig)  # now handled as the run would have


# ----------------------------------------------------------------------------- files

def _digest(path: Path, *, sync: bool = False) -> dict[str, Any]:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
        size = fh.tell()
        if sync:
            os.fsync(fh.fileno())
    return {"bytes": size, "sha256": digest.hexdigest()}


def _matches(path: Path, meta: dict[str, Any]) -> bool:
    """``path`` is a regular file holding exactly the bytes spmkit recorded."""
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size != meta["bytes"]:
            return False
        return _digest(path)["sha256"] == meta["sha256"]
    except OSError:
        return False


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":  # pragma: no cover
        return
    fd = _open_dir(path)
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse
        pass
    finally:
        os.close(fd)


def _write_json(path: Path, data: dict[str, Any], tmp_dir: Path) -> None:
    """Write ``data`` to ``path`` by renaming a synced temporary file from ``tmp_dir``."""
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=".json", dir=tmp_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _read_json(path: Path, what: str) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} record")
    except ValueError as exc:
        raise SpmkitError(f"{path}: {what} is damaged ({exc}); spmkit wrote it and cannot "
                          "tell which files are its own; delete it and run again") from None
    return data


def _read_state(out: Path) -> dict[str, Any]:
    state = _read_json(out / STATE, "the record of spmkit's outputs")
    if state is None:
        return {"format": FORMAT, "sets": {}}
    if not isinstance(state.get("sets"), dict):
        raise SpmkitError(f"{out / STATE}: the record of spmkit's outputs is damaged (no "
                          "'sets'); delete it and run again")
    return state


# ----------------------------------------------------------------------------- recovery

def _roll_forward(out: Path, journal: dict[str, Any]) -> None:
    """Finish the commit ``journal`` describes; every step may be repeated."""
    stage = out / journal["stage"]
    missing = []
    for name in journal["move"]:
        src, target = stage / name, out / name
        if os.path.lexists(src):
            os.replace(src, target)
        elif not target.is_file():
            missing.append(name)  # neither staged nor moved: someone removed it
    for name, meta in journal["remove"].items():
        target = out / name
        if _matches(target, meta):
            target.unlink()
        elif os.path.lexists(target):
            log.warning("spmkit: note: kept %s: it changed after spmkit wrote it", target)
    state = journal["state"]
    if missing:
        sets = dict(state["sets"])
        sets.pop(journal["kind"], None)
        state = {**state, "sets": sets}
        log.warning("spmkit: note: %s: an interrupted run's files %s went missing; that "
                    "set is not complete, run it again", out, ", ".join(missing))
    _write_json(out / STATE, state, stage if stage.is_dir() else out)
    _fsync_dir(out)  # the moves and the record are on disk before the journal goes
    (out / JOURNAL).unlink()
    shutil.rmtree(stage, ignore_errors=True)


def _finish_commit(out: Path) -> None:
    """Roll forward a commit a killed run left unfinished (caller holds the lock)."""
    journal = _read_json(out / JOURNAL, "the journal of an unfinished commit")
    if journal is not None:
        _roll_forward(out, journal)
        log.warning("spmkit: note: %s: finished the commit of an interrupted run", out)


def _sweep(out: Path) -> None:
    """Delete what dead runs left in ``out``: staging folders and spmkit's temporary files.
    The caller holds the lock on ``out``; folders of live runs are locked and kept."""
    for entry in list(os.scandir(out)):
        path = Path(entry.path)
        if entry.name.startswith(STAGE_PREFIX) and entry.is_dir(follow_symlinks=False):
            if _orphaned(path):
                what = "a run"
                try:
                    info = json.loads((path / _STAGE_INFO).read_text(encoding="utf-8"))
                    what = f"a {info.get('kind') or 'spmkit'} run started {info['started']}"
                except (OSError, ValueError, KeyError, AttributeError):
                    pass
                shutil.rmtree(path, ignore_errors=True)
                log.warning("spmkit: note: %s: removed the partial files of %s that did not "
                            "finish", out, what)
        elif entry.name.startswith(TMP_PREFIX) and entry.is_file(follow_symlinks=False):
            if _orphaned(path, grace=_TMP_GRACE_SECONDS):
                path.unlink(missing_ok=True)


def _recover(out: Path) -> None:
    _finish_commit(out)
    _sweep(out)


# ----------------------------------------------------------------------------- a set

def _refuse(out: Path) -> None:
    """Refuse an output folder that is a file, the root folder or the home folder."""
    if out.exists() and not out.is_dir():
        raise SpmkitError(f"{out}: exists and is not a folder; choose another --out")
    resolved = out.resolve()
    if resolved == Path(resolved.anchor):
        raise SpmkitError(f"{out}: is the root folder; spmkit writes its outputs only into a "
                          "folder of their own; give one, e.g. --out ./spmkit-out")
    try:
        home = Path.home().resolve()
    except (RuntimeError, KeyError, OSError):  # no home folder known
        home = None
    if resolved == home:
        raise SpmkitError(f"{out}: is your home folder; spmkit writes its outputs only into "
                          "a folder of their own; give one, e.g. --out ~/spmkit-out")


def _missing_dirs(out: Path) -> list[Path]:
    """The folders (deepest first) that would be made to create ``out``."""
    missing = []
    path = out.absolute()
    while not path.exists():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    return missing


def _remove_if_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first; stops at the first one in use
        try:
            folder.rmdir()
        except OSError:
            break


def _set_files(stage: Path) -> list[str]:
    names = []
    for entry in sorted(os.scandir(stage), key=lambda e: e.name):
        if entry.name.startswith(_RESERVED):
            continue
        if not entry.is_file(follow_symlinks=False):
            raise SpmkitError(f"{entry.path}: an output set holds files only, not folders "
                              "or links")
        names.append(entry.name)
    return names


def _commit(out: Path, stage: Path, kind: str | None) -> None:
    names = _set_files(stage)
    files = {name: _digest(stage / name, sync=True) for name in names}
    key = kind or "files"
    # lock first: a run waiting for another's commit can still be stopped
    with _locked_dir(out), _signals_deferred():
        _recover(out)  # another run may have died since we started
        for name in names:
            target = out / name
            if target.is_dir():
                raise SpmkitError(f"{target}: is a folder where spmkit writes the file "
                                  f"{name!r}; spmkit never deletes a folder: move or rename "
                                  "it, or choose another --out")
        sets = _read_state(out)["sets"]
        previous = dict(sets.get(key, {}).get("files", {}))
        if kind is None:  # no named set: add these files, remove nothing
            remove: dict[str, Any] = {}
            files = {**{n: m for n, m in previous.items() if n not in files}, **files}
        else:
            remove = {n: m for n, m in previous.items() if n not in files}
        new_sets = {}
        for k, s in sets.items():
            kept = {n: m for n, m in s.get("files", {}).items() if n not in files}
            if k != key and kept:
                new_sets[k] = {"files": kept}
        new_sets[key] = {"files": files}
        journal = {"format": FORMAT, "stage": stage.name, "kind": key, "move": names,
                   "remove": remove, "state": {"format": FORMAT, "sets": new_sets}}
        _write_json(out / JOURNAL, journal, stage)  # the commit point
        _fsync_dir(out)
        _roll_forward(out, journal)


@contextmanager
def atomic_dir(out: str | Path, kind: str | None = None) -> Iterator[Path]:
    """Yield a staging folder; on success its files become the set ``kind`` in ``out``.

    All of the set's files appear in ``out`` together (see the module docstring and
    ``docs/outputs.md``): a reader sees the previous complete set or the new one, never a
    mix, even when the run is killed.  The files of the previous set of the same ``kind``
    that this run does not write are removed (e.g. ``payouts.parquet`` after a csv run);
    files spmkit did not write are never removed, and a folder where a file of the set
    goes is an error.  With ``kind=None`` the files are added and nothing is removed.

    On any exception (a signal turned into one included) the staging folder is removed and
    ``out`` is left as it was (folders made for it are removed again).

    Raises
    ------
    SpmkitError
        ``out`` is a file, the root folder or the home folder; a folder stands where a
        file of the set goes.
    """
    out = Path(out)
    _refuse(out)
    made = _missing_dirs(out)
    stage: Path | None = None
    held: _Held | None = None
    try:
        with _locked_dir(out):
            _recover(out)
            stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=out))
            held = _Held(stage)
            (stage / _STAGE_INFO).write_text(json.dumps({
                "kind": kind, "pid": os.getpid(),
                "started": time.strftime("%Y-%m-%d %H:%M:%S")}) + "\n", encoding="utf-8")
        yield stage
        _commit(out, stage, kind)
    except BaseException:
        if stage is not None and not _journal_names(out, stage):
            shutil.rmtree(stage, ignore_errors=True)
        if held is not None:
            held.release()
        _remove_if_empty(made)
        raise
    held.release()


def _journal_names(out: Path, stage: Path) -> bool:
    """True when an unfinished commit still needs ``stage`` (the next run finishes it)."""
    try:
        journal = json.loads((out / JOURNAL).read_text(encoding="utf-8"))
        return journal.get("stage") == stage.name
    except (OSError, ValueError, AttributeError):
        return False


def committed_files(out: str | Path, kind: str | None = None, *,
                    verify: bool = True) -> dict[str, Path]:
    """The files of the last complete set ``kind`` in ``out``, as a reader should see them.

    Finishes a commit a killed run left unfinished, then reads ``.spmkit-run.json``; with
    ``verify`` every file must still hold the bytes spmkit recorded (size and SHA-256).

    Raises
    ------
    SpmkitError
        No complete set of that kind, or one of its files is missing or changed.
    """
    out = Path(out)
    key = kind or "files"
    if not out.is_dir():
        raise SpmkitError(f"{out}: no such output folder")
    if os.path.lexists(out / JOURNAL):
        try:
            with _locked_dir(out, create=False):
                _finish_commit(out)
        except PermissionError:
            raise SpmkitError(f"{out}: a run was stopped while it replaced its outputs; run "
                              "it again (this folder is read-only to you)") from None
    record = _read_state(out)["sets"].get(key)
    if not record:
        raise SpmkitError(f"{out}: holds no complete spmkit {key} outputs")
    files = {name: out / name for name in sorted(record["files"])}
    if verify:
        for name, meta in record["files"].items():
            if not _matches(files[name], meta):
                raise SpmkitError(f"{files[name]}: missing or changed since spmkit wrote it; "
                                  f"the {key} outputs in {out} are not a complete set")
    return files


# ----------------------------------------------------------------------------- one file

@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only on success.

    The temporary file (``.spmkit-tmp-<name>.*``) is removed on every error; one a killed
    run left behind is removed by the next :func:`atomic_file` into the same folder."""
    path = Path(path)
    if path.is_dir():
        raise SpmkitError(f"{path}: is a folder; give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    for entry in list(os.scandir(path.parent)):
        if entry.name.startswith(TMP_PREFIX) and entry.is_file(follow_symlinks=False):
            if _orphaned(Path(entry.path), grace=_TMP_GRACE_SECONDS):
                Path(entry.path).unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{path.name}.", dir=path.parent)
    tmp_path = Path(tmp)
    try:
        _flock(fd, blocking=False)  # held while we write: not an orphan
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp_path, path)
    finally:
        os.close(fd)
        tmp_path.unlink(missing_ok=True)


# ----------------------------------------------------------------------------- scratch

def _sweep_scratch(root: Path) -> None:
    uid = os.getuid() if hasattr(os, "getuid") else None
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(SCRATCH_PREFIX) or not entry.is_dir(follow_symlinks=False):
            continue
        path = Path(entry.path)
        try:
            if uid is not None and entry.stat(follow_symlinks=False).st_uid != uid:
                continue
            if not (path / _SCRATCH_MARK).is_file():  # not (yet) one of ours: leave it
                continue
        except OSError:
            continue
        if _orphaned(path):
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def scratch_dir() -> Iterator[Path]:
    """Yield a private folder ``spmkit-run-*`` in the system temp folder; it is removed
    on every exit path, and the ones killed runs left behind are removed on entry and exit.
    """
    root = Path(tempfile.gettempdir())
    _sweep_scratch(root)
    path = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=root))
    held = None
    try:
        held = _Held(path)
        # only after the lock, so a sweeper that sees the mark sees the lock held
        (path / _SCRATCH_MARK).write_text(f"{os.getpid()}\n", encoding="utf-8")
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        if held is not None:
            held.release()
        _sweep_scratch(root)
