"""The book's reproduction table (`dlcli report --book`): for every named experiment whose spec has a
`reference:` block, what its source says (the quote, the metric and the quoted value) beside what
this machine's latest comparable run gave, grouped by chapter and source.

A row's verdict is the one its run holds (metrics.json's `check`, written when the run closed or
rewritten by `dlcli check`): passed, differs, failed, unverifiable or not comparable (see
dlcli.reference). The run is the newest completed one that followed its experiment's recipe
(`Run.latest_completed(..., follows_recipe=True)`: nothing changed but the seed); one that differs
from the experiment as its file says it now (changed since) is `not comparable`. Where there is none the row says
`not comparable` (only runs that changed the recipe exist), `never run`, or `data unavailable`
(never run, and the data it needs is not in the cache). A reference that gives
nothing to check, only a quote (chapter 8's generative models), has the verdict `none`: it is
listed, and counted apart; so are dlcli's own checks (`own_check`: a source that reports no result,
a count computed by hand), which the headline does not count as the sources' results. Only YAML files and run.json/metrics.json are read: Keras is never imported.
The page that shows the table is report.book_page's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dlcli.errors import DlcliError, SpecError, UsageError
from dlcli.runs import Run, layout, runs_root

# Verdicts of a row with something to check, in the order the page counts them.
VERDICTS = ("passed", "differs", "failed", "unverifiable", "not comparable", "never run", "data unavailable")
QUOTE_ONLY = "none"  # reference.py's status of a reference with nothing to check

# A source that reports no result of its own: what its reference checks is dlcli's (a parameter
# count computed by hand, a claim about random data), not a result of the source to reproduce.
OWN_CHECK = re.compile(r"\bcomputed\b|not in the book|no result reported", re.IGNORECASE)

# A section number, "6.27" or "7.1.3", standing alone: its first part is the chapter.
SECTION = re.compile(r"(?:^|[\s(])([1-9])\.(\d{1,2})(?:\.\d+)?(?=$|[\s),:;-])")


def section_of(*texts: str | None) -> tuple[int, int] | None:
    """(chapter, section) of the first section number in the first text that has one."""
    for text in texts:
        found = SECTION.search(text or "")
        if found:
            return int(found.group(1)), int(found.group(2))
    return None


def source_name(source: str) -> str:
    """The work a reference's source names, without its details: 'Deep Learning with Python (1st
    ed.)' for '..., Russian translation (quotes and line numbers from it)'."""
    return re.split(r", |; |: ", source, maxsplit=1)[0].strip()


