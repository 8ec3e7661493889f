"""Run a check as a user that file permissions bind.

Root writes through read-only permissions, and CI runs as root: there a check of what a read-only
folder or file does runs in a forked child that has dropped to ``nobody``, so it is never skipped.
"""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path


def run_unprivileged(check: Callable[[Path], None]) -> None:
    """Call ``check(folder)`` with a fresh folder it owns, as ``nobody`` when this process is root.

    A failure in the child (an assertion, any exception) is raised here as an AssertionError with
    the child's traceback.
    """
    if os.geteuid() != 0:
        folder = Path(tempfile.mkdtemp(prefix="lnnotebook-unprivileged-"))
        try:
            check(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    nobody = pwd.getpwnam("nobody")
    folder = Path(tempfile.mkdtemp(prefix="lnnotebook-unprivileged-"))
    os.chown(folder, nobody.pw_uid, nobody.pw_gid)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop root, run the check, report, and leave without pytest's teardown
        os.close(read_end)
        report = b""
        try:
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            check(folder)
        except BaseException:  # noqa: BLE001 (everything goes back to the parent)
            report = traceback.format_exc().encode() or b"failed"
        os.write(write_end, report)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as stream:
        report = stream.read()
    _, status = os.waitpid(pid, 0)
    shutil.rmtree(folder, ignore_errors=True)
    if report or os.waitstatus_to_exitcode(status) != 0:
        raise AssertionError(f"the check failed as user nobody:\n{report.decode(errors='replace')}")
