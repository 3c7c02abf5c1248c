"""Foundation-model wrapper: official checkpoint layout, virtual-cell queries, exact Jacobians."""

from __future__ import annotations

import copy
import dataclasses
import json
import warnings

import numpy as np
import pytest
import torch

from ugrn_core import scfm


def test_checkpoint_roundtrip_official_layout(tiny_model, tmp_path, fp32_close):
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
    fp32_close(fm.reconstruct(ids, x), expected)
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


def test_batched_vvp_equals_single_rows(fm, fp32_close):
    ids = fm.token_ids(fm.genes[100:140])
    v0, targets, sources = 25.0, [0.0, 10.0, 50.0], np.array([0, 5, 39])
    R = fm.vvp(ids, v0, targets, sources=sources, batch_size=4)
    assert R.shape == (3, 3, 40)
    base = fm.reconstruct(ids, np.full(40, v0))
    scale = np.abs(base).max()  # R is a difference of reconstructions ≈ 40: their round-off sets the tolerance
    for t, value in enumerate(targets):
        for s, src in enumerate(sources):
            cell = np.full(40, v0, dtype=np.float32)
            cell[src] = value
            fp32_close(R[t, s], fm.reconstruct(ids, cell) - base, scale=scale)
    assert np.abs(R).max() > 1000 * (1e-6 + 1e-5 * scale)  # the responses are far above the tolerance


