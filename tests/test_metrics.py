"""Tests for ugrn_core.bench.metrics on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from ugrn_core.bench.metrics import curves, evaluate

KEYS = {"AUROC", "AUPRC", "AUPRC_ratio", "EPR", "Hit@1%", "n_pos", "n_neg", "pos_rate"}


def test_hand_computed():
    m = evaluate([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1])
    assert set(m) == KEYS
    assert m["AUROC"] == pytest.approx(0.75)  # 3 of 4 positive-negative pairs ordered correctly
    assert m["AUPRC"] == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert m["pos_rate"] == 0.5 and (m["n_pos"], m["n_neg"]) == (2, 2)
    assert m["AUPRC_ratio"] == pytest.approx(m["AUPRC"] / 0.5)
    assert m["EPR"] == pytest.approx(1.0)  # top-2 hold 1 positive: precision 0.5 / pos_rate 0.5
    assert m["Hit@1%"] == 1.0  # top ceil(0.04) = 1 pair is a positive


def test_perfect_ranking_and_top_frac_key():
    y = np.array([0] * 8 + [1] * 2, dtype=bool)
    s = np.linspace(0, 1, 10)
    m = evaluate(y, s, top_frac=0.25)
    assert m["AUROC"] == 1.0 and m["AUPRC"] == 1.0
    assert m["EPR"] == pytest.approx(1 / 0.2) and m["AUPRC_ratio"] == pytest.approx(5.0)
    assert m["Hit@25%"] == pytest.approx(2 / 3)  # top ceil(2.5) = 3 pairs hold 2 positives


def test_ties_use_stable_order():
    # k = n_pos = 2: pair 0 is inside the cut, pairs 1 (negative) and 2 (positive) tie at 0.5 and only one fits.
    # Stable order keeps file order, so the negative goes in: precision@2 = 1/2, EPR = 0.5 / 0.5 = 1. Any other
    # tie order (reversed, positives first) would give precision 1 and EPR 2.
    m = evaluate([1, 0, 1, 0], [1.0, 0.5, 0.5, 0.2])
    assert m["EPR"] == pytest.approx(1.0)
    m = evaluate([1, 1, 0, 0], [1.0, 0.5, 0.5, 0.2])  # the same tie with the positive first: it goes in
    assert m["EPR"] == pytest.approx(2.0)
    # Hit@k% cuts the same way: top ceil(0.5 * 4) = 2 pairs
    assert evaluate([1, 0, 1, 0], [1.0, 0.5, 0.5, 0.2], top_frac=0.5)["Hit@50%"] == pytest.approx(0.5)


@pytest.mark.parametrize("y, s, match", [
    ([1, 1, 1], [0.1, 0.2, 0.3], "Only one class.*undefined"),
    ([0, 0], [0.1, 0.2], "Only one class"),
    ([1, 0], [0.1, np.nan], "NaN"),
    ([1, 0, 1], [0.1, 0.2], "differ in length: 3 labels vs 2 scores"),
    ([1, 2], [0.1, 0.2], "0/1 labels"),
])
def test_errors(y, s, match):
    with pytest.raises(ValueError, match=match):
        evaluate(y, s)
    with pytest.raises(ValueError, match=match):
        curves(y, s)


def test_curves():
    """Hand-computed curves: scores 0.9 (+), 0.8 (−), 0.7 (+), 0.1 (−). Thresholds give the ROC points
    (0, 0.5), (0.5, 0.5), (0.5, 1), (1, 1) and the PR points (recall, precision) (0.5, 1), (0.5, 1/2), (1, 2/3),
    (1, 1/2); the area under the ROC curve is the AUROC 0.75 (a reversed ranking would give 0.25)."""
    c = curves([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1])
    assert set(c) == {"fpr", "tpr", "precision", "recall"}
    roc = set(zip(c["fpr"].round(6), c["tpr"].round(6)))
    assert {(0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (1.0, 1.0)} <= roc and (0.0, 1.0) not in roc
    assert np.trapezoid(c["tpr"], c["fpr"]) == pytest.approx(0.75)
    pr = set(zip(c["recall"].round(6), c["precision"].round(6)))
    assert {(0.5, 1.0), (0.5, 0.5), (1.0, round(2 / 3, 6))} <= pr
    # the curves rank by the scores as given: flipping them moves every point
    flipped = curves([1, 0, 1, 0], [0.1, 0.2, 0.3, 0.9])
    assert np.trapezoid(flipped["tpr"], flipped["fpr"]) == pytest.approx(0.25)


def test_curves_thinned_for_drawing():
    """``max_points`` keeps at most that many points of each curve, both ends included, in the curve's order, and a
    thinned ROC curve of 5,000 random pairs still has the AUROC's area within 0.002."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 5000)
    s = y * 0.5 + rng.normal(size=5000)
    full, thin = curves(y, s), curves(y, s, max_points=200)
    for a, b in (("fpr", "tpr"), ("recall", "precision")):
        assert len(full[a]) > 1000 and 100 <= len(thin[a]) == len(thin[b]) <= 200
        assert (thin[a][0], thin[a][-1], thin[b][0], thin[b][-1]) == (full[a][0], full[a][-1], full[b][0], full[b][-1])
        assert set(zip(thin[a], thin[b])) <= set(zip(full[a], full[b]))
    assert np.trapezoid(thin["tpr"], thin["fpr"]) == pytest.approx(np.trapezoid(full["tpr"], full["fpr"]), abs=2e-3)
    assert curves([1, 0], [0.9, 0.1], max_points=200)["fpr"].tolist() == curves([1, 0], [0.9, 0.1])["fpr"].tolist()
    with pytest.raises(ValueError, match="max_points"):
        curves(y, s, max_points=1)
