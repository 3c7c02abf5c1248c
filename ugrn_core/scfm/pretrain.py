"""Pretrain a compact scGPT on the real expression data in the data directory.

The official scGPT weights cannot be downloaded here, so the project ships a compact checkpoint of the same class
(scgpt's ``TransformerModel``) and on-disk layout, pretrained with scGPT's gene-expression-prediction objective:
per-cell value binning (Cui et al. 2024, Methods "Input embeddings": non-zero values of each cell are binned by
their quantiles into 1..n_bins-1, zero stays 0), random masking of 40 % of the gene values (``mask_value`` -1)
and a mean-squared error on the masked positions.

Corpus: BEELINE expression for hHEP, mDC, mESC, mHSC-GM, mHSC-L (every TFs+500/1000 folder of a cell type shares
its cells; their gene sets are merged), scanpy's pbmc68k_reduced and HSMM (Trapnell 2014). The vocabulary is the
union of the genes trained on, as human symbols (mouse genes through their human ortholog, else the upper-cased
symbol). hESC and mHSC-E have no expression here: the model never sees those datasets' cells.

Other corpora: ``pretrain(..., corpora=corpora_from_anndata([...]))`` (CLI ``ugrn pretrain --h5ad FILE``) trains on
given cells instead (e.g. SERGIO-simulated cells, ``ugrn_core.data.simulate``), and ``exclude=("hHEP", ...)`` (CLI
``--exclude-cells``) leaves sources of the default corpus out, so a model that never saw the test cell types can be
built. The vocabulary is always built from the genes of the corpus trained on.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import anndata as ad
import numpy as np
import scipy.sparse as sp
import torch
from tqdm.auto import tqdm

from ..data import datasets as ugrn_datasets
from .._io import atomic_write
from ..config import resolve_data_dir
from ..errors import ParameterError
from .binning import bin_values
from .checkpoint import build_model, load_checkpoint, save_checkpoint
from .corpus import BEELINE_EXPRESSION_CELLS, Corpus, _to_tokens
from .model import ARCH_KEYS, SPECIAL_TOKENS
from .vocab import load_orthologs

MASK_VALUE = -1.0


def _dedup(tokens: list[str], X: np.ndarray) -> tuple[list[str], np.ndarray]:
    seen, keep = set(), []
    for i, t in enumerate(tokens):
        if t and t not in seen and t not in SPECIAL_TOKENS:
            seen.add(t)
            keep.append(i)
    return [tokens[i] for i in keep], X[:, keep]


SOURCES = BEELINE_EXPRESSION_CELLS + ("pbmc68k_reduced", "HSMM")  # names accepted by ``exclude``


def load_corpus(data_dir=None, n_bins: int = 51, exclude=(), corpus: str = "beeline") -> list[Corpus]:
    """Load and bin every expression source used for pretraining (see module docstring), except those in
    ``exclude`` (names of :data:`SOURCES`: BEELINE cell types, ``pbmc68k_reduced``, ``HSMM``).

    ``corpus="broad"``: every real cell in the data directory instead (``corpus.load_broad_corpus``: BEELINE,
    legacy TF matrices, HSMM, PBMC and the newer sets, normalised per source; ``exclude`` then takes its source names,
    and a BEELINE cell type also drops the files that share its cells).

    Raises:
        FileNotFoundError: the data directory or one of the expression files is missing.
        ParameterError: an unknown name in ``exclude`` (lists the known ones), or every source excluded.
    """
    if corpus == "broad":
        from .corpus import load_broad_corpus

        return load_broad_corpus(data_dir, n_bins, exclude)
    if corpus != "beeline":
        raise ParameterError(f"corpus {corpus!r}; expected 'beeline' (the original corpus) or 'broad'")
    exclude = {str(x).strip() for x in exclude if str(x).strip()}
    unknown = sorted(exclude - set(SOURCES))
    if unknown:
        raise ParameterError(f"exclude: unknown pretraining source(s) {unknown}; expected names of {list(SOURCES)}")
    if exclude >= set(SOURCES):
        raise ParameterError(f"exclude: every pretraining source ({list(SOURCES)}) is excluded; nothing to train on")
    data_dir = resolve_data_dir(data_dir)
    orthologs = load_orthologs(data_dir)
    corpora = []
    for cell in BEELINE_EXPRESSION_CELLS:
        if cell in exclude:
            continue
        from .corpus import beeline_expression

        merged = beeline_expression(cell, data_dir)
        species = ugrn_datasets.SPECIES[cell]
        tokens, X = _dedup(_to_tokens(list(merged.columns), species, orthologs), merged.to_numpy(np.float32))
        corpora.append(Corpus(f"BEELINE {cell}", species, tokens, bin_values(X, n_bins)))

    if "pbmc68k_reduced" not in exclude:
        pbmc = ad.read_h5ad(data_dir / "scrna" / "pbmc68k_reduced" / "pbmc68k_reduced.h5ad")
        X = pbmc.X.toarray() if sp.issparse(pbmc.X) else np.asarray(pbmc.X)
        tokens, X = _dedup([g.upper() for g in pbmc.var_names], X)
        corpora.append(Corpus("pbmc68k_reduced", "human", tokens, bin_values(X, n_bins)))

    if "HSMM" not in exclude:
        hsmm = ad.read_h5ad(data_dir / "scrna" / "hsmm_trapnell2014" / "HSMM.h5ad")
        X = hsmm.X.toarray() if sp.issparse(hsmm.X) else np.asarray(hsmm.X)
        tokens, X = _dedup([str(g).upper() for g in hsmm.var["gene_short_name"]], X)
        corpora.append(Corpus("HSMM (Trapnell 2014)", "human", tokens, bin_values(X, n_bins)))
    return corpora


def corpora_from_anndata(sources, species: str = "human", n_bins: int = 51, data_dir=None) -> list[Corpus]:
    """Pretraining corpora from given expression: one :class:`Corpus` per AnnData or ``.h5ad`` path.

    Each source is cells × genes (var_names = gene symbols; counts or any monotone transform: values are binned per
    cell, ``scfm.bin_values``). Its species is ``adata.uns["species"]`` when present, else ``species``; mouse symbols
    become tokens through their human orthologs (the rule ``vocab.map_to_vocab`` matches with). A source's name is
    ``adata.uns["name"]``, else its file stem, else ``"anndata <k>"``.

    Raises: ParameterError for an unknown species or an empty source; InputFileNotFound for a missing file.
    """
    from ..errors import InputFileNotFound

    items = [sources] if isinstance(sources, (str, Path, ad.AnnData)) else list(sources)
    if not items:
        raise ParameterError("corpora_from_anndata: no expression source given")
    orthologs = None
    corpora = []
    for k, src in enumerate(items):
        name = f"anndata {k}"
        if not isinstance(src, ad.AnnData):
            path = Path(src)
            if not path.is_file():
                raise InputFileNotFound(f"pretraining corpus '{path}' not found; expected an .h5ad file (cells × genes)")
            name, src = path.stem, ad.read_h5ad(path)
        name = str(src.uns.get("name", name))
        sp_ = str(src.uns.get("species", species))
        if sp_ not in ("human", "mouse"):
            raise ParameterError(f"pretraining corpus {name!r}: species {sp_!r}; expected 'human' or 'mouse'")
        if src.n_obs == 0 or src.n_vars == 0:
            raise ParameterError(f"pretraining corpus {name!r} is empty ({src.n_obs} cells × {src.n_vars} genes)")
        if sp_ == "mouse" and orthologs is None:
            orthologs = load_orthologs(data_dir)
        X = src.X.toarray() if sp.issparse(src.X) else np.asarray(src.X)
        tokens, X = _dedup(_to_tokens([str(g) for g in src.var_names], sp_, orthologs or {}), X)
        corpora.append(Corpus(name, sp_, tokens, bin_values(X, n_bins)))
    return corpora


@dataclass
class PretrainConfig:
    """Hyper-parameters of the compact model and its pretraining (defaults = the bundled checkpoint)."""

    embsize: int = 64
    nheads: int = 4
    d_hid: int = 128
    nlayers: int = 2
    dropout: float = 0.0  # attention dropout forces the slow math kernel on CPU (6x slower); masking regularises
    n_bins: int = 51
    seq_len: int = 512  # genes per training cell (plus <cls>)
    max_seq_len: int = 1200
    batch_size: int = 16
    steps: int = 6000
    lr: float = 1e-3
    warmup: int = 200
    mask_ratio: float = 0.4
    holdout_frac: float = 0.05
    seed: int = 0
    save_every: int = 500  # steps between resumable training states (0 = never); not part of the model


def state_path(out_dir) -> Path:
    """Where an unfinished pretraining run keeps its resumable state: ``.<out name>.pretrain-state.pt`` beside it."""
    out = Path(out_dir)
    return out.with_name(f".{out.name}.pretrain-state.pt")


def _sample_batch(corpus: Corpus, cells: np.ndarray, vocab: dict, cfg: PretrainConfig, rng: np.random.Generator):
    """Token ids (B, L+1), input values (B, L+1) with masking, targets (B, L+1) and the loss mask (B, L+1)."""
    n_genes = len(corpus.tokens)
    L = min(cfg.seq_len, n_genes)
    ids = np.asarray([vocab[t] for t in corpus.tokens], dtype=np.int64)
    src = np.empty((len(cells), L + 1), dtype=np.int64)
    val = np.empty((len(cells), L + 1), dtype=np.float32)
    for b, c in enumerate(cells):
        row = corpus.X[c]
        if n_genes > L:
            # half of the context from the expressed genes (sparse sources would otherwise be all zeros)
            nz = np.flatnonzero(row > 0)
            k = min(len(nz), L // 2)
            pick = rng.choice(nz, k, replace=False) if k else np.empty(0, dtype=np.int64)
            rest = np.setdiff1d(np.arange(n_genes), pick)
            pick = np.concatenate([pick, rng.choice(rest, L - k, replace=False)])
        else:
            pick = rng.permutation(n_genes)
        src[b, 0], val[b, 0] = vocab["<cls>"], -2.0
        src[b, 1:], val[b, 1:] = ids[pick], row[pick]
    target = val.copy()
    mask = rng.random(val.shape) < cfg.mask_ratio
    mask[:, 0] = False
    val[mask] = MASK_VALUE
    return src, val, target, mask


def _masked_mse(model, src, val, target, mask, device) -> torch.Tensor:
    out = model(torch.as_tensor(src, device=device), torch.as_tensor(val, device=device), None)["mlm_output"]
    m = torch.as_tensor(mask, device=device)
    return ((out - torch.as_tensor(target, device=device)) ** 2)[m].mean()


def _holdout_splits(corpora: list[Corpus], cfg: PretrainConfig, rng: np.random.Generator) -> list[tuple]:
    """(training cell indices, held-out cell indices) per corpus: ``holdout_frac`` of its cells (at least one)."""
    splits = []
    for c in corpora:
        perm = rng.permutation(len(c.X))
        n_hold = max(1, int(round(cfg.holdout_frac * len(c.X))))
        splits.append((perm[n_hold:], perm[:n_hold]))
    return splits


@torch.no_grad()
def _heldout_rows(model, vocab: dict, corpora: list[Corpus], splits: list[tuple], cfg: PretrainConfig, dev) -> list[dict]:
    """Masked MSE on each corpus's held-out cells (masking ``cfg.mask_ratio``, ``default_rng(cfg.seed + 1)``) and
    the baseline that predicts each masked gene's mean bin over the training cells (same masked positions)."""
    eval_rng = np.random.default_rng(cfg.seed + 1)
    held = []
    for c, (train_idx, hold_idx) in zip(corpora, splits):
        src, val, target, mask = _sample_batch(c, hold_idx, vocab, cfg, eval_rng)
        mse = float(_masked_mse(model, src, val, target, mask, dev))
        tok_pos = {vocab[t]: i for i, t in enumerate(c.tokens)}
        gene_mean = c.X[train_idx].mean(0)
        pred = np.vectorize(lambda t: gene_mean[tok_pos[t]] if t in tok_pos else 0.0)(src)
        base = float(((pred - target) ** 2)[mask].mean())
        held.append({"source": c.name, "species": c.species, "cells": int(len(c.X)), "genes": len(c.tokens),
                     "heldout_cells": int(len(hold_idx)), "heldout_masked_mse": round(mse, 3),
                     "gene_mean_baseline_mse": round(base, 3)})
    return held


