"""One small registry class for everything that is looked up by name from a spec."""

from __future__ import annotations

import difflib
from typing import Any, Callable, Iterator

from dlcli.errors import SpecError


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

    def register(self, name: str) -> Callable[[Any], Any]:
        def decorator(item: Any) -> Any:
            self.add(name, item)
            return item

        return decorator

    def add(self, name: str, item: Any) -> None:
        if name in self._items:
            raise ValueError(f"{self.kind} '{name}' is registered twice")
        self._items[name] = item

    def get(self, name: str) -> Any:
        try:
            return self._items[name]
        except KeyError:
            raise SpecError(unknown_name_message(self.kind, name, self._items)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def items(self) -> list[tuple[str, Any]]:
        return sorted(self._items.items())

    def names(self) -> list[str]:
        return sorted(self._items)
