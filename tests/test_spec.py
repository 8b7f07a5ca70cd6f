"""Spec loading and validation: every bad input gets one clear line and exit code 2 (no TensorFlow)."""

from __future__ import annotations

import pytest

from conftest import HANG_GUARD_S, TINY_SPEC, write
from dlcli.errors import SpecError
from dlcli.spec import apply_override, dump_spec, load_spec, parse_override

BAD_SPECS = [
    # (what is changed in the tiny spec, the message it must produce)
    ("fit:\n  epochs: 3\n  batch_size: 16", "fit:\n  epocs: 3\n  batch_size: 16",
     "fit.epocs: unknown key 'epocs' (did you mean 'epochs'?)"),
    ("batch_size: 16", "batch_size: 0", "fit.batch_size: must be > 0 (got 0)"),
    ("epochs: 3", "epochs: three", "fit.epochs: "),  # then pydantic's reason, and dlcli's "(got 'three')"
    ("Dense: {units: 8", "Dens: {units: 8", "unknown layer 'Dens' (did you mean 'Dense'?)"),
    ("name: adam", "name: adamm", "unknown optimizer 'adamm' (did you mean 'adam'?)"),
    ("name: synthetic", "name: synthetik", "data.name: unknown dataset 'synthetik' (did you mean 'synthetic'?)"),
    ("num_classes: 3}", "num_classes: 3, colour: red}", "data.colour: unknown key 'colour'"),
    ("fraction: 0.25", "fraction: 1.5", "fit.validation.fraction: must be < 1 (got 1.5)"),
    ("kind: split, fraction: 0.25", "kind: holdout", "validation kind 'holdout' needs `size`"),
    ("ModelCheckpoint: {monitor: val_loss}", "ModelCheckpoint: {filepath: x.keras}",
     "ModelCheckpoint.filepath is set by dlcli"),
    ("EarlyStopping:", "EarlyStoping:", "unknown callback 'EarlyStoping' (did you mean 'EarlyStopping'?)"),
]


@pytest.mark.parametrize("old,new,message", BAD_SPECS)
def test_bad_spec_gets_a_clear_message(workdir, old, new, message):
    assert old in TINY_SPEC
    path = write(workdir / "bad.yaml", TINY_SPEC.replace(old, new, 1))
    with pytest.raises(SpecError) as error:
        load_spec(str(path))
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_error_names_the_line(workdir):
    path = write(workdir / "bad.yaml", TINY_SPEC.replace("batch_size: 16", "batch_size: 0"))
    with pytest.raises(SpecError) as error:
        load_spec(str(path))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "batch_size: 0" in text)
    assert f"bad.yaml:{line}: fit.batch_size" in str(error.value)


def test_all_errors_are_reported_at_once(workdir):
    path = write(workdir / "bad.yaml", TINY_SPEC.replace("batch_size: 16", "batch_size: 0").replace("seed: 7", "sed: 7"))
    with pytest.raises(SpecError) as error:
        load_spec(str(path))
    assert len(str(error.value).splitlines()) == 2


def test_malformed_yaml_names_file_line_and_column(workdir):
    path = write(workdir / "bad.yaml", "fit:\n  epochs: [1, 2\nmodel: x\n")
    with pytest.raises(SpecError) as error:
        load_spec(str(path))
    assert str(error.value).startswith(f"{path}:3:")
    assert "malformed YAML" in str(error.value)


