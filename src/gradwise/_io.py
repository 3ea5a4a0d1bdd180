"""Atomic file writes: write to a temporary file in the same folder, then rename over the target.

A reader (or a crash) never sees a half-written file: it sees the old content or the new one.
Also :func:`user_stacklevel`, so that warnings point at the user's line, not at gradwise's.
"""

from __future__ import annotations

import errno
import fnmatch
import json
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def file_mode() -> int:
    """The mode a plainly created file gets under the current umask (``0o666 & ~umask``): the
    temporary file's own 0600 would keep a shared runs folder unreadable to the team.

    The umask is read from ``/proc/self/status`` where Linux gives it, which leaves it alone
    for other threads; elsewhere it is set and restored."""
    try:
        status = Path("/proc/self/status").read_text().splitlines()
        umask = int(next(line.split()[1] for line in status if line.startswith("Umask:")), 8)
    except (OSError, StopIteration, ValueError, IndexError):
        umask = os.umask(0)
        os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and rename the result onto ``path`` (mode as the umask says).

    A failed write (a full disk, a read-only folder) leaves ``path`` as it was and raises a
    :class:`~gradwise.errors.WriteError` (an ``OSError`` too) naming it.
    """
    from gradwise.errors import WriteError

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise WriteError(exc.errno, f"{path}: cannot write ({exc.strerror or exc})") from None
    os.close(fd)
    tmp_path = Path(tmp_name)
    try:
        write(tmp_path)
        _test_hooks(tmp_path, path)
        os.chmod(tmp_path, file_mode())  # after the write: a writer may replace the file
        os.replace(tmp_path, path)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        if isinstance(exc, WriteError):
            raise
        reason = exc.strerror or str(exc).strip() or type(exc).__name__
        raise WriteError(exc.errno, f"{path}: cannot write ({reason})") from None
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


# Test hooks (for tests/reliability and benchmarks/reliability.py; unset in normal use), read
# from the environment at every atomic write, counting the bytes of the files written so far
# whose names match GRADWISE_TEST_HOOK_FILES (a glob, default every file):
#   GRADWISE_TEST_KILL_AFTER_BYTES=n    once n bytes are written, the file being written is cut
#                                       at that byte and the process SIGKILLs itself (a crash
#                                       in the middle of a write)
#   GRADWISE_TEST_ENOSPC_AFTER_BYTES=n  the write that passes n bytes fails with ENOSPC (a full
#                                       disk)
KILL_AFTER_BYTES = "GRADWISE_TEST_KILL_AFTER_BYTES"
ENOSPC_AFTER_BYTES = "GRADWISE_TEST_ENOSPC_AFTER_BYTES"
HOOK_FILES = "GRADWISE_TEST_HOOK_FILES"
_hooked_bytes = 0  # bytes written so far by atomic writes the hooks count


def _test_hooks(tmp_path: Path, path: Path) -> None:
    global _hooked_bytes
    kill, full = os.environ.get(KILL_AFTER_BYTES), os.environ.get(ENOSPC_AFTER_BYTES)
    if kill is None and full is None:
        return
    if not fnmatch.fnmatch(path.name, os.environ.get(HOOK_FILES, "*")):
        return
    before = _hooked_bytes
    _hooked_bytes += tmp_path.stat().st_size
    if kill is not None and _hooked_bytes > int(kill):
        os.truncate(tmp_path, int(kill) - before)
        os.kill(os.getpid(), signal.SIGKILL)
    if full is not None and _hooked_bytes > int(full):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def reset_test_hooks() -> None:
    """Start counting the hooks' bytes from zero again."""
    global _hooked_bytes
    _hooked_bytes = 0


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def to_jsonable(value: Any) -> Any:
    """Convert numpy/torch scalars and arrays, tuples and paths into plain JSON types."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):  # numpy arrays/scalars, torch tensors
        return to_jsonable(value.tolist())
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def atomic_write_json(path: str | Path, data: Any) -> Path:
    return atomic_write_text(path, json.dumps(to_jsonable(data), indent=2) + "\n")


_ABSENT: Any = object()


def read_json(path: str | Path, default: Any = _ABSENT, *, lenient: bool = False) -> Any:
    """A JSON file's content.

    An absent file returns ``default`` (without one it is a
    :class:`~gradwise.errors.CheckpointError`). A file that cannot be read or parsed is a
    one-line ``CheckpointError`` naming it, or ``default`` with ``lenient=True`` (listings and
    best-effort evidence that must not stop at one damaged file).
    """
    from gradwise.errors import CheckpointError

    path = Path(path)
    if not path.is_file():
        if default is _ABSENT:
            raise CheckpointError(f"{path}: no such file")
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        if lenient and default is not _ABSENT:
            return default
        reason = f"{exc.msg}, line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else exc
        raise CheckpointError(f"{path}: not valid JSON ({reason})") from None


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """One object per non-empty line of a JSON-lines file (``[]`` when the file is absent).

    A torn last line (a writer stopped mid-line) is skipped; a bad line elsewhere is a
    :class:`~gradwise.errors.CheckpointError` naming the file and line.
    """
    from gradwise.errors import CheckpointError

    path = Path(path)
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise CheckpointError(f"{path}: line {number} is not valid JSON") from None
    return records


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a ``warnings.warn`` in the calling function point at the
    user's code: the frame just outside the outermost gradwise frame on the stack (so library
    frames between gradwise frames, e.g. pandas calling back into gradwise, are skipped too)::

        warnings.warn("imputed missing values ...", stacklevel=user_stacklevel())

    (Python 3.12's ``skip_file_prefixes`` does this; 3.11 has no such argument.)
    """
    frame = sys._getframe(1)  # the function about to call warnings.warn: stacklevel 1
    level, outermost = 1, 1
    while frame is not None:
        if frame.f_code.co_filename.startswith(_PACKAGE_DIR):
            outermost = level
        frame = frame.f_back
        level += 1
    # one beyond the outermost gradwise frame; when gradwise is the whole stack (the command
    # line), the outermost frame itself
    return outermost + 1 if outermost + 1 < level else outermost
