"""The page of the book's reproduction table (`dlcli report --book`): the table (report.book) in
sections, one per chapter and source, each row linked to its run's report, written as one
self-contained HTML file outside every run directory (book-report.html in the runs root unless
--out says otherwise)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dlcli.report.book import book_table
from dlcli.runs import runs_root

DEFAULT_NAME = "book-report.html"

CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def page_groups(rows: list[dict], folder: Path) -> list[dict[str, Any]]:
    """The page's sections, one per chapter and source, in table order; each row gets its link (the
    run's report.html, else its folder) relative to `folder`, where the page is, the language
    of its quote (Russian quotes are marked so, for the browser's hyphenation and fonts), and the
    detail of its source that is its own (`_share_details`)."""
    from dlcli.report.rendering import relative_link

    groups: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        key = (row["chapter"], row["source_name"])
        title = f"Chapter {row['chapter']} · {row['source_name']}" if row["chapter"] else row["source_name"]
        group = groups.setdefault(key, {"title": title, "anchor": re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-"),
                                        "sources": [], "rows": []})
        target = row["report"] or row["run_dir"]
        link = relative_link(target, folder, folder=not row["report"]) if target else None
        lang = "ru" if row["quote"] and CYRILLIC.search(row["quote"]) else None
        group["rows"].append({**row, "link": link, "lang": lang, "source_detail": _detail(row)})
    for group in groups.values():
        _share_details(group)
    return list(groups.values())


def _detail(row: dict) -> str | None:
    """What a row's source says beyond the work's name ('L95-136', 'Russian translation (...)')."""
    source, name = row["source"], row["source_name"]
    detail = source[len(name):].lstrip(",;: ") if source.startswith(name) else source
    return detail or None


def _share_details(group: dict) -> None:
    """A detail several rows share (or a lone row's) is said once under the group's title; one that
    is a single row's (its line numbers) stays with that row, so the subtitle repeats nothing."""
    details = [row["source_detail"] for row in group["rows"] if row["source_detail"]]
    shared = [detail for detail in dict.fromkeys(details) if details.count(detail) > 1 or len(group["rows"]) == 1]
    group["sources"] = shared
    for row in group["rows"]:
        if row["source_detail"] in shared:
            row["source_detail"] = None


def book_target(out: str | None) -> Path:
    """Where the page goes: --out (an .html file, or a folder for book-report.html in it, outside
    every run directory), else book-report.html in the runs root, beside the runs it links to."""
    from dlcli.report.writing import check_out

    return runs_root() / DEFAULT_NAME if out is None else check_out(out, None, name=DEFAULT_NAME)


def book_report(out: str | None = None) -> dict[str, Any]:
    """Write the book's reproduction table as one self-contained HTML page; returns {'path', 'summary',
    'experiments'} (see `book_table`)."""
    from datetime import datetime

    from dlcli.report.rendering import render
    from dlcli.report.writing import write_page

    target = book_target(out)
    table = book_table()
    html = render("book.html.j2", summary=table["summary"],
                  groups=page_groups(table["experiments"], target.parent.resolve()),
                  generated_at=datetime.now().astimezone().isoformat(timespec="seconds"))
    write_page(target, html)
    return {"path": str(target.resolve()), **table}
