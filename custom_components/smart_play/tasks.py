"""Small asyncio helpers shared by the controller and the optional features."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any


async def async_cancel_tasks(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel the tasks that are still running and wait until all of them are done."""
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
