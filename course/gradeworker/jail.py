"""The operating-system walls around a submission's processes, raised in a child of the fork server.

``enter(settings)`` runs first in the freshly forked child, before any student code. Each wall is tried
in turn; a host that refuses one (no user namespaces in a container, no seccomp library) leaves the
others standing, and ``enter`` returns the ids of the walls that hold (``walls.Wall``, each declared there
with its text), for every result to record:

- namespaces: mount, network (no interfaces but a downed loopback), IPC, UTS and pid (the loaded
  notebook is pid 1 of its own pid namespace: when it goes, every process it left behind goes too);
- a minimal read-only filesystem built from bind mounts: the system's /usr, the Python installation,
  the environment's site-packages and the course package at /opt/course, a few files of /etc, a
  minimal /dev, a fresh read-only /proc; a private size-capped tmpfs for /tmp, the work dir and /dev/shm. The
  checkout, the home folder, the hidden graders and the output folders are simply not there, and the data
  files bundled with packages (``JailSettings.hidden``: scikit-learn's digits, the fallback data set) are covered
  by an empty folder;
- an unprivileged uid and gid for the slot (when started as root), no new privileges;
- resource limits (``apply_limits``: cpu time, file size, open files, no core dumps), which the worker
  applies to itself before the first cell and every process it starts inherits;
- a seccomp filter: no ptrace or process_vm_*, no sockets but AF_UNIX, no mount, bpf, keyctl,
  perf_event_open, kexec, namespaces or module loading; ``deny_fork`` adds no new processes (threads
  stay allowed), applied in each test's worker.

Kept free of torch so that it can run before anything else in the child; it imports nothing of the
package but ``walls``.
"""
from __future__ import annotations

import ctypes
import errno
import os
import resource
import signal
import socket
import sys

from .walls import JailSettings, Wall

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_THREAD = 0x10000000, 0x20000000, 0x40000000, 0x00010000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}

_libc = ctypes.CDLL(None, use_errno=True)
_DEVICES = ("null", "zero", "full", "random", "urandom")
_ETC = ("ld.so.cache", "ld.so.conf", "localtime", "passwd", "group", "nsswitch.conf", "hosts")
DENIED = ("ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "bpf",
          "perf_event_open", "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load", "init_module",
          "finit_module", "delete_module", "unshare", "setns", "open_by_handle_at", "userfaultfd", "chroot",
          "swapon", "swapoff", "reboot", "acct", "quotactl", "syslog")


class JailError(OSError):
    pass


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise JailError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                       data.encode() if data else None), f"mount {source} on {target}")


def _bind(source: str, target: str, writable: bool = False) -> None:
    _mount(source, target, None, MS_BIND | MS_REC)
    flags = MS_BIND | MS_REMOUNT | MS_NOSUID | (0 if writable else MS_RDONLY)
    _mount("none", target, None, flags | (MS_NODEV if not target.startswith("/dev") else 0))


def _pivot_root(new_root: str, put_old: str) -> None:
    number = SYS_PIVOT_ROOT[os.uname().machine]
    _check(_libc.syscall(number, new_root.encode(), put_old.encode()), "pivot_root")


def prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, value, 0, 0, 0), f"prctl {option}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def _touch_target(root: str, path: str, is_dir: bool) -> str:
    target = root + path
    if is_dir:
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    return target


def _build_root(settings: JailSettings, root: str) -> None:
    """Populate the tmpfs at ``root`` with bind mounts of what the worker may read, nothing else."""
    for top in ("usr", "bin", "sbin", "lib", "lib64", "lib32"):
        host = f"/{top}"
        if os.path.islink(host):
            os.symlink(os.readlink(host), f"{root}/{top}")
        elif os.path.isdir(host):
            _bind(host, _touch_target(root, host, True))
    for name in _ETC:
        host = f"/etc/{name}"
        if os.path.isfile(host):
            _bind(host, _touch_target(root, host, False))
    # The private /tmp first: a bind below it (an environment in /tmp/ci/.venv) must land on top, not be hidden.
    size = settings.tmpfs_bytes
    _mount("tmpfs", _touch_target(root, "/tmp", True), "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={size}")
    for source, target in settings.binds:
        if os.path.exists(source):
            _bind(source, _touch_target(root, target, os.path.isdir(source)))
    for folder in settings.hidden:  # data bundled with a package (the course's fallback data set's)
        if os.path.isdir(root + folder):
            _mount("tmpfs", root + folder, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "mode=555,size=4k")
    _mount("tmpfs", _touch_target(root, "/dev", True), "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k")
    for name in (*_DEVICES, *settings.devices):
        if os.path.exists(f"/dev/{name}"):
            _bind(f"/dev/{name}", _touch_target(root, f"/dev/{name}", False), writable=True)
    _mount("tmpfs", _touch_target(root, "/dev/shm", True), "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={size}")
    os.makedirs(f"{root}/proc", exist_ok=True)


