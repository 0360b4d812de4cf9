"""Reading the scores: one plain sentence per check, and an overall verdict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cv_core.i18n import N_, _

#: One sentence per score on how to read it, for the page (English, marked: a page shows ``_(READING[key])``).
READING = {
    "deletion": N_(
        "The class probability as the hottest pixels are blanked out first. A good heatmap makes it "
        "fall fast, so a lower area under the curve is better; the dashed curve removes the "
        "picture's cells in random order."
    ),
    "insertion": N_(
        "The class probability as the hottest pixels are revealed first into a blurred copy of the "
        "photo. A good heatmap makes it rise fast, so a higher area under the curve is better than "
        "the random order's."
    ),
    "keep_heat_region": N_(
        "The class probability when only the hot region is kept and the rest is blanked out. If the "
        "heatmap found what matters, the probability barely drops, and may even rise."
    ),
    "energy_inside": N_(
        "The share of the heatmap's total heat that lies on the object. A heatmap spread evenly "
        "would score the object's share of the picture; higher than that means it points at the object."
    ),
    "pointing_game": N_(
        "Whether the single hottest point of the heatmap lands on the object (a hit) or off it (a miss)."
    ),
    "sanity_check": N_(
        "The model's weights are replaced by random ones, from the top layer down, one block at a "
        "time, and each new heatmap is compared with the original (1 = same ranking of pixels, 0 = "
        "unrelated). A method that explains the model drifts towards 0; one that stays near 1 is "
        "drawing the picture, not the model."
    ),
}


#: A score counts as better (or worse) than the random order when it differs from it by more
#: than this share of the random order's area, and by more than :data:`AUC_FLOOR`.
AUC_MARGIN = 0.1
#: Differences of area smaller than this are noise whatever the share (tiny probabilities).
AUC_FLOOR = 0.005
#: Keeping only the hot region is good when it keeps at least this share of the confidence,
#: poor below :data:`KEPT_POOR`.
KEPT_GOOD, KEPT_POOR = 0.5, 0.2
#: A class below this probability is one the model gives almost no chance.
LOW_CHANCE = 0.01


@dataclass(frozen=True)
class Reading:
    """What one check (or all of them) says about a heatmap, for a newcomer.

    Attributes:
        check: "deletion", "insertion", "keep_heat_region", "localisation" or "verdict".
        status: "good" (the map passes this check), "chance" (no better than a random order or
            an even spread), "poor" (worse than that) or "unknown" (nothing to compare with).
        sentence: one plain sentence (two at most) saying what the numbers mean.
    """

    check: str
    status: str
    sentence: str


def _compare(auc: float, random_auc: float, lower_is_better: bool) -> str:
    gap = (random_auc - auc) if lower_is_better else (auc - random_auc)
    margin = max(AUC_FLOOR, AUC_MARGIN * abs(random_auc))
    if gap > margin:
        return "good"
    if gap < -margin:
        return "poor"
    return "chance"


#: The sentences for a deletion or insertion curve, by status: ``{auc}`` is its area under the
#: curve, ``{random_auc}`` the random order's.
_CURVE_SENTENCES = {
    "deletion": {
        "unknown": N_("Deletion area {auc:.3f}; no random order was measured to compare it with, so it cannot be "
                      "judged."),
        "good": N_("Blanking the hottest pixels first makes the probability fall faster than a random order does "
                   "(area {auc:.3f} against {random_auc:.3f}): the map found pixels the model needs."),
        "chance": N_("Blanking the hottest pixels first hurts about as much as blanking them in a random order "
                     "(area {auc:.3f} against {random_auc:.3f}): by this test the map is no better than chance."),
        "poor": N_("Blanking the hottest pixels first hurts less than blanking them in a random order (area "
                   "{auc:.3f} against {random_auc:.3f}): by this test the map is worse than chance at finding "
                   "what the model needs."),
    },
    "insertion": {
        "unknown": N_("Insertion area {auc:.3f}; no random order was measured to compare it with, so it cannot be "
                      "judged."),
        "good": N_("Revealing the hottest pixels first makes the probability rise faster than a random order does "
                   "(area {auc:.3f} against {random_auc:.3f}): the hot pixels are enough for the model."),
        "chance": N_("Revealing the hottest pixels first helps about as much as revealing them in a random order "
                     "(area {auc:.3f} against {random_auc:.3f}): by this test the map is no better than chance."),
        "poor": N_("Revealing the hottest pixels first helps less than revealing them in a random order (area "
                   "{auc:.3f} against {random_auc:.3f}): by this test the map is worse than chance."),
    },
}


def _read_curve(check: str, curve: Mapping, lower_is_better: bool) -> Reading:
    """One sentence on a ``check`` curve against its random order (when one was measured)."""
    auc, random_auc = float(curve["auc"]), curve.get("random_auc")
    sentences = _CURVE_SENTENCES[check]
    if random_auc is None:
        return Reading(check, "unknown", _(sentences["unknown"]).format(auc=auc))
    status = _compare(auc, float(random_auc), lower_is_better)
    return Reading(check, status, _(sentences[status]).format(auc=auc, random_auc=float(random_auc)))


def read_deletion(deletion: Mapping) -> Reading:
    """One sentence on a deletion curve (from :func:`deletion_curve`) against its random order."""
    return _read_curve("deletion", deletion, lower_is_better=True)


def read_insertion(insertion: Mapping) -> Reading:
    """One sentence on an insertion curve (from :func:`insertion_curve`) against its random order."""
    return _read_curve("insertion", insertion, lower_is_better=False)


def read_kept(kept: Mapping) -> Reading:
    """One sentence on :func:`keep_heat_region`'s result."""
    full, only = float(kept["probability_full"]), float(kept["probability_kept"])
    share = float(kept["kept_fraction"])
    if share <= 0:
        return Reading("keep_heat_region", "poor", _("The map has no hot region (it is blank), so there is nothing "
                                                     "to keep: this check cannot support it."))
    if only >= KEPT_GOOD * full:
        return Reading("keep_heat_region", "good",
                       _("With only the hot region kept ({share:.0%} of the picture) the model still gives the class "
                         "{only:.1%}, against {full:.1%} for the whole picture: the hot region holds most of what "
                         "the model needs.").format(share=share, only=only, full=full))
    if only < KEPT_POOR * full:
        return Reading("keep_heat_region", "poor",
                       _("With only the hot region kept ({share:.0%} of the picture) the model gives the class "
                         "{only:.1%}, against {full:.1%} for the whole picture: the hot region alone is not what "
                         "the model needs.").format(share=share, only=only, full=full))
    return Reading("keep_heat_region", "chance",
                   _("With only the hot region kept ({share:.0%} of the picture) the model gives the class {only:.1%}, "
                     "against {full:.1%} for the whole picture: the hot region holds part of what the model needs, "
                     "and the rest of the picture matters too.").format(share=share, only=only, full=full))


