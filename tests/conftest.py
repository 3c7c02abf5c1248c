"""Shared fixtures: the real data directory, the bundled compact checkpoint, and a tiny random checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ugrn_core import config, scfm


@pytest.fixture(scope="session")
def data_dir():
    return config.resolve_data_dir()


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Probe cache in a per-session temp folder, so tests never read a stale developer cache."""
    import os

    old = os.environ.get("UGRN_CACHE_DIR")
    os.environ["UGRN_CACHE_DIR"] = str(tmp_path_factory.mktemp("ugrn-cache"))
    yield
    if old is None:
        os.environ.pop("UGRN_CACHE_DIR", None)
    else:
        os.environ["UGRN_CACHE_DIR"] = old


def _assert_fp32_close(actual, expected, scale=None, rtol=1e-5, err_msg=""):
    """Assert two float32 results of the same computation done another way are equal up to float32 round-off.

    "Another way": batched vs single-row model calls, another batch grouping or thread count, a full vs a subset
    context, another CPU's kernels. Each model output is a sum over N ≈ 40–560 products per layer; float32 keeps
    about 7 digits, so reordering those sums moves a result by a few units in the last place of the *largest
    operand* (the reconstruction M(x), up to ~50 in bin space, or the largest Jacobian entry), not of the compared
    value, which is often a small difference of two such outputs (a VVP response M(x') − M(x)). Observed: 3 ulps of
    40 (1.1e-5) on 2-core Xeons with AVX-512; the worst case for N = 560 terms is N · 2⁻²⁴ ≈ 3e-5 relative.
    Hence ``atol = 1e-6 + 1e-5 · scale`` with ``scale`` = the largest operand magnitude (default ``max|expected|``),
    and ``rtol`` for entries larger than that; still 1e-4 or less of the signal in every use, so a wrong row, source
    or direction fails.
    """
    expected = np.asarray(expected)
    scale = float(np.abs(expected).max()) if scale is None else float(scale)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-6 + 1e-5 * scale, err_msg=err_msg)


@pytest.fixture(scope="session")
def fp32_close():
    """``_assert_fp32_close``: compare float32 results of differently batched / threaded / contextualised model calls
    with a tolerance scaled to the values compared."""
    return _assert_fp32_close


@pytest.fixture(scope="session")
def fm():
    """The bundled compact scGPT (must ship with the repository)."""
    assert config.DEFAULT_CHECKPOINT_DIR.is_dir(), f"bundled checkpoint missing: {config.DEFAULT_CHECKPOINT_DIR}"
    return scfm.load_checkpoint(config.DEFAULT_CHECKPOINT_DIR, device="cpu")


TINY_ARGS = dict(embsize=16, nheads=2, d_hid=32, nlayers=2, n_layers_cls=3, dropout=0.0, pad_token="<pad>",
                 pad_value=-2, n_bins=51, input_emb_style="continuous", max_seq_len=64, MVC=False,
                 fast_transformer=True, pre_norm=False)


@pytest.fixture()
def tiny_model():
    """A randomly initialised TransformerModel with a 40-gene vocabulary (weights perturbed away from init)."""
    torch.manual_seed(0)
    vocab = {f"GENE{i}": i for i in range(40)}
    for tok in scfm.SPECIAL_TOKENS:
        vocab[tok] = len(vocab)
    model = scfm.build_model(vocab, TINY_ARGS)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model.eval(), vocab, dict(TINY_ARGS)


TINY_DATASET = "STRING/mHSC-L/500"
TINY_EXTRA_GENES = ["GATA1", "SPI1", "CEBPA", "KLF1", "GATA2", "RUNX1", "MYB", "TAL1"]


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """A tiny random scGPT checkpoint folder (official layout) whose vocabulary holds 300 genes of TINY_DATASET
    (its first 60 TFs, then genes in file order; upper-case mouse symbols) plus TINY_EXTRA_GENES, so that dataset
    probes in seconds with a 300-gene context. Weights perturbed away from init."""
    from ugrn_core.data import datasets as data

    ds = data.load_beeline(TINY_DATASET)
    genes = sorted(set(list(dict.fromkeys(ds.tfs[:60] + ds.genes))[:300]) | set(TINY_EXTRA_GENES))
    vocab = {g: i for i, g in enumerate(genes)}
    for tok in scfm.SPECIAL_TOKENS:
        vocab[tok] = len(vocab)
    torch.manual_seed(1)
    args = dict(TINY_ARGS, max_seq_len=2048)
    model = scfm.build_model(vocab, args)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return scfm.save_checkpoint(model.eval(), vocab, args, tmp_path_factory.mktemp("tiny") / "tiny_ckpt")
