"""Full-size checkpoints and devices: random official-shape checkpoints, precision, batch sizing, time estimates.

GPU-only checks are marked ``gpu`` and skipped without CUDA (run them on a GPU machine: ``pytest -m gpu``).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from ugrn_core import api, cli, scfm
from ugrn_core.probes.features import DatasetProbes

SMALL = ["--n-genes", "60", "--nlayers", "1", "--embsize", "16", "--nheads", "2", "--d-hid", "32"]


def test_make_checkpoint_round_trip(tmp_path):
    out = tmp_path / "ck"
    assert cli.main(["make-checkpoint", "--like", "compact", "--out", str(out), *SMALL]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["args.json", "best_model.pt", "vocab.json"]
    keys = torch.load(out / "best_model.pt", weights_only=True).keys()
    assert any(k.endswith("self_attn.Wqkv.weight") for k in keys) and not any("in_proj" in k for k in keys)
    args = json.loads((out / "args.json").read_text())
    assert (args["nlayers"], args["embsize"], args["nheads"], args["d_hid"]) == (1, 16, 2, 32)

    fm = scfm.load_checkpoint(out, device="cpu")
    assert len(fm.vocab) == 63 and len(fm.genes) == 60 and fm.n_layers == 1 and fm.d_model == 16
    rec = fm.reconstruct(fm.token_ids(fm.genes[:20]), np.full(20, 10.0))
    assert rec.shape == (20,) and np.isfinite(rec).all()
    # same seed → same weights; another seed → other weights
    again = scfm.random_checkpoint(tmp_path / "again", like="compact", n_genes=60, nlayers=1, embsize=16, nheads=2, d_hid=32)
    other = scfm.random_checkpoint(tmp_path / "other", like="compact", n_genes=60, nlayers=1, embsize=16, nheads=2, d_hid=32,
                                   seed=1)
    assert scfm.load_checkpoint(again, "cpu").checkpoint_id == fm.checkpoint_id
    assert scfm.load_checkpoint(other, "cpu").checkpoint_id != fm.checkpoint_id


def test_scgpt_human_shape_uses_census_vocabulary(tmp_path):
    census = json.loads(scfm.census_vocab_path().read_text())
    assert len(census) == 60694  # + <pad>, <cls>, <eoc> = scGPT_human's 60,697 tokens
    path = scfm.random_checkpoint(tmp_path / "human", like="scGPT_human", n_genes=40, nlayers=1)
    fm = scfm.load_checkpoint(path, device="cpu")
    first = [g for g, _ in sorted(census.items(), key=lambda kv: kv[1])][:40]
    assert fm.genes == first
    assert fm.d_model == 512 and fm.model.transformer_encoder.layers[0].self_attn.num_heads == 8
    assert fm.model.transformer_encoder.layers[0].linear1.out_features == 512 and fm.max_seq_len == 1200
    assert any(k.startswith("mvc_decoder.") for k in fm.model.state_dict())  # scGPT_human has the MVC head
    with pytest.raises(ValueError, match="divisible"):
        scfm.random_checkpoint(tmp_path / "bad", like="scGPT_human", n_genes=10, nheads=7)
    with pytest.raises(ValueError, match="unknown checkpoint shape"):
        scfm.random_checkpoint(tmp_path / "bad", like="scGPT_giant")


def test_activation_memory_and_gpu_batch_size():
    # scGPT_human, 1,204 context genes + <cls>: 4 B · 1205 · 12 layers · (10·512 + 2·512) per Jacobian row
    per_row = scfm.activation_bytes_per_row(1205, 12, 8, 512, 512, "backward", "fp32")
    assert per_row == 4 * 1205 * 12 * (10 * 512 + 2 * 512)
    unfused = scfm.activation_bytes_per_row(1205, 12, 8, 512, 512, "backward", "fp32", fused_attention=False)
    assert unfused - per_row == 4 * 1205 * 12 * 8 * 1205 * 2  # the math kernel's N×N scores and probabilities
    assert scfm.activation_bytes_per_row(1205, 12, 8, 512, 512, "forward") < per_row / 5  # no saved activations
    assert scfm.activation_bytes_per_row(1205, 12, 8, 512, 512, "backward", "bf16") < per_row

    free = 78 * 2**30
    b = scfm.gpu_batch_size(free, per_row, "backward")
    assert b == int(0.5 * free // per_row) // 8 * 8 and 8 <= b <= 128
    longer = scfm.activation_bytes_per_row(2405, 12, 8, 512, 512, "backward", "fp32")
    assert scfm.gpu_batch_size(free, longer, "backward") < b  # longer contexts → fewer rows
    assert scfm.gpu_batch_size(free / 4, per_row, "backward") < b  # less free memory → fewer rows
    assert scfm.gpu_batch_size(1e6, per_row) == 1  # never zero
    assert scfm.gpu_batch_size(1e15, per_row, "forward") == 256 and scfm.gpu_batch_size(1e15, per_row, "backward") == 128
    with pytest.raises(ValueError, match="kind"):
        scfm.activation_bytes_per_row(10, 1, 1, 8, 8, "sideways")
    with pytest.raises(ValueError, match="safety"):
        scfm.gpu_batch_size(free, per_row, safety=1.5)


def test_cpu_batch_stays_four(fm):
    assert fm.probe_batch_size("forward", 1204) == fm.probe_batch_size("backward", 100) == scfm.CPU_BATCH == 4


def _tiny_fm(tiny_model, precision="fp32"):
    model, vocab, args = tiny_model
    return scfm.ScFM(model=model, vocab=vocab, args=args, device=torch.device("cpu"), checkpoint_id="tiny",
                     precision=precision)


def test_estimate_is_positive_finite_and_grows_with_context(tiny_model):
    fm = _tiny_fm(tiny_model)
    small = fm.estimate_seconds(8 * 10 + 1, 8 * 10, 10)
    large = fm.estimate_seconds(8 * 40 + 1, 8 * 40, 40)
    assert 0 < small < large and math.isfinite(large)
    assert large > 2 * small  # 4× the rows, each at least as costly
    assert fm.estimate_seconds(0, 0, 40) == 0.0
    assert {k[0] for k in fm._row_seconds} == {"forward", "backward"}  # calibrations are kept


def test_api_estimate_counts_only_uncached_probes(fm, data_dir):
    ds = api.load_beeline("STRING/hESC/500", data_dir)
    vvp = api.estimate_probe_seconds(fm, ds, ["VVP"])
    both = api.estimate_probe_seconds(fm, [ds, ds], ["VVP", "GDT"])  # one gene set, counted once
    assert 0 < vvp < both and math.isfinite(both)
    assert api.estimate_probe_seconds(fm, ds, ["Emb"]) == 0.0
    assert api.probes_for_methods(["Ens", "Emb"]) == ["VVP", "GDT"]
    assert sorted(api.probes_for_methods(["Origin-Pert", "Origin-Attn"])) == ["Attn", "Pert"]
    assert api.format_seconds(40) == "about 40 s" and api.format_seconds(600) == "about 10.0 min"


def test_mixed_precision_runs_on_cpu_and_stays_close(tiny_model):
    fm32, fm16 = _tiny_fm(tiny_model), _tiny_fm(tiny_model, "bf16")
    ids = fm32.token_ids([f"GENE{i}" for i in range(30)])
    x = np.random.default_rng(0).uniform(0, 50, size=(3, 30)).astype(np.float32)
    r32, r16 = fm32.reconstruct(ids, x), fm16.reconstruct(ids, x)
    assert r16.dtype == np.float32 and np.isfinite(r16).all()
    assert not np.array_equal(r32, r16)  # bf16 arithmetic really ran
    assert np.linalg.norm(r16 - r32) / np.linalg.norm(r32) < 0.05
    j32, j16 = fm32.jacobian(ids, 20.0), fm16.jacobian(ids, 20.0)
    # bf16 gradients are coarse (≈ 3 significant digits per product; ~20% relative error on this tiny random model,
    # the reason bf16 is not the default), but they follow the fp32 Jacobian
    assert j16.dtype == np.float32 and np.isfinite(j16).all() and not np.array_equal(j16, j32)
    assert np.corrcoef(j16.ravel(), j32.ravel())[0, 1] > 0.9
    with pytest.raises(ValueError, match="precision"):
        _tiny_fm(tiny_model, "fp8")


def test_precision_keys_the_probe_cache(fm, data_dir):
    import dataclasses

    ds = api.load_beeline("STRING/hESC/500", data_dir)
    bf16 = dataclasses.replace(fm, precision="bf16", _row_seconds={})
    assert DatasetProbes(fm, ds)._key("GDT") != DatasetProbes(bf16, ds)._key("GDT")


# ------------------------------------------------------------------------------------------------------ GPU only
gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.mark.gpu
@gpu
def test_gpu_bf16_features_close_to_fp32(tmp_path, fp32_close):
    """scGPT_human-shaped random model on the GPU: bf16 autocast Jacobian and VVP rows within 2% of fp32, fp32 on the
    GPU within 1e-3 of the CPU, and the memory-sized batch runs at N = 1204 without running out of memory."""
    path = scfm.random_checkpoint(tmp_path / "human", like="scGPT_human", n_genes=3000)
    fm32, fm16 = scfm.load_checkpoint(path, "cuda", "fp32"), scfm.load_checkpoint(path, "cuda", "bf16")
    ids = fm32.token_ids(list(np.random.default_rng(0).choice(fm32.genes, 1204, replace=False)))
    targets = np.arange(0, 1204, 37)
    j32, j16 = fm32.jacobian(ids, 20.0, targets=targets), fm16.jacobian(ids, 20.0, targets=targets)
    rel = np.linalg.norm(j16 - j32, axis=1) / np.linalg.norm(j32, axis=1)
    assert rel.max() < 0.02, rel.max()
    r32 = fm32.vvp(ids, 25.0, [0.0, 50.0], sources=targets)
    r16 = fm16.vvp(ids, 25.0, [0.0, 50.0], sources=targets)
    assert np.linalg.norm(r16 - r32) / np.linalg.norm(r32) < 0.02
    cpu = scfm.load_checkpoint(path, "cpu")
    # another device's kernels reorder the float32 sums: round-off scales with the largest Jacobian entry
    fp32_close(cpu.jacobian(ids[:200], 20.0, targets=np.arange(4)),
               fm32.jacobian(ids[:200], 20.0, targets=np.arange(4)), rtol=1e-3)
    assert fm16.probe_batch_size("backward", 1204) >= 8
    full = fm16.jacobian(ids, 20.0, targets=np.arange(fm16.probe_batch_size("backward", 1204)))
    assert np.isfinite(full).all()
