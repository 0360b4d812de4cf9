"""The chapter's two training ideas, made measurable on tiny synthetic problems.

- Residual connections against vanishing gradients: :func:`gradient_norms_by_layer`
  measures, layer by layer, how much gradient reaches the kernels of a deep stack with and
  without shortcuts.
- Batch normalisation in training vs inference: :func:`batchnorm_training_trace` follows a
  ``BatchNormalization`` layer's moving statistics as it trains, and how far its
  inference-mode output is from its training-mode output.

Both run in a second or two on a CPU and return numpy arrays and plain Python values;
``cv_core.plots.architecture`` turns them into figures. Random numbers come from
explicitly seeded generators and initialisers: no global seed is touched.
"""

from __future__ import annotations

import numpy as np

_GRADIENT_BATCH = 64
_BATCHNORM_FEATURES = 4
_BATCHNORM_BATCH = 64
_BATCHNORM_EVAL_BATCH = 256


def _check_positive_int(name: str, value, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"Expected `{name}` to be an integer >= {minimum}. Received: {name}={value!r}")


def _check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"Expected `seed` to be a non-negative integer. Received: seed={seed!r}")


# --------------------------------------------------------------------------------------
# Residual connections vs vanishing gradients
# --------------------------------------------------------------------------------------


def _deep_stack(keras, depth: int, width: int, input_size: int, residual: bool, seed: int):
    """``embed`` -> ``depth`` sigmoid Dense layers [+ shortcuts] -> ``output_norm`` -> ``output``."""
    layers = keras.layers

    def init(index: int):
        return keras.initializers.GlorotUniform(seed=seed * 1000 + index)

    inputs = keras.Input(shape=(input_size,), name="features")
    x = layers.Dense(width, kernel_initializer=init(0), name="embed")(inputs)
    for i in range(1, depth + 1):
        y = layers.Dense(width, activation="sigmoid", kernel_initializer=init(i), name=f"dense{i:02d}")(x)
        x = layers.Add(name=f"add{i:02d}")([x, y]) if residual else y
    x = layers.LayerNormalization(name="output_norm")(x)
    outputs = layers.Dense(1, kernel_initializer=init(depth + 1), name="output")(x)
    return keras.Model(inputs, outputs, name="residual_stack" if residual else "plain_stack")


