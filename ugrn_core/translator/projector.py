"""The translator's torch networks: the MLP projector (UGRN Eq. 5), its fitted form with the feature
standardisation, and K projectors in one module for training side by side."""

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
    """K ``Projector``s of one input width D trained side by side as one module (one optimiser, one loss);
    ``forward`` maps float (K, B, D) to logits (K, B). Every projector keeps its own parameters and, while
    training, draws its dropout masks from its own generator (``generators``, one per projector), so training the
    stack with an element-wise optimiser (Adam) is training each projector on its own: its weights do not depend on
    which or how many projectors share the stack (``tests/test_translator.py`` checks this bit for bit).

    Raises: ValueError when the projectors differ in input width or the generators are not one per projector."""

    def __init__(self, projectors: list[Projector], dropout: float = 0.0,
                 generators: list[torch.Generator] | None = None):
        super().__init__()
        dims = {p.in_dim for p in projectors}
        if len(dims) != 1:
            raise ValueError(f"stacked projectors need one input width, got {sorted(dims)}")
        if dropout > 0 and (generators is None or len(generators) != len(projectors)):
            raise ValueError("dropout needs one torch.Generator per stacked projector")
        self.in_dims = [p.in_dim for p in projectors]
        # one parameter tensor per projector and layer: the optimiser then updates tensors of the same sizes
        # whatever K is, so element-wise kernels (vectorised or not) round each projector alike
        ws, bs = [], []
        for i in (0, 2, 4):  # the three nn.Linear layers of Projector.net: weights (in, out), biases (1, out)
            ws.append(nn.ParameterList([nn.Parameter(p.net[i].weight.detach().T.clone()) for p in projectors]))
            bs.append(nn.ParameterList([nn.Parameter(p.net[i].bias.detach().clone().unsqueeze(0)) for p in projectors]))
        self.w1, self.w2, self.w3 = ws
        self.b1, self.b2, self.b3 = bs
        self.p = float(dropout)
        self.generators = generators

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # projector by projector: a batched product's rounding can depend on the batch count K (measured: a
        # width-1 output layer), a per-projector one cannot
        out = []
        for k in range(len(self.in_dims)):
            h = x[k]
            for layer, (ws, bs) in enumerate(((self.w1, self.b1), (self.w2, self.b2), (self.w3, self.b3))):
                h = torch.addmm(bs[k], h, ws[k])
                if layer < 2:
                    h = torch.relu(h)
                    if self.training and self.p > 0:  # inverted dropout, projector k's own mask stream
                        h = h * (torch.rand(h.shape, generator=self.generators[k]) >= self.p) / (1.0 - self.p)
            out.append(h[:, 0])
        return torch.stack(out)

    def state_of(self, k: int) -> dict[str, torch.Tensor]:
        """Projector ``k``'s weights as a ``Projector`` state dict (copies)."""
        return {f"net.{i}.{kind}": (ws[k].detach().T if kind == "weight" else bs[k].detach()[0]).clone()
                for i, ws, bs in ((0, self.w1, self.b1), (2, self.w2, self.b2), (4, self.w3, self.b3))
                for kind in ("weight", "bias")}
