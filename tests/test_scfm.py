"""Foundation-model wrapper: official checkpoint layout, virtual-cell queries, exact Jacobians."""

from __future__ import annotations

import copy
import dataclasses
import json

import numpy as np
import pytest
import torch

from ugrn_core import scfm


def test_checkpoint_roundtrip_official_layout(tiny_model, tmp_path):
    model, vocab, args = tiny_model
    path = scfm.save_checkpoint(model, vocab, args, tmp_path / "ckpt")
    assert sorted(p.name for p in path.iterdir()) == ["args.json", "best_model.pt", "vocab.json"]
    keys = torch.load(path / "best_model.pt", weights_only=True).keys()
    assert any("self_attn.Wqkv.weight" in k for k in keys)  # flash-attn names, as released checkpoints
    assert not any("in_proj" in k for k in keys)

    fm = scfm.load_checkpoint(path, device="cpu")
    ids = fm.token_ids([f"GENE{i}" for i in range(30)])
    x = np.random.default_rng(0).uniform(0, 50, size=(3, 30)).astype(np.float32)
    with torch.no_grad():
        src = torch.cat([torch.full((3, 1), vocab["<cls>"]), torch.as_tensor(ids).expand(3, -1)], 1)
        vals = torch.cat([torch.full((3, 1), -2.0), torch.as_tensor(x)], 1)
        expected = model(src, vals, None)["mlm_output"][:, 1:].numpy()
    # same weights, same inputs: equal up to float32 round-off (the CPU kernel picked can depend on memory alignment)
    np.testing.assert_allclose(fm.reconstruct(ids, x), expected, rtol=1e-5, atol=1e-6)
    assert fm.checkpoint_id == scfm.load_checkpoint(path, device="cpu").checkpoint_id


def test_loader_accepts_wrapped_state_and_missing_specials(tiny_model, tmp_path):
    model, vocab, args = tiny_model
    path = scfm.save_checkpoint(model, vocab, args, tmp_path / "ckpt")
    state = torch.load(path / "best_model.pt", weights_only=True)
    torch.save({"model_state_dict": {f"module.{k}": v for k, v in state.items()}}, path / "best_model.pt")
    genes_only = {k: v for k, v in vocab.items() if k not in scfm.SPECIAL_TOKENS}  # specials appended by the loader
    (path / "vocab.json").write_text(json.dumps(genes_only))
    fm = scfm.load_checkpoint(path, device="cpu")
    assert fm.vocab["<pad>"] == vocab["<pad>"] and len(fm.vocab) == len(vocab)


def test_loader_fails_loudly(tiny_model, tmp_path):
    model, vocab, args = tiny_model
    path = scfm.save_checkpoint(model, vocab, args, tmp_path / "ckpt")
    state = torch.load(path / "best_model.pt", weights_only=True)
    dropped = {k: v for k, v in state.items() if "layers.1.self_attn.Wqkv.weight" not in k}
    torch.save(dropped, path / "best_model.pt")
    with pytest.raises(ValueError, match=r"missing transformer_encoder\.layers\.1\.self_attn\.in_proj_weight"):
        scfm.load_checkpoint(path, device="cpu")

    torch.save(state, path / "best_model.pt")
    (path / "args.json").write_text(json.dumps({**args, "pre_norm": True}))
    with pytest.raises(ValueError, match="pre_norm"):
        scfm.load_checkpoint(path, device="cpu")

    (path / "args.json").unlink()
    with pytest.raises(FileNotFoundError, match="args.json"):
        scfm.load_checkpoint(path, device="cpu")


def test_bundled_checkpoint_layout(fm):
    assert fm.path.name == "scgpt_compact"
    assert {"<pad>", "<cls>", "<eoc>"} <= set(fm.vocab)
    assert not any(p.requires_grad for p in fm.model.parameters()) and not fm.model.training


def _fm64(fm):
    return dataclasses.replace(fm, model=copy.deepcopy(fm.model).double())


def test_jacobian_matches_finite_differences(fm):
    fm64 = _fm64(fm)
    ids = fm.token_ids(fm.genes[:25])
    base = 20.0
    J = fm64.jacobian(ids, base, batch_size=7)  # (25, 25): [target, source]
    eps = 1e-4
    for src in (0, 7, 24):
        plus = np.full((1, 25), base)
        minus = np.full((1, 25), base)
        plus[0, src] += eps
        minus[0, src] -= eps
        with torch.no_grad():
            fd = (fm64._forward(fm64._src(ids, 1), torch.as_tensor(plus)) - fm64._forward(fm64._src(ids, 1), torch.as_tensor(minus)))
        fd = (fd[0] / (2 * eps)).numpy()
        np.testing.assert_allclose(J[:, src], fd, rtol=1e-4, atol=1e-6)
    assert np.abs(J).max() > 1e-4  # the model does respond to its inputs


def test_batched_vvp_equals_single_rows(fm):
    ids = fm.token_ids(fm.genes[100:140])
    v0, targets, sources = 25.0, [0.0, 10.0, 50.0], np.array([0, 5, 39])
    R = fm.vvp(ids, v0, targets, sources=sources, batch_size=4)
    assert R.shape == (3, 3, 40)
    base = fm.reconstruct(ids, np.full(40, v0))
    for t, value in enumerate(targets):
        for s, src in enumerate(sources):
            cell = np.full(40, v0, dtype=np.float32)
            cell[src] = value
            np.testing.assert_allclose(R[t, s], fm.reconstruct(ids, cell) - base, atol=1e-5)
    assert np.abs(R).max() > 0


def test_attention_rows_are_distributions(fm):
    ids = fm.token_ids(fm.genes[:50])
    A = fm.attention(ids, np.full(50, 10.0))
    assert A.shape == (50, 50) and (A >= 0).all()
    assert (A.sum(1) <= fm.n_layers + 1e-4).all() and (A.sum(1) > 0.5).all()  # minus the <cls> column


def test_bin_values_rank_based():
    x = np.array([[0.0, 1.0, 2.0, 2.0, 10.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    b = scfm.bin_values(x, n_bins=51)
    np.testing.assert_array_equal(b[0], [0, 13, 38, 38, 50])  # ceil(rank_max / 4 * 50) with ties → max rank
    np.testing.assert_array_equal(b[1], 0)
    np.testing.assert_array_equal(scfm.bin_values(np.log1p(x)), b)  # monotone transforms give the same bins
