"""The report's HTML: Jinja2 templates of this package, read through importlib.resources.

Autoescaping is on for every template, so every string taken from a run (its run.json, spec,
samples) is HTML-escaped: a hostile run.json cannot inject markup or script. `base.html.j2`
holds the page's style, header and footer in blocks that other pages extend (`run.html.j2`, the
book's reproduction table). Links from one page to another file are relative and percent-encoded
(`relative_link`), so a folder's name cannot turn one into a fragment or a `javascript:` URL.
"""

from __future__ import annotations

import functools
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

TEMPLATES = "templates"
QUOTED_TABLE_ROW = re.compile(r"«\s*\|([^»]*)»")  # a markdown table's row, quoted as the source writes it
MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def _source(name: str) -> str:
    return resources.files(__package__).joinpath(TEMPLATES, name).read_text(encoding="utf-8")


@functools.cache
def environment():
    """The Jinja2 environment of dlcli's pages: autoescaped, strict about missing values."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FunctionLoader(_source), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["number"] = number
    env.filters["duration"] = duration
    env.filters["setting"] = setting
    env.filters["readable_quote"] = readable_quote
    return env


def render(template: str, **context: Any) -> str:
    """The page `template` (a file of templates/) filled in with `context`."""
    from dlcli import __version__

    return environment().get_template(template).render(dlcli_version=__version__, **context)


def relative_link(target: str | Path, page_folder: str | Path, folder: bool = False) -> str:
    """The href from a page in `page_folder` to `target` (a file, or with `folder` a folder): relative,
    so the page and the runs can be moved together, and percent-encoded, so a folder named 'a #1' or
    'javascript:x' stays a path (no fragment, query or URL scheme)."""
    return quote(Path(os.path.relpath(target, page_folder)).as_posix() + ("/" if folder else ""))


def number(value: Any) -> str:
    """A metric as people read it: 4 significant digits, an integer as an integer, anything else as text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def readable_quote(quote: str | None) -> str | None:
    """A quote as the page shows it: a quoted markdown table row ('«|2 Conv+pooling | None | 0.876 |
    [Kashif Rasul](https://...) |»') as its cells' words ('«2 Conv+pooling · None · 0.876 · Kashif
    Rasul»'), links as their text; the spec keeps the source's characters (--json shows them)."""
    def cells(match: re.Match) -> str:
        words = [MARKDOWN_LINK.sub(lambda link: link[1].strip(":"), cell).strip()
                 for cell in match[1].strip().strip("|").split("|")]
        return "«" + " · ".join(words) + "»"

    return QUOTED_TABLE_ROW.sub(cells, quote) if quote else quote


def setting(value: Any) -> str:
    """A sweep parameter's value as sweep.csv holds it (text) shown as `number` shows a metric: a
    learning rate drawn on a log scale is 0.001235, not 0.0012345678901234567; other text as it is."""
    try:
        return number(float(value))
    except (TypeError, ValueError):
        return "" if value is None else str(value)


def duration(seconds: Any) -> str:
    """1234.5 as '20 min 35 s'; no number, an empty string."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return ""
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {rest} s" if minutes else f"{seconds:.1f} s"
