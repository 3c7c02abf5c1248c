"""Install as a user who brings their own torch would: build the wheel, install it (not editable) into a fresh
virtual environment, and run the README's "On your own machine" steps from outside the repository.

The fresh environment reuses this environment's already installed libraries (torch, numpy, scgpt, streamlit, ...)
through a ``.pth`` file pointing at a folder of links to them, with this project's own modules and metadata left out,
so the wheel's code, assets and declared dependencies are what gets tested: pip runs offline (``--no-index``, no
config file, no find-links) and must find every dependency already satisfied, and must not touch torch.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from ugrn_core import __version__, config

REPO = Path(__file__).resolve().parents[1]
SOURCE_EXCLUDE = {".git", ".venv", "build", "dist", ".cache", "results", "test-output", "__pycache__", ".pytest_cache",
                  "node_modules", "result_logs"}
OWN = ("ugrn_core", "ugrn_app", "ugrn_explorer", "__editable__", "ugrn-explorer")
SCGPT_FIX = "pip install --no-deps scgpt==0.2.4"
TIMEOUT_S = 300


def _ignore(folder, names):
    return [n for n in names if n in SOURCE_EXCLUDE or n.endswith(".egg-info")]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built from a clean copy of the working tree (no stale build/ folder)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(REPO, src, ignore=_ignore, symlinks=True)
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(src),
                          "-w", str(tmp / "dist")], capture_output=True, text=True, timeout=TIMEOUT_S)
    assert out.returncode == 0, out.stderr
    (whl,) = (tmp / "dist").glob("ugrn_explorer-*.whl")
    return whl


def _site_packages() -> list[Path]:
    dirs = [Path(p) for p in site.getsitepackages()] + [Path(sysconfig.get_paths()["purelib"])]
    return list(dict.fromkeys(d for d in dirs if d.is_dir()))


class Env:
    """A fresh virtual environment with the wheel installed; ``run`` executes its ``ugrn`` outside the repository."""

    def __init__(self, root: Path, deps: Path, data_dir: Path):
        self.root, self.deps, self.bin = root, deps, root / "venv" / "bin"
        self.work = root / "work"
        self.work.mkdir()
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("UGRN_", "PYTHON", "VIRTUAL_ENV", "PIP_", "XDG_"))}
        self.env.update(HOME=str(root / "home"), UGRN_DATA_DIR=str(data_dir), PYTHONNOUSERSITE="1",
                        PATH=f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}")

    def run(self, *args, extra_env: dict | None = None) -> subprocess.CompletedProcess:
        env = {**self.env, **(extra_env or {})}
        return subprocess.run([str(self.bin / args[0]), *map(str, args[1:])], cwd=self.work, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT_S)


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory, data_dir) -> tuple[Env, str]:
    """The wheel (with the ``app`` extra) installed into a fresh venv; returns the env and pip's output."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True, timeout=TIMEOUT_S)
    deps = root / "deps"
    deps.mkdir()
    for sp in _site_packages():
        for entry in sp.iterdir():
            if entry.name.startswith(OWN) or entry.suffix == ".pth" or (deps / entry.name).exists():
                continue
            (deps / entry.name).symlink_to(entry)
    venv_python = root / "venv" / "bin" / "python"
    purelib = subprocess.run([str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "_host_libraries.pth").write_text(f"{deps}\n")
    env = Env(root, deps, data_dir)
    pip_env = {**env.env, "PIP_CONFIG_FILE": os.devnull}  # offline: no index, no find-links from any config
    out = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv_python), "install", "--no-index",
                          f"{wheel}[app]"], capture_output=True, text=True, env=pip_env, timeout=TIMEOUT_S)
    assert out.returncode == 0, f"pip could not install the wheel offline over the existing libraries:\n{out.stderr}"
    return env, out.stdout


def _read_tsv(path: Path):
    import pandas as pd

    return pd.read_csv(path, sep="\t")


