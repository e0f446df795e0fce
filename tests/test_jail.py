"""The walls come up as an ordinary user too (a TA's laptop), through a user namespace."""
from __future__ import annotations

import os
import shutil
import subprocess
import textwrap

import pytest

from helpers import ROOT

PROBE = textwrap.dedent('''
    import json, os, socket, sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from gradeworker import jail
    from gradeworker.walls import JailSettings
    pid = os.fork()
    if pid == 0:
        layers = jail.enter(JailSettings(enabled=True, uid=61000, gid=61000, tmpfs_bytes=1 << 20), 1)
        seen = {"layers": layers, "root": sorted(os.listdir("/")),
                "processes": [p for p in os.listdir("/proc") if p.isdigit()]}
        for name, action in (("shadow", lambda: open("/etc/shadow").read()),
                             ("tcp", lambda: socket.create_connection(("127.0.0.1", 22), timeout=1)),
                             ("write_root", lambda: open("/x", "w")),
                             ("write_own_memory", lambda: open("/proc/self/mem", "r+b"))):
            try:
                action()
                seen[name] = "allowed"
            except Exception as exc:
                seen[name] = type(exc).__name__
        print(json.dumps(seen), flush=True)
        os._exit(0)
    os.waitpid(pid, 0)
''')


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("su") or not os.path.exists("/usr/bin/python3"),
                    reason="needs root to become an ordinary user (su) and the system's python3")
def test_do_the_walls_hold_for_an_ordinary_user():
    import json
    import tempfile
    from pathlib import Path
    folder = Path(tempfile.mkdtemp(prefix="jail-probe-"))  # pytest's tmp_path is root's alone
    try:
        (folder / "gradeworker").mkdir()
        for name in ("__init__.py", "jail.py", "walls.py"):  # the jail imports nothing else of the package
            shutil.copy(ROOT / "course" / "gradeworker" / name, folder / "gradeworker" / name)
        (folder / "probe.py").write_text(PROBE)
        for path in (folder, *folder.iterdir(), *(folder / "gradeworker").iterdir()):
            path.chmod(0o755)
        done = subprocess.run(["su", "nobody", "-s", "/bin/sh", "-c", f"/usr/bin/python3 {folder / 'probe.py'}"],
                              capture_output=True, text=True, timeout=60, cwd="/")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    for wall in ("user_namespace", "namespaces", "own_proc", "filesystem"):  # walls.Wall's ids
        assert wall in seen["layers"], (seen["layers"], done.stderr)
    assert seen["shadow"] == "FileNotFoundError" and seen["tcp"] != "allowed" and seen["write_root"] != "allowed"
    assert seen["write_own_memory"] != "allowed"  # no uid drop here: the read-only /proc is what stops it
    assert seen["processes"] == ["1"] and "work" not in seen["root"]
