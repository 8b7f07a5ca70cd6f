"""Did a run reproduce its source? Verdicts from a spec's `reference` block.

A reference may give a number (`metric`, `value`, `tolerance`, `direction`) and claims about
the learning curves (see spec.Claim). The verdict is 'passed', 'differs' (a number outside the
tolerance: better or worse than the source, and by how much), 'failed' (a claim does not hold),
'unverifiable' (a baseline run is missing, or a metric was not produced), 'not comparable' (the
run's resolved spec differs from its source experiment's beyond the seed: see recipe_record) or
'none' (no reference). Each is worse than the next-named one, 'passed' aside: the verdict is the
worst of its checks.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable

import numpy as np


def smooth_curve(points: list[float], factor: float) -> list[float]:
    """The book's smooth_curve (3.31): an exponential moving average, first point unchanged."""
    smoothed: list[float] = []
    for point in points:
        smoothed.append(smoothed[-1] * factor + point * (1 - factor) if smoothed else point)
    return smoothed


def curve_statistic(history: dict[str, list], claim) -> float | None:
    values = history.get(claim.metric)
    if not values:
        return None
    values = [float("nan") if v is None else float(v) for v in values][claim.skip_first :]
    epochs = list(history.get("epoch", range(1, len(values) + 1 + claim.skip_first)))[claim.skip_first :]
    if not values:
        return None
    if claim.smooth:
        values = smooth_curve(values, claim.smooth)
    array = np.asarray(values, dtype="float64")
    if not np.isfinite(array).any():  # a diverged curve: no statistic (NumPy warns, or raises for argmin)
        return float("nan")
    if claim.statistic == "final":
        return float(array[-1])
    if claim.statistic in ("min", "max"):
        return float(np.nanmin(array) if claim.statistic == "min" else np.nanmax(array))
    index = int(np.nanargmin(array) if claim.statistic == "argmin" else np.nanargmax(array))
    return float(epochs[index])


def _compare(relation: str, actual: float, expected: Any) -> bool:
    if relation == "between":
        return expected[0] <= actual <= expected[1]
    return {
        "greater": actual > expected,
        "less": actual < expected,
        "greater_or_equal": actual >= expected,
        "less_or_equal": actual <= expected,
    }[relation]


def better_way(check) -> str | None:
    """'higher' or 'lower': the check's `better`, else from its metric's name (loss, mae, error...
    lower; acc, auc... higher), else None: a count, a model's output or an epoch number (a
    claim's argmin) is neither better higher nor lower."""
    from dlcli.training.callbacks import monitor_mode

    if check.better is not None:
        return check.better
    if getattr(check, "statistic", None) in ("argmin", "argmax"):
        return None
    return {"min": "lower", "max": "higher"}.get(monitor_mode(check.metric))


def _off_by(check, actual: float, target: float) -> dict:
    """Which way `actual` is off `target` (better or worse where that is known, else higher or
    lower) and by how much."""
    better = better_way(check)
    higher = actual > target
    direction = ("better" if higher == (better == "higher") else "worse") if better else \
        ("higher" if higher else "lower")
    return {"direction": direction, "margin": abs(actual - target)}


def _missed(check, result: dict, missed_status: str) -> dict:
    """A result outside what the source says: `missed_status`, or passed when it is better and
    the reference says beating the source counts (`better_counts`)."""
    if result["direction"] == "better" and check.better_counts:
        return {**result, "status": "passed", "note": "better_counts: beating the source counts"}
    return {**result, "status": missed_status}