# ------------------------------------------------------------------------------------------------- packaging
def test_wheel_ships_every_module_and_the_bundled_assets(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(REPO).as_posix() for pkg in ("ugrn_core", "ugrn_app") for p in (REPO / pkg).rglob("*.py")
               if "__pycache__" not in p.parts}
    assert modules - names == set(), "modules missing from the wheel (packages not declared in setup.py?)"
    assets = {"ugrn_core/" + p.relative_to(REPO).as_posix() for p in (REPO / "assets").rglob("*") if p.is_file()}
    assert {"ugrn_core/assets/scgpt_compact/best_model.pt", "ugrn_core/assets/translators/STRING_hESC_500/meta.json",
            "ugrn_core/assets/benchmark_default/results.csv", "ugrn_core/assets/paper/table1_auprc.csv"} <= assets
    assert assets - names == set(), "bundled assets missing from the wheel"
    meta = zipfile.ZipFile(wheel).read(f"ugrn_explorer-{__version__}.dist-info/METADATA").decode()
    requires = [line.split(":", 1)[1].strip() for line in meta.splitlines() if line.startswith("Requires-Dist:")]
    torch_req = [r for r in requires if r.startswith("torch")]
    assert torch_req == ["torch>=2.1"], f"torch must carry a lower bound only, got {torch_req}"
    assert not any(r.startswith("scgpt") for r in requires), "scgpt cannot be a dependency (its own are uninstallable)"


def test_requirements_txt_lists_what_pyproject_declares():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    declared = project["dependencies"] + extras["app"] + extras["tests"] + extras["text"]

    def name(req: str) -> str:
        return req.split(";")[0].split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip().lower()

    listed = [line.split("#")[0].strip() for line in (REPO / "requirements.txt").read_text().splitlines()]
    assert {name(r) for r in declared} == {name(r) for r in listed if r}


# ------------------------------------------------------------------------------------------------- installed
def test_install_keeps_the_existing_torch_and_runs_outside_the_repository(installed, data_dir):
    env, pip_out = installed
    installed_line = [line for line in pip_out.splitlines() if line.startswith("Successfully installed")]
    assert installed_line == [f"Successfully installed ugrn-explorer-{__version__}"], pip_out

    v = env.run("ugrn", "--version")
    assert v.returncode == 0 and v.stdout.startswith(f"ugrn {__version__}") and str(env.root) in v.stdout, v
    m = env.run("python", "-m", "ugrn_core", "--version")
    assert m.returncode == 0 and m.stdout == v.stdout, m

    doc = env.run("ugrn", "doctor")
    assert doc.returncode == 0, doc.stdout + doc.stderr
    lines = {line.split()[1]: line for line in doc.stdout.splitlines() if line.startswith(("ok", "info", "warn"))}
    assert "installed package" in lines["ugrn-explorer"] and str(env.root / "venv") in lines["ugrn-explorer"]
    assert str(env.root / "venv") in lines["checkpoint"] and "scgpt_compact" in lines["checkpoint"]
    assert "= this checkpoint" in lines["translator"]
    n = len(list(Path(data_dir).glob("beeline/*/*/TFs+*/TF.csv")))
    assert f"{n} BEELINE datasets" in lines["data"]
    assert str(env.root / "home" / ".cache" / "ugrn") in lines["probe"]  # installed default: ~/.cache/ugrn

    out = env.run("ugrn", "predict", "--dataset", "STRING/mHSC-L/500", "--method", "Emb", "--top", "20", "--out", "x.tsv")
    assert out.returncode == 0, out.stderr
    edges = _read_tsv(env.work / "x.tsv")
    assert len(edges) == 20 and edges["score"].is_monotonic_decreasing
    assert edges["score"].between(0, 1).all() and edges["label"].isin([0, 1]).all()
    assert not (REPO / "x.tsv").exists() and not (env.root / "work" / ".cache").exists()


def test_missing_scgpt_or_data_gives_the_fix(installed):
    env, _ = installed
    scgpt = env.deps / "scgpt"
    hidden = env.deps / "_scgpt_hidden"
    scgpt.rename(hidden)
    try:
        out = env.run("ugrn", "predict", "--dataset", "STRING/mHSC-L/500", "--method", "Emb", "--out", "y.tsv")
        doc = env.run("ugrn", "doctor")
    finally:
        hidden.rename(scgpt)
    assert out.returncode == 2 and SCGPT_FIX in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert doc.returncode == 1
    fail = doc.stdout[doc.stdout.index("FAIL  scgpt"):]
    assert SCGPT_FIX in fail.splitlines()[1]

    no_data = env.run("ugrn", "doctor", "--no-load", extra_env={"UGRN_DATA_DIR": ""})
    assert no_data.returncode == 1
    line = next(x for x in no_data.stdout.splitlines() if x.startswith("FAIL  data directory"))
    assert str(env.root / "home" / ".local" / "share" / "ugrn" / "data") in line and "installed default" in line
    listing = env.run("ugrn", "datasets", extra_env={"UGRN_DATA_DIR": ""})
    assert listing.returncode == 2 and "UGRN_DATA_DIR" in listing.stderr and "Traceback" not in listing.stderr


