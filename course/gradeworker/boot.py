"""How a worker process starts, written once: raise the walls, settle inside them, serve the grader.

Two ways lead here: ``python -I -S -c BOOT`` for a worker started directly (the grader's ``provision.BOOT``
sets ``sys.path`` and calls ``main``), and the fork server's ``spawn``, which calls ``start_worker`` in each
freshly forked child. Either way the order is the same: the jail
(``jail.enter``: nothing of the student's has run yet), the paths as seen inside it (``jail.inside``),
then the worker (``server.run_worker``), which reports the walls that held.
"""
from __future__ import annotations


def start_worker(config: dict, chan_fd: int, pid_one: bool = False) -> None:
    """In the process that will load the notebook: walls first, then serve ``chan_fd``. Returns when done.
    ``pid_one``: the fork server forked it into a new pid namespace already (``jail.PidNamespaces``)."""
    from .jail import enter, inside
    from .walls import JailSettings
    walls = enter(JailSettings.from_wire(config.get("jail")), 1, pid_one)  # a namespace's keeper never returns
    from .server import run_worker
    run_worker(chan_fd, {**config, **inside(config, walls)}, walls)


def main(config: dict) -> None:
    """``BOOT``'s entry for a worker started without the fork server (that one's entry is ``forkserver.main``)."""
    from .jail import preload
    preload()
    start_worker(config, int(config["chan_fd"]))
