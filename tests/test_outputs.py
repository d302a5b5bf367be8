"""spmkit.outputs: all-or-nothing files and folders."""

import os
import stat

import pytest

from spmkit.errors import SpmkitError
from spmkit.outputs import atomic_dir, atomic_file


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


def test_atomic_dir_leaves_nothing_on_error_and_refuses_a_file(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), atomic_dir(out) as stage:
        (stage / "payouts.csv").write_text("half", encoding="utf-8")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "f").write_text("", encoding="utf-8")
    with pytest.raises(SpmkitError, match="not a folder"), atomic_dir(tmp_path / "f"):
        pass
