"""Keep the agent's resident memory flat while batches of hundreds of KiB come and go.

The agent's large allocations are short-lived: a batch's serialized bytes,
one read back from the buffer for sending, a gzip'd copy. With glibc's
defaults the threshold above which malloc uses mmap (and so returns the
memory at free) rises after the first such free, after which big buffers
come from the heap and the holes they leave stay resident. A fixed
threshold keeps them mmap'd: measured with `bench/replay.py` (draining a
backlog under a 5,000-series live load), RSS 45.4 MiB with the defaults,
42.0 with the threshold fixed at 128 KiB.

glibc reads the threshold from the environment only at process start, and
setting it from Python would need `ctypes`, which costs 1.2 MiB of RSS
itself; so the agent re-executes itself once with the variable set. Same
PID, same arguments, ~50 ms at start-up. Other C libraries ignore it.
"""

from __future__ import annotations

import os
import sys

VARIABLE = "MALLOC_MMAP_THRESHOLD_"
THRESHOLD_BYTES = 128 * 1024


def reexec_with_fixed_mmap_threshold() -> None:
    """Replace this process by itself with the threshold set; return if it already is (or cannot be)."""
    if VARIABLE in os.environ or not sys.platform.startswith("linux") or not sys.orig_argv:
        return
    os.environ[VARIABLE] = str(THRESHOLD_BYTES)
    try:
        os.execv(sys.executable, sys.orig_argv)
    except OSError:
        return  # carry on with glibc's defaults: only memory is at stake