def gradient_norms_by_layer(depth=20, width=32, residual=False, steps=0, seed=0, input_size=16) -> dict:
    """Measure the gradient reaching each layer of a deep stack, with or without shortcuts.

    The stack is ``embed`` (linear ``Dense(width)``) -> ``depth`` layers
    ``Dense(width, activation="sigmoid")`` named ``dense01``... -> ``output_norm``
    (``LayerNormalization``, which keeps the output's scale comparable with and without
    shortcuts) -> ``output`` (``Dense(1)``), trained with mean squared error to regress a
    fixed random smooth function of a Gaussian batch of 64 inputs. Sigmoid's slope is at most 0.25, so without shortcuts
    the gradient shrinks by roughly that factor at every layer on its way back to the first
    ones: the vanishing gradient the chapter describes. With ``residual=True`` each layer
    computes ``x + dense(x)`` instead, and the identity path carries the gradient back
    undiminished (at initialisation the first layer gets ~1e-12 of the last layer's
    gradient norm without shortcuts and ~1e-1 with them). Norms are taken at
    initialisation and after ``steps`` SGD steps on the same batch (learning rate 0.03,
    gradients clipped to a global norm of 1 so the deep stack cannot diverge).

    Args:
        depth: number of sigmoid layers, >= 2.
        width: units per layer, >= 1.
        residual: add a shortcut around every sigmoid layer.
        steps: SGD steps to take before the second measurement, >= 0.
        seed: seed for the data and the initial weights, >= 0.
        input_size: number of input features, >= 1.

    Returns:
        A dict with ``layer_names`` (list of ``depth`` str, input side first),
        ``initial_norms`` and ``final_norms`` (float arrays of shape ``(depth,)``: the L2
        norm of d(loss)/d(kernel) for each layer; ``final_norms`` equals ``initial_norms``
        when ``steps == 0``), ``losses`` (float array ``(steps + 1,)``, the loss before each
        step and after the last), and the arguments ``residual``, ``depth``, ``width``,
        ``steps``, ``seed`` plus ``activation`` (``"sigmoid"``).

    Raises:
        ValueError: if an argument is out of range.
    """
    _check_positive_int("depth", depth, 2)
    _check_positive_int("width", width)
    _check_positive_int("steps", steps, 0)
    _check_positive_int("input_size", input_size)
    _check_seed(seed)
    if not isinstance(residual, bool):
        raise ValueError(f"Expected `residual` to be True or False. Received: residual={residual!r}")

    from cv_core._tf import keras as _keras
    from cv_core._tf import tensorflow

    tf, keras = tensorflow(), _keras()
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(_GRADIENT_BATCH, input_size)).astype("float32")
    direction = rng.normal(size=(input_size, 1)).astype("float32") / np.sqrt(input_size)
    y = np.sin(2.0 * x @ direction).astype("float32")
    x, y = tf.constant(x), tf.constant(y)

    model = _deep_stack(keras, depth, width, input_size, residual, seed)
    hidden = [model.get_layer(f"dense{i:02d}") for i in range(1, depth + 1)]
    kernels = [layer.kernel for layer in hidden]
    variables = model.trainable_variables
    kernel_positions = [next(i for i, v in enumerate(variables) if v is k) for k in kernels]

    @tf.function
    def step(learning_rate):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
        grads = tape.gradient(loss, variables)
        clipped, _ = tf.clip_by_global_norm(grads, 1.0)
        for variable, grad in zip(variables, clipped):
            variable.assign_sub(learning_rate * grad)
        return loss, tf.stack([tf.norm(grads[i]) for i in kernel_positions])

    # A zero learning rate measures without moving the weights.
    no_update, learning_rate = tf.constant(0.0), tf.constant(0.03)
    loss, norms = step(no_update)
    initial_norms = final_norms = norms.numpy().astype(float)
    losses = [float(loss)]
    if steps:
        losses = [float(step(learning_rate)[0]) for _ in range(steps)]
        loss, norms = step(no_update)
        final_norms = norms.numpy().astype(float)
        losses.append(float(loss))
    return {
        "layer_names": [layer.name for layer in hidden],
        "initial_norms": initial_norms,
        "final_norms": final_norms,
        "losses": np.asarray(losses, dtype=float),
        "residual": residual,
        "depth": int(depth),
        "width": int(width),
        "steps": int(steps),
        "seed": int(seed),
        "activation": "sigmoid",
    }


# --------------------------------------------------------------------------------------
# Batch normalisation: training vs inference
# --------------------------------------------------------------------------------------


def _batchnorm_model(keras, momentum: float, seed: int):
    """``features`` -> ``batchnorm`` -> ``hidden`` (Dense 16, ReLU) -> ``output`` (Dense 1)."""
    layers = keras.layers
    inputs = keras.Input(shape=(_BATCHNORM_FEATURES,), name="features")
    x = layers.BatchNormalization(momentum=momentum, name="batchnorm")(inputs)
    x = layers.Dense(
        16, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed=seed), name="hidden"
    )(x)
    outputs = layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1), name="output")(x)
    return keras.Model(inputs, outputs, name="batchnorm_demo")


