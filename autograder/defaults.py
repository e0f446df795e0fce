"""Defaults shared by the API functions and the command line, stated once (and importable without torch,
so that the CLI can start the fork server's `import torch` before its own)."""
import os
from pathlib import Path

DEVICE = "auto"  # cuda when there is one
SEED = 0  # the run seed every test's seed derives from
JOBS = 0  # parallel graders; 0: half the CPU cores
DEMO_OUT = Path("build/demo")


def cache_dir() -> Path:
    """Where the fork server keeps what it builds once per installed library (``gradeworker.cache``):
    $AUTOGRADER_CACHE, else $XDG_CACHE_HOME/autograder, else ~/.cache/autograder."""
    if os.environ.get("AUTOGRADER_CACHE"):
        return Path(os.environ["AUTOGRADER_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "autograder"
