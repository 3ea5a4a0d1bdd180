"""User-facing error types.

Every mistake a user can make (a bad key, a missing file, a wrong column) raises a subclass of
:class:`GradwiseError`. The command line turns these into one line on stderr and exit status 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class GradwiseError(Exception):
    """Base class for errors caused by user input, reported without a traceback."""

    exit_code = 2


class ConfigError(GradwiseError):
    """An experiment file or override is invalid (unknown key, wrong type, bad value)."""


class DataError(GradwiseError):
    """A data source cannot be read or does not fit the experiment (missing column, shape)."""


class CheckpointError(GradwiseError):
    """A run directory or checkpoint is missing, incomplete or unreadable."""


class WriteError(GradwiseError, OSError):
    """A file could not be written (a full disk, a read-only folder); the message names it and
    the file it would have replaced is left as it was."""

    def __str__(self) -> str:
        return str(self.strerror)


class TrainingError(GradwiseError):
    """Training stopped because of the experiment itself (e.g. a non-finite loss)."""

    run_dir: Path | None = None  # the run directory it left behind, once there is one


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""`` when none is close."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
