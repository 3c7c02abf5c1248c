"""Output paths that cannot be written, through the CLI of every command that writes: exit 2, one 'error:' line naming
the path and what was expected, no traceback, nothing created or changed, and all of it before any model is loaded
(so these tests need no probing: a model load would fail on the missing checkpoint named below instead).

"Not writable" is tested for real where possible. As root (CI runs as root) permission bits do not stop writes, so
a read-only folder is made with a read-only tmpfs mount when the test may mount; otherwise, as root, ``os.access``
is patched to report the folder read-only (the only stand-in: root can write to any chmod-ed folder). As another
user, chmod 0555 makes it real.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest

from ugrn_core import _io, cli

NO_CKPT = "/nonexistent/checkpoint"  # a model load would fail with "not found": the path check must come first
NO_DATASET = "STRING/nope/500"  # so that a command whose check wrongly passed fails fast, not after a benchmark


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its contents (None for folders): what 'nothing changed' compares."""
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))}


def commands(out: str) -> dict[str, list[str]]:
    """argv of every writing command, with ``out`` as its output (file commands get a file name)."""
    return {
        "predict": ["predict", "--genes", "genes.txt", "--checkpoint", NO_CKPT, "--out", out + ".tsv"],
        "train": ["train", "--checkpoint", NO_CKPT, "--out", out],
        "benchmark": ["benchmark", "--checkpoint", NO_CKPT, "--test", NO_DATASET, "--out", out],
        "benchmark --save-translator": ["benchmark", "--checkpoint", NO_CKPT, "--test", NO_DATASET,
                                        "--save-translator", out],
        "benchmark --preset": ["benchmark", "--preset", "ci", "--checkpoint", NO_CKPT, "--out", out],
        "benchmark --protocol": ["benchmark", "--protocol", "unseen-genes", "--prior", "random", "--test", NO_DATASET,
                                 "--out", out],
        "report": ["report", "--results", "nores", "--out", out],
        "pretrain": ["pretrain", "--data-dir", "nodata", "--out", out],
        "make-checkpoint": ["make-checkpoint", "--like", "compact", "--vocab", "novocab.json", "--out", out],
    }


FILE_COMMANDS = {"predict", "report"}


def run(capsys, argv, cwd: Path, monkeypatch) -> tuple[int, str]:
    monkeypatch.chdir(cwd)
    rc = cli.main(argv)
    return rc, capsys.readouterr().err


def check_refused(rc, err, argv, shown: str, match: str):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2, (argv, rc, err)
    assert "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith(f"ugrn {argv[0]}: error: "), err
    assert shown in lines[0] and match in lines[0], (match, lines[0])


