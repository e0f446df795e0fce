"""The walls around a submission's processes, declared once: their ids, their text, and the jail's settings.

Both sides import this module: the worker's jail (``jail.py``) raises the walls and reports the ids of
those that held; the trusted grader (``autograder``) sends the ``JailSettings``, reads the ids back
(``Wall.parse`` keeps only declared ones: a worker cannot make up a wall, nor its text), and shows each
with its text from ``WALLS``. Adding a wall is its code in ``jail.enter`` plus one line in ``WALLS`` (the
model is nsjail's ``config.proto`` and its one line per wall in ``containProc``).

Imports nothing but the standard library: ``jail.py`` runs first in a freshly forked child.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Wall(str, Enum):
    """An operating-system wall that held around a worker."""

    USER_NAMESPACE = "user_namespace"
    NAMESPACES = "namespaces"
    OWN_PROC = "own_proc"
    FILESYSTEM = "filesystem"
    UNPRIVILEGED_UID = "unprivileged_uid"
    NO_NEW_PRIVILEGES = "no_new_privileges"
    SECCOMP = "seccomp"

    @classmethod
    def parse(cls, ids: Any) -> list["Wall"]:
        """The declared walls among what a worker reported, in its order; anything else is dropped."""
        known = {w.value for w in cls}
        return [cls(i) for i in ids if isinstance(i, str) and i in known] if isinstance(ids, list) else []


@dataclass(frozen=True)
class Declared:
    text: str  # what staff read in a result's protections ({uid}: the settings' uid)
    strict: bool = False  # --strict refuses to grade unless it holds


WALLS: dict[Wall, Declared] = {
    Wall.USER_NAMESPACE: Declared("user namespace"),
    Wall.NAMESPACES: Declared("mount, network, IPC, UTS and pid namespaces", strict=True),
    Wall.OWN_PROC: Declared("own /proc, read-only"),
    Wall.FILESYSTEM: Declared("minimal read-only filesystem, private size-capped /tmp", strict=True),
    Wall.UNPRIVILEGED_UID: Declared("unprivileged uid {uid}"),
    Wall.NO_NEW_PRIVILEGES: Declared("no new privileges"),
    Wall.SECCOMP: Declared("seccomp: no ptrace, no sockets but AF_UNIX"),
}
STRICT = tuple(w for w, d in WALLS.items() if d.strict)


@dataclass(frozen=True)
class JailSettings:
    """What the jail builds for one worker. Travels as plain data in the worker's start config."""

    enabled: bool = False
    binds: list[tuple[str, str]] = field(default_factory=list)  # (host path, path inside), read-only
    hidden: list[str] = field(default_factory=list)  # folders inside the binds covered by an empty tmpfs
    uid: int | None = None  # dropped to when the grader runs as root
    gid: int | None = None
    devices: list[str] = field(default_factory=list)  # device files besides null, zero, ... (the GPU's)
    tmpfs_bytes: int = 1 << 30  # the private /tmp and /dev/shm, each

    def to_wire(self) -> dict:
        return asdict(self)

    @classmethod
    def from_wire(cls, data: dict | None) -> "JailSettings":
        data = data or {}
        return cls(enabled=bool(data.get("enabled")), binds=[(str(s), str(t)) for s, t in data.get("binds", [])],
                   hidden=[str(h) for h in data.get("hidden", [])], uid=data.get("uid"), gid=data.get("gid"),
                   devices=list(data.get("devices", [])), tmpfs_bytes=int(data.get("tmpfs_bytes", 1 << 30)))


def describe(walls: list[Wall], settings: JailSettings) -> list[str]:
    """Each wall's text, as a result's protections list it."""
    return [WALLS[w].text.format(uid=settings.uid) for w in walls]


def missing_for_strict(walls: list[Wall]) -> list[str]:
    """The texts of the walls --strict needs that are not among ``walls``."""
    return [WALLS[w].text for w in STRICT if w not in walls]
