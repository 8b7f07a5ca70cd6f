"""Layer and callback arguments checked against Keras' signatures, without importing Keras."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import TINY_SPEC, write
from dlcli.errors import SpecError
from dlcli.spec import load_spec
from dlcli.spec.arguments import check_arguments

FIRST_LAYER = "Dense: {units: 8, activation: relu}"
EARLY_STOPPING = "EarlyStopping: {monitor: val_loss, patience: 5}"

BAD_ARGUMENTS = [
    # (what replaces a line's text in the tiny spec, the message it must produce)
    (FIRST_LAYER, "Conv2D: {filters: 32, kernal_size: 3}",
     "model.layers[0]: Conv2D: unknown argument 'kernal_size' (did you mean 'kernel_size'?)"),
    (FIRST_LAYER, "Dense: {units: 8, activation: rleu}",
     "model.layers[0]: Dense: unknown activation 'rleu' (did you mean 'relu'?)"),
    (FIRST_LAYER, "Conv2D: {filters: 32, kernel_size: 3, padding: smae}",
     "model.layers[0]: Conv2D: unknown padding 'smae' (did you mean 'same'?); choices: same, valid"),
    (FIRST_LAYER, "MaxPooling2D: {padding: causal}",
     "model.layers[0]: MaxPooling2D: unknown padding 'causal'; choices: same, valid"),
    (FIRST_LAYER, "Dense: {units: 0}", "model.layers[0]: Dense: units must be a positive integer or num_classes (got 0)"),
    (FIRST_LAYER, "Conv2D: {filters: 8.5, kernel_size: 3}",
     "model.layers[0]: Conv2D: filters must be a positive integer (got 8.5)"),
    (FIRST_LAYER, "Dense: {units: 8, kernel_initializer: he_normall}",
     "model.layers[0]: Dense: unknown kernel_initializer 'he_normall' (did you mean 'he_normal'?)"),
    (FIRST_LAYER, "Dense: {units: 8, kernel_regularizer: l3}",
     "model.layers[0]: Dense: unknown kernel_regularizer 'l3'"),
    (FIRST_LAYER, "LSTM: {units: 8, recurrent_activation: sigmod}",
     "model.layers[0]: LSTM: unknown recurrent_activation 'sigmod' (did you mean 'sigmoid'?)"),
    (FIRST_LAYER, "Bidirectional: {layer: {LSTM: {units: 4, retrun_sequences: true}}}",
     "model.layers[0]: LSTM: unknown argument 'retrun_sequences' (did you mean 'return_sequences'?)"),
    (EARLY_STOPPING, "EarlyStopping: {monitor: val_loss, patiense: 5}",
     "callbacks[1]: EarlyStopping: unknown argument 'patiense' (did you mean 'patience'?)"),
    (EARLY_STOPPING, "EarlyStopping: {monitor: val_loss, mode: minimum}",
     "callbacks[1]: EarlyStopping: unknown mode 'minimum' (did you mean 'min'?); choices: auto, max, min"),
]


@pytest.mark.parametrize("old,new,message", BAD_ARGUMENTS)
def test_bad_argument_names_file_line_and_suggests(workdir, old, new, message):
    assert old in TINY_SPEC
    path = write(workdir / "bad.yaml", TINY_SPEC.replace(old, new, 1))
    with pytest.raises(SpecError) as error:
        load_spec(str(path))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if new in text)
    assert str(error.value) == f"{path}:{line}: {message}"


VALID_LAYERS = """
    - Embedding: {input_dim: 10, output_dim: 4, mask_zero: true}
    - Bidirectional: {layer: {LSTM: {units: 4, return_sequences: true, recurrent_activation: sigmoid}}}
    - Bidirectional: {layer: {GRU: {units: 4}}, merge_mode: sum}
    - Conv1D: {filters: 4, kernel_size: 3, padding: CAUSAL, kernel_regularizer: {l1: 0.001, l2: 0.001}}
    - Dense: {units: 8, kernel_regularizer: {l2: 0.001}, bias_regularizer: l1, kernel_initializer: GlorotUniform}
    - Dense: {units: 8, activation: {class_name: LeakyReLU, config: {negative_slope: 0.1}}, name: hidden}
    - Dense: {units: 8, activation: null, kernel_constraint: max_norm, input_shape: [6]}
    - Rescaling: {scale: 0.0039}
    - LeakyReLU: {alpha: 0.1}
    - Dense: {units: 3, activation: softmax}
"""


def test_valid_arguments_pass(workdir):
    layers = "  layers:\n    - Dense: {units: 8, activation: relu}\n    - Dense: {units: 3, activation: softmax}\n"
    assert layers in TINY_SPEC
    text = TINY_SPEC.replace(layers, "  layers:" + VALID_LAYERS).replace(
        "EarlyStopping: {monitor: val_loss, patience: 5}",
        "EarlyStopping: {monitor: val_loss, patience: 5, mode: min, restore_best_weights: true}")
    spec, _ = load_spec(str(write(workdir / "good.yaml", text)))
    assert [entry.name for entry in spec.model.layers][:3] == ["Embedding", "Bidirectional", "Bidirectional"]


@pytest.mark.parametrize("name,arguments", [
    ("Dense", {"units": None, "activation": None}),  # None is left to Keras
    ("Conv2D", {"filters": 4, "kernel_size": [3, 3], "padding": [[1, 1], [1, 1]]}),  # explicit paddings
    ("Dense", {"units": 4, "kernel_initializer": {"class_name": "Constant", "config": {"value": 1}}}),
    ("Pretrained", {"network": "vgg16", "anything": 1}),  # not a Keras layer: not checked here
    ("ReduceLROnPlateau", {"monitor": "val_loss", "factor": 0.5, "patience": 2, "min_lr": 1e-5}),
    ("ModelCheckpoint", {"monitor": "val_accuracy", "mode": "max", "save_best_only": True}),
])
def test_what_keras_accepts_is_not_refused(name, arguments):
    check_arguments(name, arguments)


def test_every_shipped_experiment_validates():
    from dlcli.catalog import experiment_files

    files = [str(path) for path in experiment_files().values()]
    assert files
    result = subprocess.run([sys.executable, "-m", "dlcli", "validate", "--no-cache", *files],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok: ") == len(files)


def test_checking_imports_neither_keras_nor_tensorflow():
    code = ("import sys\nfrom dlcli.spec.arguments import check_arguments\n"
            "check_arguments('Dense', {'units': 4, 'activation': 'relu'})\n"
            "print('HEAVY', [m for m in ('keras', 'tensorflow') if m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert "HEAVY []" in out, out
