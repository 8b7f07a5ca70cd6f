"""`type: gan`: the book's deep convolutional GAN (8.29-8.32) as a keras.Model subclass.

The book trains a combined model with `discriminator.trainable = False`; Keras 3 reads
`trainable` live, so that recipe never updates the discriminator. Here one `train_step` updates
each network with its own optimizer (a keras.optimizers.MultiOptimizer holds both, so that JAX's
trainer carries every optimizer variable and the resume state saves them), its gradients from
`backend.gradients.value_and_weight_gradients`; on JAX the same step runs statelessly
(`backend.gradients.stateless_train_step`). The step is the book's: latent points ~ N(0, 1), the
discriminator on generated + real images with labels fake=1, real=0 plus 0.05 * U[0, 1) noise,
then the generator through the discriminator with the "misleading" target 0 (real).
"""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dlcli.backend import import_keras
from dlcli.errors import SpecError, UsageError
from dlcli.models.kind import ModelKind, register_kind
from dlcli.spec.base import StrictModel

SMALLEST_SIDE = 24  # the book's discriminator (a 3x3 then three 4x4/2 valid convolutions) leaves 1 pixel of 24


class GanOptimizer(BaseModel):
    """One network's optimizer, as `compile.optimizer` is written (other keys, e.g. clipvalue, go to
    its constructor; Keras 2's `decay` becomes InverseTimeDecay as in compile.optimizer)."""

    model_config = ConfigDict(extra="allow")

    name: str = "rmsprop"
    learning_rate: float = Field(gt=0)
    decay: float | None = Field(None, ge=0, description="Keras 2's `decay`: lr / (1 + decay * step)")


class GanModel(StrictModel):
    """The book's DCGAN (8.29-8.32); image sizes and channels come from the data."""

    type: Literal["gan"]
    latent_dim: int = Field(32, gt=0, le=4096, description="the generator's input size (the book's 32)")
    generator_filters: int = Field(256, gt=0, le=1024, description="the generator's convolutions (the book's "
                                                                   "256; its dense layer gives half as many maps)")
    discriminator_filters: int = Field(128, gt=0, le=1024, description="the discriminator's (the book's 128)")
    discriminator_optimizer: GanOptimizer = GanOptimizer(learning_rate=8e-4, clipvalue=1.0, decay=1e-8)
    generator_optimizer: GanOptimizer = Field(
        GanOptimizer(learning_rate=4e-4, clipvalue=1.0, decay=1e-8),
        description="the book's `gan_optimizer`: updates the generator only")
    label_noise: float = Field(0.05, ge=0, le=1, description="the book's 0.05 * U[0, 1) added to every label")
    match_tanh: bool = Field(False, description="feed real images in [-1, 1] like the generator's tanh output; "
                                                "the book feeds them in [0, 1] (x / 255)")
    samples_every: int = Field(100, gt=0, description="steps between the image grids written into samples/")
    samples_count: int = Field(16, gt=0, le=256, description="images in each grid")

    @property
    def gives_losses(self) -> bool:
        """Its losses are its own (binary crossentropy of each network): compile.loss is not used."""
        return True


def _image_shape(bundle) -> tuple[int, int, int]:
    shape = bundle.input_shape
    if isinstance(shape, dict) or len(shape) != 3:
        raise SpecError(f"model.type: gan needs images (height, width, channels); the data gives samples of "
                        f"shape {shape} (data.shape: image)")
    height, width, channels = shape
    if height < SMALLEST_SIDE or width < SMALLEST_SIDE or height % 2 or width % 2:
        raise SpecError(f"model.type: gan needs images of even sides of at least {SMALLEST_SIDE} pixels "
                        f"(the book's discriminator); the data gives {height}x{width}")
    return height, width, channels


def _pixel_scaling(bundle) -> tuple[float, float]:
    """(scale, offset) of the data's own preprocessing (pixels / 255): applied to real images only,
    so the generated ones reach the discriminator as the generator made them, as in the book."""
    scale, offset = 1.0, 0.0
    for name, arguments in bundle.input_preprocessing:
        if name != "Rescaling":
            raise SpecError(f"model.type: gan takes images scaled by Rescaling only; the data needs {name}")
        scale, offset = scale * arguments.get("scale", 1.0), offset * arguments.get("scale", 1.0) + arguments.get("offset", 0.0)
    return float(scale), float(offset)