def read_localisation(where: Mapping) -> Reading:
    """One sentence on :func:`localisation`'s result (heat on a true object mask)."""
    inside, even, hit = float(where["energy_inside"]), float(where["mask_fraction"]), bool(where["pointing_hit"])
    if inside > even + max(0.05, 0.25 * even) and hit:
        return Reading("localisation", "good",
                       _("{inside:.0%} of the heat lies on the object, which covers {even:.0%} of the picture, and "
                         "the hottest point is on it: the map points at the object.").format(inside=inside, even=even))
    if inside <= even:
        return Reading("localisation", "poor",
                       _("Only {inside:.0%} of the heat lies on the object, which covers {even:.0%} of the picture: "
                         "no more than an even spread would put there, so the map does not point at the "
                         "object.").format(inside=inside, even=even))
    return Reading("localisation", "chance",
                   _("{inside:.0%} of the heat lies on the object, which covers {even:.0%} of the picture: somewhat "
                     "more than an even spread, but the map also lights up much of the background.").format(
                       inside=inside, even=even))


def class_chance_note(probability: float, class_name: str) -> str | None:
    """A warning when the model gives the explained class almost no chance; None otherwise."""
    if float(probability) >= LOW_CHANCE:
        return None
    return _("The model gives “{name}” almost no chance (p = {p:.1%}). The map still fills the picture because "
             "every map is scaled to its own maximum: it shows which pixels would raise that tiny score the most, "
             "not where the model sees a “{name}” (it may see none).").format(name=class_name, p=float(probability))


def trust_verdict(readings: Sequence[Reading], probability: float | None = None,
                  class_name: str | None = None) -> Reading:
    """The overall reading of a heatmap from its checks' :class:`Reading` s (the verdict).

    "good" when every check that could be judged passes; "poor" when none does; "chance" when
    they disagree. A class the model gives almost no chance (below :data:`LOW_CHANCE`) is
    "poor" whatever the checks say: its scores measure changes too small to mean much.
    ``class_name`` None reads "the class" (in the current language).
    """
    name = class_name if class_name is not None else _("the class")
    if probability is not None and float(probability) < LOW_CHANCE:
        return Reading("verdict", "poor",
                       _("Treat this map with great care: the model gives “{name}” almost no chance "
                         "(p = {p:.1%}), so the map shows what would nudge a tiny score and the "
                         "checks measure changes too small to mean much.").format(name=name, p=float(probability)))
    judged = [r for r in readings if r.status != "unknown"]
    good = sum(r.status == "good" for r in judged)
    if not judged:
        return Reading("verdict", "unknown", _("No check could be judged, so this map cannot be rated."))
    if good == len(judged):
        return Reading("verdict", "good",
                       _("Every check agrees that the hot region is what the model needs to say “{name}”: on "
                         "this picture the map is a fair picture of the model's reasons.").format(name=name))
    if good == 0:
        return Reading("verdict", "poor",
                       _("This map is no better than a random order at finding what the model needs to say "
                         "“{name}”: treat it with care.").format(name=name))
    return Reading("verdict", "chance",
                   _("The checks disagree: some find that the hot region matters to the model and some do not. Read "
                     "the map as a rough hint of where the model looks for “{name}”, not as its reason.").format(
                       name=name))


def read_trust(deletion: Mapping, insertion: Mapping, kept: Mapping, where: Mapping | None = None,
               probability: float | None = None, class_name: str | None = None) -> dict:
    """Every check's :class:`Reading` and the verdict.

    Args:
        deletion, insertion: curves from :func:`deletion_curve` and :func:`insertion_curve`
            (with their random orders).
        kept: the result of :func:`keep_heat_region`.
        where: the result of :func:`localisation`, or None when there is no true mask.
        probability: the explained class's probability on the whole picture.
        class_name: the class's name, for the sentences ("the class" when None).

    Returns:
        ``{"checks": {check: Reading}, "verdict": Reading}``.
    """
    checks = {"deletion": read_deletion(deletion), "insertion": read_insertion(insertion),
              "keep_heat_region": read_kept(kept)}
    if where is not None:
        checks["localisation"] = read_localisation(where)
    return {"checks": checks, "verdict": trust_verdict(list(checks.values()), probability, class_name)}
