"""The recipe-change rule: what makes a run's results differ from its source experiment's."""

from __future__ import annotations

# Overrides that leave a run comparable with its source: another seed is another draw of the
# same recipe, op determinism changes no arithmetic, and the report page is no part of training.
COMPARABLE_OVERRIDES = ("seed", "deterministic", "report")


def recipe_changes(info: dict, source_info: dict | None = None) -> list[str]:
    """What makes a run differ from its source's recipe: how its resolved spec differed from the
    source experiment's when it started (run.json's `recipe_changes`, see recipe_source.recipe_record;
    a run of an older dlcli has only its --set/--epochs overrides, other than the seed), a resume
    to another number of epochs, a resume forced past differences, or a model continued from a
    run (`source_info`) that itself changed its recipe."""
    recorded = info.get("recipe_changes")
    changes = [str(change) for change in recorded] if isinstance(recorded, list) else \
        [text for text in info.get("overrides") or [] if text.split("=", 1)[0].strip() not in COMPARABLE_OVERRIDES]
    for resumed in info.get("resumes") or []:
        changes += [f"resumed with {change}" for change in resumed.get("recipe_changes") or []]
        if resumed.get("forced"):
            changes.append(f"resumed with --force ({'; '.join(resumed.get('differences') or [])})")
    if source_info is not None and recipe_changes(source_info):
        changes.append(f"continued the model of {info.get('initialized_from')}, which changed its own recipe")
    return changes
