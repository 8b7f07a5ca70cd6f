"""`dlcli evaluate`: a finished run's model.keras, reloaded, on the test split of the run's spec
(its own vocabulary, on the backend it was trained on unless --backend says otherwise)."""

from __future__ import annotations

from typing import Any

from dlcli.errors import UsageError
from dlcli.runs import Run


def evaluate(run_path: str, verbose: int = 0) -> dict[str, Any]:
    """Reload model.keras and evaluate it on the test split of the run's spec."""
    from dlcli import datasets
    from dlcli.backend import use_recorded
    from dlcli.models.saving import load_model
    from dlcli.training.data import evaluate_split
    from dlcli.training.summary import add_target_units

    run = Run.open(run_path)
    use_recorded(run.info)  # the backend it was trained on, unless --backend says otherwise
    spec = run.spec()
    path = run.model_path()
    bundle = datasets.load(spec.data, vocabulary=run.vocabulary())
    if bundle.test is None:
        raise UsageError(f"{run}: dataset '{spec.data.name}' has no test split")
    model = load_model(path, compile=True)
    metrics = evaluate_split(model, bundle.test, spec.fit.batch_size, verbose=verbose)
    return {"run_dir": str(run), "status": run.status, "metrics": add_target_units(metrics, bundle.info, spec.compile.loss)}
