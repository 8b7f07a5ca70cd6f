"""Experiment specs: schema, `{Name: {arguments}}` entries, --set overrides, readable errors.

| module      | holds                                                                  |
| base        | StrictModel (unknown keys are errors)                                   |
| entries     | layer and callback items parsed once into `Entry`                       |
| arguments   | their arguments checked against Keras' signatures, without Keras        |
| keras_names | the layer, optimizer, activation... names of the installed Keras        |
| schema      | ExperimentSpec and its sections; the model union from dlcli.models      |
| reading     | safe YAML with FILE:LINE:COLUMN errors                                  |
| overrides   | --set KEY=VALUE                                                         |
| messages    | pydantic errors as `FILE:LINE: path: message`, did-you-mean             |
| loading     | load_spec, validate_spec, dump_spec                                     |

The names below are re-exported lazily, so that importing a model kind (which needs
`spec.base`) never imports the schema that is built from the model kinds.
"""

from __future__ import annotations

# An experiment's name is the folder its runs go in (runs/NAME/) and, for `dlcli new`, its file's
# stem: short enough for any file system (255 bytes a name) with room for what is added to it.
MAX_NAME_LENGTH = 100

# 8.7's sampling and its bounds: the TextSampler callback's defaults and `dlcli generate text`'s (here,
# not in spec.entries, so that generation.text reads them without importing pydantic).
SAMPLE_LENGTH = 400
SAMPLE_TEMPERATURES = (0.2, 0.5, 1.0, 1.2)
MAX_SAMPLE_LENGTH = 100_000
MAX_SAMPLE_TEMPERATURES = 64

_EXPORTS = {
    "load_spec": "loading", "validate_spec": "loading", "dump_spec": "loading",
    "ExperimentSpec": "schema", "Reference": "schema", "Claim": "schema", "ValidationSpec": "schema",
    "parse_override": "overrides", "apply_override": "overrides", "parse_yaml": "reading",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f"dlcli.spec.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'dlcli.spec' has no attribute {name!r}")
