"""A sweep's Optuna study in study.db: its name, its storage, its making, and the check that an
existing study.db holds it (see sweeps.directory for the sweep directory around it)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from dlcli.errors import UsageError

STUDY_NAME = "sweep"


def storage_url(path: Path) -> str:
    return f"sqlite:///{path}"


def storage_reason(error: BaseException) -> str:
    """The database's own words for a storage error (SQLAlchemy wraps them in several lines)."""
    while getattr(error, "orig", None) is not None or error.__cause__ is not None:
        error = getattr(error, "orig", None) or error.__cause__
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def check_study(path: Path) -> None:
    """study.db is an Optuna storage holding the sweep's study. Read with the standard sqlite3 first,
    since Optuna would quietly make a new study in an empty or foreign database."""
    if not path.is_file():
        raise UsageError(f"{path}: {'not a file' if path.exists() else 'missing'}; the sweep directory is damaged")
    if path.stat().st_size == 0:
        raise UsageError(f"{path}: empty; the sweep directory is damaged")
    try:
        with closing(sqlite3.connect(path)) as database:
            tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"studies", "trials"} <= tables:
                raise UsageError(f"{path}: not an Optuna study (its tables: {', '.join(sorted(tables)) or 'none'}); "
                                 "the sweep directory is damaged")
            studies = [row[0] for row in database.execute("SELECT study_name FROM studies")]
    except sqlite3.Error as error:
        raise UsageError(f"{path}: not a readable SQLite database ({error}); the sweep directory is damaged") from None
    if STUDY_NAME not in studies:
        raise UsageError(f"{path}: holds no study named '{STUDY_NAME}' (it holds: {', '.join(studies) or 'none'}); "
                         "the sweep directory is damaged")


class StorageFailure(Exception):
    """Optuna or SQLite could not write the study."""


def new_study(path: Path, direction: str) -> None:
    import gc

    import optuna
    import sqlalchemy

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        storage = optuna.storages.RDBStorage(storage_url(path))
        optuna.create_study(study_name=STUDY_NAME, storage=storage, direction=direction)
        storage.engine.dispose()
        return
    except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError) as error:
        reason = storage_reason(error)
    storage = None
    gc.collect()  # the failed storage's engine goes, and the database file it held open with it
    raise StorageFailure(reason)
