"""The translator's torch networks: the MLP projector (UGRN Eq. 5), its fitted form with the feature
standardisation, and K projectors stacked into one module for training side by side."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..scfm import threads


class Projector(nn.Module):
    """MLP ``D → 128 → 64 → 1`` with ReLU (and optional dropout after each ReLU while training); ``forward`` returns
    logits (B,), apply a sigmoid for probabilities. Dropout has no weights, so the saved state is the same with or
    without it."""

    def __init__(self, in_dim: int, hidden: tuple[int, int] = (128, 64), dropout: float = 0.0):
        super().__init__()
        self.in_dim = in_dim
        self.net = nn.Sequential(nn.Linear(in_dim, hidden[0]), nn.ReLU(), nn.Linear(hidden[0], hidden[1]), nn.ReLU(),
                                 nn.Linear(hidden[1], 1))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lin1, act1, lin2, act2, out = self.net
        h = self.dropout(act1(lin1(x)))
        h = self.dropout(act2(lin2(h)))
        return out(h).squeeze(-1)


@dataclass
class TrainedProjector:
    """A fitted projector with its feature standardisation (``mean``, ``std``: float32 (D,)).

    ``history``: mean training BCE per epoch run; ``val_history``: held-out BCE per epoch (empty without early
    stopping); ``best_epoch``: the 1-based epoch whose weights were kept (None when not recorded)."""

    model: Projector
    mean: np.ndarray
    std: np.ndarray
    history: list[float] = field(default_factory=list)
    val_history: list[float] = field(default_factory=list)
    best_epoch: int | None = None

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Logits float64 (P,) for features float (P, D). Raises ValueError on a dimension mismatch."""
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.model.in_dim:
            raise ValueError(f"features have shape {X.shape}; this projector expects (P, {self.model.in_dim})")
        with torch.no_grad(), threads.single_thread():  # same logits whatever the thread count (``threads``)
            return self.model(torch.as_tensor((X - self.mean) / self.std)).double().numpy()


class _StackedProjectors(nn.Module):
    """K ``Projector``s trained side by side as one module: weights stacked along a leading axis, each projector's
    input zero-padded to the widest ``in_dim``. ``forward`` maps float (K, B, D_max) to logits (K, B). Every
    projector keeps its own parameters (the padded input columns meet zero weights that receive zero gradient), so
    training the stack with an element-wise optimiser (Adam) is training each projector on its own."""

    def __init__(self, projectors: list[Projector], dropout: float = 0.0):
        super().__init__()
        d_max = max(p.in_dim for p in projectors)
        self.in_dims = [p.in_dim for p in projectors]
        ws, bs = [], []
        for i in (0, 2, 4):  # the three nn.Linear layers of Projector.net
            w = [p.net[i].weight.detach().T for p in projectors]  # (in, out) each
            if i == 0:
                w = [torch.cat([x, x.new_zeros(d_max - x.shape[0], x.shape[1])]) for x in w]
            ws.append(nn.Parameter(torch.stack(w)))
            bs.append(nn.Parameter(torch.stack([p.net[i].bias.detach() for p in projectors]).unsqueeze(1)))
        self.w1, self.w2, self.w3 = ws
        self.b1, self.b2, self.b3 = bs
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.dropout(torch.relu(torch.baddbmm(self.b1, x, self.w1)))
        h = self.dropout(torch.relu(torch.baddbmm(self.b2, h, self.w2)))
        return torch.baddbmm(self.b3, h, self.w3).squeeze(-1)

    def state_of(self, k: int) -> dict[str, torch.Tensor]:
        """Projector ``k``'s weights as a ``Projector`` state dict (copies)."""
        d = self.in_dims[k]
        return {"net.0.weight": self.w1[k, :d].T.clone(), "net.0.bias": self.b1[k, 0].clone(),
                "net.2.weight": self.w2[k].T.clone(), "net.2.bias": self.b2[k, 0].clone(),
                "net.4.weight": self.w3[k].T.clone(), "net.4.bias": self.b3[k, 0].clone()}
