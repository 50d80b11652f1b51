"""A report printed to PDF with headless Chromium, when one is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from planner.errors import PdfEngineError
from planner.report.output_folder import check_file_free

#: Programs tried, in order, to print a report to PDF.
PDF_ENGINES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_pdf_engine() -> str | None:
    """Path of an installed headless browser that prints PDF (:data:`PDF_ENGINES`), or None."""
    for name in PDF_ENGINES:
        found = shutil.which(name)
        if found:
            return found
    return None


def pdf_from_html(
    html_path: str | Path,
    pdf_path: str | Path,
    *,
    engine: str | None = None,
    overwrite: bool = False,
    timeout_s: float = 180.0,
) -> Path:
    """Print an HTML file to PDF with headless Chromium (A4, the page's print layout).

    Parameters
    ----------
    html_path
        The report to print (e.g. ``report.html``).
    pdf_path
        The PDF to write.
    engine
        Browser executable; the first of :data:`PDF_ENGINES` on the PATH when None.
    overwrite
        Replace an existing PDF.
    timeout_s
        Give up after this many seconds.

    Returns
    -------
    Path
        ``pdf_path``.

    Raises
    ------
    PdfEngineError
        When no engine is installed or printing fails.
    OutputExistsError
        When ``pdf_path`` exists and ``overwrite`` is off.
    """
    exe = engine or find_pdf_engine()
    if exe is None:
        msg = (
            "No PDF engine found: install Chromium (Debian/Ubuntu: apt-get install chromium) "
            "or Google Chrome to make PDFs. The HTML report prints from any browser too."
        )
        raise PdfEngineError(msg)
    src = Path(html_path).resolve()
    out = check_file_free(Path(pdf_path).resolve(), overwrite=overwrite)
    with tempfile.TemporaryDirectory(prefix="planner-pdf-") as profile:
        tmp = Path(profile) / "report.pdf"
        cmd = [
            exe,
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
            f"--user-data-dir={Path(profile) / 'profile'}",
            f"--print-to-pdf={tmp}",
            src.as_uri(),
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.insert(2, "--no-sandbox")  # Chromium refuses to start as root otherwise
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            msg = f"{exe} could not print {src} to PDF: {err}"
            raise PdfEngineError(msg) from err
        if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            tail = (done.stderr or "").strip().splitlines()[-3:]
            msg = f"{exe} could not print {src} to PDF (exit {done.returncode}): {tail}"
            raise PdfEngineError(msg)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(tmp, out)
    return out
