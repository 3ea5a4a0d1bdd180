"""The report in a real browser: headless Chromium (Debian's ``chromium``, installed by
``scripts/chromium.sh`` from ``make test``), no network. Every image must load and nothing may
reach the console; a screenshot of each page is kept under ``test-artifacts/``.

The check itself is a small script added to a copy of the page (the report carries no script):
it records image sizes, load errors and Content-Security-Policy violations into the DOM, which
``--dump-dom`` prints. Console messages also come out on stderr (``--enable-logging=stderr``);
the page logs nothing, so any ``CONSOLE`` line there is an error.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from gradwise.report import write_report
from gradwise.report.page import CONTENT_POLICY

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--mute-audio",
]
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (run scripts/chromium.sh; needs apt-get and root)",
)

CHECKER = """<script>
const gwErrors = [];
window.addEventListener("error", e => gwErrors.push("load error: " +
  (e.message || (e.target && (e.target.src || e.target.href)) || "unknown")), true);
document.addEventListener("securitypolicyviolation",
  e => gwErrors.push("blocked: " + e.blockedURI));
for (const level of ["error", "warn"]) {
  const original = console[level];
  console[level] = (...parts) => {
    gwErrors.push(level + ": " + parts.join(" "));
    original(...parts);
  };
}
window.addEventListener("load", () => {
  const images = Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete,
    width: i.naturalWidth, height: i.naturalHeight}));
  const out = document.createElement("pre");
  out.id = "gw-check";
  out.textContent = JSON.stringify({images: images, errors: gwErrors,
    sections: Array.from(document.querySelectorAll("section")).map(s => s.id)});
  document.body.appendChild(out);
});
</script>"""


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def checked_copy(page: Path, folder: Path) -> Path:
    """The page with the checker script and a policy that allows exactly that inline script."""
    text = page.read_text(encoding="utf-8")
    assert CONTENT_POLICY in text
    text = text.replace(CONTENT_POLICY, CONTENT_POLICY + "; script-src 'unsafe-inline'")
    text = text.replace("<head>", "<head>" + CHECKER, 1)
    copy = folder / f"checked-{page.name}"
    copy.write_text(text, encoding="utf-8")
    return copy


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if re.search(r":CONSOLE[(:]", line)]


def open_in_browser(page: Path, tmp_path: Path, screenshot: str) -> dict:
    copy = checked_copy(page, tmp_path)
    result = chromium(
        tmp_path / "profile",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        "--dump-dom",
        copy.as_uri(),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found = re.search(r'<pre id="gw-check">(.*?)</pre>', result.stdout, re.S)
    assert found, "the checker did not run: " + result.stdout[-500:]
    report = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    report["console"] = console_lines(result.stderr)

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / screenshot
    shot.unlink(missing_ok=True)
    result = chromium(
        tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1280,4000", page.as_uri()
    )
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    with Image.open(io.BytesIO(shot.read_bytes())) as picture:
        assert picture.size == (1280, 4000)
    return report


def assert_clean(report: dict, sections: list[str], n_images: int) -> None:
    assert report["errors"] == [] and report["console"] == [], report
    assert report["sections"] == sections
    assert len(report["images"]) == n_images
    for picture in report["images"]:
        assert picture["complete"] and picture["width"] > 0 and picture["height"] > 0, picture


def test_classification_report_opens_cleanly(classification_run, tmp_path):
    page = classification_run / "report.html"  # as written by `gradwise train`
    report = open_in_browser(page, tmp_path, "report-classification.png")
    assert_clean(report, ["experiment", "model", "learning_curves", "results", "diagnostics"], 4)


def test_regression_report_opens_cleanly(regression_run, tmp_path):
    page = write_report(regression_run, tmp_path / "regression.html").path
    report = open_in_browser(page, tmp_path, "report-regression.png")
    assert_clean(report, ["experiment", "model", "learning_curves", "results", "diagnostics"], 4)


def test_the_checker_catches_a_broken_image_and_an_external_load(tmp_path):
    """The oracle for the two tests above: a bad page must fail the same checks."""
    page = tmp_path / "bad.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        f'content="{CONTENT_POLICY}"></head><body><section id="x">'
        '<img src="data:image/png;base64,AAAA" alt="broken">'
        '<img src="https://example.invalid/x.png" alt="external"></section></body></html>',
        encoding="utf-8",
    )
    report = open_in_browser(page, tmp_path, "checker-self-test.png")
    assert [p["width"] for p in report["images"]] == [0, 0]
    assert any("blocked: https://example.invalid" in e for e in report["errors"])
    assert report["console"], "the blocked load is reported on the console"
