"""Tables on stdout: cut to a terminal's width, whole where no width is known (a pipe, a file)."""

from __future__ import annotations

import json

from dlcli.cli.options import table


def test_a_table_without_a_width_keeps_every_column():
    rows = [["a", "long text " * 10, "x"]]
    lines = table(rows, ["NAME", "DESCRIPTION", "SOURCE"], None, shrink={"DESCRIPTION": 10}, drop=("SOURCE",))
    assert lines.splitlines()[0].split() == ["NAME", "DESCRIPTION", "SOURCE"]
    assert "…" not in lines


def test_list_through_a_pipe_keeps_every_column(run_cli, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)  # stdout is captured: no terminal, no width
    result = run_cli("list")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split() == ["NAME", "DATASET", "DATA", "BACKENDS", "DESCRIPTION", "SOURCE"]
    assert "…" not in result.stdout


def test_list_claims_nothing_of_a_spec_it_cannot_read(run_cli, workdir):
    """An unreadable spec's data and backends are unknown: not 'present' on every backend."""
    (workdir / "experiments").mkdir()
    (workdir / "experiments" / "aaa-broken.yaml").write_text("data: [unclosed\n")
    row = json.loads(run_cli("list", "--json").stdout)["experiments"][0]
    assert row["name"] == "aaa-broken" and row["data_present"] is None and row["backends"] == []
    line = run_cli("list").stdout.splitlines()[1].split()
    assert line[:2] == ["aaa-broken", "?"]


def test_list_stdout_is_the_table_alone(run_cli):
    """A line an experiment under the header (`dlcli list | grep present`); the advice on what data
    is missing goes to stderr."""
    result = run_cli("list")
    experiments = json.loads(run_cli("list", "--json").stdout)["experiments"]
    assert len(result.stdout.splitlines()) == 1 + len(experiments)
    assert "dlcli data list" in result.stderr


def test_compare_of_many_runs_on_a_narrow_terminal_keeps_every_value_whole(run_cli, monkeypatch, workdir):
    """Ten runs do not fit side by side in 60 columns even turned: they go in blocks of runs, every
    number whole (a number cut to '0.…' says nothing)."""
    from dlcli.runs import Run

    values = [round(0.1 + index / 37, 6) for index in range(10)]
    for value in values:
        run = Run.create("tiny")
        run.write_text("spec.yaml", "seed: 1\n")
        run.write_json("run.json", {"status": "completed", "experiment": "tiny"})
        run.publish()
        run.write_json("metrics.json", {"metrics": {"test_accuracy": value, "final_val_loss": 1 - value},
                                        "check": {"status": "none", "checks": []}})
        run.release()
    monkeypatch.setenv("COLUMNS", "60")
    result = run_cli("compare", *map(str, sorted((workdir / "runs" / "tiny").iterdir())))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines if not line.startswith("#")) <= 60, result.stdout
    assert "…" not in result.stdout
    assert all(f"{value:.4f}" in result.stdout and f"{1 - value:.4f}" in result.stdout for value in values)
    assert sum(line.startswith("test_accuracy") for line in lines) >= 2  # a block, then another


def test_compare_run_too_wide_alone_keeps_the_names_of_its_values(run_cli, monkeypatch, workdir):
    """In 30 columns a learning rate of 21 digits does not fit beside its name: the value stays whole
    and the name keeps 10 characters (the line overflows), rather than 'fi…' for every name."""
    from dlcli.runs import Run

    for rate in (0.0005611516415334506, 0.0015751320499779737):
        run = Run.create("tiny")
        run.write_text("spec.yaml", f"compile: {{optimizer: {{name: adam, learning_rate: {rate}}}}}\n")
        run.write_json("run.json", {"status": "completed", "experiment": "tiny"})
        run.publish()
        run.write_json("metrics.json", {"metrics": {"final_val_accuracy": rate * 100, "final_val_loss": 1 - rate},
                                        "check": {"status": "none", "checks": []}})
        run.release()
    monkeypatch.setenv("COLUMNS", "30")
    result = run_cli("compare", *map(str, sorted((workdir / "runs" / "tiny").iterdir())))
    assert "0.0005611516415334506" in result.stdout
    named = [line.split("  ")[0] for line in result.stdout.splitlines() if line[:1].isalpha() and "  " in line]
    assert named and all(len(name) >= 10 for name in named), named


def test_compare_csv_holds_every_metric(run_cli, workdir):
    from dlcli.runs import Run

    run = Run.create("tiny")
    run.write_text("spec.yaml", "seed: 1\n")
    run.write_json("run.json", {"status": "completed", "experiment": "tiny"})
    run.publish()
    run.write_json("metrics.json", {"metrics": {"test_accuracy": 0.9, "final_loss": 0.25, "epochs_completed": 3},
                                    "check": {"status": "none", "checks": []}})
    run.release()
    header = run_cli("compare", str(run.path), "--csv").stdout.splitlines()[0].split(",")
    assert {"test_accuracy", "final_loss", "epochs_completed"} <= set(header)


def test_new_lists_its_templates_alone_on_stdout_and_list_takes_no_template(run_cli):
    listed = run_cli("new")
    assert listed.exit_code == 0 and "write one: dlcli new" in listed.stderr
    assert listed.stdout.splitlines()[0].startswith("TEMPLATE") and "write one" not in listed.stdout
    refused = run_cli("new", "--list", "binary")
    assert refused.exit_code == 2 and refused.stderr.startswith("error: ") and refused.stdout == ""
