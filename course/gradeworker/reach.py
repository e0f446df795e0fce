"""What the worker checks it cannot reach, before any student code runs (the walls themselves are ``jail.py``'s)."""
from __future__ import annotations

import importlib.util
import os
import sys


def whereabouts() -> dict:
    """Where this worker runs (its folder and uid, for the grader's record); what it can reach is ``reachable``."""
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
