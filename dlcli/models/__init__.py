"""Model kinds by spec `type`: each registers its spec class and how its models are built.

A kind is one module (sequential, graph, from_run, naive_last_value, ...) that calls
`register_kind` at import. Importing a kind module imports neither Keras nor TensorFlow, so the
spec's `model:` union (dlcli.spec.schema) is built from this registry at no cost.
"""

from __future__ import annotations

from dlcli.models.kind import MODEL_KINDS, ModelKind, build_model, compile_for, custom_objects, register_kind

# The kinds dlcli ships; each registers itself.
from dlcli.models import baseline, continued, gan, graph, sequential, vae  # noqa: E402,F401

__all__ = ["MODEL_KINDS", "ModelKind", "build_model", "compile_for", "custom_objects", "register_kind"]
