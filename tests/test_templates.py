"""`dlcli new`: the chapter 9 templates written as specs that validate (and train) as written."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from dlcli.templates import TEMPLATES

DATASETS = {"binary": "imdb", "multiclass": "reuters", "multilabel": "synthetic", "regression": "boston_housing",
            "separable-convnet": "cifar10", "lstm": "imdb", "stacked-lstm": "imdb"}


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_is_written_and_validates(run_cli, workdir, template):
    result = run_cli("new", template, f"my-{template}")
    assert result.exit_code == 0, result.stderr
    path = workdir / f"my-{template}.yaml"
    assert f"wrote my-{template}.yaml" in result.stdout
    assert f"dlcli validate my-{template}.yaml" in result.stdout and f"dlcli train my-{template}.yaml" in result.stdout
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"# my-{template}.yaml: written by `dlcli new {template} my-{template}`.\n")
    assert "Deep Learning with Python" in text and "9.1.6" in text
    spec = yaml.safe_load(text)
    assert spec["description"].startswith(f"my-{template} (template {template}): ")
    assert spec["data"]["name"] == DATASETS[template]
    checked = run_cli("validate", "--no-cache", str(path))
    assert checked.exit_code == 0, checked.stderr
    assert checked.stdout == f"ok: {path}\n"


def test_the_multilabel_template_uses_sigmoid_and_binary_crossentropy(run_cli, workdir):
    run_cli("new", "multilabel", "tags")
    spec = yaml.safe_load((workdir / "tags.yaml").read_text())
    assert spec["model"]["layers"][-1] == {"Dense": {"units": 5, "activation": "sigmoid"}}
    assert spec["compile"]["loss"] == "binary_crossentropy"
    assert spec["data"]["task"] == "multilabel" and spec["data"]["num_classes"] == 5


@pytest.mark.parametrize("args", [[], ["--list"]], ids=["no-arguments", "--list"])
def test_list_shows_one_line_per_template(run_cli, workdir, args):
    result = run_cli("new", *args)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["TEMPLATE", "DESCRIPTION"]
    assert [line.split()[0] for line in lines[1:1 + len(TEMPLATES)]] == list(TEMPLATES)
    assert not list(workdir.glob("*.yaml"))


def test_an_existing_file_is_kept_unless_force(run_cli, workdir):
    assert run_cli("new", "binary", "mine").exit_code == 0
    path = workdir / "mine.yaml"
    path.write_text("edited by hand\n")
    refused = run_cli("new", "regression", "mine")
    assert refused.exit_code == 2
    assert refused.stderr == f"error: {path.name} already exists (--force overwrites it)\n"
    assert path.read_text() == "edited by hand\n"
    forced = run_cli("new", "regression", "mine", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert yaml.safe_load(path.read_text())["data"]["name"] == "boston_housing"
    assert [p.name for p in workdir.iterdir() if p.name.startswith(".mine")] == []  # no temporary left


@pytest.mark.parametrize("name", ["my exp", "../escape", "a/b", "mine.yaml", ".hidden", "_x", "naïve", "", "a" * 101,
                                  "a" * 300])
def test_a_name_that_is_not_a_safe_file_stem_is_refused(run_cli, workdir, name):
    result = run_cli("new", "binary", name)
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1 and "must be letters, digits, - and _" in result.stderr
    assert not list(workdir.rglob("*.yaml")) and not (workdir.parent / "escape.yaml").exists()


def test_unknown_template_one_line_with_did_you_mean(run_cli, workdir):
    result = run_cli("new", "multilable", "tags")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert "unknown template 'multilable' (did you mean 'multilabel'?)" in result.stderr
    assert not (workdir / "tags.yaml").exists()


def test_missing_name_and_out_folder(run_cli, workdir):
    missing = run_cli("new", "binary")
    assert missing.exit_code == 2 and "missing NAME" in missing.stderr
    written = run_cli("new", "stacked_lstm", "deep", "--out", "specs/text")  # = stacked-lstm; folders made
    assert written.exit_code == 0, written.stderr
    assert (workdir / "specs" / "text" / "deep.yaml").is_file()
    assert "dlcli train specs/text/deep.yaml" in written.stdout and "(template stacked-lstm)" in written.stdout
    (workdir / "plain-file").write_text("")
    assert run_cli("new", "binary", "x", "--out", "plain-file").exit_code == 2


def test_a_path_too_long_for_the_file_system_is_one_line(run_cli, workdir):
    result = run_cli("new", "binary", "a" * 100, "--out", "x" * 300)
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1 and "cannot write it" in result.stderr
    assert "unexpected" not in result.stderr
    assert run_cli("new", "binary", "a" * 100).exit_code == 0  # the longest name is written


def test_synthetic_multilabel_labels_are_independent_and_learnable():
    from dlcli.datasets.params import SyntheticParams
    from dlcli.datasets.small import load_synthetic

    params = SyntheticParams(name="synthetic", task="multilabel", num_samples=2000, num_test=0, shape=[20],
                             num_classes=4, noise=0.0)
    bundle = load_synthetic(None, params, None)
    x, y = bundle.train.x, bundle.train.y
    assert y.shape == (2000, 4) and y.dtype == np.float32 and set(np.unique(y)) == {0.0, 1.0}
    assert bundle.num_classes == 4
    assert np.all((y.mean(axis=0) > 0.3) & (y.mean(axis=0) < 0.7))  # each label is on for some samples
    assert len({tuple(column) for column in y.T}) == 4  # and each is its own
    # Without noise each label is linear in the features: least squares separates it well.
    weights, *_ = np.linalg.lstsq(x, y * 2 - 1, rcond=None)
    assert ((x @ weights > 0) == (y > 0)).mean() > 0.9


# The templates that train offline: multilabel as written, the others on synthetic data of their kind.
OFFLINE = {
    "multilabel": [],
    "binary": ["data={name: synthetic, task: binary, shape: [20]}", "fit.validation.size=16"],
    "multiclass": ["data={name: synthetic, num_classes: 46, shape: [20]}", "fit.validation.size=16"],
    "regression": ["data={name: synthetic, task: regression, shape: [13]}"],
    "separable-convnet": ["data={name: synthetic, pixels: true, shape: [32, 32, 3], num_classes: 10}"],
}


@pytest.mark.training
@pytest.mark.parametrize("template", OFFLINE)
def test_template_trains_offline(run_cli, workdir, template):
    assert run_cli("new", template, "tiny").exit_code == 0
    overrides = [*OFFLINE[template], "fit.epochs=1", "fit.batch_size=16", "data.num_samples=64", "data.num_test=16"]
    result = run_cli("train", "tiny.yaml", "--json", "-q", *[arg for item in overrides for arg in ("--set", item)])
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["status"] == "completed"
    assert np.isfinite(output["metrics"]["test_loss"])
    if template == "multilabel":
        assert 0 <= output["metrics"]["test_binary_accuracy"] <= 1
