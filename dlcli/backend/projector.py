"""The embedding projector's checkpoint: TensorFlow's format, whatever backend trained the model."""

from __future__ import annotations

from typing import Any


def save_embedding_checkpoint(matrices: dict[str, Any], folder, number: int) -> None:
    """Embedding matrices (NumPy, by name) as the TensorFlow checkpoint TensorBoard's projector
    reads, whatever backend trained them (the TensorBoard callback needs TensorFlow installed on
    every backend). Its `checkpoint` file names the checkpoint relative to `folder`, so the run
    directory may move."""
    import tensorflow as tf

    variables = {name: tf.Variable(matrix) for name, matrix in matrices.items()}
    tf.train.CheckpointManager(tf.train.Checkpoint(**variables), str(folder), max_to_keep=1,
                               checkpoint_name="embeddings").save(checkpoint_number=number)
