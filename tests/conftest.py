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