def test_yaml_tags_that_build_objects_are_refused(workdir):
    path = write(workdir / "bad.yaml", "seed: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(SpecError) as error:
        load_spec(str(path))
    assert "YAML tags that build objects are not allowed" in str(error.value)


def test_unknown_experiment_suggests(workdir):
    with pytest.raises(SpecError) as error:
        load_spec("mnist-convnt")
    assert "unknown experiment 'mnist-convnt' (did you mean 'mnist-convnet'?)" in str(error.value)


def test_missing_spec_file(workdir):
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec("nowhere/x.yaml")


def test_overrides_are_merged_before_validation(tiny_spec):
    spec, _ = load_spec(str(tiny_spec), ["fit.epochs=5", "data.num_samples=40", "model.layers.0.Dense.units=4"])
    assert spec.fit.epochs == 5
    assert spec.data.num_samples == 40
    assert spec.model.layers[0].arguments["units"] == 4


def test_bad_override_gets_the_same_error_as_a_bad_file(tiny_spec):
    with pytest.raises(SpecError) as error:
        load_spec(str(tiny_spec), ["fit.epochs=-1"])
    assert "--set fit.epochs=-1: fit.epochs: must be >= 0 (got -1)" in str(error.value)


@pytest.mark.parametrize("text,message", [
    ("fit.epochs", "expected KEY=VALUE"),
    ("=3", "the key must be a path"),
    ("a..b=3", "the key must be a path"),
    ("fit.epocs=3", "unknown key 'epocs' (did you mean 'epochs'?)"),
    ("model.layers.7.Dense.units=3", "'model.layers[7]' is not an item of a list of 2"),
    ("seed.value=3", "'seed' is a value, it has no key 'value'"),
])
def test_bad_overrides(tiny_spec, text, message):
    with pytest.raises(SpecError) as error:
        load_spec(str(tiny_spec), [text])
    assert message in str(error.value)


def test_override_values_are_yaml_scalars():
    assert parse_override("fit.shuffle=false") == (["fit", "shuffle"], False)
    assert parse_override("model.input_shape=[8, 8, 1]") == (["model", "input_shape"], [8, 8, 1])
    tree = {"a": [{"b": 1}]}
    apply_override(tree, ["a", "0", "b"], 2, "a.0.b=2")
    assert tree == {"a": [{"b": 2}]}


def test_lr_is_accepted_as_keras_2_alias(tiny_spec):
    spec, _ = load_spec(str(tiny_spec), ["compile.optimizer={name: rmsprop, lr: 0.001}"])
    assert spec.compile.optimizer.learning_rate == 0.001


def test_validation_callbacks_need_validation_data(tiny_spec):
    with pytest.raises(SpecError, match="monitors 'val_loss' but fit.validation.kind is 'none'"):
        load_spec(str(tiny_spec), ["fit.validation.kind=none", "fit.validation.fraction=null"])


def test_dump_fills_defaults_and_round_trips(tiny_spec, workdir):
    spec, _ = load_spec(str(tiny_spec))
    text = dump_spec(spec)
    assert "precision: float32" in text and "shuffle: true" in text
    again, _ = load_spec(str(write(workdir / "again.yaml", text)))
    assert again == spec


def test_every_shipped_experiment_is_valid():
    from dlcli.catalog import experiment_files

    files = experiment_files()
    assert len(files) >= 22
    for name in files:
        spec, _ = load_spec(name)
        assert spec.description and spec.reference is not None, name


def test_files_that_are_not_training_sets_are_refused(tiny_spec):
    with pytest.raises(SpecError, match="'glove' is not a training set: GloVe word vectors"):
        load_spec(str(tiny_spec), ["data={name: glove}"])


def test_alias_bombs_and_deep_nesting_are_refused_quickly(workdir):
    import time

    bomb = "a0: &a0 [x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)) + "description: *a9\n"
    started = time.perf_counter()
    with pytest.raises(SpecError, match="aliases expand to 1,749,445,656 values"):
        load_spec(str(write(workdir / "bomb.yaml", bomb)))
    for depth in (150, 1000, 100_000):  # past dlcli's bound, and past PyYAML's own (whichever says it)
        path = write(workdir / f"deep{depth}.yaml", "seed: " + "[" * depth + "]" * depth + "\n")
        with pytest.raises(SpecError) as error:
            load_spec(str(path))
        assert len(str(error.value).splitlines()) == 1 and str(error.value).startswith(str(path))
    assert time.perf_counter() - started < HANG_GUARD_S


@pytest.mark.parametrize("override,message", [
    ("fit.batch_size=100000000000000000000", "fit.batch_size: must be <= 2147483647"),
    ("seed=1180591620717411303424", "seed: must be <= 4294967295"),
    ("fit.epochs=1000000000000000000000000000000", "fit.epochs: must be <= 100000"),
    ("fit.steps_per_epoch=9223372036854775808", "fit.steps_per_epoch: must be <= 100000000"),
])
def test_values_that_cannot_work_are_bounded(tiny_spec, override, message):
    with pytest.raises(SpecError, match=message):
        load_spec(str(tiny_spec), [override])


def test_huge_values_are_cut_in_messages(tiny_spec):
    with pytest.raises(SpecError) as error:
        load_spec(str(tiny_spec), ["description=[" + ", ".join(["1"] * 5000) + "]"])
    assert len(str(error.value)) < 300


# --------------------------------------------------------------------------- --set paths


def _compare_paths(name: str) -> dict:
    """The spec paths `dlcli compare` prints for a run of this experiment, with their values."""
    import yaml

    from dlcli.comparing import flatten

    spec, _ = load_spec(name)
    data = yaml.safe_load(dump_spec(spec))  # what a run's spec.yaml holds
    return flatten({key: value for key, value in data.items() if key not in ("description", "notes", "reference")})


def _experiment_names() -> list[str]:
    from dlcli.catalog import experiment_files

    return list(experiment_files())


@pytest.mark.parametrize("name", _experiment_names())
def test_every_path_compare_prints_is_a_set_key(name):
    from dlcli.sweeps.space import as_override

    paths = _compare_paths(name)
    spec, _ = load_spec(name)
    again, _ = load_spec(name, [as_override(path, value) for path, value in paths.items()])
    assert again == spec


SPEC_WITH_SHORTHANDS = TINY_SPEC.replace("- Dense: {units: 8, activation: relu}",
                                         "- Flatten\n    - Dense: {units: 8, activation: relu}").replace(
    "optimizer: {name: adam, learning_rate: 0.01}", "optimizer: {name: adam, lr: 0.01}") + """
sweep:
  params: {fit.batch_size: [16, 32]}
"""


@pytest.mark.parametrize("override,value_of,expected", [
    ("callbacks[1].EarlyStopping.patience=9", lambda spec: spec.callbacks[1].arguments["patience"], 9),
    ("callbacks.1.EarlyStopping.patience=9", lambda spec: spec.callbacks[1].arguments["patience"], 9),
    ("model.layers[1].Dense.units=9", lambda spec: spec.model.layers[1].arguments["units"], 9),
    ("model.layers.1.Dense.units=9", lambda spec: spec.model.layers[1].arguments["units"], 9),
    ("model.layers[0].Flatten.data_format=channels_first",  # a bare `- Flatten`
     lambda spec: spec.model.layers[0].arguments["data_format"], "channels_first"),
    ("compile.optimizer.learning_rate=0.5", lambda spec: spec.compile.optimizer.learning_rate, 0.5),  # beside `lr`
    ("sweep.params.fit.batch_size=[9, 10]", lambda spec: spec.sweep.params["fit.batch_size"], [9, 10]),  # a dotted key
])
def test_set_reaches_every_kind_of_path(workdir, override, value_of, expected):
    path = write(workdir / "shorthands.yaml", SPEC_WITH_SHORTHANDS)
    spec, _ = load_spec(str(path), [override])
    assert value_of(spec) == expected


@pytest.mark.parametrize("override,problem,nearest", [
    ("callbacks[0].EarlyStopping.patience=5", "'callbacks[0]' is ModelCheckpoint, not EarlyStopping",
     "callbacks[1].EarlyStopping.patience"),
    ("callbacks[5].EarlyStopping.patience=5", "not an item of a list of 2", "callbacks[1].EarlyStopping.patience"),
    ("model.layers[2].Dense.units=10", "not an item of a list of 2", "model.layers[1].Dense.units"),
    ("fit.epochs.x=3", "'fit.epochs' is a value", "fit.epochs"),
    ("fit[0].epochs=3", "'fit' is a mapping, not a list", "fit.epochs"),
    ("model.layers.units=3", "'model.layers' is a list", None),
    ("reference.also[0].value=3", "'reference.also' has no items", None),
    ("fitt.epochs=3", "unknown key 'fitt'", "'fit'"),
])
def test_a_set_path_that_cannot_exist_is_one_line_naming_the_nearest(run_cli, tiny_spec, override, problem, nearest):
    result = run_cli("show", str(tiny_spec), "--set", override)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and problem in lines[0] and f"--set {override}" in lines[0]
    assert nearest is None or f"did you mean {nearest}" in lines[0]
    assert "unexpected" not in lines[0] and "Traceback" not in result.stderr


def test_a_key_the_file_writes_with_brackets_is_reported_not_a_crash(run_cli, workdir):
    path = write(workdir / "brackets.yaml", '"fit[0]": 3\n' + TINY_SPEC)
    result = run_cli("validate", str(path))
    assert result.exit_code == 2 and "unknown key 'fit[0]'" in result.stderr and "unexpected" not in result.stderr


# --------------------------------------------------------------------------- duplicate keys


@pytest.mark.parametrize("old,new,line", [
    ("  epochs: 3\n", "  epochs: 3\n  epochs: 99999\n", "epochs: 99999"),
    ("seed: 7\n", "seed: 7\nseed: 8\n", "seed: 8"),
    ("{units: 8, activation: relu}", "{units: 8, units: 80, activation: relu}", "units: 80"),
    ("  - EarlyStopping: {monitor: val_loss, patience: 5}",
     "  - EarlyStopping: {monitor: val_loss, patience: 5, patience: 6}", "patience: 6"),
    ("fit:\n", "fit:\n  batch_size: 4\n", "batch_size: 16"),
])
def test_a_key_given_twice_is_a_spec_error_at_its_line(run_cli, workdir, old, new, line):
    assert old in TINY_SPEC
    path = write(workdir / "twice.yaml", TINY_SPEC.replace(old, new, 1))
    result = run_cli("validate", str(path))
    number = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if line in text)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert f"twice.yaml:{number}:" in result.stderr and "given twice" in result.stderr


