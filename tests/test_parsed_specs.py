"""dlcli.parsed_specs: `dlcli list` parses only the specs that changed, and never shows a stale one."""

from __future__ import annotations

import json
import os

import dlcli.spec.reading


def counting_reads(monkeypatch) -> list:
    """The spec files read_yaml parses from now on."""
    parsed = []
    real = dlcli.spec.reading.read_yaml

    def counted(path):
        parsed.append(path.name)
        return real(path)

    monkeypatch.setattr(dlcli.spec.reading, "read_yaml", counted)
    return parsed


def listed(run_cli) -> dict:
    return {row["name"]: row for row in json.loads(run_cli("list", "--json").stdout)["experiments"]}


def test_a_second_list_parses_no_unchanged_spec_and_an_edited_one_again(run_cli, workdir, monkeypatch):
    folder = workdir / "experiments"
    folder.mkdir()
    (folder / "aaa-mine.yaml").write_text("description: first\ndata: {name: digits}\n")
    first = listed(run_cli)
    parsed = counting_reads(monkeypatch)
    assert listed(run_cli) == first and parsed == []  # every spec remembered
    (folder / "aaa-mine.yaml").write_text("description: second, longer\ndata: {name: mnist}\n")
    again = listed(run_cli)
    assert parsed == ["aaa-mine.yaml"]
    assert again["aaa-mine"]["description"] == "second, longer" and again["aaa-mine"]["dataset"] == "mnist"
    assert not again["aaa-mine"]["data_present"]  # presence is looked at anew each time


def test_what_json_cannot_give_back_is_parsed_each_time(workdir):
    from dlcli.parsed_specs import parsed_specs

    spec = workdir / "weights.yaml"
    spec.write_text("fit: {class_weight: {0: 1.0, 1: 2.5}}\n")  # integer keys: JSON would make them strings
    assert parsed_specs([spec])[spec] == {"fit": {"class_weight": {0: 1.0, 1: 2.5}}}
    assert parsed_specs([spec])[spec] == {"fit": {"class_weight": {0: 1.0, 1: 2.5}}}


def test_an_unwritable_cache_only_costs_parsing(run_cli, workdir, monkeypatch):
    (workdir / "not-a-folder").write_text("")
    monkeypatch.setenv("DLCLI_CACHE_DIR", str(workdir / "not-a-folder"))
    result = run_cli("list", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["experiments"]
    assert os.path.isfile(workdir / "not-a-folder")
