"""Writes ``report.html`` into every run directory when training finishes (``report.enabled``).

Registered as a ``RUN_FINISHED`` hook; listed in ``gradwise.hooks.PLUGIN_MODULES``. A report
that cannot be written costs the run nothing: the run is already complete on disk, so the
failure becomes one warning and ``gradwise report RUN`` can try again.
"""

from __future__ import annotations

import warnings
from typing import Any

from gradwise.hooks import RUN_FINISHED


@RUN_FINISHED.register("report")
def write_run_report(run: Any) -> None:
    if not run.config.report.enabled:
        return
    from gradwise.report import write_report

    try:
        write_report(run.path, run=run)
    except Exception as exc:  # the run itself succeeded; do not lose it over its report
        warnings.warn(
            f"{run.path}: report.html not written ({type(exc).__name__}: {exc}); "
            f"try: gradwise report {run.path}",
            stacklevel=2,
        )
