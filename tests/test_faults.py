"""Faults: corrupt cache entries, two processes probing at once, SIGTERM/SIGINT mid-run, byte-identical reruns.

Real processes and a real (tiny, random) scGPT checkpoint whose vocabulary holds the genes of two BEELINE
datasets, so every probe takes seconds. Nothing is mocked.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ugrn_core.data import datasets as data
from ugrn_core import scfm
from ugrn_core.probes.cache import CacheWarning, ProbeCache
from ugrn_core.probes.features import DatasetProbes
from ugrn_core.probes.params import ProbeParams

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
SMALL = ProbeParams(v0=25.0, target_values=(0.0, 50.0), base_values=(10.0, 40.0))
TRAIN, TEST = "STRING/mHSC-L/500", "Non-Specific/mHSC-L/500"  # one gene set: the test reuses the probes


def _env(cache: Path, **extra) -> dict:
    env = dict(os.environ, UGRN_CACHE_DIR=str(cache), OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    env.update(extra)
    return env


def _tmp_files(*roots: Path) -> list[Path]:
    return [p for r in roots if r.exists() for p in r.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".") and p.is_dir()]


# ----------------------------------------------------------------------------------------------- cache integrity
def test_truncated_or_corrupt_cache_entry_is_detected_and_recomputed(tiny_checkpoint, tmp_path):
    fm = scfm.load_checkpoint(tiny_checkpoint, device="cpu")
    ds = data.load_beeline(TRAIN)
    cache = ProbeCache(fm.checkpoint_id, tmp_path)
    first = DatasetProbes(fm, ds, SMALL, cache=cache)
    ref = first.probe("VVP").copy()
    assert first.source["VVP"] == "computed"
    npy = next(cache.dir.glob("VVP-*.npy"))
    side = json.loads(npy.with_suffix(".json").read_text())
    assert side["size"] == npy.stat().st_size and side["sha256"] == hashlib.sha256(npy.read_bytes()).hexdigest()

    # intact: loaded from disk, not recomputed
    again = DatasetProbes(fm, ds, SMALL, cache=cache)
    np.testing.assert_array_equal(again.probe("VVP"), ref)
    assert again.source["VVP"] == "disk"

    # truncated (an interrupted copy, a full disk): size differs from the sidecar
    raw = npy.read_bytes()
    npy.write_bytes(raw[: len(raw) // 2])
    p = DatasetProbes(fm, ds, SMALL, cache=cache)
    with pytest.warns(CacheWarning, match=r"VVP-.*\.npy' is unusable: it has \d+ bytes, its sidecar records"):
        np.testing.assert_array_equal(p.probe("VVP"), ref)
    assert p.source["VVP"] == "computed" and npy.read_bytes() == raw  # rewritten whole

    # same size, one flipped byte in the data: only the checksum can tell
    bad = bytearray(raw)
    bad[-5] ^= 0xFF
    npy.write_bytes(bytes(bad))
    p = DatasetProbes(fm, ds, SMALL, cache=cache)
    with pytest.warns(CacheWarning, match="sha256 differs"):
        np.testing.assert_array_equal(p.probe("VVP"), ref)
    assert npy.read_bytes() == raw

    # an entry from before checksums were recorded is used when it reads back completely, refused when truncated
    npy.with_suffix(".json").write_text(json.dumps({k: v for k, v in side.items() if k not in ("size", "sha256")}))
    p = DatasetProbes(fm, ds, SMALL, cache=cache)
    np.testing.assert_array_equal(p.probe("VVP"), ref)
    assert p.source["VVP"] == "disk"
    npy.write_bytes(raw[:-100])
    with pytest.warns(CacheWarning, match="cannot be read"):
        DatasetProbes(fm, ds, SMALL, cache=cache).probe("VVP")
    assert not _tmp_files(cache.dir)


def test_damaged_cache_entry_counts_as_missing_in_the_estimate(tiny_checkpoint, tmp_path, monkeypatch, capsys):
    """A truncated or corrupt entry is recomputed, so the pre-run estimate ("probes to compute … about N s") and the
    "(cached)" label must count it as missing, as they count an absent one."""
    from ugrn_core import cli
    from ugrn_core.probes import features

    def probe_cli():  # as a new process would: no gene set's probes kept in memory from the previous call
        features.clear_memo()
        return cli.main(cmd)

    monkeypatch.setenv("UGRN_CACHE_DIR", str(tmp_path))
    fm = scfm.load_checkpoint(tiny_checkpoint, device="cpu")
    ds = data.load_beeline(TRAIN)
    cmd = ["probe", "--checkpoint", str(tiny_checkpoint), "--datasets", TRAIN, "--probes", "VVP", "--target-values", "0,50"]
    assert probe_cli() == 0
    assert "probes to compute (VVP): about" in capsys.readouterr().err  # nothing cached yet
    p = DatasetProbes(fm, ds, SMALL)
    npy = p.cache.path("VVP", p._key("VVP"))
    raw = npy.read_bytes()
    rows = (2 * len(p.scored) + 1, 0)
    assert p.is_cached("VVP") and p.probe_rows("VVP") == (0, 0) and p.estimate_seconds(["VVP"]) == 0.0
    assert probe_cli() == 0
    out = capsys.readouterr()
    assert "probes to compute" not in out.err and "(cached)" in out.out  # intact: nothing to compute

    bad = bytearray(raw)
    bad[-5] ^= 0xFF
    for damaged in (raw[: len(raw) // 2], bytes(bad), b""):  # truncated, one flipped byte, empty
        npy.write_bytes(damaged)
        fresh = DatasetProbes(fm, ds, SMALL)
        assert not fresh.is_cached("VVP") and fresh.probe_rows("VVP") == rows and fresh.estimate_seconds(["VVP"]) > 0
        assert probe_cli() == 0  # the CLI prints warnings as one line each ("warning: …"), not through warnings.warn's
        out = capsys.readouterr()
        assert any(line.startswith("warning: ") and "unusable" in line for line in out.err.splitlines()), out.err
        assert "probes to compute (VVP): about" in out.err and "(cached)" not in out.out, damaged[:8]
        assert npy.read_bytes() == raw  # recomputed, byte-identical


def test_cache_key_changes_with_every_probe_parameter(tiny_checkpoint, tmp_path, fp32_close):
    """Changing v0 or a target value re-keys VVP (a new entry, new values); GDT base values do not touch VVP."""
    fm = scfm.load_checkpoint(tiny_checkpoint, device="cpu")
    ds = data.load_beeline(TRAIN)
    cache = ProbeCache(fm.checkpoint_id, tmp_path)
    genes = ds.genes[:40]
    small = data.dataset_from_genes(genes, tfs=genes[:5], species="mouse", name="small")
    base = DatasetProbes(fm, small, SMALL, cache=cache)
    ref = base.probe("VVP")
    variants = {
        "v0": ProbeParams(v0=20.0, target_values=SMALL.target_values, base_values=SMALL.base_values),
        "target": ProbeParams(v0=25.0, target_values=(0.0, 45.0), base_values=SMALL.base_values),
    }
    for what, params in variants.items():
        p = DatasetProbes(fm, small, params, cache=cache)
        arr = p.probe("VVP")
        assert p.source["VVP"] == "computed", what
        assert not np.allclose(arr, ref), what
        # the cached array against a direct call: responses are differences of reconstructions, whose size sets the
        # float32 round-off (conftest's fp32_close)
        scale = np.abs(fm.reconstruct(p.token_ids, np.full(len(p.tokens), params.v0))).max()
        fp32_close(arr, fm.vvp(p.token_ids, params.v0, params.target_values), scale=scale)
    same_vvp = DatasetProbes(fm, small, ProbeParams(v0=25.0, target_values=(0.0, 50.0), base_values=(5.0,)), cache=cache)
    same_vvp.probe("VVP")
    assert same_vvp.source["VVP"] == "disk"
    same_vvp.probe("GDT")
    assert same_vvp.source["GDT"] == "computed"
    assert len(list(cache.dir.glob("VVP-*.npy"))) == 3 and len(list(cache.dir.glob("GDT-*.npy"))) == 1


# ----------------------------------------------------------------------------------------------- two processes
WORKER = r"""
import json, sys, time, warnings
from pathlib import Path
warnings.simplefilter("ignore")
from ugrn_core import scfm
from ugrn_core.data import datasets as data
from ugrn_core.probes.features import DatasetProbes
from ugrn_core.probes.params import ProbeParams
ckpt, ready, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
fm = scfm.load_checkpoint(ckpt, device="cpu")
p = DatasetProbes(fm, data.load_beeline("STRING/mHSC-L/500"), ProbeParams(target_values=(0.0, 50.0), base_values=(10.0, 40.0)))
ready.touch()
while not go.exists():
    time.sleep(0.01)