def test_a_key_given_twice_in_a_set_value_is_refused(run_cli, tiny_spec):
    result = run_cli("show", str(tiny_spec), "--set", "compile.optimizer={name: adam, name: sgd}")
    assert result.exit_code == 2 and "--set compile.optimizer=" in result.stderr and "given twice" in result.stderr


def test_merge_keys_may_still_be_overridden(workdir):
    text = TINY_SPEC.replace("fit:\n  epochs: 3\n", "fit:\n  <<: &base {epochs: 1, shuffle: false}\n  epochs: 3\n")
    spec, _ = load_spec(str(write(workdir / "merged.yaml", text)))
    assert spec.fit.epochs == 3 and spec.fit.shuffle is False


@pytest.mark.parametrize("text,bound", [
    ("description: " + "x" * (5 * 2**20) + "\n", "bytes"),  # read whole before anything else
    ("notes: [" + ", ".join(["1"] * 300_000) + "]\n", "values"),
    ("a: &a [" + ", ".join(["1"] * 1000) + "]\nnotes: [" + ", ".join(["*a"] * 200) + "]\n", "aliases"),
])
def test_a_spec_past_its_size_bounds_is_refused_quickly(workdir, text, bound):
    import time

    path = write(workdir / "big.yaml", text)
    started = time.perf_counter()
    with pytest.raises(SpecError) as error:
        load_spec(str(path))
    assert time.perf_counter() - started < HANG_GUARD_S
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"{path}:") and bound in message and "at most" in message


