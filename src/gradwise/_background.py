"""A small recurring task on a daemon thread for the length of a block (heartbeats)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def every(
    seconds: float, action: Callable[[], None], name: str, now: bool = True
) -> Iterator[None]:
    """Call ``action`` every ``seconds`` (first at once, unless ``now`` is false) on a daemon
    thread while the block runs; the thread is stopped and joined when the block ends."""
    stop = threading.Event()

    def loop() -> None:
        if not now and stop.wait(seconds):
            return
        while True:
            action()
            if stop.wait(seconds):
                return

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
