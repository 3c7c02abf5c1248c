"""The UGRN translator: MLP projectors from probe pair features to a regulation probability (UGRN Eq. 5).

- ``options``: how projectors are trained (``TrainOptions``; the paper's and the regularised default);
- ``projector``: the torch networks (``Projector``, its fitted form ``TrainedProjector``, stacked training module);
- ``training``: the training engine (``fit_projector``, ``fit_projectors``);
- ``artifact``: ``Translator``, the class users call (fit, save, load, score) and what it records.
"""

from .artifact import DEFAULT_METHODS, Translator, projectors_needed
from .options import DEFAULT_OPTIONS, PAPER_OPTIONS, REGULARISED_OPTIONS, TrainOptions
from .projector import Projector, TrainedProjector
from .training import fit_projector, fit_projectors

__all__ = ["DEFAULT_METHODS", "DEFAULT_OPTIONS", "PAPER_OPTIONS", "Projector", "REGULARISED_OPTIONS", "TrainOptions",
           "TrainedProjector", "Translator", "fit_projector", "fit_projectors", "projectors_needed"]