def batchnorm_training_trace(steps=50, seed=0, data_mean=3.0, data_std=2.0, momentum=0.9) -> dict:
    """Follow a BatchNormalization layer's moving statistics, and the train/inference gap, as it trains.

    In training a ``BatchNormalization`` layer normalises with the current batch's mean and
    variance and nudges its moving averages towards them
    (``moving = momentum * moving + (1 - momentum) * batch``); at inference it normalises
    with the moving averages. They start at mean 0 and variance 1, so until they have
    caught up with the data, the model predicts differently in the two modes.

    The model is ``batchnorm`` (on 4 input features, so the statistics it should learn are
    the data's) -> ``Dense(16, "relu")`` -> ``Dense(1)``, trained by SGD (learning rate
    0.05) with mean squared error on fresh batches of 64 samples drawn from
    ``Normal(data_mean, data_std**2)`` with a fixed smooth target. After each step (and
    before the first) the moving statistics are recorded, together with the mean absolute
    difference between the model's outputs with ``training=True`` and ``training=False`` on
    a fixed batch of 256 samples (measuring it leaves the moving statistics untouched).
    Keras averages biased batch variances, so the moving variance settles slightly below
    ``data_std**2`` (by a factor 63/64).

    Args:
        steps: training steps, >= 1.
        seed: seed for the data and the initial weights, >= 0.
        data_mean: mean of every input feature.
        data_std: standard deviation of every input feature, > 0.
        momentum: the layer's momentum, in [0, 1).

    Returns:
        A dict with ``step`` (int array ``(steps + 1,)``, 0 = before training),
        ``moving_mean`` and ``moving_variance`` (float arrays ``(steps + 1,)``, averaged over
        the 4 channels), ``moving_mean_per_channel`` and ``moving_variance_per_channel``
        (``(steps + 1, 4)``), ``output_gap`` (``(steps + 1,)``, >= 0), ``data_mean`` and
        ``data_variance`` (floats: the true statistics) and ``momentum``.

    Raises:
        ValueError: if an argument is out of range.
    """
    _check_positive_int("steps", steps)
    _check_seed(seed)
    for name, value in (("data_mean", data_mean), ("data_std", data_std), ("momentum", momentum)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not np.isfinite(value):
            raise ValueError(f"Expected `{name}` to be a finite number. Received: {name}={value!r}")
    if data_std <= 0:
        raise ValueError(f"Expected `data_std` to be > 0. Received: data_std={data_std!r}")
    if not 0 <= momentum < 1:
        raise ValueError(f"Expected `momentum` to be in [0, 1). Received: momentum={momentum!r}")

    from cv_core._tf import keras as _keras
    from cv_core._tf import tensorflow

    tf, keras = tensorflow(), _keras()
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(_BATCHNORM_FEATURES, 1)).astype("float32")

    def sample(count: int):
        x = rng.normal(data_mean, data_std, size=(count, _BATCHNORM_FEATURES)).astype("float32")
        y = np.tanh((x - data_mean) / data_std @ weights).astype("float32")
        return x, y

    model = _batchnorm_model(keras, float(momentum), seed)
    bn = model.get_layer("batchnorm")
    variables = model.trainable_variables
    eval_x = tf.constant(sample(_BATCHNORM_EVAL_BATCH)[0])

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
        for variable, grad in zip(variables, tape.gradient(loss, variables)):
            variable.assign_sub(0.05 * grad)
        return loss

    @tf.function
    def output_gap():
        saved_mean = tf.identity(bn.moving_mean)
        saved_variance = tf.identity(bn.moving_variance)
        inference = model(eval_x, training=False)
        training = model(eval_x, training=True)  # this call also moves the statistics...
        bn.moving_mean.assign(saved_mean)  # ...so put them back
        bn.moving_variance.assign(saved_variance)
        return tf.reduce_mean(tf.abs(training - inference))

    means, variances, gaps = [], [], []

    def record():
        gaps.append(float(output_gap()))
        means.append(np.array(bn.moving_mean.numpy(), dtype=float))
        variances.append(np.array(bn.moving_variance.numpy(), dtype=float))

    record()
    for _ in range(steps):
        x, y = sample(_BATCHNORM_BATCH)
        train_step(tf.constant(x), tf.constant(y))
        record()

    means, variances = np.stack(means), np.stack(variances)
    return {
        "step": np.arange(steps + 1),
        "moving_mean": means.mean(axis=1),
        "moving_variance": variances.mean(axis=1),
        "moving_mean_per_channel": means,
        "moving_variance_per_channel": variances,
        "output_gap": np.asarray(gaps, dtype=float),
        "data_mean": float(data_mean),
        "data_variance": float(data_std) ** 2,
        "momentum": float(momentum),
    }