@pytest.mark.parametrize("override", [
    "fit.epochs.x=[" + ", ".join(["1"] * 5000) + "]",  # a path into a value
    "fit..epochs=[" + ", ".join(["1"] * 5000) + "]",  # not a path
    "fit.epochs=[" + ", ".join(["1"] * 5000) + ", {a: 1, a: 2}]",  # a key given twice in the value
])
def test_a_long_set_value_is_cut_in_its_message(tiny_spec, override):
    with pytest.raises(SpecError) as error:
        load_spec(str(tiny_spec), [override])
    assert len(str(error.value)) < 300 and "\n" not in str(error.value)


@pytest.mark.parametrize("key", ["notes2" + ".a" * 99, "fit" + ".a" * 5000, "model.layers.0.Dense" + ".a" * 5000])
def test_a_deep_set_path_is_refused_quickly(tiny_spec, key):
    import time

    started = time.perf_counter()
    with pytest.raises(SpecError) as error:
        load_spec(str(tiny_spec), [f"{key}=1"])
    assert time.perf_counter() - started < HANG_GUARD_S  # each part looked for as a dotted key: cubic, minutes, before
    assert "\n" not in str(error.value) and len(str(error.value)) < 400


@pytest.mark.parametrize("value", ["[1", "{a: 1", "!!python/object:os.system x"])
def test_a_bad_override_value_names_the_override_not_a_line_and_column_of_it(value):
    from dlcli.errors import SpecError
    from dlcli.spec.overrides import parse_override

    with pytest.raises(SpecError) as error:
        parse_override(f"fit.epochs={value}")
    assert str(error.value).startswith(f"--set fit.epochs={value}: ")  # not '...=[1:2:1: ...'
