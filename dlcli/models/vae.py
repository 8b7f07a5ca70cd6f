"""`type: vae`: the variational autoencoder of 8.23-8.27, written the Keras 3 way.

The book's loss is a custom layer calling `add_loss(..., inputs=...)` on symbolic tensors, and its
sampling uses `K.random_normal`: neither exists in Keras 3. Here the model is a keras.Model
subclass that computes its own loss (`compute_loss`) and draws its noise with `keras.random` from
a `SeedGenerator`, so it trains the same way on every backend. The generator's seed comes from
the run's seed (set before the model is built) and is kept in the model's config; its state, which
advances at every step, is not among the weights Keras saves, but training.state keeps every
layer's seed generator state in the resume state (arrays.npz): a seeded run is reproducible and
resumes exactly.

The loss is the book's (8.26): the mean binary crossentropy of the flattened images and their
reconstructions, plus `kl_weight` (5e-4) times the KL term as printed,
-mean(1 + z_log_var - z_mean^2 - exp(z_log_var)) over the latent dimensions. Both parts are
logged per epoch, on training and validation, as `reconstruction_loss` and `kl_loss` (the KL
term already weighted, so that loss = reconstruction_loss + kl_loss), means over samples.
The book samples z = z_mean + exp(z_log_var) * eps (`sampling_scale: book`, kept as printed);
the usual reparameterisation is exp(0.5 * z_log_var) (`standard`).
"""

from __future__ import annotations

import functools
import random
from typing import Literal

from pydantic import Field

from dlcli.backend import import_keras
from dlcli.errors import SpecError
from dlcli.models.kind import ModelKind, register_kind
from dlcli.spec.base import StrictModel


class VaeModel(StrictModel):
    """The variational autoencoder of 8.23-8.27 over the data's images (any size, any channels)."""

    type: Literal["vae"]
    latent_dim: int = Field(2, ge=1, le=4096, description="the latent space's dimensions (8.23: 2)")
    kl_weight: float = Field(5e-4, ge=0, description="the weight of the KL term in the loss (8.26: 5e-4)")
    sampling_scale: Literal["book", "standard"] = Field(
        "book", description="book: z = z_mean + exp(z_log_var) * eps, as printed in 8.24; "
                            "standard: exp(0.5 * z_log_var), the usual reparameterisation")

    @property
    def gives_losses(self) -> bool:
        """Its loss is its own (8.26): compile.loss stays unset."""
        return True


def encoder_network(keras, image_shape: tuple[int, int, int], latent_dim: int):
    """8.23: four convolutions (the second one halves the image), Dense(32), then z_mean and
    z_log_var. The images come in already scaled (the VAE's preprocessing)."""
    layers = keras.layers
    images = keras.Input(shape=image_shape, name="scaled_images")
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(images)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", strides=2)(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(32, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model(images, [z_mean, z_log_var], name="encoder")