def generator_network(keras, latent_dim: int, shape: tuple[int, int, int], filters: int):
    """8.29: latent points -> an image of `shape`, from maps of half its size upsampled once."""
    height, width, channels = shape
    layers = keras.layers
    inputs = keras.Input((latent_dim,))
    x = layers.LeakyReLU()(layers.Dense(filters // 2 * (height // 2) * (width // 2))(inputs))
    x = layers.Reshape((height // 2, width // 2, filters // 2))(x)
    x = layers.LeakyReLU()(layers.Conv2D(filters, 5, padding="same")(x))
    x = layers.LeakyReLU()(gan_classes()["dlcli>Conv2DTranspose"](filters, 4, strides=2, padding="same")(x))
    for _ in range(2):
        x = layers.LeakyReLU()(layers.Conv2D(filters, 5, padding="same")(x))
    outputs = layers.Conv2D(channels, 7, activation="tanh", padding="same")(x)
    return keras.Model(inputs, outputs, name="generator")


def discriminator_network(keras, shape: tuple[int, int, int], filters: int):
    """8.30: an image -> the probability that it is generated (label 1)."""
    layers = keras.layers
    inputs = keras.Input(shape)
    x = layers.LeakyReLU()(layers.Conv2D(filters, 3)(inputs))
    for _ in range(3):
        x = layers.LeakyReLU()(layers.Conv2D(filters, 4, strides=2)(x))
    x = layers.Dropout(0.4)(layers.Flatten()(x))
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="discriminator")


@functools.lru_cache(maxsize=None)
def gan_classes() -> dict[str, type]:
    keras = import_keras()
    ops = keras.ops

    def crossentropy(targets, probabilities):
        """The mean binary crossentropy from probabilities clipped to [epsilon, 1 - epsilon], the same
        on every backend: torch's own refuses the book's noisy labels above 1."""
        epsilon = keras.config.epsilon()
        clipped = ops.clip(probabilities, epsilon, 1.0 - epsilon)
        return ops.mean(-(targets * ops.log(clipped) + (1.0 - targets) * ops.log(1.0 - clipped)))

    @keras.saving.register_keras_serializable(package="dlcli")
    class Conv2DTranspose(keras.layers.Conv2DTranspose):
        """Keras' own (the same weights, values and name), whose gradient on JAX comes from
        backend.gradients.fast_conv_transpose: XLA's CPU own made a step of the book's GAN take
        about 50 s there, against 6 s on TensorFlow."""

        def call(self, inputs):
            from dlcli.backend.gradients import fast_conv_transpose

            if (keras.backend.backend() != "jax" or self.padding != "same" or self.output_padding is not None
                    or max(self.dilation_rate) != 1 or self.data_format != "channels_last"):
                return super().call(inputs)
            outputs = fast_conv_transpose(inputs, self.kernel.value, self.strides)
            outputs = ops.add(outputs, self.bias) if self.use_bias else outputs  # channels last
            return self.activation(outputs)

    @keras.saving.register_keras_serializable(package="dlcli")
    class Gan(keras.Model):
        """A generator and a discriminator trained against each other, each by its own optimizer.
        Called on images (raw, as the data stores them), it gives the discriminator's probability
        that each is generated."""

        def __init__(self, generator, discriminator, latent_dim: int, scale: float = 1.0, offset: float = 0.0,
                     label_noise: float = 0.05, match_tanh: bool = False, **kwargs):
            super().__init__(**kwargs)
            self.generator, self.discriminator = generator, discriminator
            self.latent_dim, self.scale, self.offset = latent_dim, scale, offset
            self.label_noise, self.match_tanh = label_noise, match_tanh
            self.seed_generator = keras.random.SeedGenerator()  # its seed from Python's, set from the run's seed
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

        def real_pixels(self, images):
            """Stored images as the discriminator sees real ones: x * scale + offset ([0, 1], the book's
            x / 255), then [-1, 1] with match_tanh."""
            pixels = ops.cast(images, "float32") * self.scale + self.offset
            return pixels * 2.0 - 1.0 if self.match_tanh else pixels

        def call(self, images, training=False):
            return self.discriminator(self.real_pixels(images), training=training)

        def generate(self, latent, training=False):
            return self.generator(latent, training=training)

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def optimizer_variables(self):
            """Each optimizer with the variables it updates (the resume state builds and restores both)."""
            discriminator, generator = self.optimizer.optimizers
            return [(discriminator, self.discriminator.trainable_variables),
                    (generator, self.generator.trainable_variables)]

        def gan_step(self, data):
            """One step of the book's loop (8.32), on a batch of real images."""
            from dlcli.backend.gradients import value_and_weight_gradients

            real = self.real_pixels(keras.utils.unpack_x_y_sample_weight(data)[0])
            batch = ops.shape(real)[0]
            d_optimizer, g_optimizer = self.optimizer.optimizers
            latent = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
            combined = ops.concatenate([self.generator(latent), real], axis=0)
            labels = ops.concatenate([ops.ones((batch, 1)), ops.zeros((batch, 1))], axis=0)
            labels = labels + self.label_noise * keras.random.uniform(ops.shape(labels), seed=self.seed_generator)

            def d_loss():
                predictions = self.discriminator(combined, training=True)
                return crossentropy(labels, predictions), None

            d_value, _, gradients = value_and_weight_gradients(d_loss, self.discriminator.trainable_variables)
            d_optimizer.apply(gradients, self.discriminator.trainable_variables)

            latent = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
            misleading = ops.zeros((batch, 1))  # "all real images": the generator learns to fool

            def g_loss():
                predictions = self.discriminator(self.generator(latent, training=True), training=True)
                return crossentropy(misleading, predictions), None

            g_value, _, gradients = value_and_weight_gradients(g_loss, self.generator.trainable_variables)
            g_optimizer.apply(gradients, self.generator.trainable_variables)
            self.optimizer.iterations.assign_add(1)  # the MultiOptimizer's count: GAN steps
            self.d_loss_tracker.update_state(d_value)
            self.g_loss_tracker.update_state(g_value)
            return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}

        if keras.backend.backend() == "jax":
            def train_step(self, state, data):
                from dlcli.backend.gradients import stateless_train_step

                return stateless_train_step(self, self.gan_step, state, data)
        else:
            def train_step(self, data):
                return self.gan_step(data)

        def test_step(self, *args):
            raise UsageError("a gan has no test metric: its losses while it trained are in history.json; "
                             "see its images with dlcli generate images")

        def get_config(self):
            return {**super().get_config(), "latent_dim": self.latent_dim, "scale": self.scale,
                    "offset": self.offset, "label_noise": self.label_noise, "match_tanh": self.match_tanh,
                    "generator": keras.saving.serialize_keras_object(self.generator),
                    "discriminator": keras.saving.serialize_keras_object(self.discriminator)}

        @classmethod
        def from_config(cls, config):
            networks = {name: keras.saving.deserialize_keras_object(config.pop(name))
                        for name in ("generator", "discriminator")}
            return cls(**networks, **config)

    return {"Gan": Gan, "dlcli>Conv2DTranspose": Conv2DTranspose}  # by its registered name: Keras' own stays Keras'


def build_gan(model_spec: GanModel, bundle):
    keras = import_keras()
    shape = _image_shape(bundle)
    scale, offset = _pixel_scaling(bundle)
    generator = generator_network(keras, model_spec.latent_dim, shape, model_spec.generator_filters)
    discriminator = discriminator_network(keras, shape, model_spec.discriminator_filters)
    return gan_classes()["Gan"](generator, discriminator, model_spec.latent_dim, scale, offset,
                                model_spec.label_noise, model_spec.match_tanh, name="gan")


def _check_compile(spec) -> None:
    """What a gan does not take from the spec's compile: and fit: sections, each one line."""
    if spec.compile.optimizer != type(spec.compile.optimizer)():  # the default is what spec.yaml records
        raise SpecError("compile.optimizer: a gan has two; set model.discriminator_optimizer and "
                        "model.generator_optimizer instead")
    if spec.compile.loss is not None or spec.compile.metrics:
        raise SpecError("compile: a gan has its own losses (d_loss, g_loss); remove compile.loss and compile.metrics")
    if spec.compile.precision != "float32":
        raise SpecError("compile.precision: a gan trains in float32 only (its two optimizers take no loss scaling)")
    if spec.evaluate or spec.fit.validation.kind != "none":
        raise SpecError("evaluate: a gan has no test or validation metric; set `evaluate: false` and "
                        "fit.validation.kind: none")


def compile_gan(model, spec) -> None:
    """The two optimizers, each built over its network's variables, in one MultiOptimizer."""
    from dlcli.models.compiling import build_optimizer, jit_compile_of

    keras = import_keras()
    _check_compile(spec)
    optimizers = {}
    for name in ("discriminator", "generator"):
        try:
            optimizers[name] = build_optimizer(getattr(spec.model, f"{name}_optimizer"))
        except (SpecError, ValueError) as error:  # ValueError: Keras knows no optimizer of that name
            raise SpecError(f"model.{name}_optimizer: {str(error).removeprefix('compile.optimizer: ')}") from None
    by_path = {variable.path: optimizers["discriminator"] for variable in model.discriminator.trainable_variables}
    multi = keras.optimizers.MultiOptimizer(keras.optimizers.OptimizerMap(optimizers["generator"], by_path))
    model.compile(optimizer=multi, jit_compile=jit_compile_of(spec.compile))
    multi.build(model.trainable_variables)
    if multi.optimizers != [optimizers["discriminator"], optimizers["generator"]]:
        raise RuntimeError("the GAN's optimizers were not given their own networks' variables")  # a bug


register_kind("gan", ModelKind(GanModel, build_gan, compile=compile_gan, custom_objects=gan_classes,
                               takes_targets=False, run_callbacks="dlcli.generation.images:training_grids"))