def heldout_reconstruction(fm, corpora: list[Corpus], cfg: PretrainConfig, mask_ratio: float | None = None) -> list[dict]:
    """Held-out reconstruction of a checkpoint pretrained by :func:`pretrain` on ``corpora`` with ``cfg``.

    Rebuilds the held-out split ``pretrain`` made (the first draws of ``default_rng(cfg.seed)``), masks
    ``mask_ratio`` of the held-out values (default ``cfg.mask_ratio``; a common ratio makes models trained with
    different ratios comparable) and returns one dict per corpus, as in the training summary's ``sources``:
    ``heldout_masked_mse`` and ``gene_mean_baseline_mse`` (mean squared error in bins², the baseline predicting each
    masked gene's mean bin over the training cells), plus cell and gene counts.

    Args:
        fm: ``scfm.ScFM`` of the checkpoint (its ``model`` and ``vocab``).
        corpora: the pretraining corpora, in the order given to ``pretrain``.
        cfg: the checkpoint's pretraining configuration (``seed``, ``holdout_frac``, ``seq_len``, ``mask_ratio``).
        mask_ratio: fraction in (0, 1) of gene values to mask.
    Raises: ParameterError for a mask ratio outside (0, 1); KeyError when a corpus gene is not in ``fm.vocab``.
    """
    if mask_ratio is not None and not 0.0 < mask_ratio < 1.0:
        raise ParameterError(f"heldout_reconstruction: mask_ratio {mask_ratio}; expected a fraction in (0, 1)")
    cfg = replace(cfg, mask_ratio=cfg.mask_ratio if mask_ratio is None else float(mask_ratio))
    splits = _holdout_splits(corpora, cfg, np.random.default_rng(cfg.seed))
    return _heldout_rows(fm.model, fm.vocab, corpora, splits, cfg, fm.device)