def _manual_attention(fm, token_ids, values) -> np.ndarray:
    """Attention summed over layers, heads averaged, recomputed by hand from each layer's input and its in_proj
    weights: softmax(q k^T / sqrt(d_head)) with A[q, k] = weight of query q on key k (<cls> dropped)."""
    inputs = []
    hooks = [layer.register_forward_pre_hook(lambda m, a: inputs.append(a[0].detach()))
             for layer in fm.model.transformer_encoder.layers]
    try:
        fm.reconstruct(token_ids, np.asarray(values, dtype=np.float32)[None])
    finally:
        for h in hooks:
            h.remove()
    total = 0.0
    for layer, h in zip(fm.model.transformer_encoder.layers, inputs):
        att = layer.self_attn
        d, heads = att.embed_dim, att.num_heads
        w, b = att.in_proj_weight.double(), att.in_proj_bias.double()
        x = h[0].double()  # (L, d), batch_first
        q = (x @ w[:d].T + b[:d]).reshape(len(x), heads, d // heads).transpose(0, 1)
        k = (x @ w[d : 2 * d].T + b[d : 2 * d]).reshape(len(x), heads, d // heads).transpose(0, 1)
        total = total + torch.softmax(q @ k.transpose(1, 2) / np.sqrt(d // heads), dim=-1).mean(0)
    return total[1:, 1:].numpy()


def test_attention_equals_hand_computed_query_key_weights(fm, fp32_close):
    ids = fm.token_ids(fm.genes[:50])
    values = np.random.default_rng(0).uniform(0, 50, 50)
    A = fm.attention(ids, values)
    M = _manual_attention(fm, ids, values)
    assert A.shape == (50, 50) and (A >= 0).all()
    fp32_close(A, M, rtol=1e-4)  # float32 model vs float64 by hand
    assert np.abs(M - M.T).max() > 10 * np.abs(A - M).max()  # a transposed matrix would fail the comparison
    assert (A.sum(1) <= fm.n_layers + 1e-4).all() and (A.sum(1) > 0.5).all()  # rows: minus the <cls> column


def test_context_longer_than_max_seq_len_warns(tiny_model, tmp_path):
    model, vocab, args = tiny_model
    fm = scfm.load_checkpoint(scfm.save_checkpoint(model, vocab, args, tmp_path / "ckpt"), device="cpu")
    ids = fm.token_ids([f"GENE{i}" for i in range(30)])
    short = dataclasses.replace(fm, args={**fm.args, "max_seq_len": 31})  # 30 genes + <cls> fit exactly
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        short.reconstruct(ids, np.full(30, 10.0))
    longer = dataclasses.replace(fm, args={**fm.args, "max_seq_len": 30})
    with pytest.warns(UserWarning, match="context of 30 genes .* exceeds the checkpoint's max_seq_len 30"):
        longer.reconstruct(ids, np.full(30, 10.0))
    with pytest.warns(UserWarning, match="max_seq_len 30"):
        longer.jacobian(ids, 10.0, targets=np.array([0]))


def test_zero_shot_and_pert_scores_match_an_independent_computation(tiny_model, tmp_path, fp32_close):
    """Origin-Pert (Eq. 3), Origin-Attn (Eq. 4) and the Pert feature (Eq. 6) on a tiny model, against the raw
    model called cell by cell at a mean cell binned here with scipy's ranks."""
    import anndata
    import pandas as pd
    from scipy.stats import rankdata

    from ugrn_core.data import datasets, pairs as pairs_mod
    from ugrn_core.probes.cache import ProbeCache
    from ugrn_core.probes.features import DatasetProbes
    from ugrn_core.methods import score_pairs

    model, vocab, args = tiny_model
    fm = scfm.load_checkpoint(scfm.save_checkpoint(model, vocab, args, tmp_path / "ckpt"), device="cpu")
    genes = [f"GENE{i}" for i in range(0, 36, 3)]  # 12 genes, string order differs from list order
    rng = np.random.default_rng(0)
    X = rng.poisson(1.5, size=(25, len(genes))).astype(np.float32)
    ds = datasets.dataset_from_genes(genes, tfs=genes[:3], expression=anndata.AnnData(X=X, var=pd.DataFrame(index=genes)),
                                 name="tiny")
    from ugrn_core.probes.params import ProbeParams

    p = DatasetProbes(fm, ds, ProbeParams(feature_norm="none"),  # raw features: compared with the model directly
                      cache=ProbeCache(fm.checkpoint_id, tmp_path / "cache"))
    pairs = pairs_mod.candidate_pairs(ds)

    # mean cell by hand: per cell, non-zero values → ceil(max-rank / k * 50), zeros stay 0; then the mean over cells
    binned = np.zeros_like(X, dtype=np.float64)
    for c, row in enumerate(X):
        nz = row > 0
        binned[c, nz] = np.ceil(rankdata(row[nz], method="max") / nz.sum() * 50)
    mean = dict(zip(genes, binned.mean(0)))
    order = sorted(genes)  # the context: vocabulary tokens, sorted
    base = np.array([mean[g] for g in order])
    np.testing.assert_allclose(p.mean_cell(), base, rtol=1e-6)

    ids = torch.as_tensor([vocab[g] for g in order])

    def rec(cell):
        with torch.no_grad():
            src = torch.cat([torch.tensor([vocab["<cls>"]]), ids])[None]
            vals = torch.cat([torch.tensor([-2.0]), torch.as_tensor(cell, dtype=torch.float32)])[None]
            return model(src, vals, None)["mlm_output"][0, 1:].numpy()

    ref, pos = rec(base), {g: order.index(g) for g in genes}
    knocked = {}
    for g in genes:
        cell = base.copy()
        cell[pos[g]] = 0.0
        knocked[g] = rec(cell) - ref  # response of every gene when g is set to 0

    fwd = np.array([knocked[a][pos[b]] for a, b in zip(pairs["tf"], pairs["target"])])
    rev = np.array([knocked[b][pos[a]] for a, b in zip(pairs["tf"], pairs["target"])])
    # batched rows vs the model called cell by cell: differences of reconstructions, whose magnitude sets the round-off
    scale = np.abs(ref).max()
    fp32_close(score_pairs(p, pairs, ["Origin-Pert"])["Origin-Pert"].to_numpy(), np.abs(fwd), scale=scale, rtol=1e-4)
    fp32_close(p.pair_features("Pert", pairs), np.stack([fwd, rev], 1), scale=scale, rtol=1e-4)
    assert np.abs(fwd).max() > 100 * (1e-6 + 1e-5 * scale) and not np.allclose(np.abs(fwd), np.abs(rev))

    M = _manual_attention(fm, ids.numpy(), base)  # [query, key]: target j attends to source i
    expected = np.array([M[pos[b], pos[a]] for a, b in zip(pairs["tf"], pairs["target"])])
    fp32_close(score_pairs(p, pairs, ["Origin-Attn"])["Origin-Attn"].to_numpy(), expected, rtol=1e-4)  # fp32 vs fp64
    swapped = np.array([M[pos[a], pos[b]] for a, b in zip(pairs["tf"], pairs["target"])])
    assert np.abs(expected - swapped).max() > 1e-3  # the direction matters


def test_bin_values_rank_based():
    x = np.array([[0.0, 1.0, 2.0, 2.0, 10.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    b = scfm.bin_values(x, n_bins=51)
    np.testing.assert_array_equal(b[0], [0, 13, 38, 38, 50])  # ceil(rank_max / 4 * 50) with ties → max rank
    np.testing.assert_array_equal(b[1], 0)
    np.testing.assert_array_equal(scfm.bin_values(np.log1p(x)), b)  # monotone transforms give the same bins


def test_fp16_storage_halves_the_file_and_loads_back_as_fp32(fm, tmp_path):
    """fp16-stored weights (scGPT layout) load as fp32 and reconstruct like the fp32 checkpoint.

    Tolerance: each stored weight is rounded to fp16 (relative error ≤ 2⁻¹¹ ≈ 4.9e-4 for normal values; weights
    below 6e-5 are subnormal and keep ~1e-8 absolute error); through the 2-layer model the reconstruction M(x) moves
    by about that relative amount of its largest value (measured on the bundled model: 0.026 of 42.6 bins, 6e-4).
    Hence |Δ| ≤ 3e-3 · max|M(x)|, about 0.13 of a bin — a wrong or unloaded weight moves outputs by whole bins.
    """
    from ugrn_core.bench.controls import make_twin

    src = fm.path
    half = scfm.convert_checkpoint(src, tmp_path / "fp16")
    raw = torch.load(half / "best_model.pt", weights_only=True)
    assert {v.dtype for v in raw.values() if v.is_floating_point()} == {torch.float16}
    assert any("self_attn.Wqkv.weight" in k for k in raw)  # official (flash-attn) key names kept
    assert json.loads((half / "args.json").read_text())["weights_storage"] == "fp16"
    assert json.loads((half / "vocab.json").read_text()) == json.loads((src / "vocab.json").read_text())
    ratio = (half / "best_model.pt").stat().st_size / (src / "best_model.pt").stat().st_size
    assert 0.45 < ratio < 0.55, ratio  # 2 of 4 bytes per parameter, plus the same small zip overhead

    fm16 = scfm.load_checkpoint(half, device="cpu")
    assert {p.dtype for p in fm16.model.parameters()} == {torch.float32}
    assert fm16.checkpoint_id != fm.checkpoint_id  # its probes are cached apart from the fp32 model's
    genes = fm.genes[:300]
    ids = fm.token_ids(genes)
    rng = np.random.default_rng(0)
    x = np.where(rng.random((8, 300)) < 0.5, 0, rng.integers(1, 51, (8, 300))).astype(np.float32)
    ref, got = fm.reconstruct(ids, x), fm16.reconstruct(ids, x)
    scale = float(np.abs(ref).max())
    assert scale > 1.0
    np.testing.assert_allclose(got, ref, rtol=0, atol=3e-3 * scale)
    emb = fm.embeddings(ids)  # fp16 rounding of the embedding table: ≤ 2⁻¹¹ of its largest entry
    np.testing.assert_allclose(fm16.embeddings(ids), emb, rtol=0, atol=2 ** -11 * float(np.abs(emb).max()))

    # back to fp32: the fp16 values exactly, the storage key gone; an fp16 source's twin is stored in fp16 too
    back = scfm.convert_checkpoint(half, tmp_path / "fp32", storage="fp32")
    assert "weights_storage" not in json.loads((back / "args.json").read_text())
    for k, v in torch.load(back / "best_model.pt", weights_only=True).items():
        assert v.dtype == (torch.float32 if v.is_floating_point() else raw[k].dtype) and torch.equal(v, raw[k].to(v.dtype))
    twin = make_twin(half, tmp_path / "twin")
    assert torch.load(twin / "best_model.pt", weights_only=True)["encoder.embedding.weight"].dtype == torch.float16
    scfm.load_checkpoint(twin, device="cpu")


def test_fp16_storage_refuses_overflow_and_unknown_storage(tiny_model, tmp_path):
    from ugrn_core.errors import CheckpointError, ParameterError

    model, vocab, args = tiny_model
    path = scfm.save_checkpoint(model, vocab, args, tmp_path / "ok", storage="fp16")
    assert scfm.load_checkpoint(path, device="cpu").vocab == vocab
    big = copy.deepcopy(model)
    with torch.no_grad():
        big.decoder.fc[0].weight[0, 0] = 1e5  # beyond fp16's largest value, 65504
    with pytest.raises(CheckpointError, match=r"decoder\.fc\.0\.weight.*overflows fp16"):
        scfm.save_checkpoint(big, vocab, args, tmp_path / "big", storage="fp16")
    assert not (tmp_path / "big").exists()
    with pytest.raises(ParameterError, match=r"storage 'bf16'; expected one of \['fp32', 'fp16'\]"):
        scfm.save_checkpoint(model, vocab, args, tmp_path / "bad", storage="bf16")