def _number(value: Any) -> str:
    """3466 as 3466, 0.91234 as 0.9123 (as reference.describe shows them)."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.4g}"


def claim_criterion(claim) -> str:
    """What a curve claim asks of its statistic (the row's metric, 'argmin of val_loss'), in a few
    words: 'between 2 and 5', '> 0.4', '< imdb-dense's' (the same statistic of that experiment's run)."""
    from dlcli.reference import RELATIONS

    if claim.relation == "between":
        return f"between {_number(claim.value[0])} and {_number(claim.value[1])}"
    target = (f"{claim.than}'s {claim.than_metric}" if claim.than_metric else f"{claim.than}'s") if claim.than \
        else _number(claim.value)
    return f"{RELATIONS[claim.relation]}{target}"


def _expected(reference) -> tuple[str | None, Any, str | None]:
    """(metric, the source's number, the criterion) of the reference's first check, in the order
    reference.verdict checks them (its number, `also`, claims); all None for a reference that only quotes."""
    from dlcli.reference import value_check

    numbers = [reference] if reference.metric is not None else list(reference.also)
    if numbers:
        return numbers[0].metric, numbers[0].value, value_check(numbers[0], {})["expected"]
    if reference.claims:
        claim = reference.claims[0]
        return f"{claim.statistic} of {claim.metric}", claim.value, claim_criterion(claim)
    return None, None, None


def own_check(reference) -> bool:
    """Whether what the reference checks is dlcli's own: its source reports no result ('computed',
    'no result reported'), or it checks claims alone, each marked '[not in the book]'."""
    if OWN_CHECK.search(reference.source):
        return True
    numbers = reference.metric is not None or bool(reference.also)
    return not numbers and bool(reference.claims) and all(OWN_CHECK.search(claim.text or "") for claim in reference.claims)


def _run_part(name: str, experiment_file: Path, reference_checks: bool, raw: dict) -> dict[str, Any]:
    """The row's fields that come from this machine's runs: verdict, actual value, run directory."""
    run = Run.latest_completed(name, follows_recipe=True)
    other = run or Run.latest_completed(name)
    if other is None:
        return {"run_dir": None, "report": None, "actual": None, "checks": [], **_unrun(name, raw, reference_checks)}
    part = {"run_dir": str(other.path.resolve()),
            "report": str(other.file(layout.REPORT).resolve()) if other.has(layout.REPORT) else None}
    try:
        check = other.metrics().get("check") or {}
    except DlcliError as error:  # a damaged metrics.json: the run says nothing
        return {**part, "verdict": "unverifiable" if reference_checks else QUOTE_ONLY, "actual": None,
                "checks": [], "reason": str(error)}
    checks = [item for item in check.get("checks") or [] if isinstance(item, dict)]
    first = checks[0] if checks else {}
    part.update(checks=checks, actual=first.get("actual"), reason=check.get("reason") or _why(checks))
    if first.get("direction"):
        part.update(direction=first["direction"], margin=first.get("margin"))
    if not reference_checks:
        return {**part, "verdict": QUOTE_ONLY}
    if run is None:
        from dlcli.runs import recipe_changes

        return {**part, "verdict": "not comparable",
                "reason": f"only runs that changed the recipe: {', '.join(recipe_changes(other.info))}"}
    drifted = changed_since(run, experiment_file)
    if drifted:
        return {**part, "verdict": "not comparable", "reason": "the experiment has changed since this run, which "
                f"now differs from it: {', '.join(drifted)}; train it again"}
    status = check.get("status")
    if status not in VERDICTS:  # no verdict in the run (an older dlcli, or metrics.json without one)
        return {**part, "verdict": "unverifiable", "reason": f"the run holds no verdict: run `dlcli check {other}`"}
    return {**part, "verdict": status}


# A reference's words: rewording them changes no verdict.
REFERENCE_WORDS = ("reference.source", "reference.listing", "reference.quote")


def changed_since(run: Run, experiment_file: Path) -> list[str]:
    """How the run's spec differs from its experiment's recipe as the file says it now ('fit.epochs=4
    (source: 5)'): run.json records only that it followed the recipe as it was when the run started,
    and the row shows the experiment as it is (its target included). [] when the run's spec.yaml no
    longer loads (a damaged run, an older schema): then it cannot tell, and the run's verdict stands."""
    from dlcli.recipe_source import recipe_differences
    from dlcli.spec.loading import load_spec

    try:
        changes = recipe_differences(run.spec(), load_spec(str(experiment_file))[0])
    except (DlcliError, OSError):
        return []
    return [change for change in changes if not change.startswith(REFERENCE_WORDS)]


def _why(checks: list[dict]) -> str | None:
    """Why a verdict is not `passed`, from its first check that did not pass: what it asked and got
    (when it is not the row's own first check), which way and how far it is off, its reason."""
    missed = next((check for check in checks if check.get("status") != "passed"), None)
    if missed is None:
        return None
    parts = []
    if missed is not checks[0]:
        actual = missed.get("actual")
        got = _number(actual) if isinstance(actual, (int, float)) and not isinstance(actual, bool) else "n/a"
        parts.append(f"{missed.get('what') or missed.get('metric')}: got {got}")
    if missed.get("direction") and isinstance(missed.get("margin"), (int, float)):
        reported = missed.get("reported")  # the source's own number, which the margin is from (not the target)
        source = f" ({_number(reported)})" if isinstance(reported, (int, float)) and not isinstance(reported, bool) else ""
        parts.append(f"{missed['direction']} than the source{source} by {_number(missed['margin'])}")
    if missed.get("reason"):
        parts.append(str(missed["reason"]))
    return "; ".join(parts) or None


def _unrun(name: str, raw: dict, reference_checks: bool) -> dict[str, Any]:
    """Verdict and reason of an experiment without a completed run: `data unavailable` (with what
    is missing and how to get it) when the cache lacks what its data needs, else `never run`."""
    from dlcli.datasets.presence import needs

    folder = runs_root() / name
    count = sum(1 for path in folder.iterdir() if path.is_dir() and not path.name.startswith(".")) \
        if folder.is_dir() else 0
    reasons = [f"{count} run{'s' if count != 1 else ''}, none completed"] if count else []
    if not reference_checks:  # nothing to reproduce: what its data lacks is no verdict's reason
        return {"verdict": QUOTE_ONLY, "reason": "; ".join(reasons) or None}
    lacking = [need for need in needs(raw) if not need.present]
    return {"verdict": "data unavailable" if lacking else "never run", "missing": {need.what: need.advice for need in lacking},
            "reason": "; ".join(reasons + [need.advice for need in lacking]) or None}


def _runs_name(name: str, raw: dict) -> str:
    """The folder under the runs root that an experiment's runs go in: its spec's `name`, else its file's."""
    return raw["name"] if isinstance(raw.get("name"), str) and raw["name"] else name


def experiment_row(name: str, path: Path) -> dict[str, Any] | None:
    """One experiment's row, or None when its spec has no `reference:` block (a SpecError when the
    file or its reference cannot be read). The row: name, chapter and section (from the listing, the
    source or the description), source (as written) and source_name (the work alone), listing, quote,
    metric, expected (the source's number, or a claim's [low, high]), criterion (what the check
    asks: '0.9785 ± 0.01', 'between 2 and 5'), own_check (what it checks is dlcli's, not a result the
    source reports), actual (the run's value for that metric), direction
    and margin (which way and how far it is off), verdict, reason, checks (the run's own), run_dir
    and report (absolute paths, or None)."""
    from dlcli.spec import Reference
    from dlcli.spec.reading import read_yaml

    raw = read_yaml(path)
    raw = raw if isinstance(raw, dict) else {}
    if raw.get("reference") is None:
        return None
    try:
        reference = Reference.model_validate(raw["reference"])
    except ValueError as error:  # pydantic's ValidationError: its first problem, as validate words it
        first = error.errors()[0] if hasattr(error, "errors") else {"loc": (), "msg": str(error)}
        where = ".".join(["reference", *map(str, first["loc"])])
        raise SpecError(f"{path}: {where}: {first['msg']} (see: dlcli validate {name})") from None
    section = section_of(reference.listing, reference.source, raw.get("description") if isinstance(
        raw.get("description"), str) else None)
    metric, expected, criterion = _expected(reference)
    checked = metric is not None
    return {
        "name": name, "chapter": section[0] if section else None, "section": list(section) if section else None,
        "source": reference.source, "source_name": source_name(reference.source), "listing": reference.listing,
        "quote": reference.quote, "metric": metric, "expected": expected, "criterion": criterion,
        "own_check": checked and own_check(reference), "direction": None, "margin": None, "missing": {}, **_run_part(_runs_name(name, raw), path, checked, raw),
    }


def book_table() -> dict[str, Any]:
    """{'summary': counts, 'experiments': rows in page order}: every named experiment with a reference."""
    from dlcli.catalog import experiment_files

    rows, unreadable, without = [], [], []
    for name, path in experiment_files().items():
        try:
            row = experiment_row(name, path)
        except (SpecError, UsageError) as error:
            unreadable.append(str(error))
            continue
        (rows.append(row) if row is not None else without.append(name))
    rows.sort(key=lambda row: (row["chapter"] is None, row["chapter"] or 0, row["source_name"],
                               row["section"] or [99, 99], row["name"]))
    return {"summary": summary(rows, without, unreadable), "experiments": rows}


def summary(rows: list[dict], without_reference: list[str], unreadable: list[str]) -> dict[str, Any]:
    """The counts at the top of the page: how many of the sources' results (a reference with a number
    or a claim to check, quoted from a source that reports it) this machine reproduced, dlcli's own
    checks apart (`own_check`), and the references that only quote."""
    checked = [row for row in rows if row["verdict"] != QUOTE_ONLY]
    quoted = [row for row in checked if not row.get("own_check")]
    own = [row for row in checked if row.get("own_check")]
    counts = {verdict: sum(row["verdict"] == verdict for row in quoted) for verdict in VERDICTS}
    counted = {"reproduced": counts["passed"], "checkable": len(quoted), "quotes_only": len(rows) - len(checked),
               "own_checks": len(own), "own_passed": sum(row["verdict"] == "passed" for row in own)}
    lacking = {what: advice for row in rows for what, advice in (row.get("missing") or {}).items()}
    return {**counted, "line": count_line(counted), "with_reference": len(rows), "verdicts": counts,
            "missing_data": dict(sorted(lacking.items())), "without_reference": without_reference,
            "unreadable": unreadable}


def count_line(summary_data: dict) -> str:
    """'27 of 47 quoted results reproduced on this machine, and 2 checks of dlcli's own (1 passed); 6 more
    quote the source with nothing to check'."""
    line = f"{summary_data['reproduced']} of {summary_data['checkable']} quoted results reproduced on this machine"
    own = summary_data.get("own_checks", 0)
    if own:
        line += f", and {own} check{'s' if own != 1 else ''} of dlcli's own ({summary_data['own_passed']} passed)"
    quotes = summary_data["quotes_only"]
    return line + (f"; {quotes} more quote{'s' if quotes == 1 else ''} the source with nothing to check" if quotes else "")
