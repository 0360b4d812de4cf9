"""Can you trust the heatmap? Scores that test a heatmap against the model and the image.

A heatmap is a claim: "these pixels are why the model said *cat*". Four checks put the
claim to the test, on the person's own photo:

- **Deletion and insertion curves** (Petsiuk et al., 2018, RISE): remove the hottest pixels
  first and the class probability should collapse fast (a low area under the curve);
  reveal them first into a blank picture and it should rise fast (a high area). A random
  pixel order is the yardstick.
- **Keeping only the heat region** (Average Drop / Increase in Confidence, Chattopadhay et
  al., 2018): does the model still see the class when everything else is blanked out?
- **Localisation against a true mask**: the share of heat inside the object (the
  energy-based pointing game of Wang et al., 2020) and whether the hottest point falls on
  it (the pointing game of Zhang et al., 2018).
- **Sanity check** (Adebayo et al., 2018): randomise the model's weights from the top,
  one block at a time. A map that barely changes is drawing the image, not the model.

Every function returns plain numbers and numpy arrays for a chart, :data:`READING`
holds one plain sentence per score on how to read it, and :func:`read_trust` turns one
picture's scores into one sentence per check and an overall verdict. Nothing here imports TensorFlow at
module level, and no function changes the model it is given.

One module per check: :mod:`~cv_core.interpret.trust.curves` (deletion and insertion),
:mod:`~cv_core.interpret.trust.region` (keeping the heat region, localisation),
:mod:`~cv_core.interpret.trust.sanity` (weight randomisation) and
:mod:`~cv_core.interpret.trust.reading` (the sentences and the verdict).
"""

from __future__ import annotations

from cv_core.interpret.trust._common import BASELINES, RANDOM_GRID
from cv_core.interpret.trust.curves import causal_curves, deletion_curve, insertion_curve
from cv_core.interpret.trust.reading import (
    AUC_FLOOR,
    AUC_MARGIN,
    KEPT_GOOD,
    KEPT_POOR,
    LOW_CHANCE,
    READING,
    Reading,
    class_chance_note,
    read_deletion,
    read_insertion,
    read_kept,
    read_localisation,
    read_trust,
    trust_verdict,
)
from cv_core.interpret.trust.region import keep_heat_region, localisation
from cv_core.interpret.trust.sanity import map_is_blank, randomisation_groups, sanity_check, sanity_verdict, spearman

__all__ = [
    "AUC_FLOOR",
    "AUC_MARGIN",
    "BASELINES",
    "KEPT_GOOD",
    "KEPT_POOR",
    "LOW_CHANCE",
    "RANDOM_GRID",
    "READING",
    "Reading",
    "class_chance_note",
    "map_is_blank",
    "read_deletion",
    "read_insertion",
    "read_kept",
    "read_localisation",
    "read_trust",
    "trust_verdict",
    "causal_curves",
    "deletion_curve",
    "insertion_curve",
    "keep_heat_region",
    "localisation",
    "randomisation_groups",
    "sanity_check",
    "sanity_verdict",
    "spearman",
]
