"""`make run` starts the worker, the refresher and the server in one shell; stopping it stops them
all, once, and cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"


def run_recipe_trap() -> str:
    """The `trap …;` that begins the shell line of the `run` recipe."""
    match = re.search(r"^\t@(trap '.*?' [A-Z ]+);", MAKEFILE.read_text(), re.MULTILINE)
    assert match, "the run recipe starts its processes under a trap"
    return match.group(1)


def test_stopping_make_run_stops_every_process_without_crashing_the_shell():
    script = f"{run_recipe_trap()}; sleep 60 & sleep 60 & sleep 60"
    shell = subprocess.Popen(
        ["sh", "-c", script], start_new_session=True, stderr=subprocess.PIPE, text=True
    )
    time.sleep(0.3)

    os.killpg(shell.pid, signal.SIGTERM)
    _, errors = shell.communicate(timeout=10)

    assert shell.returncode != -signal.SIGSEGV and "Segmentation" not in errors
    left = subprocess.run(["pgrep", "-g", str(shell.pid)], capture_output=True, text=True)
    assert left.stdout.split() == []
