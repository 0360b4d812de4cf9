"""The image-similarity task's entry in the task table: a learned embedding, no classes out.

Its model is :func:`cv_core.similarity.model.build_embedding_net` (the mini-Xception backbone,
an L2-normalised 64-number embedding), its loss multi-similarity
(:mod:`cv_core.similarity.losses`), its training batches P classes × K pictures
(:func:`cv_core.pipeline.class_balanced_batches`: the dataset's classes only say which
pictures are alike), its metric MAP@R on the validation split, leave-one-out by cosine
similarity, measured by a callback every epoch with the other retrieval scores and the pair
AUC (:mod:`cv_core.similarity.training`), which also writes the embedding map of each epoch
(read back with :func:`embedding_snapshots`). Registered in :data:`cv_core.runs.tasks.TASKS`
on import (the table imports every entry). Importing it does not import TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping

from cv_core.classification.data import LABELS
from cv_core.classification.models import minimum_input_size
from cv_core.pipeline import batches, class_balanced_batches
from cv_core.i18n import N_, _
from cv_core.runs.labels import dataset_id_label, variant_label
from cv_core.runs.scoring import score_row, scored_splits, splits_with_pictures
from cv_core.runs.spec import TrainSpec
from cv_core.runs.tasks import Architecture, Task, first_scored_images, register_task
from cv_core.similarity.model import EMBEDDING_DIM, build_embedding_net, compile_embedding_net
from cv_core.similarity.snapshots import embedding_snapshots

__all__ = ["FINAL_SCORE_IMAGES", "PER_CLASS", "SIMILARITY_EPOCH_IMAGES", "TASK", "embedding_snapshots"]

#: Pictures of each class in a training batch (K of P × K); fewer classes than
#: ``batch_size // PER_CLASS`` give each class more.
PER_CLASS = 4

#: Validation pictures scored (and mapped) after every epoch, spread evenly over the split and
#: the same every epoch. Their forward pass, leave-one-out ranking, 44,850 pairs and map cost
#: about 0.2 s here: 2-3 % of a Quick epoch (500 cost twice that). The final scores use up to
#: FINAL_SCORE_IMAGES.
SIMILARITY_EPOCH_IMAGES = 300

#: Pictures of each split scored at the end of a run (pairs grow as the square: 4,000 pictures
#: are 8 million pairs, a few hundred megabytes and seconds).
FINAL_SCORE_IMAGES = 4000


def _build_embedding_net(spec: TrainSpec, num_classes=None):
    return build_embedding_net(
        input_shape=(spec.image_size, spec.image_size, 3), embedding_dim=EMBEDDING_DIM, conv_type=spec.conv_type,
        batchnorm=spec.batchnorm, residual=spec.residual, filters=tuple(spec.filters),
        augmentation=spec.augmentation, dropout_rate=spec.dropout_rate,
    )


def _variant(spec: TrainSpec) -> str:
    return f"embedding / {spec.conv_type} / {spec.batchnorm}" + ("" if spec.residual else " / no residual")


def _slug(spec: TrainSpec) -> str:
    return "emb-" + ("sep" if spec.conv_type == "separable" else "conv")


def _similarity_targets(dataset, split: str, spec: TrainSpec, training: bool):
    size = (spec.image_size, spec.image_size)
    if training:
        return class_balanced_batches(dataset, split, LABELS, size, batch_size=spec.batch_size,
                                      per_class=PER_CLASS, seed=spec.seed)
    return batches(dataset, split, LABELS, image_size=size, batch_size=spec.batch_size)


def _similarity_callbacks(dataset, spec: TrainSpec, run_dir) -> list:
    from cv_core.similarity.training import RetrievalScoresCallback

    return [RetrievalScoresCallback(dataset, (spec.image_size, spec.image_size), limit=SIMILARITY_EPOCH_IMAGES,
                                    batch_size=max(spec.batch_size, 64), run_dir=run_dir)]


def _similarity_scores(model, dataset, spec: TrainSpec) -> dict:
    """Retrieval scores, pair AUC and the pair threshold of the best model on the validation and test splits."""
    from cv_core.similarity.training import split_scores

    size = (spec.image_size, spec.image_size)
    return {split: split_scores(model, dataset, split, size, limit=FINAL_SCORE_IMAGES,
                                batch_size=max(spec.batch_size, 64))
            for split in splits_with_pictures(dataset)}


#: The rows of the final scores' table, in order: (key, what it is for people).
_SCORE_ROWS = (
    ("precision_at_1", N_("Precision@1: the nearest other picture is of the same class")),
    ("recall_at_1", N_("Recall@1: a same-class picture among the nearest 1")),
    ("recall_at_5", N_("Recall@5: a same-class picture among the nearest 5")),
    ("map_at_r", N_("MAP@R: same-class pictures ranked first (R = the other pictures of the class)")),
    ("pair_auc", N_("Pair ROC AUC: a same-class pair scores above a different-class pair")),
    ("threshold", N_("Threshold: a pair at or above this cosine similarity reads as the same kind of thing")),
)


def _similarity_score_rows(scores: Mapping) -> list[dict]:
    """One row per score, one column per split scored."""
    splits = scored_splits(scores)
    return [score_row(_(label), scores, splits, lambda s, key=key: s.get(key))
            for key, label in (_SCORE_ROWS if splits else ())]


TASK = register_task(Task(
    name="similarity",
    label="Image similarity",
    description="A vector for each picture, close for pictures alike.",
    architectures={
        "mini_xception": Architecture(
            name="mini_xception", label=N_("Mini-Xception, embedding head (chapter 9's backbone)"),
            build=_build_embedding_net, minimum_size=lambda spec: minimum_input_size(spec.filters),
            options=("conv_type", "batchnorm", "residual", "augmentation", "dropout_rate"),
            continue_fields=("filters", "conv_type", "batchnorm", "residual"),
            default_filters=(16, 32, 64, 128), variant=_variant, slug=_slug,
        ),
    },
    compile=compile_embedding_net,
    targets=_similarity_targets,
    sample_targets=LABELS,
    monitor="val_map_at_r",
    mode="max",
    metric_label="MAP@R",
    score_format=".3f",
    curves=(("map_at_r", N_("MAP@R (validation, leave one out)")), ("precision_at_1", "Precision@1"),
            ("recall_at_5", "Recall@5"), ("pair_auc", N_("Pair ROC AUC")), ("loss", N_("Loss (multi-similarity)"))),
    test_metric="map_at_r",
    augmentation=N_("Random flips, rotations and zooms, as in the book (layers of the model, active in training)."),
    filters_label=N_("Filters (the stem's width, then one block each)"),
    callbacks=_similarity_callbacks,
    epoch_scored_images=first_scored_images(SIMILARITY_EPOCH_IMAGES),
    seconds_per_scored_image=3e-4,  # leave-one-out ranking, pair AUC and the map, per picture (300: 0.08 s here)
    # Each balanced batch drawn in numpy (P x K picks) and the pair loss over its B x B similarities.
    # Fitted on quiet Tiny epochs (0.13-0.15 s at 64 pictures, 0.24-0.27 s at 256): 1.5 ms, fitted on
    # epochs of a loaded machine, put the quiet ones 1.6x under the estimate. The Quick run (140 s,
    # loaded) was 86 s estimated without this term.
    seconds_per_training_image=0.3e-3,
    final_scores=_similarity_scores,
    score_rows=_similarity_score_rows,
    defaults={"model": "mini_xception", "filters": (16, 32, 64, 128), "dropout_rate": 0.0, "optimizer": "adam",
              "learning_rate": 1e-3},
    preset_captions={"quick": N_("48 px easy shapes, about two minutes on a CPU: the recommended start"),
                     "book": N_("Oxford pets' 37 breeds at 160 px: meant for a GPU")},
    presets={
        "tiny": {"filters": (8, 16), "optimizer": "adam", "learning_rate": 1e-3},
        # Easy shapes (one shape a picture): on "medium" (the largest of several shapes names the
        # class) this loss from scratch stays near chance for the first thousands of steps (README).
        "quick": {"filters": (16, 32, 64, 128), "image_size": 48, "epochs": 12, "batch_size": 32,
                  "augmentation": False, "optimizer": "adam", "learning_rate": 3e-3, "lr_schedule": "cosine",
                  "dataset_options": {"image_size": 48, "train_size": 4000, "validation_size": 500,
                                      "test_size": 500, "difficulty": "easy"}},
        # No similarity model in the book: its mini-Xception on Oxford-IIIT Pets' breeds, for a GPU.
        "book": {"dataset": "oxford_pets", "dataset_options": {}, "filters": (32, 64, 128, 256, 512),
                 "image_size": 160, "batch_size": 64, "epochs": 40, "augmentation": True, "dropout_rate": 0.0,
                 "optimizer": "adam", "learning_rate": 1e-3, "lr_schedule": "cosine"},
    },
    anatomy=lambda spec, classes: (
        _("{variant}: a picture in, a vector out").format(variant=variant_label(spec.variant)),
        _("Exactly the model **Train** builds: {size} × {size} px in, {dimensions} numbers out, scaled to length 1; "
          "no class output: two pictures compare by the cosine of their vectors, and training pulls the pictures of "
          "a class of {dataset} together.").format(size=spec.image_size, dimensions=EMBEDDING_DIM,
                                                    dataset=dataset_id_label(spec.dataset))),
))
