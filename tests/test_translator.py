"""Translator: the paper's projector learns a known rule, round-trips to disk (with its checkpoint), expands ensembles
into their members and refuses another checkpoint with a message that says how to train one for it."""

from __future__ import annotations

import numpy as np
import torch
import pytest
from sklearn.metrics import roc_auc_score

from types import SimpleNamespace

from ugrn_core.errors import ParameterError
from ugrn_core.probes.params import ProbeParams
from ugrn_core.translator import (Projector, TrainedProjector, TrainOptions, Translator, fit_projector, fit_projectors,
                                  projectors_needed)


def _synthetic(n, dim, seed):
    """Pairs whose label is a known non-linear rule of the features (XOR-like on two coordinates, large scale)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, dim)).astype(np.float32) * 40.0 + 10.0
    y = ((X[:, 0] - 10) * (X[:, 1] - 10) > 0).astype(np.int8)
    return X, y


def test_projector_architecture():
    p = Projector(16)
    shapes = [tuple(m.weight.shape) for m in p.net if hasattr(m, "weight")]
    assert shapes == [(128, 16), (64, 128), (1, 64)]


def test_projector_learns_known_rule_and_generalises():
    X, y = _synthetic(3000, 16, 0)
    Xt, yt = _synthetic(1000, 16, 1)
    proj = fit_projector(X, y, epochs=50, seed=0)
    assert proj.history[-1] < proj.history[0] * 0.5
    assert roc_auc_score(yt, proj.logits(Xt)) > 0.95


def test_projector_is_deterministic_and_validates():
    X, y = _synthetic(500, 4, 0)
    a = fit_projector(X, y, epochs=3, seed=7).logits(X)
    b = fit_projector(X, y, epochs=3, seed=7).logits(X)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="both positives and negatives"):
        fit_projector(X, np.zeros(len(X)), epochs=1)
    with pytest.raises(ValueError, match="expects"):
        fit_projector(X, y, epochs=1).logits(X[:, :3])


def test_translator_save_load_and_ens(tmp_path):
    X, y = _synthetic(600, 6, 0)
    projectors = {m: fit_projector(X + k, y, epochs=5, seed=k) for k, m in enumerate(["VVP", "GDT"])}
    params = ProbeParams(v0=10.0)
    tr = Translator(projectors, params, "STRING/hESC/500", "abc", {"VVP": 600, "GDT": 600}, n_context=800,
                    checkpoint="scgpt_compact", d_model=64, context_genes=("GATA1", "MYC", "SOX2"))
    assert tr.methods == ["VVP", "GDT", "Ens"]  # the ensemble comes with its members
    assert Translator(projectors={"VVP": projectors["VVP"]}, params=params, trained_on="x", checkpoint_id="abc").methods == ["VVP"]
    feats = {"VVP": X + 0, "GDT": X + 1}
    assert ((tr.predict("VVP", feats) > 0) & (tr.predict("VVP", feats) < 1)).all()

    loaded = Translator.load(tr.save(tmp_path / "tr"))
    assert loaded.params == params and loaded.trained_on == "STRING/hESC/500" and loaded.n_context == 800
    assert (loaded.checkpoint, loaded.checkpoint_id, loaded.d_model) == ("scgpt_compact", "abc", 64)
    assert loaded.context_genes == ("GATA1", "MYC", "SOX2")  # the default background for short gene lists
    assert loaded.context_warning(500) is None and loaded.context_warning(1600) is None
    assert "50 genes" in loaded.context_warning(50) and "800" in loaded.context_warning(50)
    assert "1700 genes" in loaded.context_warning(1700) and "800" in loaded.context_warning(1700)
    np.testing.assert_allclose(loaded.predict("GDT", feats), tr.predict("GDT", feats), rtol=1e-6)
    with pytest.raises(KeyError, match="Emb"):
        loaded.logits("Emb", feats)


def test_projectors_needed_expands_ensembles_case_insensitively():
    assert projectors_needed(["ens", "Origin-Pert"]) == ["VVP", "GDT"]
    assert projectors_needed(["gdt", "EMB", "Ens"]) == ["Emb", "VVP", "GDT"]  # registry order, no duplicates
    with pytest.raises(ValueError, match="unknown method"):
        projectors_needed(["Foo"])


def test_checkpoint_mismatch_says_how_to_train_one(tmp_path):
    X, y = _synthetic(200, 4, 0)
    tr = Translator({"VVP": fit_projector(X, y, epochs=1)}, ProbeParams(), "STRING/hESC/500", "aaaa1111",
                    checkpoint="scgpt_compact", d_model=64)
    same = SimpleNamespace(checkpoint_id="aaaa1111", path=tmp_path / "scgpt_compact", d_model=64)
    tr.check_model(same)  # same checkpoint: no error
    other = SimpleNamespace(checkpoint_id="bbbb2222", path=tmp_path / "scGPT_human", d_model=512)
    with pytest.raises(ValueError) as err:
        tr.check_model(other)
    msg = str(err.value)
    assert "trained with checkpoint scgpt_compact (id aaaa1111" in msg and "scGPT_human (id bbbb2222" in msg
    assert f"ugrn train --checkpoint {other.path} --dataset STRING/hESC/500 --out" in msg


# ------------------------------------------------------------------ regularisation options (issue 13, section 2)
def _noisy(n, dim, seed, noise=0.3):
    """Labels = sign of the first feature, with a fraction ``noise`` flipped: a net that memorises overfits."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, dim)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int8)
    flip = rng.random(n) < noise
    y[flip] = 1 - y[flip]
    return X, y


