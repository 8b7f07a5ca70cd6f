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
