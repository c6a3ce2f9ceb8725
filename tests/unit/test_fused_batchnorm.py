"""Training swaps Keras BatchNormalization onto TensorFlow's fused kernel: same numbers, plain files."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasdet.train.fused_batchnorm import use_fused_batchnorm


def _model():
    images = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="conv")(images)
    x = keras.layers.BatchNormalization(momentum=0.9, name="learning_bn")(x)
    frozen = keras.layers.BatchNormalization(momentum=0.9, name="frozen_bn")
    frozen.trainable = False
    return keras.Model(images, frozen(x))


@pytest.mark.parametrize("training", [True, False])
def test_fused_batchnorm_matches_keras(training):
    keras.utils.set_random_seed(0)
    plain, fused = _model(), _model()
    fused.set_weights(plain.get_weights())
    assert use_fused_batchnorm(fused) == 2
    x = np.random.default_rng(0).normal(2.0, 3.0, (5, 8, 8, 3)).astype(np.float32)
    results = []
    for model in (plain, fused):
        with tf.GradientTape() as tape:
            y = model(x, training=training)
            loss = tf.reduce_sum(y ** 2)
        results.append((y.numpy(), [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]))
    (y_plain, g_plain), (y_fused, g_fused) = results
    np.testing.assert_allclose(y_fused, y_plain, atol=1e-5)
    scale = max(np.abs(g).max() for g in g_plain)  # the conv bias gradient is ~0 under batch statistics
    for a, b in zip(g_fused, g_plain):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4 * scale)
    # moving statistics: updated by the learning layer in training only, never by the frozen one
    for a, b in zip(fused.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    moved = not np.allclose(fused.get_layer("learning_bn").moving_mean.numpy(), 0.0)
    assert moved == training
    np.testing.assert_array_equal(fused.get_layer("frozen_bn").moving_mean.numpy(), 0.0)


def test_saved_model_keeps_plain_keras_layers(tmp_path):
    model = _model()
    use_fused_batchnorm(model)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert type(loaded.get_layer("learning_bn")) is keras.layers.BatchNormalization
    assert "call" not in vars(loaded.get_layer("learning_bn"))