def decoder_network(keras, image_shape: tuple[int, int, int], latent_dim: int):
    """8.25: Dense to the encoder's last feature map (half the image, 64 channels), Reshape, a
    transposed convolution back to the image size, and a sigmoid convolution to its channels."""
    layers = keras.layers
    height, width, channels = image_shape
    half = (-(-height // 2), -(-width // 2))  # what the stride-2 'same' convolution left
    z = keras.Input(shape=(latent_dim,), name="z")
    x = layers.Dense(half[0] * half[1] * 64, activation="relu")(z)
    x = layers.Reshape((*half, 64))(x)
    odd = {} if height % 2 == 0 and width % 2 == 0 else {"output_padding": (1 - height % 2, 1 - width % 2)}
    x = layers.Conv2DTranspose(32, 3, padding="same", activation="relu", strides=2, **odd)(x)  # back to h x w
    images = layers.Conv2D(channels, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(z, images, name="decoder")


@functools.lru_cache(maxsize=None)
def vae_classes() -> dict[str, type]:
    """The VAE's class, registered with Keras so model.keras loads back (`load_model`)."""
    keras = import_keras()
    ops = keras.ops

    @keras.saving.register_keras_serializable(package="dlcli")
    class VariationalAutoencoder(keras.Model):
        """Images -> {"reconstruction", "z_mean", "z_log_var"}; its loss needs no targets."""

        def __init__(self, image_shape, latent_dim: int = 2, kl_weight: float = 5e-4, sampling_scale: str = "book",
                     preprocessing=(), seed: int | None = None, **kwargs):
            super().__init__(**kwargs)
            self.image_shape, self.latent_dim = tuple(image_shape), latent_dim
            self.kl_weight, self.sampling_scale = kl_weight, sampling_scale
            self.preprocessing = [list(step) for step in preprocessing]  # [class name, arguments] (pixels / 255)
            self.scaling = [getattr(keras.layers, name)(**arguments) for name, arguments in self.preprocessing]
            self.encoder = encoder_network(keras, self.image_shape, latent_dim)
            self.decoder = decoder_network(keras, self.image_shape, latent_dim)
            # None: drawn from Python's random, which the run's seed seeds (keras.utils.set_random_seed),
            # as Keras itself draws it; kept in the config, so a reloaded model starts from the same state
            self.seed = random.randint(1, 10**9) if seed is None else seed
            self.seed_generator = keras.random.SeedGenerator(self.seed)
            self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
            self.kl_tracker = keras.metrics.Mean(name="kl_loss")

        def scaled(self, images):
            for layer in self.scaling:
                images = layer(images)
            return images

        def sample(self, z_mean, z_log_var):
            """8.24's z = z_mean + scale * eps, eps ~ N(0, 1) from the model's own seed generator."""
            epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
            log_scale = z_log_var if self.sampling_scale == "book" else 0.5 * z_log_var
            return z_mean + ops.exp(log_scale) * epsilon

        def call(self, images):
            z_mean, z_log_var = self.encoder(self.scaled(images))
            reconstruction = self.decoder(self.sample(z_mean, z_log_var))
            return {"reconstruction": reconstruction, "z_mean": z_mean, "z_log_var": z_log_var}

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            """8.26's loss of the batch; its two parts go to their trackers, one value per sample."""
            pixels = self.image_shape[0] * self.image_shape[1] * self.image_shape[2]
            targets = ops.reshape(self.scaled(x), (-1, pixels))  # (batch, pixels)
            decoded = ops.reshape(y_pred["reconstruction"], (-1, pixels))
            reconstruction = keras.losses.binary_crossentropy(targets, decoded)  # (batch,): mean over pixels
            z_mean, z_log_var = y_pred["z_mean"], y_pred["z_log_var"]
            kl = -self.kl_weight * ops.mean(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)
            self.reconstruction_tracker.update_state(reconstruction)
            self.kl_tracker.update_state(kl)
            loss = ops.mean(reconstruction + kl)  # the book's mean(xent + kl) over the batch
            for layer_loss in self.losses:  # a layer's own (a regulariser's); the book's model has none
                loss = loss + layer_loss
            return loss

        def get_config(self):
            return {**super().get_config(), "image_shape": list(self.image_shape), "latent_dim": self.latent_dim,
                    "kl_weight": self.kl_weight, "sampling_scale": self.sampling_scale,
                    "preprocessing": self.preprocessing, "seed": self.seed}

    return {"VariationalAutoencoder": VariationalAutoencoder}


def build_vae(model_spec: VaeModel, bundle):
    shape = bundle.input_shape
    if isinstance(shape, dict) or len(shape) != 3:
        raise SpecError(f"model.type: a vae encodes images (height, width, channels); the data gives samples of "
                        f"shape {shape} (image datasets: set data.shape: image)")
    return vae_classes()["VariationalAutoencoder"](
        image_shape=shape, latent_dim=model_spec.latent_dim, kl_weight=model_spec.kl_weight,
        sampling_scale=model_spec.sampling_scale, preprocessing=bundle.input_preprocessing, name="vae")


def compile_vae(model, spec) -> None:
    """8.27's compile(optimizer='rmsprop', loss=None): the optimizer of the spec, the loss the
    model's own."""
    from dlcli.models.compiling import build_optimizer, jit_compile_of

    if spec.compile.loss is not None:
        raise SpecError("compile.loss: a vae computes its own loss (reconstruction + KL, 8.26): leave compile.loss unset")
    if spec.compile.metrics:
        raise SpecError("compile.metrics: a vae has no targets to measure; it logs reconstruction_loss and kl_loss itself")
    model.compile(optimizer=build_optimizer(spec.compile.optimizer), loss=None, jit_compile=jit_compile_of(spec.compile))


register_kind("vae", ModelKind(VaeModel, build_vae, compile=compile_vae, custom_objects=vae_classes,
                               takes_targets=False))
