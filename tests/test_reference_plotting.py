"""Reference verdicts and book-style plots, on hand-made run directories (no TensorFlow)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dlcli.errors import UsageError
from dlcli.reference import curve_statistic, smooth_curve, verdict
from dlcli.runs import Run
from dlcli.spec import Claim, Reference


def make_run(experiment: str, history: dict, status: str = "completed", metrics: dict | None = None,
             info: dict | None = None, spec: str | None = None) -> Run:
    run = Run.create(experiment)
    if spec is not None:
        run.write_text("spec.yaml", spec)
    run.write_json("run.json", {"status": status, "experiment": experiment, **(info or {})})
    run.publish()
    run.write_json("history.json", {"epoch": list(range(1, len(next(iter(history.values()))) + 1)), **history})
    run.write_json("metrics.json", {"metrics": metrics or {}, "check": {"status": "none"}})
    run.release()  # a finished run: no process holds it (`check` takes its lock to rewrite the verdict)
    return run


def test_smooth_curve_is_the_books():
    assert smooth_curve([1.0, 2.0, 3.0], 0.5) == [1.0, 1.5, 2.25]


def test_curve_statistics():
    history = {"epoch": [1, 2, 3, 4], "val_loss": [0.5, 0.3, 0.4, 0.6]}
    claim = Claim(text="t", metric="val_loss", statistic="argmin", relation="between", value=[2, 3])
    assert curve_statistic(history, claim) == 2
    claim = Claim(text="t", metric="val_loss", statistic="final", relation="less", value=1)
    assert curve_statistic(history, claim) == 0.6
    claim = Claim(text="t", metric="val_loss", statistic="argmin", relation="less", value=9, skip_first=2)
    assert curve_statistic(history, claim) == 3


def test_value_verdicts():
    reference = Reference(source="book", metric="test_accuracy", value=0.9785, tolerance=0.01)
    assert verdict(reference, {"test_accuracy": 0.975}, {}, None)["status"] == "passed"
    assert verdict(reference, {"test_accuracy": 0.95}, {}, None)["status"] == "differs"  # worse, see test_verdicts
    assert verdict(reference, {}, {}, None)["status"] == "unverifiable"
    at_least = Reference(source="b", metric="test_accuracy", value=0.9, direction="at_least")
    assert verdict(at_least, {"test_accuracy": 0.95}, {}, None)["status"] == "passed"
    assert verdict(None, {}, {}, None)["status"] == "none"
    both = Reference(source="b", metric="val_mae", value=0.29, tolerance=0.005,
                     also=[{"metric": "val_mae_degc", "value": 2.57, "tolerance": 0.05}])
    assert verdict(both, {"val_mae": 0.291, "val_mae_degc": 2.58}, {}, None)["status"] == "passed"
    assert verdict(both, {"val_mae": 0.291, "val_mae_degc": 2.70}, {}, None)["status"] == "differs"


def test_claims_against_a_baseline_run():
    later = Claim(text="overfits later", metric="val_loss", statistic="argmin", relation="greater", than="base")
    reference = Reference(source="book", claims=[later])
    history = {"epoch": [1, 2, 3, 4], "val_loss": [4, 3, 2, 3]}
    baseline = {"epoch": [1, 2, 3], "val_loss": [2, 1, 3]}
    assert verdict(reference, {}, history, lambda name: ("runs/base/x", baseline, {}))["status"] == "passed"
    assert verdict(reference, {}, baseline, lambda name: ("runs/base/x", history, {}))["status"] == "failed"
    missing = verdict(reference, {}, history, lambda name: (None, None, {}))
    assert missing["status"] == "unverifiable" and "dlcli train base" in missing["checks"][0]["reason"]


def test_claim_against_a_baseline_metric():
    # jena-gru beats the naive forecast, a run without a curve: compare with its metrics.json.
    beats = Claim(text="beats the baseline", metric="val_loss", statistic="min", relation="less",
                  than="jena-baseline", than_metric="val_mae")
    reference = Reference(source="book", claims=[beats])
    history = {"epoch": [1, 2], "val_loss": [0.30, 0.27]}
    baseline = ("runs/jena-baseline/x", {}, {"val_mae": 0.29})
    assert verdict(reference, {}, history, lambda name: baseline)["status"] == "passed"
    worse = {"epoch": [1, 2], "val_loss": [0.45, 0.41]}
    assert verdict(reference, {}, worse, lambda name: baseline)["status"] == "failed"
    no_metric = verdict(reference, {}, history, lambda name: ("runs/b/x", {}, {}))
    assert no_metric["status"] == "unverifiable" and "has no 'val_mae'" in no_metric["checks"][0]["reason"]


def test_check_command_uses_the_latest_baseline(run_cli, workdir):
    from conftest import write

    write(workdir / "experiments" / "small.yaml", (workdir.parent / "unused").name and """
        description: small
        data: {name: synthetic}
        model: {type: sequential, layers: [{Dense: {units: 3, activation: softmax}}]}
        compile: {loss: categorical_crossentropy}
        fit: {epochs: 4, validation: {kind: split, fraction: 0.2}}
        reference:
          source: book
          claims:
            - {text: later, metric: val_loss, statistic: argmin, relation: greater, than: base}
        """)
    run = make_run("small", {"val_loss": [4, 3, 2, 3]}, spec=(workdir / "experiments" / "small.yaml").read_text())
    result = run_cli("check", str(run.path))
    assert result.exit_code == 4 and "unverifiable" in result.stdout
    make_run("base", {"val_loss": [2, 1, 3, 4]})
    result = run_cli("check", str(run.path), "--json")
    assert result.exit_code == 0 and '"status": "passed"' in result.stdout


def test_plot_one_run_writes_one_png_per_metric(workdir):
    from dlcli.plotting import plot_runs

    run = make_run("exp", {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.8], "acc": [0.5, 0.7, 0.9],
                           "val_acc": [0.5, 0.6, 0.6]})
    written = plot_runs([str(run.path)])
    assert sorted(p.rsplit("/", 1)[1] for p in written) == ["acc.png", "loss.png"]
    for path in written:
        assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert plot_runs([str(run.path)], metric="accuracy", out=str(workdir / "a.png")) == [str(workdir / "a.png")]


def test_plot_overlays_runs_smooths_and_skips(workdir):
    from dlcli.plotting import plot_runs

    first = make_run("original", {"loss": [1.0, 0.5, 0.3, 0.2], "val_loss": [1.1, 0.7, 0.8, 0.9]})
    second = make_run("smaller", {"loss": [1.2, 0.9, 0.6, 0.4], "val_loss": [1.2, 0.9, 0.7, 0.6]})
    written = plot_runs([str(first.path), str(second.path)], metric="val_loss", smooth=0.9, skip_first=1)
    assert len(written) == 1 and written[0].startswith(str(first.path / "plots" / "loss-validation-smooth0.9-skip1-vs-smaller-"))


def test_plot_errors(workdir):
    from dlcli.plotting import plot_runs

    run = make_run("exp", {"loss": [1.0, 0.5]})
    with pytest.raises(UsageError, match="no metric 'mae'"):
        plot_runs([str(run.path)], metric="mae")
    with pytest.raises(UsageError, match="must be in"):
        plot_runs([str(run.path)], smooth=1.5)


def test_plot_imports_no_tensorflow(workdir):
    run = make_run("exp", {"loss": [1.0, 0.5], "val_loss": [1.0, 0.8]})
    code = ("import sys\nfrom dlcli.cli import main\nsys.argv=['dlcli','plot',%r]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\nprint('TF', 'tensorflow' in sys.modules)" % str(run.path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert "TF False" in out and "loss.png" in out


def test_compare_shows_metrics_and_differing_spec_values(run_cli):
    first = make_run("a", {"loss": [1.0]}, metrics={"test_accuracy": 0.9}, spec="seed: 1\nfit: {epochs: 3}\n")
    second = make_run("b", {"loss": [1.0]}, metrics={"test_accuracy": 0.8}, spec="seed: 1\nfit: {epochs: 5}\n")
    result = run_cli("compare", str(first.path), str(second.path), "--csv")
    lines = result.stdout.strip().splitlines()
    assert lines[0].endswith("test_accuracy,fit.epochs")
    assert lines[1].endswith(",0.9,3") and lines[2].endswith(",0.8,5")  # CSV keeps every digit


def test_baselines_are_runs_that_follow_their_recipe():
    from dlcli.reference import comparable
    from dlcli.runs import recipe_changes

    honest = make_run("base", {"val_loss": [0.5, 0.3]})
    quick = make_run("base", {"val_loss": [0.9]}, info={"overrides": ["fit.epochs=1", "seed=3"]})
    assert Run.latest_completed("base").path == quick.path
    assert Run.latest_completed("base", follows_recipe=True).path == honest.path
    assert recipe_changes(quick.info) == ["fit.epochs=1"]  # another seed keeps the recipe
    continued = {"initialized_from": str(quick), "overrides": []}
    verdict = comparable({"status": "passed", "checks": []}, continued, quick.info)
    assert verdict["status"] == "not comparable" and "changed its own recipe" in verdict["reason"]