def test_early_stopping_stops_before_max_epochs_and_keeps_best_held_out_loss():
    from sklearn.model_selection import train_test_split

    from ugrn_core.translator import TrainOptions

    X, y = _noisy(600, 20, 0)
    opts = TrainOptions(epochs=300, val_fraction=0.2, patience=5)
    proj = fit_projector(X, y, seed=3, options=opts)
    assert len(proj.history) < 300  # stopped early: memorising noisy labels raises the held-out loss
    assert len(proj.val_history) == len(proj.history)
    assert proj.best_epoch == int(np.argmin(proj.val_history)) + 1
    assert len(proj.history) - proj.best_epoch == 5  # exactly `patience` epochs without improvement
    # the kept weights are the best epoch's: their held-out BCE is the minimum recorded
    _, Xv, _, yv = train_test_split(X, y.astype(np.float32), test_size=0.2, stratify=y.astype(np.float32), random_state=3)
    z = proj.logits(Xv)
    bce = np.mean(np.logaddexp(0, z) - yv * z)
    assert bce == pytest.approx(min(proj.val_history), rel=1e-4)
    # without held-out pairs the same data trains all epochs and memorises further (lower training loss)
    full = fit_projector(X, y, seed=3, options=TrainOptions(epochs=60))
    assert len(full.history) == 60 and full.history[-1] < proj.history[proj.best_epoch - 1]
    # on fresh pairs of the same rule the early-stopped projector generalises at least as well
    Xt, yt = _noisy(3000, 20, 1, noise=0.0)
    assert roc_auc_score(yt, proj.logits(Xt)) >= roc_auc_score(yt, full.logits(Xt)) - 0.01


def test_weight_decay_and_dropout_change_training_not_the_saved_layout():
    from ugrn_core.translator import TrainOptions

    X, y = _synthetic(500, 8, 0)
    plain = fit_projector(X, y, seed=1, options=TrainOptions(epochs=5))
    drop = fit_projector(X, y, seed=1, options=TrainOptions(epochs=5, dropout=0.5))
    wd = fit_projector(X, y, seed=1, options=TrainOptions(epochs=5, weight_decay=0.1))
    assert not np.allclose(plain.logits(X), drop.logits(X)) and not np.allclose(plain.logits(X), wd.logits(X))
    # weight decay shrinks the weights
    norm = lambda p: sum(float((w ** 2).sum()) for w in p.model.parameters())  # noqa: E731
    assert norm(wd) < norm(plain)
    # dropout is kept in the returned model but off at prediction, and adds no weights: a plain Projector (no dropout
    # module) loaded with the same state gives the same logits, while the same model in training mode does not
    assert drop.model.dropout.p == 0.5 and not drop.model.training
    bare = Projector(8)
    bare.load_state_dict(drop.model.state_dict())
    bare.eval()
    np.testing.assert_array_equal(drop.logits(X), TrainedProjector(bare, drop.mean, drop.std).logits(X))
    drop.model.train()
    torch.manual_seed(0)
    assert not np.allclose(drop.logits(X), TrainedProjector(bare, drop.mean, drop.std).logits(X))
    drop.model.eval()
    np.testing.assert_array_equal(drop.logits(X), fit_projector(X, y, seed=1, options=TrainOptions(epochs=5, dropout=0.5)).logits(X))
    from ugrn_core.errors import ParameterError

    for bad in ({"dropout": 1.0}, {"val_fraction": 0.9}, {"patience": 0}, {"weight_decay": -1}):
        with pytest.raises(ParameterError, match=next(iter(bad))):
            TrainOptions(**bad)
    with pytest.raises(ParameterError, match="unknown translator options"):
        TrainOptions.from_dict({"dropuot": 0.1})