@pytest.fixture()
def place(tmp_path, monkeypatch):
    """A working folder with a regular file 'afile' and a folder 'adir', and a cache that exists."""
    (tmp_path / "afile").write_text("keep me\n")
    (tmp_path / "adir").mkdir()
    (tmp_path / "adir" / "inside.txt").write_text("keep me too\n")
    (tmp_path / "genes.txt").write_text("GATA1\nSPI1\n")
    (tmp_path / "cache").mkdir()
    monkeypatch.setenv("UGRN_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.mark.parametrize("command", list(commands("x")))
def test_parent_is_a_file(capsys, place, monkeypatch, command):
    """--out afile/sub/out: the folder to create it in is a regular file."""
    before = tree(place)
    argv = commands("afile/sub/out")[command]
    rc, err = run(capsys, argv, place, monkeypatch)
    check_refused(rc, err, argv, "'afile/sub/out", f"'{place / 'afile'}' is a file, not a folder")
    assert tree(place) == before


@pytest.mark.parametrize("command", sorted(set(commands("x")) - FILE_COMMANDS - {"benchmark --preset"}))
def test_existing_file_where_a_folder_goes(capsys, place, monkeypatch, command):
    """A folder output named like an existing file: refused (it used to be replaced by the folder, file lost)."""
    before = tree(place)
    argv = commands("afile")[command]
    rc, err = run(capsys, argv, place, monkeypatch)
    check_refused(rc, err, argv, "'afile'", "is an existing file; expected a folder")
    assert tree(place) == before


def test_existing_file_where_a_preset_folder_goes(capsys, place, monkeypatch):
    argv = commands("afile")["benchmark --preset"]
    before = tree(place)
    rc, err = run(capsys, argv, place, monkeypatch)
    check_refused(rc, err, argv, "'afile/ci'", f"'{place / 'afile'}' is a file, not a folder")
    assert tree(place) == before


@pytest.mark.parametrize("command", sorted(FILE_COMMANDS))
def test_existing_folder_where_a_file_goes(capsys, place, monkeypatch, command):
    """predict --out adir.tsv / report --out adir (→ adir.md, adir.html) where those are folders."""
    (place / "adir.tsv").mkdir()
    (place / "adir.md").mkdir()
    before = tree(place)
    argv = commands("adir")[command]
    rc, err = run(capsys, argv, place, monkeypatch)
    name = "adir.tsv" if command == "predict" else "adir.md"
    check_refused(rc, err, argv, f"'{name}'", "is an existing folder; expected a file name")
    assert tree(place) == before


@contextlib.contextmanager
def read_only(folder: Path, monkeypatch):
    """Make ``folder`` read-only for real when possible (see the module docstring); yields how."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield "chmod"
        finally:
            folder.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)],
                             capture_output=True).returncode == 0
    if mounted:
        try:
            yield "read-only mount"
        finally:
            subprocess.run(["umount", str(folder)], check=True)
        return
    real = os.access
    target = str(folder.resolve())
    # root without mount rights: os.access is the kernel's answer the check relies on; report this folder read-only
    monkeypatch.setattr(_io.os, "access", lambda p, mode, *a, **k: False if str(Path(p).resolve()) == target
                        else real(p, mode, *a, **k))
    yield "patched os.access"


@pytest.mark.parametrize("sub", ["", "sub/"])
@pytest.mark.parametrize("command", list(commands("x")))
def test_read_only_folder(capsys, place, monkeypatch, command, sub):
    """--out ro/out and --out ro/sub/out where ro/ cannot be written to."""
    ro = place / "ro"
    ro.mkdir()
    with read_only(ro, monkeypatch):
        before = tree(place)
        argv = commands(f"ro/{sub}out")[command]
        rc, err = run(capsys, argv, place, monkeypatch)
        after = tree(place)
    check_refused(rc, err, argv, f"'ro/{sub}out", f"folder '{ro}' is not writable")
    if sub:
        assert f"cannot create folder '{ro / 'sub'}'" in err, err
    assert after == before


def test_read_only_probe_cache(capsys, place, monkeypatch):
    """ugrn probe writes only to the probe cache: a cache that cannot be written is refused before the model loads."""
    ro = place / "ro"
    ro.mkdir()
    monkeypatch.setenv("UGRN_CACHE_DIR", str(ro / "cache"))
    with read_only(ro, monkeypatch):
        argv = ["probe", "--checkpoint", NO_CKPT, "--datasets", "STRING/mDC/500"]
        rc, err = run(capsys, argv, place, monkeypatch)
    check_refused(rc, err, argv, f"probe cache (UGRN_CACHE_DIR) '{ro / 'cache'}'", "is not writable")
    assert not (ro / "cache").exists()


def test_writable_paths_pass_and_nothing_is_created(tmp_path):
    """The check accepts what can be written (new nested folders, an existing file to overwrite, an existing folder
    to fill) and creates nothing itself."""
    (tmp_path / "f.tsv").write_text("x")
    (tmp_path / "d").mkdir()
    for path, kind in [(tmp_path / "a" / "b" / "c.tsv", "file"), (tmp_path / "f.tsv", "file"),
                       (tmp_path / "a" / "b", "folder"), (tmp_path / "d", "folder"), (tmp_path / "d", "into"),
                       (tmp_path / "n" / "m", "into")]:
        assert _io.check_writable_output(path, kind) == path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "f.tsv"]
    assert not any((tmp_path / "d").iterdir())
