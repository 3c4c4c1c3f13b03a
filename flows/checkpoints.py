"""A test-only hook to find a run at a given step (the kill test uses it; documented in docs/runbook.md).

:func:`checkpoint` is called by the monthly flow as each step starts (and, for
``publish``, inside the open publish transaction, just before the commit).  It
does nothing unless one of these environment variables is set:

* ``EDI_RECRUIT_TEST_STEP_FILE``: a file the run appends each step's name to, as it reaches it;
* ``EDI_RECRUIT_TEST_PAUSE_AT``: a step name; the run sleeps there for
  ``EDI_RECRUIT_TEST_PAUSE_SECONDS`` (default 600), so a test can kill it at that point.

It never changes what a run computes or writes.
"""
from __future__ import annotations

import os
import time

STEPS = ("ingest", "validation", "marts", "analyses", "publish", "report", "exports", "artifacts")
STEP_FILE_ENV = "EDI_RECRUIT_TEST_STEP_FILE"
PAUSE_AT_ENV = "EDI_RECRUIT_TEST_PAUSE_AT"
PAUSE_SECONDS_ENV = "EDI_RECRUIT_TEST_PAUSE_SECONDS"


def checkpoint(step: str) -> None:
    """Announce ``step`` to a waiting test and pause there if asked (no-op in normal runs)."""
    path = os.environ.get(STEP_FILE_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(step + "\n")
    if os.environ.get(PAUSE_AT_ENV) == step:
        time.sleep(float(os.environ.get(PAUSE_SECONDS_ENV, "600")))
