"""One small registry class for everything that is looked up by name from a spec, and the
"module:attribute" references that name code imported only when it is used."""

from __future__ import annotations

import difflib
import importlib
import re
from typing import Any, Callable, Iterator

from dlcli.errors import SpecError


def resolve(reference: str) -> Any:
    """The attribute a "module:attribute" reference names, its module imported now (a dataset's
    loader, a lazily loaded command, a model kind's callbacks)."""
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


def name_key(name: str) -> str:
    """The one spelling-insensitive form of a name: `fashion-mnist`, `Fashion_MNIST` and
    `fashionmnist` are the same dataset, `inception_v3` and `InceptionV3` the same network."""
    return re.sub(r"[-_\s]", "", str(name)).lower()


def did_you_mean(name: str, choices: list[str] | tuple[str, ...] | set[str]) -> str:
    """A ' (did you mean 'x'?)' suffix, or '' when nothing is close."""
    lowered = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean '{lowered[close[0]]}'?)" if close else ""


def unknown_name_message(kind: str, name: str, choices) -> str:
    """'unknown dataset 'mnsit' (did you mean 'mnist'?); choices: ...'."""
    choices = sorted(choices)
    hint = did_you_mean(name, choices)
    listed = ", ".join(choices) if len(choices) <= 12 else ", ".join(choices[:12]) + ", ..."
    return f"unknown {kind} '{name}'{hint}; choices: {listed}"


class Registry:
    """Maps names to registered objects; duplicate names fail at import, unknown ones suggest."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, Any] = {}
        self._names: dict[str, str] = {}  # name_key -> the registered name

    def register(self, name: str) -> Callable[[Any], Any]:
        def decorator(item: Any) -> Any:
            self.add(name, item)
            return item

        return decorator

    def add(self, name: str, item: Any) -> None:
        if name_key(name) in self._names:
            raise ValueError(f"{self.kind} '{name}' is registered twice")
        self._items[name] = item
        self._names[name_key(name)] = name

    def canonical(self, name: str) -> str:
        """The registered spelling of `name` (hyphens, underscores and case do not matter)."""
        try:
            return self._names[name_key(name)]
        except KeyError:
            raise SpecError(unknown_name_message(self.kind, str(name), self._items)) from None

    def get(self, name: str) -> Any:
        return self._items[self.canonical(name)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name_key(name) in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def items(self) -> list[tuple[str, Any]]:
        return sorted(self._items.items())

    def names(self) -> list[str]:
        return sorted(self._items)