out = {}
for probe in ("VVP", "GDT"):
    arr = p.probe(probe)
    out[probe] = [p.source[probe], float(arr.sum(dtype="float64")), list(arr.shape)]
print(json.dumps(out))
"""


def test_two_processes_probing_the_same_gene_set_compute_it_once(tiny_checkpoint, tmp_path):
    cache = tmp_path / "cache"
    go = tmp_path / "go"
    procs, ready = [], []
    for k in range(2):
        ready.append(tmp_path / f"ready{k}")
        procs.append(subprocess.Popen([PY, "-c", WORKER, str(tiny_checkpoint), str(ready[-1]), str(go)], cwd=REPO,
                                      env=_env(cache), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    deadline = time.time() + 120
    while not all(r.exists() for r in ready):
        assert time.time() < deadline and all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.05)
    go.touch()  # both start probing the same keys at the same moment
    outs = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
        outs.append(json.loads(stdout.strip().splitlines()[-1]))
    for probe in ("VVP", "GDT"):
        sources = sorted(o[probe][0] for o in outs)
        assert sources == ["computed", "disk"], (probe, outs)  # one computed, the other waited and read it
        assert outs[0][probe][1:] == outs[1][probe][1:]
    ckpt_dir = next(cache.iterdir())
    entries = sorted(f.name.split("-")[0] for f in ckpt_dir.glob("*.npy"))
    assert entries == ["GDT", "VVP"] and not _tmp_files(cache)
    fm = scfm.load_checkpoint(tiny_checkpoint, device="cpu")
    pc = ProbeCache(fm.checkpoint_id, cache)
    for f in ckpt_dir.glob("*.npy"):
        assert pc._problem(f) is None  # size and sha256 match the sidecar


# ----------------------------------------------------------------------------------------------- interrupts
def _wait_for(pattern_dir: Path, glob: str, proc, timeout=180.0) -> Path:
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = list(pattern_dir.rglob(glob)) if pattern_dir.exists() else []
        if found:
            return found[0]
        if proc.poll() is not None:
            raise AssertionError(f"process ended before {glob} appeared: {proc.communicate()}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"{glob} did not appear within {timeout} s")


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_interrupted_benchmark_keeps_nothing_half_written_and_resumes(tiny_checkpoint, tmp_path, sig, code):
    cache, out = tmp_path / "cache", tmp_path / "results" / "bench"
    cmd = [PY, "-m", "ugrn_core.cli", "benchmark", "--checkpoint", str(tiny_checkpoint), "--device", "cpu",
           "--train", TRAIN, "--test", TEST, "--methods", "VVP,GDT,Ens", "--epochs", "2", "--include-train-cell",
           "--target-values", "0,50", "--base-values", "5,10,15,20,25,30,40,50", "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=REPO, env=_env(cache), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    vvp = _wait_for(cache, "VVP-*.json", proc)  # the gene set's VVP is saved; GDT (8 base values) is running
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == code, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("ugrn benchmark: interrupted by " + sig.name) and "rerun" in last
    assert "Traceback" not in stderr
    assert not out.exists() and not _tmp_files(cache, out.parent)  # no result, no temp file or folder
    assert not list(cache.rglob("GDT-*.npy"))  # stopped mid-GDT: nothing of it kept
    npy = vvp.with_suffix(".npy")
    stamp = npy.stat().st_mtime_ns

    rerun = subprocess.run(cmd, cwd=REPO, env=_env(cache), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert npy.stat().st_mtime_ns == stamp  # resumed from the cached VVP, not recomputed
    assert (out / "results.csv").is_file() and (out / "meta.json").is_file()


# ----------------------------------------------------------------------------------------------- determinism
def test_predict_twice_gives_identical_bytes(tiny_checkpoint, tmp_path):
    """The same `ugrn predict` in two fresh processes with empty caches writes byte-identical files (CPU)."""
    from ugrn_core import api

    fm = scfm.load_checkpoint(tiny_checkpoint, device="cpu")
    ds = data.load_beeline(TRAIN)
    tr = api.train_translator(fm, ds, ["VVP", "GDT"], SMALL, epochs=3)
    tr_dir = tr.save(tmp_path / "tr")
    genes = tmp_path / "genes.txt"
    genes.write_text("\n".join(ds.tfs[:8] + ds.genes[:60]) + "\n")
    outs = {}
    for run in ("a", "b"):
        for suffix in ("tsv", "graphml"):
            out = tmp_path / f"{run}.{suffix}"
            r = subprocess.run([PY, "-m", "ugrn_core.cli", "predict", "--checkpoint", str(tiny_checkpoint), "--device", "cpu",
                                "--genes", str(genes), "--species", "mouse", "--translator", str(tr_dir), "--method", "Ens",
                                "--out", str(out)], cwd=REPO, env=_env(tmp_path / f"cache-{run}-{suffix}"),
                               capture_output=True, text=True, timeout=300)
            assert r.returncode == 0, r.stderr
            outs[(run, suffix)] = out.read_bytes()
    assert outs[("a", "tsv")] == outs[("b", "tsv")] and outs[("a", "graphml")] == outs[("b", "graphml")]
    assert len(outs[("a", "tsv")].splitlines()) > 100


@pytest.mark.slow  # ~3 min on 2 cores: the pretraining corpus is loaded twice
def test_interrupted_pretraining_resumes_from_its_saved_state(tmp_path):
    """SIGTERM mid-pretraining: exit 143, no checkpoint folder, a resumable state; the rerun continues from it."""
    import torch

    out = tmp_path / "ckpt"
    cmd = [PY, "-m", "ugrn_core.cli", "pretrain", "--out", str(out), "--steps", "3000", "--seq-len", "16",
           "--batch-size", "2", "--save-every", "10", "--device", "cpu"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=_env(tmp_path / "cache"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    state = _wait_for(tmp_path, ".ckpt.pretrain-state.pt", proc, timeout=300)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143 and "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines()[-1].startswith("ugrn pretrain: interrupted by SIGTERM")
    assert not out.exists() and state.is_file() and not _tmp_files(tmp_path)
    saved_step = torch.load(state, weights_only=True)["step"]
    assert 10 <= saved_step < 3000 and saved_step % 10 == 0

    r = subprocess.run(cmd, cwd=REPO, env=_env(tmp_path / "cache"), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert f"resuming pretraining from step {saved_step}/3000" in r.stdout
    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["resumed_from_step"] == saved_step and len(summary["loss_curve"]) == 30  # 3000 losses in all
    assert (out / "MODEL_CARD.md").is_file() and not state.exists()
    scfm.load_checkpoint(out, device="cpu")