def test_saved_translator_keeps_options_and_feature_norm(tmp_path):
    import json

    from ugrn_core.translator import PAPER_OPTIONS, TrainOptions

    X, y = _noisy(400, 6, 0)
    opts = TrainOptions(epochs=40, weight_decay=1e-4, dropout=0.2, val_fraction=0.15, patience=3)
    projectors = {m: fit_projector(X, y, seed=0, options=opts) for m in ("VVP", "GDT")}
    params = ProbeParams(feature_norm="context-z")
    tr = Translator(projectors, params, "STRING/hESC/500", "abc", options=opts)
    loaded = Translator.load(tr.save(tmp_path / "tr"))
    assert loaded.options == opts and loaded.params == params and loaded.params.feature_norm == "context-z"
    assert loaded.projectors["VVP"].best_epoch == projectors["VVP"].best_epoch
    np.testing.assert_allclose(loaded.logits("VVP", {"VVP": X}), tr.logits("VVP", {"VVP": X}), rtol=1e-6)
    # a translator saved before options and feature_norm were recorded loads as the paper's: raw features
    meta = json.loads((tmp_path / "tr" / "meta.json").read_text())
    meta.pop("train_options")
    meta["params"].pop("feature_norm")
    (tmp_path / "tr" / "meta.json").write_text(json.dumps(meta))
    old = Translator.load(tmp_path / "tr")
    assert old.params.feature_norm == "none" and old.options == PAPER_OPTIONS


def test_cli_training_flags_default_to_regularised_and_zeros_give_the_papers():
    """``ugrn train`` and ``ugrn benchmark`` share the training flags: unset they give ``DEFAULT_OPTIONS`` (early
    stopping, weight decay, dropout); the documented zeros give the paper's training exactly."""
    from ugrn_core import cli
    from ugrn_core.cli.options import _train_options
    from ugrn_core.translator import DEFAULT_OPTIONS, PAPER_OPTIONS

    assert DEFAULT_OPTIONS.val_fraction > 0 and DEFAULT_OPTIONS.weight_decay > 0 and DEFAULT_OPTIONS.dropout > 0
    parser = cli.build_parser()
    for cmd in (["train", "--out", "x"], ["benchmark"]):
        assert _train_options(parser.parse_args(cmd)) == DEFAULT_OPTIONS
        paper = parser.parse_args(cmd + ["--weight-decay", "0", "--dropout", "0", "--val-fraction", "0"])
        assert _train_options(paper) == PAPER_OPTIONS
    with pytest.raises(ParameterError, match="dropout"):
        _train_options(parser.parse_args(["benchmark", "--dropout", "1.5"]))


@pytest.mark.parametrize("opts", [TrainOptions(epochs=8), TrainOptions(epochs=30, val_fraction=0.2, patience=2),
                                  TrainOptions(epochs=4, weight_decay=0.1),
                                  TrainOptions(epochs=12, dropout=0.2, val_fraction=0.15, patience=3, weight_decay=1e-4)])
def test_projectors_trained_together_equal_projectors_trained_alone(opts):
    """``fit_projectors`` trains several problems (different widths, one with shuffled labels, a batch tail) in one
    loop; each projector must equal the one ``fit_projector`` trains alone **bit for bit** (same init, batches,
    dropout masks, own Adam state), including the epoch early stopping picks, whatever else shares the loop: a
    benchmark row must not depend on which methods are fitted beside it (issue 25's exact reproduction)."""
    X, y = _synthetic(1201, 6, 0)  # 1201 pairs: a short last mini-batch, so vectorised/scalar-tail splits differ by K
    rng = np.random.default_rng(1)
    problems = [(X, y), (np.c_[X, rng.normal(size=(len(X), 9))], y), (X[:, :2], rng.permutation(y)),
                (X + rng.normal(scale=0.3, size=X.shape), y), (X, rng.permutation(y))]
    together = fit_projectors(problems, seed=5, options=opts)
    for (Xk, yk), tp in zip(problems, together):
        alone = fit_projector(Xk, yk, seed=5, options=opts)
        a, t = alone.model.state_dict(), tp.model.state_dict()
        assert all(torch.equal(a[name], t[name]) for name in a)
        np.testing.assert_array_equal(tp.logits(Xk), alone.logits(Xk))
        assert tp.best_epoch == alone.best_epoch and tp.history == alone.history
    # the shuffled-label problem learns nothing the others do: its projector is not theirs
    assert not np.allclose(together[0].logits(X), together[4].logits(X))
    # the order of the problems does not matter either
    rev = fit_projectors(problems[::-1], seed=5, options=opts)
    assert all(np.array_equal(r.logits(Xk), t.logits(Xk)) for r, t, (Xk, _) in zip(rev[::-1], together, problems))
    # problems with different numbers of pairs train in separate groups, each as if alone
    mixed = fit_projectors([(X, y), (X[:800], y[:800])], seed=5, options=opts)
    np.testing.assert_array_equal(mixed[1].logits(X), fit_projector(X[:800], y[:800], seed=5, options=opts).logits(X))
    with pytest.raises(ValueError, match="problem 1.*both positives and negatives"):
        fit_projectors([(X, y), (X, np.zeros(len(X)))], seed=0, options=opts)
