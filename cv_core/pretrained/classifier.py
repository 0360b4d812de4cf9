"""The :class:`Pretrained` wrapper: an ImageNet classifier with what it takes to feed it and read it."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class Pretrained:
    """An ImageNet classifier with what it takes to feed it and to read its output.

    Shared by every caller in the process (see :func:`load_pretrained`): never ``fit``,
    recompile or otherwise change ``model``.

    Attributes:
        name: the key given to :func:`load_pretrained` (``"squeezenet"``).
        display_name: a name for people (``"SqueezeNet 1.1"``).
        model: a ``keras.Model`` taking a float32 batch ``(N, H, W, 3)`` in the model's input
            space (see :meth:`preprocess`) and returning softmax probabilities ``(N, 1000)``.
            Its last layer is an ``Activation`` named ``"predictions"``; the logits are its
            input.
        class_names: the 1000 ImageNet class names, WordNet style (``"tabby, tabby cat"``).
        input_size: ``(height, width)`` the model takes.
    """

    name: str
    display_name: str
    model: object
    class_names: tuple[str, ...]
    input_size: tuple[int, int]
    _pixels: object = dataclasses.field(repr=False)

    @property
    def short_class_names(self) -> tuple[str, ...]:
        """Each class name's first synonym (``"tabby"``): shorter labels for charts."""
        return tuple(name.split(",")[0].strip() for name in self.class_names)

    def preprocess(self, image) -> np.ndarray:
        """Turn a photo into the model's input.

        Args:
            image: ``(H, W, 3)`` RGB photo of any size, uint8 (other dtypes are clipped to
                [0, 255] and rounded).

        Returns:
            float32 ``(1, height, width, 3)``: the photo resized (bilinear, aspect ratio not
            kept) to ``input_size`` and moved into the model's pixel space.

        Raises:
            ValueError: ``image`` is not an ``(H, W, 3)`` array.
        """
        rgb = _as_uint8_rgb(image)
        height, width = self.input_size
        if rgb.shape[:2] != (height, width):
            from PIL import Image

            resized = Image.fromarray(rgb).resize((width, height), Image.Resampling.BILINEAR)
            rgb = np.asarray(resized)
        batch = self._pixels.to_model(rgb.astype(np.float32))[None]
        return np.ascontiguousarray(batch, dtype=np.float32)

    def preprocess_tensor(self, x):
        """:meth:`preprocess`'s pixel transform as differentiable TensorFlow ops (no resize).

        Args:
            x: float tensor or variable ``(N, H, W, 3)`` of RGB values in [0, 255].

        Returns:
            float32 tensor ``(N, H, W, 3)`` in the model's input space.
        """
        from cv_core._tf import tensorflow

        tf = tensorflow()
        return self._pixels.to_model_tensor(tf, tf.cast(x, tf.float32))

    def deprocess(self, batch_or_image) -> np.ndarray:
        """Undo :meth:`preprocess`'s pixel transform, to show what the model saw.

        Args:
            batch_or_image: ``(1, H, W, 3)`` or ``(H, W, 3)`` array or tensor in the model's
                input space.

        Returns:
            uint8 ``(H, W, 3)`` RGB, values outside [0, 255] clipped.

        Raises:
            ValueError: a batch of more than one image, or a wrong shape.
        """
        x = np.asarray(batch_or_image, dtype=np.float32)
        if x.ndim == 4 and x.shape[0] == 1:
            x = x[0]
        if x.ndim != 3 or x.shape[-1] != 3:
            raise ValueError(
                "Expected `batch_or_image` to have shape (1, H, W, 3) or (H, W, 3). "
                f"Received: shape={x.shape}"
            )
        rgb = self._pixels.from_model(x)
        return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)

    def top_k(self, probabilities, k: int = 5) -> list[tuple[int, str, float]]:
        """The ``k`` most probable classes, most probable first.

        Args:
            probabilities: ``(1000,)`` or ``(1, 1000)`` model output.
            k: how many classes (at most 1000).

        Returns:
            ``[(class index, class name, probability), ...]``.

        Raises:
            ValueError: a wrong shape, or ``k`` not a positive integer.
        """
        p = np.asarray(probabilities, dtype=np.float64)
        if p.ndim == 2 and p.shape[0] == 1:
            p = p[0]
        if p.shape != (len(self.class_names),):
            raise ValueError(
                f"Expected `probabilities` to have shape ({len(self.class_names)},) or "
                f"(1, {len(self.class_names)}). Received: shape={p.shape}"
            )
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ValueError(f"Expected `k` to be a positive integer. Received: k={k!r}")
        order = np.argsort(-p, kind="stable")[:k]
        return [(int(i), self.class_names[i], float(p[i])) for i in order]


def _as_uint8_rgb(image) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[-1] != 3:
        raise ValueError(f"Expected `image` to be an (H, W, 3) RGB array. Received: shape={array.shape}")
    if array.dtype != np.uint8:
        array = np.clip(np.rint(array.astype(np.float64)), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(array)
