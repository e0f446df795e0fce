"""Defaults shared by the API functions and the command line, stated once (and importable without torch,
so that the CLI can start the fork server's `import torch` before its own)."""
from pathlib import Path

DEVICE = "auto"  # cuda when there is one
SEED = 0  # the run seed every test's seed derives from
JOBS = 0  # parallel graders; 0: half the CPU cores
DEMO_OUT = Path("build/demo")
