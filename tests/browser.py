"""A real browser's look at a page dlcli wrote: Debian's chromium driven by Playwright, offline.

`check_page(path)` opens a local HTML file in headless Chromium and returns what a reader would
run into: console errors, page errors, images that did not decode, every request that left the
file (data: URIs aside), and whether a screenshot of the page is blank. The report tests and the
book table's test share it. `browser_or_skip()` skips a test, saying why, where Chromium or
Playwright is missing (CI installs both and fails without them: .ci/run, pyproject's [dev]); no
browser is downloaded.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_or_skip() -> str:
    """The chromium executable; the test is skipped when it or Playwright is absent, except in CI
    (DLCLI_BROWSER_TEST=required, set by .ci/run), where it fails."""
    missing = pytest.fail if os.environ.get("DLCLI_BROWSER_TEST") == "required" else pytest.skip
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing("playwright is not installed (pip install -e '.[dev]')")
    path = chromium_path()
    if path is None:
        missing("no chromium on PATH (apt-get install chromium; .ci/run does)")
    return path


@dataclass
class PageCheck:
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)  # each <img> whose naturalWidth is 0
    images: int = 0
    outside_requests: list[str] = field(default_factory=list)  # every URL other than the file and data:
    screenshot_colours: int = 0  # distinct colours in the screenshot: 1 is a blank page
    title: str = ""
    standards_mode: bool = False  # the page's <!DOCTYPE html> was honoured (no quirks mode)

    @property
    def problems(self) -> list[str]:
        found = [*(f"console error: {text}" for text in self.console_errors),
                 *(f"page error: {text}" for text in self.page_errors),
                 *(f"image not shown: {src}" for src in self.broken_images),
                 *(f"request outside the file: {url}" for url in self.outside_requests)]
        if self.screenshot_colours <= 1:
            found.append("the screenshot is blank")
        if not self.standards_mode:
            found.append("the page renders in quirks mode (no <!DOCTYPE html>)")
        return found


def check_page(path: Path, screenshot: Path | None = None) -> PageCheck:
    """Open `path` in headless Chromium with every request leaving the file recorded and refused."""
    import io

    from PIL import Image
    from playwright.sync_api import sync_playwright

    executable = browser_or_skip()
    page_url = path.resolve().as_uri()
    result = PageCheck()

    def route(request_route):
        url = request_route.request.url
        if url == page_url or url.startswith("data:"):
            request_route.continue_()
        else:
            result.outside_requests.append(url)
            request_route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", route)
            page.on("console", lambda message: result.console_errors.append(message.text)
                    if message.type == "error" else None)
            page.on("pageerror", lambda error: result.page_errors.append(str(error)))
            page.goto(page_url, wait_until="load")
            result.title = page.title()
            result.standards_mode = page.evaluate("document.compatMode") == "CSS1Compat"
            sizes = page.eval_on_selector_all(
                "img", "images => images.map(image => [image.getAttribute('alt') || image.src.slice(0, 60), "
                       "image.complete ? image.naturalWidth : 0])")
            result.images = len(sizes)
            result.broken_images = [name for name, width in sizes if not width]
            png = page.screenshot(full_page=True)
            if screenshot is not None:
                screenshot.write_bytes(png)
            colours = Image.open(io.BytesIO(png)).convert("RGB").getcolors(maxcolors=1 << 24)
            result.screenshot_colours = len(colours or [])
        finally:
            browser.close()
    return result