def pretrain(out_dir, data_dir=None, cfg: PretrainConfig | None = None, device: str | None = None, progress: bool = True,
             corpora: list[Corpus] | None = None, exclude=(), command: str | None = None,
             init_checkpoint=None, corpus: str = "beeline", storage: str = "fp32") -> dict:
    """Pretrain the compact scGPT and write it to ``out_dir`` in the official layout plus ``MODEL_CARD.md``.

    Args:
        corpora: train on these (``corpora_from_anndata``) instead of the default real corpus (``load_corpus``).
        exclude: sources of the default corpus to leave out (``load_corpus``); only without ``corpora``.
        corpus: ``"beeline"`` (the original corpus) or ``"broad"`` (``corpus.load_broad_corpus``; only without
            ``corpora``): the vocabulary then also holds every BEELINE TF-list gene, batches come from the
            cell-type-balanced sampler (``corpus.balanced_weights``) and ``gene_counts.tsv`` (cells with a non-zero
            value per token, ``corpus.barely_seen``) is written beside the checkpoint.
        command: the command that rebuilds this model, for the model card (default: the ``ugrn pretrain`` line).
        storage: ``fp32`` or ``fp16``: dtype of the written weights (``save_checkpoint``; training runs in fp32).
        init_checkpoint: folder of a checkpoint to continue from (its weights replace the random initialisation;
            optimiser, warm-up and cosine schedule start afresh over ``cfg.steps``): the "more training steps" lever
            without repeating the first run. Its vocabulary and architecture must equal this run's.

    Deterministic for a given seed on CPU. Returns the training summary written into the card (dict with the
    corpus table, steps, final training loss, held-out masked MSE against a per-gene-mean baseline, seconds).
    Raises: ParameterError when both ``corpora`` and ``exclude`` are given, for a bad ``exclude`` name, or when
        ``init_checkpoint`` has another vocabulary or architecture (the message names the difference).
    """
    cfg = cfg or PretrainConfig()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    t0 = time.time()
    if corpora is not None and exclude:
        raise ParameterError("pretrain: 'exclude' applies to the default corpus; leave it out when giving corpora")
    if corpora is not None and corpus != "beeline":
        raise ParameterError(f"pretrain: corpus {corpus!r} names a corpus of the data directory; leave it out when "
                             "giving corpora")
    if cfg.embsize % cfg.nheads:
        raise ParameterError(f"pretrain: {cfg.nheads} attention heads do not divide width {cfg.embsize}; "
                             "expected embsize to be a multiple of nheads")
    custom = corpora is not None
    broad = corpus == "broad" and not custom
    corpora = list(corpora) if custom else load_corpus(data_dir, cfg.n_bins, exclude, corpus)
    extra_tokens = []
    if broad:  # every BEELINE TF-list gene keeps a token, measured or not (flagged in gene_counts.tsv)
        from . import corpus as broad_corpus

        extra_tokens = broad_corpus.tf_list_tokens(data_dir)
    tokens = sorted({t for c in corpora for t in c.tokens} | set(extra_tokens))
    vocab = {t: i for i, t in enumerate(tokens)}
    for tok in SPECIAL_TOKENS:
        vocab[tok] = len(vocab)
    args = {
        "embsize": cfg.embsize, "nheads": cfg.nheads, "d_hid": cfg.d_hid, "nlayers": cfg.nlayers,
        "n_layers_cls": 3, "dropout": cfg.dropout, "pad_token": "<pad>", "pad_value": -2, "mask_value": MASK_VALUE,
        "n_bins": cfg.n_bins, "input_style": "binned", "input_emb_style": "continuous", "max_seq_len": cfg.max_seq_len,
        "MVC": False, "explicit_zero_prob": False, "fast_transformer": False, "pre_norm": False,
        "mask_ratio": cfg.mask_ratio, "seed": cfg.seed, "pretrain_steps": cfg.steps, "pretrain_seq_len": cfg.seq_len,
    }
    model = build_model(vocab, args).to(dev).train()
    init_id = None
    if init_checkpoint is not None:
        init = load_checkpoint(init_checkpoint, device="cpu")
        if init.vocab != vocab:
            raise ParameterError(f"pretrain: --init-checkpoint {init_checkpoint} has a vocabulary of {len(init.vocab)} "
                                 f"tokens that differs from this corpus's {len(vocab)}; continue on the same corpus")
        diff = {k: (init.args.get(k), args[k]) for k in ARCH_KEYS if init.args.get(k) != args[k]}
        if diff:
            raise ParameterError(f"pretrain: --init-checkpoint {init_checkpoint} differs in architecture "
                                 f"(checkpoint, this run): {diff}")
        model.load_state_dict(init.model.state_dict())
        model.train()
        for prm in model.parameters():
            prm.requires_grad_(True)
        init_id, init_steps = init.checkpoint_id, int(init.args.get("pretrain_steps", 0))
        args["init_checkpoint_id"] = init_id
        args["pretrain_steps"] = init_steps + cfg.steps

    # hold out a few cells of every source to report a reconstruction error the model never trained on
    splits = _holdout_splits(corpora, cfg, rng)
    if init_checkpoint is not None:
        # same held-out cells as the first run (drawn above), but a fresh stream of training batches
        rng = np.random.default_rng((cfg.seed, init_steps))
    weights = np.asarray([len(tr) for tr, _ in splits], dtype=float)
    weights /= weights.sum()
    cell_p = [None] * len(corpora)
    if broad:  # cell-type-balanced sampler
        weights, cell_p = broad_corpus.balanced_weights(corpora, [tr for tr, _ in splits], cfg.seq_len)

    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda s: min(1.0, (s + 1) / cfg.warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / cfg.steps))),
    )
    losses: list[float] = []
    # resume an interrupted run of the same configuration and corpus from its last saved state
    fingerprint = json.dumps([{k: v for k, v in asdict(cfg).items() if k != "save_every"}, tokens, str(dev), init_id]
                             + (["broad", sorted(exclude)] if broad else []))
    state_file, start = state_path(out_dir), 0
    if state_file.is_file():
        saved = torch.load(state_file, map_location="cpu", weights_only=True)
        if saved.get("fingerprint") == fingerprint:
            model.load_state_dict(saved["model"])
            opt.load_state_dict(saved["opt"])
            sched.load_state_dict(saved["sched"])
            rng.bit_generator.state = json.loads(saved["rng"])
            torch.set_rng_state(saved["torch_rng"])
            losses, start = list(saved["losses"]), int(saved["step"])
            print(f"resuming pretraining from step {start}/{cfg.steps} ({state_file})", flush=True)
        else:
            warnings.warn(f"ignoring {state_file}: it was saved with another configuration or corpus")

    def save_state(step: int) -> None:
        blob = {"fingerprint": fingerprint, "step": step, "model": model.state_dict(), "opt": opt.state_dict(),
                "sched": sched.state_dict(), "rng": json.dumps(rng.bit_generator.state),
                "torch_rng": torch.get_rng_state(), "losses": losses}
        atomic_write(state_file, lambda tmp: torch.save(blob, tmp))

    bar = tqdm(range(start, cfg.steps), desc="pretraining", disable=not progress, initial=start, total=cfg.steps)
    for step in bar:
        k = rng.choice(len(corpora), p=weights)
        cells = rng.choice(splits[k][0], cfg.batch_size, p=cell_p[k])
        loss = _masked_mse(model, *_sample_batch(corpora[k], cells, vocab, cfg, rng), dev)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if step % 50 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
        if cfg.save_every and (step + 1) % cfg.save_every == 0 and step + 1 < cfg.steps:
            save_state(step + 1)

    model.eval()
    held = _heldout_rows(model, vocab, corpora, splits, cfg, dev)
    summary = {
        "config": asdict(cfg), "vocab_size": len(vocab), "n_genes": len(tokens),
        "final_train_loss": round(float(np.mean(losses[-200:])), 4), "first_train_loss": round(float(np.mean(losses[:50])), 4),
        "sources": held, "seconds": round(time.time() - t0, 1), "resumed_from_step": start, "device": str(dev), "torch": torch.__version__,
        "loss_curve": [round(float(np.mean(losses[i : i + 100])), 4) for i in range(0, len(losses), 100)],
        "corpus": "custom" if custom else ("broad" if broad else "default"), "excluded": sorted(exclude),
        "init_checkpoint_id": init_id,
        "total_steps": args["pretrain_steps"],
        "command": command or (f"ugrn pretrain --out {Path(out_dir)} --steps {cfg.steps} --seed {cfg.seed}"
                               + (" --corpus broad" if broad else "")
                               + (f" --exclude-cells {','.join(sorted(exclude))}" if exclude else "")),
    }
    extras = {"training_summary.json": json.dumps(summary, indent=2), "MODEL_CARD.md": model_card(summary)}
    if broad:
        counts = broad_corpus.gene_counts(corpora, extra_tokens)
        summary["tokens_never_expressed"] = int((counts["cells_nonzero"] == 0).sum())
        summary["corpus_sources"] = [c.record for c in corpora]  # what was read and how it was normalised
        extras["gene_counts.tsv"] = counts.to_csv(sep="\t", index=False)
        extras["training_summary.json"] = json.dumps(summary, indent=2)
    out_dir = save_checkpoint(model, vocab, args, out_dir, extra_files=extras, storage=storage)
    load_checkpoint(out_dir, device="cpu")  # the written folder must load through the public loader
    state_file.unlink(missing_ok=True)
    return summary


