"""Headless Chromium (Debian's `chromium`) driven by Playwright, watching what a page does.

Never skipped: without the browser the tests fail and say how to install it (`.ci/run`
installs it when missing). Every request is recorded; a request outside the allowed origin
(file:// or the local server) is aborted and reported, as is every console error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from course_engagement.settings import REPO_ROOT

CHROMIUM = Path(os.environ.get("COURSE_ENGAGEMENT_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = REPO_ROOT / "output" / "screenshots"
VIEWPORT = {"width": 900, "height": 1200}


def chromium_path() -> Path:
    """The Chromium binary, or a test failure that says how to install it (never a skip)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: the browser tests need Debian's chromium "
            "(`apt-get update && apt-get install -y chromium`, which `bash .ci/run` does), "
            "or set COURSE_ENGAGEMENT_CHROMIUM to another Chromium binary"
        )
    return CHROMIUM


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(chromium_path()))


@dataclass
class Visit:
    page: object
    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)  # requests outside the allowed origin
    console_errors: list[str] = field(default_factory=list)


def visit(browser, url: str, allowed: str) -> Visit:
    """Open `url`, allowing requests whose URL starts with `allowed` only."""
    page = browser.new_page(viewport=VIEWPORT)
    seen = Visit(page)

    def console(message) -> None:  # "Failed to load resource" names its URL only in location
        if message.type == "error":
            seen.console_errors.append(f"{message.text} [at {message.location.get('url', '')}]")

    page.on("console", console)
    page.on("pageerror", lambda error: seen.console_errors.append(str(error)))
    page.on("request", lambda request: seen.requests.append(request.url))

    def guard(route):
        if route.request.url.startswith(allowed):
            route.continue_()
        else:
            seen.outside.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.goto(url, wait_until="load")
    return seen


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=full_page)
    return path


# Chart drawn: an <svg> or <canvas> with painted content of non-zero size.
DRAWN_CHARTS = """() => {
  const svgs = [...document.querySelectorAll('svg[role=img]')].map(svg => {
    const box = svg.getBBox();
    const marks = svg.querySelectorAll('polyline, rect.cell, rect.bar').length;
    return {id: svg.getAttribute('aria-labelledby'), width: box.width, height: box.height, marks};
  });
  const canvases = [...document.querySelectorAll('canvas')].filter(c => {
    if (!c.width || !c.height) return false;
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < data.length; i += 4) if (data[i]) return true;
    return false;
  }).length;
  return {svgs, canvases};
}"""