def _finite(value: Any) -> bool:
    """A real number that is not NaN or infinite (JSON from a run may hold anything)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def value_check(reference, metrics: dict[str, Any]) -> dict:
    """One number against the source's: passed, `differs` (outside the tolerance, with the
    direction and the margin from the source's value), or unverifiable (no such metric).

    A result better than the source by more than the tolerance passes only where the reference
    says `better_counts: true`; otherwise it differs, which --check treats as not reproduced."""
    actual = metrics.get(reference.metric)
    if reference.direction == "at_least":
        expected, ok = f">= {reference.value - reference.tolerance:g}", lambda a: a >= reference.value - reference.tolerance
    elif reference.direction == "at_most":
        expected, ok = f"<= {reference.value + reference.tolerance:g}", lambda a: a <= reference.value + reference.tolerance
    else:
        expected, ok = f"{reference.value:g} ± {reference.tolerance:g}", lambda a: abs(a - reference.value) <= reference.tolerance
    check = {"what": f"{reference.metric} {expected}", "metric": reference.metric,
             "expected": expected, "reported": reference.value, "actual": actual}
    if not _finite(actual):
        reason = f"the run produced no '{reference.metric}'" if actual is None else \
            f"the run's '{reference.metric}' is not a finite number ({str(actual)[:40]})"
        return {**check, "status": "unverifiable", "reason": reason}
    if ok(float(actual)):
        return {**check, "status": "passed"}
    return _missed(reference, {**check, **_off_by(reference, float(actual), reference.value)}, "differs")


def claim_check(claim, history: dict,
                baseline_history: Callable[[str], tuple[str | None, dict | None, dict]]) -> dict:
    """`baseline_history(name)` gives (run dir, history, metrics) of the latest completed run."""
    check = {"what": claim.text, "metric": claim.metric, "statistic": claim.statistic, "relation": claim.relation}
    actual = curve_statistic(history, claim)
    if actual is None:
        return {**check, "status": "unverifiable", "reason": f"no '{claim.metric}' in the history"}
    if not math.isfinite(actual):
        return {**check, "status": "unverifiable", "reason": f"the run's '{claim.metric}' is not a finite number"}
    check["actual"] = actual
    expected: Any = claim.value
    if claim.than:
        baseline_dir, other, other_metrics = baseline_history(claim.than)
        if other is None:
            return {**check, "status": "unverifiable",
                    "reason": f"no completed run of '{claim.than}' that follows its recipe (its spec unchanged "
                              f"but the seed) to compare with: run `dlcli train {claim.than}`"}
        wanted = claim.than_metric or claim.metric
        expected = other_metrics.get(claim.than_metric) if claim.than_metric else curve_statistic(other, claim)
        check["baseline_run"] = baseline_dir
        if not _finite(expected):
            what = "no" if expected is None else "no finite number as its"
            return {**check, "status": "unverifiable", "reason": f"the '{claim.than}' run has {what} '{wanted}'"}
    check["expected"] = expected
    if _compare(claim.relation, actual, expected):
        return {**check, "status": "passed"}
    nearest = min(expected if isinstance(expected, list) else [expected], key=lambda bound: abs(actual - bound))
    return _missed(claim, {**check, **_off_by(claim, actual, float(nearest))}, "failed")


def verdict(reference, metrics: dict, history: dict, baseline_history) -> dict:
    """{'status': ..., 'checks': [...]} for a run's metrics and history."""
    if reference is None:
        return {"status": "none", "checks": []}
    checks = []
    if reference.metric is not None:
        checks.append(value_check(reference, metrics))
    checks += [value_check(extra, metrics) for extra in reference.also]
    checks += [claim_check(claim, history, baseline_history) for claim in reference.claims]
    statuses = {check["status"] for check in checks}
    status = next((worst for worst in ("failed", "differs", "unverifiable") if worst in statuses), "passed")
    return {
        "status": status if checks else "none",
        "source": reference.source,
        "listing": reference.listing,
        "checks": checks,
    }


RELATIONS = {"greater": "> ", "less": "< ", "greater_or_equal": ">= ", "less_or_equal": "<= "}