def _namespaces(pid: bool = True) -> list[Wall]:
    """Unshare what the host allows; as an ordinary user, a user namespace first gives the rights to. ``pid``
    False: this process is already pid 1 of a new pid namespace (``PidNamespaces``)."""
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | (CLONE_NEWPID if pid else 0)
    uid, gid = os.getuid(), os.getgid()
    if uid != 0:
        _check(_libc.unshare(CLONE_NEWUSER), "unshare(user)")
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"0 {uid} 1")
        _write("/proc/self/gid_map", f"0 {gid} 1")
    _check(_libc.unshare(flags), "unshare(mount, net, ipc, uts, pid)" if pid else "unshare(mount, net, ipc, uts)")
    return [Wall.USER_NAMESPACE] * (uid != 0) + [Wall.NAMESPACES]


def _filesystem(settings: JailSettings) -> None:
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    root = "/tmp/.autograder-root-%d" % os.getpid()  # on the host's /tmp, but only in our mount namespace
    os.makedirs(root, exist_ok=True)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m")
    _build_root(settings, root)
    os.makedirs(f"{root}/.old", exist_ok=True)
    _pivot_root(root, f"{root}/.old")
    os.chdir("/")  # the old root stays at /.old until /proc is mounted: see _seal


def _seal() -> None:
    """Drop the host's root and make ours read-only. Done after /proc is mounted because, in a user
    namespace, the kernel only lets a new /proc be mounted while a full view of the host's is in reach."""
    _check(_libc.umount2(b"/.old", MNT_DETACH), "umount old root")
    os.rmdir("/.old")
    _mount("none", "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def preload() -> None:
    """Import what the walls need while the host's files are still in view."""
    try:
        import pyseccomp  # noqa: F401
    except Exception:
        pass


def enter(settings: JailSettings, log_fd: int, pid_one: bool = False) -> list[Wall]:
    """Raise the walls in this (just forked) process. Returns in the loaded notebook's process, with the
    walls that hold; the forking parent stays behind as the namespace's keeper and never returns.
    ``pid_one``: this process was forked into a new pid namespace already (the fork server's
    ``PidNamespaces``, as root): it is pid 1, and no keeper is forked."""
    held: list[Wall] = []
    if not settings.enabled:
        return held
    as_root = os.getuid() == 0
    try:
        held += _namespaces(pid=not pid_one)
        pid_namespace = True
    except (JailError, OSError) as exc:
        print(f"jail: namespaces refused ({exc}); going on without them", file=sys.stderr)
        pid_namespace = False
    if pid_namespace:
        try:
            _filesystem(settings)
            private = True
        except (JailError, OSError) as exc:
            print(f"jail: private filesystem refused ({exc})", file=sys.stderr)
            private = False
        if not pid_one:
            _keep_namespace()  # returns in pid 1 of the new pid namespace
        try:
            # Read-only: no writing to /proc/self/mem, the one way left to patch the worker's own memory
            # (and its forbidden-call monitor) without a name the notebook scan flags.
            _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
            held.append(Wall.OWN_PROC)
        except (JailError, OSError) as exc:
            print(f"jail: /proc refused ({exc})", file=sys.stderr)
        if private:
            try:
                _seal()
                held.append(Wall.FILESYSTEM)
            except (JailError, OSError) as exc:
                print(f"jail: could not drop the host's root ({exc})", file=sys.stderr)
                os._exit(70)  # never run student code with the host's files in reach at /.old
    held += _drop_privileges(settings.uid if as_root else None, settings.gid)
    held += [Wall.SECCOMP] if install_seccomp(deny_fork=False) else []
    return held


class PidNamespaces:
    """The fork server's way to fork each worker straight into a pid namespace of its own, as pid 1, where it may
    (as root): ``unshare(CLONE_NEWPID)`` before the fork, and back to its own namespace after it (``setns``), since
    one namespace takes one pid 1. It spares every worker the keeper's fork (``_keep_namespace``): a second copy
    of a process holding torch, ~11 ms of page tables at its start and as much again at its end.

    What the worker gets is the same namespace, the same pid 1 and the same end: killing it ends every process
    of its namespace; how it ended is its own status, with no keeper to pass it on. Where the kernel refuses
    (a container without CAP_SYS_ADMIN, an ordinary user: the worker makes a user namespace first), ``before_fork``
    says False and the worker's own walls go as before. ``usable``: ``works_here()``, asked once, with the walls on."""

    def __init__(self, usable: bool) -> None:
        self.usable = usable
        self._own: int | None = None  # this process's own pid namespace, to go back to after each fork

    @staticmethod
    def works_here() -> bool:
        """Whether the kernel lets this process make a pid namespace for its next child and go back to its own
        after it, twice over; tried in a child of its own (before the fork server imports torch, so cheap), since a
        ``setns`` refused halfway would leave the next worker in the last one's namespace."""
        if os.getuid() != 0:
            return False
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                own = os.open("/proc/self/ns/pid", os.O_RDONLY)
                for _ in range(2):
                    _check(_libc.unshare(CLONE_NEWPID), "unshare(pid)")
                    _check(_libc.setns(own, CLONE_NEWPID), "setns(own pid namespace)")
                code = 0
            except BaseException:
                pass
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0

    def before_fork(self) -> bool:
        """Whether the next fork's child is pid 1 of a new pid namespace."""
        if not self.usable:
            return False
        try:
            if self._own is None:
                self._own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
            _check(_libc.unshare(CLONE_NEWPID), "unshare(pid)")
        except OSError:
            self.usable = False
            return False
        return True

    def after_fork(self) -> None:
        """In the parent, at once: its next child must not join the namespace this one's child has."""
        if self._own is not None:
            _check(_libc.setns(self._own, CLONE_NEWPID), "setns(own pid namespace)")


def _keep_namespace() -> None:
    """Fork pid 1 of the new pid namespace; this process (the keeper) waits for it and exits as it does.

    The grader knows and kills the keeper; pid 1 dies with it (PR_SET_PDEATHSIG), and with pid 1 the
    kernel ends every process of the namespace, daemons that double-forked and called setsid included.
    """
    pid = os.fork()
    if pid == 0:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        return
    os.closerange(3, 1 << 16)  # the keeper holds no channel: the grader must see EOF when pid 1 dies
    signal.signal(signal.SIGTERM, lambda *_: os._exit(143))
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            os._exit(1)
    if os.WIFSIGNALED(status):  # end the same way, so that the grader reports "signal 11", not "exit 139"
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
        os._exit(128 + os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status))


