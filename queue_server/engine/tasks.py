"""Stopping a background task for certain."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)


async def cancel_and_wait(task: asyncio.Task[Any], patience: float = 5.0) -> None:
    """Cancel `task` and wait until it has ended, cancelling again while it runs on.

    A cancel can be swallowed by what the task awaits (redis-py when it lands while a reply is
    read; `asyncio.wait_for` on Python 3.11 when it lands as the awaited thing completes): the
    task then goes on to its next wait, and a plain `await task` would wait for ever.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
        if loop.time() > deadline and not task.done():
            log.warning("task %s did not stop within %.0f s; left behind", task.get_name(), patience)
            return
    if not task.cancelled() and task.exception() is not None:
        log.debug("task %s ended with %r", task.get_name(), task.exception())
