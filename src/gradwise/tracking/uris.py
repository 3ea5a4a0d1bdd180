"""MLflow tracking URIs as a run directory stores them: local stores with absolute paths, so a
run resumed from another folder logs to the same place (torch-free, no MLflow import).

- ``file:PATH`` / ``file:///PATH`` / a plain folder path → ``file:///ABSOLUTE`` (MLflow's file
  store);
- ``sqlite:///PATH.db`` (relative) or ``sqlite:////ABSOLUTE.db`` → ``sqlite:////ABSOLUTE.db``;
- any other ``scheme://...`` (``http://``, ``https://``, ``postgresql://``) is kept as written.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

SQLITE_PREFIX = "sqlite:///"
URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def absolute_store_uri(uri: str) -> str:
    """``uri`` with a local store's path made absolute (module docstring); ValueError when it
    is empty or a scheme that takes a path has none."""
    text = uri.strip()
    if not text:
        raise ValueError("expected a tracking URI (file:PATH, sqlite:///PATH.db, http://HOST)")
    if text.startswith(SQLITE_PREFIX):
        path = text[len(SQLITE_PREFIX) :]
        if not path or path == ":memory:":
            raise ValueError("give the database file, e.g. sqlite:///mlflow.db")
        return SQLITE_PREFIX + str(Path(path).expanduser().resolve())
    if text.startswith("sqlite:"):
        raise ValueError("a SQLite store is written sqlite:///PATH.db (three slashes)")
    if text.startswith("file:"):
        parsed = urlparse(text)
        path = unquote(parsed.path) if parsed.netloc in ("", "localhost") else ""
        if not path:
            raise ValueError("a file store is a local folder: file:./mlruns or file:///PATH")
        return Path(path).expanduser().resolve().as_uri()
    if URI_SCHEME.match(text) and "://" in text and len(text.split(":", 1)[0]) > 1:
        return text  # a server or database: MLflow's own
    return Path(text).expanduser().resolve().as_uri()  # a folder: the file store


def local_store_path(uri: str) -> Path | None:
    """The file or folder a local store writes (``file:`` folder, SQLite database), else None."""
    if uri.startswith(SQLITE_PREFIX):
        return Path(uri[len(SQLITE_PREFIX) :])
    if uri.startswith("file:"):
        return Path(unquote(urlparse(uri).path))
    return None
