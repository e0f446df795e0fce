"""What the worker does to itself before any student code runs, and what it checks it cannot reach."""
from __future__ import annotations

import importlib.util
import os
import resource
import signal
import sys


def isolation_report() -> dict:
    """Where this worker runs; the checks of what it can reach happen in ``reachable``."""
    return {"cwd": os.getcwd(), "uid": os.getuid()}


def reachable(modules: list[str]) -> list[str]:
    """Which of the grader's private modules this process could import, checked rather than assumed.

    Besides a plain import, an editable install's import hook (``__editable___*_finder.py``, inert
    here because ``-S`` skips the ``.pth`` that activates it) would hand them over to anyone who
    imports and installs it: that counts as reachable too.
    """
    found = []
    for name in modules:
        try:
            if importlib.util.find_spec(name) is not None:
                found.append(name)
        except (ImportError, ValueError):
            pass
    tops = {m.split(".")[0] for m in modules}
    for entry in sys.path:
        try:
            hooks = [f for f in os.listdir(entry) if f.startswith("__editable__") and f.endswith("finder.py")]
        except OSError:
            continue
        for hook in hooks:
            with open(os.path.join(entry, hook), encoding="utf-8", errors="replace") as fh:
                text = fh.read()
            found += [f"{top} (via {hook})" for top in tops if f"'{top}'" in text or f'"{top}"' in text]
    return found


def apply_limits(limits: dict) -> None:
    """Resource limits that cost nothing and hold for every process the student starts."""
    pairs = {"cpu_seconds": resource.RLIMIT_CPU, "file_bytes": resource.RLIMIT_FSIZE,
             "open_files": resource.RLIMIT_NOFILE, "address_space_bytes": resource.RLIMIT_AS}
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for key, which in pairs.items():
        value = limits.get(key)
        if value:
            soft, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, value))
    # Writing past the file-size limit raises OSError instead of killing the worker with SIGXFSZ.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
