"""``autograder probe``: which walls hold around student code on this host, tried from inside a worker."""
from __future__ import annotations

from .launcher import Launcher
from .notebook import CodeCell
from .remote import Submission

# Run in a worker as student code would: each line tries one thing the walls must stop.
ATTEMPTS = """
import os, socket

def attempts(checkout):
    out = {"uid": os.getuid(), "pid": os.getpid(),
           "processes seen": len([p for p in os.listdir('/proc') if p.isdigit()])}
    def tried(name, action):
        try:
            action()
            out[name] = "ALLOWED"
        except Exception as exc:
            out[name] = f"blocked ({type(exc).__name__})"
    tried("read the hidden graders", lambda: os.listdir(checkout + "/autograder"))
    tried("read the references", lambda: os.listdir(checkout + "/solutions"))
    tried("read /etc/shadow", lambda: open('/etc/shadow').read())
    tried("open a TCP socket to 127.0.0.1", lambda: socket.create_connection(('127.0.0.1', 22), timeout=1))
    tried("write to the course package", lambda: open('/opt/course/x', 'w'))
    def start_process():
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
    tried("start a process", start_process)
    return out
"""


def probe(course_root: str) -> int:
    with Launcher() as launcher:
        submission = Submission(launcher, [CodeCell(1, ATTEMPTS)], {})
        try:
            submission.reset(0)
            seen = submission.attempts(course_root)
        finally:
            submission.close()
        layers = submission.protections()
        walls = submission.walls()
    print("walls around student code on this host:")
    print("\n".join(f"  {layer}" for layer in [*launcher.protections, *layers]))
    print("tried from inside a worker:")
    print("\n".join(f"  {name}: {outcome}" for name, outcome in seen.items()))
    return 1 if launcher.missing_walls(walls) else 0