def model_card(summary: dict) -> str:
    """Markdown model card for a pretraining summary (data, cells, genes, steps, losses, rebuild command)."""
    cfg = summary["config"]
    rows = "\n".join(
        f"| {s['source']} | {s['species']} | {s['cells']} | {s['genes']} | {s['heldout_masked_mse']} | {s['gene_mean_baseline_mse']} |"
        for s in summary["sources"]
    )
    return f"""# Compact scGPT (UGRN explorer bundled checkpoint)

scgpt `TransformerModel` (scgpt 0.2.4 code), official checkpoint layout (`args.json`, `vocab.json`,
`best_model.pt` with flash-attn `Wqkv` key names). Pretrained from scratch by this project; it is **not** the
released scGPT_human model, which is ~40× larger and trained on 33 M cells.

- Architecture: d_model {cfg['embsize']}, {cfg['nlayers']} layers, {cfg['nheads']} heads, feed-forward {cfg['d_hid']},
  continuous value encoder, post-norm, dropout {cfg['dropout']} (training only); max_seq_len {cfg['max_seq_len']}.
- Sized for probing on CPU: VVP + GDT over all seven BEELINE TFs+500 gene sets should take ≤ 20 min on 2 CPU
  cores; measure with `python benchmarks/featurize.py --all-500 --checkpoint <this folder>`.
- Vocabulary: {summary['n_genes']} genes as human symbols (mouse genes through their Ensembl 105 human ortholog,
  else the upper-cased symbol) + `<pad>`, `<cls>`, `<eoc>` = {summary['vocab_size']} tokens.
- Objective: scGPT gene-expression prediction — per-cell quantile binning into 0..{cfg['n_bins'] - 1}, {int(cfg['mask_ratio'] * 100)} %
  of the values masked (input -1), MSE on the masked positions.
- Training: {cfg['steps']} steps × {cfg['batch_size']} cells, {cfg['seq_len']} genes per cell (half drawn from the expressed genes when a source
  has more), Adam lr {cfg['lr']} with {cfg['warmup']} warm-up steps and cosine decay, gradient clipping 1.0, seed {cfg['seed']},
  {summary['seconds']} s on {summary['device']} (torch {summary['torch']}).
- Training loss (masked MSE, bins²): first 50 steps {summary['first_train_loss']}, last 200 steps {summary['final_train_loss']}.

## Data and held-out reconstruction
{cfg['holdout_frac'] * 100:.0f} % of each source's cells were held out; masked MSE on them vs. predicting each gene's mean bin:

| source | species | cells | genes | held-out masked MSE | gene-mean baseline MSE |
|---|---|---|---|---|---|
{rows}

{_never_seen(summary)}

## Rebuild
```
{summary.get('command') or f"ugrn pretrain --out assets/scgpt_compact --steps {cfg['steps']} --seed {cfg['seed']}"}
```
"""