def _random_checkpoint(path: Path) -> Path:
    """The bundled checkpoint's layout and vocabulary with re-initialised weights (a stand-in for scGPT_human)."""
    import torch

    shutil.copytree(config.DEFAULT_CHECKPOINT_DIR, path)
    state = torch.load(path / "best_model.pt", map_location="cpu", weights_only=True)
    gen = torch.Generator().manual_seed(0)
    state = {k: (torch.randn(v.shape, generator=gen) * 0.05 if v.is_floating_point() else v) for k, v in state.items()}
    torch.save(state, path / "best_model.pt")
    return path


def test_readme_steps_with_your_own_checkpoint(installed):
    """README, 'On your own machine': point at a checkpoint, train a translator for it, predict, open the app on it."""
    env, _ = installed
    ckpt = _random_checkpoint(env.root / "my_scGPT")
    train = env.run("ugrn", "train", "--checkpoint", ckpt, "--dataset", "STRING/mHSC-L/500", "--methods", "Emb",
                    "--out", "my_translator")
    assert train.returncode == 0, train.stderr
    tr_meta = json.loads((env.work / "my_translator" / "meta.json").read_text())

    mismatch = env.run("ugrn", "doctor", "--no-load", "--checkpoint", ckpt)  # bundled translator: another model's
    assert mismatch.returncode == 1 and "does NOT match the checkpoint" in mismatch.stdout
    assert f"ugrn train --checkpoint {ckpt}" in mismatch.stdout
    match = env.run("ugrn", "doctor", "--checkpoint", ckpt, "--translator", "my_translator")
    assert match.returncode == 0, match.stdout
    assert f"id {tr_meta['checkpoint_id']}" in match.stdout and "= this checkpoint" in match.stdout

    pred = env.run("ugrn", "predict", "--checkpoint", ckpt, "--translator", "my_translator",
                   "--dataset", "STRING/mHSC-E/500", "--method", "Emb", "--top", "10", "--out", "mine.tsv")
    assert pred.returncode == 0, pred.stderr
    assert len(_read_tsv(env.work / "mine.tsv")) == 10

    app = REPO / "app.py"
    script = ("import sys\nfrom streamlit.testing.v1 import AppTest\n"
              "at = AppTest.from_file(sys.argv[1], default_timeout=120)\nat.run()\n"
              "assert not at.exception, [e.value for e in at.exception]\n"
              "print('\\n'.join(str(e.value) for e in list(at.caption) + list(at.markdown)))\n")
    shown = env.run("python", "-c", script, app, extra_env={"UGRN_APP_CHECKPOINT": str(ckpt),
                                                             "UGRN_APP_TRANSLATOR": str(env.work / "my_translator")})
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert tr_meta["checkpoint_id"][:12] in shown.stdout, "the app did not load the checkpoint from UGRN_APP_CHECKPOINT"


# ------------------------------------------------------------------------------------------------- in-process
def test_doctor_results_in_a_source_checkout(data_dir, tmp_path):
    from ugrn_core import doctor

    checks = doctor.run_checks(data_dir=data_dir, load_model=False)
    by_name = {c.name: c for c in checks}
    assert doctor.exit_code(checks) == 0, doctor.format_report(checks)
    assert "source checkout" in by_name["ugrn-explorer"].detail
    assert by_name["translator"].status == "ok" and by_name["checkpoint"].status == "ok"

    empty = tmp_path / "no_beeline"
    empty.mkdir()
    bad = doctor.run_checks(data_dir=empty, translator=tmp_path, load_model=False)
    failed = {c.name: c for c in bad if c.status == "fail"}
    assert set(failed) == {"data directory", "translator"} and doctor.exit_code(bad) == 1
    assert "UGRN_DATA_DIR" in failed["data directory"].fix and "ugrn train" in failed["translator"].fix
    with pytest.raises(ValueError):
        doctor.Check("x", "fine", "")