def _drop_privileges(uid: int | None, gid: int | None) -> list[Wall]:
    held = []
    if os.getuid() == 0 and uid is not None and gid is not None:
        try:
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            held.append(Wall.UNPRIVILEGED_UID)
        except OSError as exc:
            print(f"jail: could not drop to uid {uid} ({exc})", file=sys.stderr)
    try:
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        held.append(Wall.NO_NEW_PRIVILEGES)
    except OSError:
        pass
    return held


def install_seccomp(deny_fork: bool) -> bool:
    """A deny list of dangerous system calls; with ``deny_fork``, no new processes (threads allowed).
    Whether the filter is in force."""
    try:  # imported by preload() before the walls went up: inside, ldconfig cannot find the library
        import pyseccomp as seccomp
    except Exception as exc:  # not installed, or libseccomp missing (it raises RuntimeError then)
        print(f"jail: no seccomp ({exc})", file=sys.stderr)
        return False
    try:
        flt = seccomp.SyscallFilter(seccomp.ALLOW)
        for name in DENIED:
            flt.add_rule(seccomp.ERRNO(errno.EPERM), name)
        flt.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
        if deny_fork:
            flt.add_rule(seccomp.ERRNO(errno.EPERM), "fork")
            flt.add_rule(seccomp.ERRNO(errno.EPERM), "vfork")
            flt.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_THREAD, 0))
            flt.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")  # glibc falls back to clone, which is checked
        flt.load()
    except Exception as exc:  # the library is there but the kernel or a container refused
        print(f"jail: seccomp refused ({exc})", file=sys.stderr)
        return False
    return True


def inside(config: dict, walls: list[Wall]) -> dict:
    """Inside the private filesystem the work dir is on its tmpfs and the course package at /opt/course."""
    if Wall.FILESYSTEM not in walls:
        return {}
    moved = dict(JailSettings.from_wire(config.get("jail")).binds)
    sys.path[:] = [moved.get(p, p) for p in sys.path]
    os.makedirs("/tmp/work", exist_ok=True)
    return {"workdir": "/tmp/work", "path": list(sys.path)}


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