def _never_seen(summary: dict) -> str:
    """The model card's "Never seen" paragraph for the corpus of ``summary``."""
    if summary.get("corpus") == "custom":
        return ("**Corpus:** only the sources listed above (given expression, e.g. simulated cells); no real BEELINE "
                "cells, so its vocabulary holds only these sources' genes.")
    if summary.get("corpus") == "broad":
        left = summary.get("excluded", [])
        return ("**Corpus:** every real cell in the data directory (`ugrn_core.scfm.corpus`: BEELINE, legacy TF-only "
                "matrices, HSMM, PBMC sets and the newer full-transcriptome sets, normalised per source, sampled "
                "balanced by source and cell type)"
                + (f"; left out: {', '.join(left)} (with the files sharing their cells or study)" if left else "")
                + ". BEELINE mHSC-E and the hESC transcriptome have no expression here. Tokens of TF-list genes "
                  "never measured are untrained; `gene_counts.tsv` gives each token's expressing cells.")
    cells = [x for x in summary.get("excluded", []) if x in BEELINE_EXPRESSION_CELLS]
    other = [x for x in summary.get("excluded", []) if x not in BEELINE_EXPRESSION_CELLS]
    text = ("**Never seen:** BEELINE hESC and mHSC-E have no expression in the data directory"
            + (f", and {', '.join(cells)} were excluded from pretraining" if cells else "")
            + ", so this model never saw their cells (their genes are in the vocabulary only where another source "
              "measured them).")
    if other:
        text += f" Also excluded: {', '.join(other)}."
    return text
