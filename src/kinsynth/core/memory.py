"""How much memory a request may take: checked before a large table is built, not after.

Building a table past the machine's memory ends in a ``MemoryError`` traceback at best and in the
kernel's OOM killer (no message at all) at worst; a request is compared with what is available
first, so the refusal is one line that says how much it needed.
"""

from __future__ import annotations

import os
from pathlib import Path

GIB = 1 << 30


def _cgroup_room() -> int | None:
    """What the container's memory limit leaves (cgroup v2, then v1), None when unlimited or
    unknown."""
    for limit_file, used_file in (("memory.max", "memory.current"),
                                  ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        try:
            limit = Path("/sys/fs/cgroup", limit_file).read_text().strip()
            used = Path("/sys/fs/cgroup", used_file).read_text().strip()
        except OSError:
            continue
        if limit.isdigit() and int(limit) < 1 << 60 and used.isdigit():  # v1: huge = no limit
            return max(int(limit) - int(used), 0)
    return None


def available_bytes() -> int | None:
    """Memory this process can still take: the kernel's MemAvailable, capped by a container's
    limit; None where neither can be read."""
    available = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        pass
    if available is None and hasattr(os, "sysconf"):
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError):
            available = None
    room = _cgroup_room()
    if room is not None:
        available = room if available is None else min(available, room)
    return available


def gib(size: float) -> str:
    """A byte count as a message shows it."""
    return f"{size / GIB:.1f} GB"
