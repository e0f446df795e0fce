"""Where the course's data lives, resolved in one documented order.

1. the ``root`` argument of a loader;
2. the environment variable ``D2L_DATA_ROOT``;
3. ``data_root = "..."`` in a ``d2lcourse.toml`` in the current folder or one of its parents
   (a relative path is taken relative to that file);
4. ``~/.d2lcourse.toml``, the same key;
5. ``~/d2l-data``.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

ENV_VAR = "D2L_DATA_ROOT"
CONFIG_NAME = "d2lcourse.toml"


def _from_config(path: Path) -> Path | None:
    try:
        value = tomllib.loads(path.read_text(encoding="utf-8")).get("data_root")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    if not value:
        return None
    root = Path(os.path.expanduser(str(value)))
    return root if root.is_absolute() else (path.parent / root)


def resolve_data_root(root: str | os.PathLike | None = None) -> tuple[Path, str]:
    """The data root folder and where that setting came from, by the order above (it need not exist)."""
    if root:
        return Path(root).expanduser(), "the root argument"
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser(), f"${ENV_VAR}"
    here = Path.cwd()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file() and (found := _from_config(candidate)) is not None:
            return found, str(candidate)
    home_config = Path.home() / f".{CONFIG_NAME}"
    if home_config.is_file() and (found := _from_config(home_config)) is not None:
        return found, str(home_config)
    return Path.home() / "d2l-data", "the default"


def data_root(root: str | os.PathLike | None = None) -> Path:
    return resolve_data_root(root)[0]
