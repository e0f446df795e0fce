"""What the fork server builds once per installed library and keeps between gradings.

Two things cost every fresh grading (``autograder grade`` of one notebook, Gradescope's one submission per
container) the same work again: matplotlib's font list (~0.5 s: it scans the system's fonts whenever its
cache folder is new, and the fork server's HOME is a fresh folder) and the forbidden-call monitor's table of
ATen operators (``dispatch.operator_index``). Both are kept in one folder, keyed by the library they come
from: matplotlib names its file by its own version; the operator table's file carries torch's version, build
and the size and time of its compiled library, and is ignored when any of them differs.

Who writes here: only the fork server, a trusted process of the grader's user that never runs student code,
before it forks its first worker. Workers never learn the folder's name (it is only in the fork server's own
configuration; matplotlib reads a copy of its font list in the fork server's private HOME) and, behind the
filesystem wall, cannot see it (it is not among the jail's read-only binds).
Where that wall does not hold, student code runs as the grader's user and could write any of that user's
files, the harness's own source among them: the cache is no weaker than those. A folder that is not ours or
that others may write is not used; a file that does not parse, or does not match the installed torch, is
ignored and built again. Files are replaced whole (write, then rename): a reader never sees half a file.
"""
from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

MATPLOTLIB = "matplotlib"  # matplotlib-<version>/: its font lists (fontlist-v*.json, matplotlib's own format)


def usable_folder(path: str | os.PathLike | None) -> Path | None:
    """``path`` made if missing (mode 0700), or None when it is unset or not safe to use: not a folder of
    ours, or writable by group or others."""
    if not path:
        return None
    folder = Path(path)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        return None
    return folder


def read_json(path: Path) -> Any:
    """The file's JSON, or None when it is missing, not ours, or does not parse."""
    data = read_bytes(path)
    try:
        return json.loads(data) if data is not None else None
    except ValueError:
        return None


def read_bytes(path: Path) -> bytes | None:
    """The file's bytes, or None when it is missing, not a plain file of ours, or writable by others."""
    try:
        with open(path, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
                return None
            return fh.read()
    except OSError:
        return None


def write_json(path: Path, value: Any) -> None:
    """Replace ``path`` whole with ``value`` as JSON (mode 0600); a cache that cannot be written is skipped."""
    write_bytes(path, json.dumps(value).encode())


def write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` whole with ``data`` (mode 0600): written beside it, then renamed over it."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