def _number(value: float) -> str:
    """3466 as 3466 (a count), 0.91234 as 0.9123."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.4g}"


def describe(verdict_data: dict) -> list[str]:
    """Human lines for a verdict, one per check."""
    lines = [f"  ({verdict_data[key]})" for key in ("reason", "recipe_note") if verdict_data.get(key)]
    for check in verdict_data.get("checks", []):
        actual = check.get("actual")
        shown = _number(actual) if isinstance(actual, (int, float)) else "n/a"
        expected = check.get("expected")
        if isinstance(expected, list) and len(expected) == 2:
            shown_expected = f"between {_number(expected[0])} and {_number(expected[1])}"
        elif isinstance(expected, (int, float)):
            shown_expected = f"{RELATIONS.get(check.get('relation'), '')}{_number(expected)}"
        else:
            shown_expected = expected
        reason = f" ({check['reason']})" if check.get("reason") else ""
        if check.get("direction") and isinstance(check.get("margin"), (int, float)):
            source = f" than the source ({_number(check['reported'])})" if "reported" in check else ""
            reason = f", {check['direction']}{source} by {_number(check['margin'])}" + \
                (f" ({check['note']})" if check.get("note") else "")
        lines.append(f"  [{check['status']}] {check['what']}: got {shown}, expected {shown_expected}{reason}")
    return lines


# What a spec may change and still follow its source's recipe: its words and name, another draw
# of the same recipe (the seed), op determinism and XLA (the same arithmetic, in another order),
# and the sweep defaults `train` ignores.
NOT_RECIPE = ("name", "description", "notes", "runtime", "seed", "deterministic", "compile.jit_compile", "sweep")


def recipe_record(spec, spec_path: Path) -> dict:
    """run.json's record, taken when a run starts, of how its resolved spec differs from its
    source's recipe: {'recipe_source': the spec file it was compared with, or None; 'recipe_changes':
    ['fit.epochs=3 (source: 20)', ...]}. Readers (check, compare, baselines) use this record.

    Whatever path the spec came by (a named experiment, a copy, a run's spec.yaml, --set), its
    source is the named experiment (experiments/NAME.yaml, found as `dlcli train NAME` finds it)
    that carries the same `reference` block: the one of the spec's name, else another one.
    A spec file whose reference no named experiment carries is its own experiment: its recipe is
    the file as written, and only --set changes it. A run's spec.yaml is no such file: it is
    compared with the spec its run was compared with; where that is unknown or gone, the run
    records that there is no source to compare with, so its verdict is 'not comparable' and it
    claims no reproduction."""
    spec_path = Path(spec_path)
    found = _named_source(spec)
    if found is not None:
        return {"recipe_source": str(found[0].resolve()), "recipe_changes": found[1]}
    own = _earlier_source(spec_path.parent) if _is_run_spec(spec_path) else spec_path
    source = _spec_with_reference(own, None) if own is not None else None
    if source is None:
        return {"recipe_source": None, "recipe_changes": [
            f"{spec_path} is a run's copy whose source is unknown or gone, and no named experiment carries its "
            "reference: train the experiment by its name or from its own spec file"]}
    record = {"recipe_source": str(own.resolve()), "recipe_changes": recipe_differences(spec, source)}
    if spec.reference is not None:  # said with the verdict: the reference is the file's own claim
        record["recipe_note"] = f"no named experiment carries this reference: the recipe is {own.name}'s own"
    return record


def _named_source(spec) -> tuple[Path, list[str]] | None:
    """(file, changes) of the named experiment with the spec's reference that differs least from
    it: the experiment of the spec's own name first; None when no named experiment carries it."""
    from dlcli.catalog import experiment_files

    named = experiment_files()
    candidates = [named[spec.name]] if spec.name in named else []
    if spec.reference is not None:  # a copy under another name: look for its reference
        candidates += [path for name, path in named.items() if name != spec.name]
    best = None
    for path in candidates:
        source = _spec_with_reference(path, spec.reference)
        if source is None:
            continue
        changes = recipe_differences(spec, source)
        if best is None or len(changes) < len(best[1]):
            best = (path, changes)
        if not changes:
            break
    return best


def _spec_with_reference(path: Path, reference):
    """The spec at `path`, as written (no overrides), if it validates and, unless `reference` is
    None, carries that very reference; else None. The reference is compared before the whole
    spec is validated, so looking through every named experiment stays cheap."""
    from dlcli.errors import SpecError
    from dlcli.spec import Reference
    from dlcli.spec.loading import load_spec
    from dlcli.spec.reading import read_yaml

    try:
        if reference is not None:
            raw = read_yaml(path)
            written = raw.get("reference") if isinstance(raw, dict) else None
            if not isinstance(written, dict) or Reference.model_validate(written) != reference:
                return None
        return load_spec(str(path))[0]
    except (SpecError, ValueError, OSError):  # a broken file is no one's source; `dlcli validate` says why
        return None


def _is_run_spec(spec_path: Path) -> bool:
    """Whether a spec file is a run's own copy (its spec.yaml, beside its run.json)."""
    from dlcli.runs import layout

    return spec_path.name == layout.SPEC.name and (spec_path.parent / layout.INFO.name).is_file()


def _earlier_source(run_dir: Path) -> Path | None:
    """The spec file an earlier run was compared with (its run.json's record), if it still exists."""
    from dlcli.errors import DlcliError
    from dlcli.runs import Run

    try:
        recorded = Run(run_dir).info.get("recipe_source")
    except DlcliError:  # unreadable or damaged: no source to compare with
        return None
    return Path(recorded) if isinstance(recorded, str) and Path(recorded).is_file() else None


def recipe_differences(spec, source) -> list[str]:
    """'key=value (source: value)' for every leaf of the resolved specs that differs, NOT_RECIPE aside."""
    ours, theirs = _leaves(_recipe_tree(spec)), _leaves(_recipe_tree(source))
    changes = []
    for key in [*ours, *(key for key in theirs if key not in ours)]:
        if any(key == skipped or key.startswith(skipped + ".") for skipped in NOT_RECIPE):
            continue
        if ours.get(key, _ABSENT) != theirs.get(key, _ABSENT):
            changes.append(f"{key}={_shown(ours.get(key, _ABSENT))} (source: {_shown(theirs.get(key, _ABSENT))})")
    return changes


_ABSENT = "(absent)"


def _shown(value: Any) -> str:
    """A value on one short line: YAML scalars as written, lists and mappings as JSON."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _recipe_tree(spec) -> dict:
    """The resolved spec as plain data; a custom callback's file by its content, not its path
    (a run keeps a copy of it, and a copy is the same code)."""
    import hashlib

    tree = spec.model_dump(mode="json", exclude_none=True, exclude={"data", "callbacks"})
    tree["data"] = spec.data.model_dump(mode="json", exclude_none=True)
    tree["callbacks"] = []
    for entry in spec.callbacks:
        written = entry.to_yaml()
        if entry.name == "Custom":
            file, _, class_name = entry.arguments["path"].rpartition(":")
            try:
                content = hashlib.sha256(Path(file).read_bytes()).hexdigest()[:12]
            except OSError:
                content = "unreadable"
            written = {"Custom": {**entry.arguments, "path": f"(file sha256 {content}):{class_name}"}}
        tree["callbacks"].append(written)
    return tree


def _leaves(data: Any, prefix: str = "") -> dict[str, Any]:
    """{'fit.epochs': 20, 'model.layers.0.Dense.units': 32, ...}: every leaf by its dotted path."""
    if isinstance(data, dict) and data:
        items = data.items()
    elif isinstance(data, list) and data:
        items = enumerate(data)
    else:
        return {prefix: data}
    leaves: dict[str, Any] = {}
    for key, value in items:
        leaves.update(_leaves(value, f"{prefix}.{key}" if prefix else str(key)))
    return leaves


def comparable(verdict_data: dict, info: dict, source_info: dict | None = None) -> dict:
    """The verdict, marked `not comparable` when the run changed the source's recipe; the
    checks keep their own results, for information."""
    from dlcli.runs import recipe_changes

    changes = recipe_changes(info, source_info)
    if verdict_data.get("status", "none") != "none":  # where the recipe was judged from, and how
        verdict_data = {**verdict_data, **{key: info[key] for key in ("recipe_source", "recipe_note") if info.get(key)}}
    if verdict_data.get("status", "none") == "none" or not changes:
        return verdict_data
    return {**verdict_data, "status": "not comparable",
            "reason": f"the run changed the source's recipe: {', '.join(changes)}"}


def run_verdict(run, spec, metrics: dict, history: dict) -> dict:
    """A run's verdict against its spec's reference; baselines are the latest completed runs."""
    from dlcli.runs import Run

    def baseline(experiment: str) -> tuple[str | None, dict | None, dict]:
        found = Run.latest_completed(experiment, follows_recipe=True)
        if found is None:
            return None, None, {}
        return str(found), found.history(), found.metrics().get("metrics", {})

    info = run.info
    source = Run.open(info["initialized_from"]).info if info.get("initialized_from") else None
    return comparable(verdict(spec.reference, metrics, history, baseline), info, source)
