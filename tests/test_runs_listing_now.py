"""`dlcli runs` shows a run as it is now: its overrides after a resume, its start in local time, a
sweep's best value, and an empty filter said as such (hand-made run directories, no TensorFlow)."""

from __future__ import annotations

import json
import time

from test_runs_listing import FINISHED, make_run


def test_a_resumed_run_lists_the_epochs_it_was_resumed_to(run_cli, workdir):
    resumed = [{"epochs": 6, "recipe_changes": ["fit.epochs=6 (was 30)"]}]
    make_run(workdir / "runs", "digits-convnet", "20261203-090000", metrics=FINISHED,
             overrides=["fit.epochs=30", "seed=1"], resumes=resumed)
    make_run(workdir / "runs", "digits-convnet", "20261203-100000", metrics=FINISHED,
             overrides=["fit.epochs=30"], resumes=[{"epochs": 30, "recipe_changes": []}])  # resumed, unchanged
    rows = json.loads(run_cli("runs", "--json").stdout)["runs"]
    assert [row["overrides"] for row in rows] == [["fit.epochs=30"], ["seed=1", "fit.epochs=6"]]
    table = run_cli("runs").stdout
    assert "fit.epochs=6" in table and "fit.epochs=30 seed" not in table


def test_started_is_shown_in_this_machines_time_zone(run_cli, workdir, monkeypatch):
    make_run(workdir / "runs", "digits-convnet", "20261203-101500", metrics=FINISHED)  # started_at 10:15 UTC
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        table = run_cli("runs").stdout
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert "2026-12-03 19:15" in table and "10:15" not in table


def test_a_sweeps_row_shows_its_best_completed_trial(run_cli, workdir):
    sweep = workdir / "sweeps" / "digits-convnet" / "20261202-150000"
    (sweep / "trials").mkdir(parents=True)
    (sweep / "sweep.json").write_text(json.dumps({"experiment": "digits-convnet", "metric": "val_loss",
                                                  "direction": "minimize", "created_at": "2026-12-02T15:00:00"}))
    (sweep / "sweep.csv").write_text("trial,state,run_status,value,lr,run_dir,duration_s,note\n"
                                     "0,complete,completed,1.7,0.1,trials/0000,1.0,\n"
                                     "1,pruned,completed,0.5,0.2,trials/0001,1.0,\n"  # pruned: not the best
                                     "2,complete,completed,1.494,0.3,trials/0002,1.0,\n"
                                     "3,fail,failed,,0.4,trials/0003,1.0,\n")
    listing = json.loads(run_cli("runs", "--json").stdout)
    assert (listing["sweeps"][0]["best_value"], listing["sweeps"][0]["best_trial"]) == (1.494, 2)
    line = next(line for line in run_cli("runs").stdout.splitlines() if line.startswith("sweeps/"))
    assert "val_loss" in line and "1.4940" in line and "best trial 2" in line


def test_no_run_of_a_status_says_which_statuses_there_are(run_cli, workdir):
    make_run(workdir / "runs", "digits-convnet", "20261203-090000", metrics=FINISHED)
    result = run_cli("runs", "--status", "crashed")
    assert result.exit_code == 0 and result.stdout == ""
    assert "crashed" in result.stderr and "completed 1" in result.stderr and "dlcli train" not in result.stderr
