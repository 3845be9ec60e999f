"""The child's jail: resource limits, namespaces, an allow-listed file system, no privileges.

Child-side only, and trusted: everything here runs before any student code. The child
program is wire.py + values.py + this file + calls.py + child_main.py as one text (see
child_program.py), so this module imports only the stdlib and defines no names the
others define.

The file system view is built the way bubblewrap and nsjail build theirs, as an
allow-list: a fresh tmpfs becomes the root, and only what the submission needs is
bind-mounted into it, read-only, at the same paths as on the host:

    the interpreter and its standard library (site-packages / dist-packages masked),
    numpy's package folder and its bundled libraries (numpy.libs),
    the shared libraries the interpreter has mapped, and the system library folders,
    a minimal /dev (null, zero, full, random, urandom; a private /dev/shm),
    a new /proc (of the sandbox's own PID namespace), a private /tmp with the
    working folder in it.

Nothing else of the host exists in that view: no course (wherever its copies are),
no home folders, no other student's files.
"""
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # for the type checker only: the child runs without these imports
    from collections.abc import Sequence
    from typing import Any

# Linux constants (uapi headers); the stdlib does not expose them.
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 32, 4096, 8192, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522
O_PATH = getattr(os, "O_PATH", 0o10000000)
SIGKILL = 9
# pivot_root(2) has no libc wrapper; its number per architecture (others use MS_MOVE + chroot).
PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "armv7l": 218, "armv8l": 218,
              "i686": 217, "i386": 217, "ppc64le": 203, "ppc64": 203, "s390x": 217}
DEVICES = ("null", "zero", "full", "random", "urandom")
PACKAGE_FOLDERS = ("site-packages", "dist-packages")
TOP_LEVEL_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")

# statvfs f_flag bit -> mount flag; a bind remount must repeat the locked flags.
_STATVFS_TO_MS = (
    (1, MS_RDONLY), (2, MS_NOSUID), (4, MS_NODEV), (8, MS_NOEXEC),
    (1024, MS_NOATIME), (2048, MS_NODIRATIME), (4096, MS_RELATIME),
)


# --------------------------------------------------------------------------- limits


def apply_limits(limits: dict) -> None:
    """Lower this process's rlimits (never above the current hard limit); inherited by its children."""
    import resource

    wanted = [
        (resource.RLIMIT_CPU, limits["cpu"], limits["cpu"] + 1),  # SIGXCPU, then SIGKILL
        (resource.RLIMIT_AS, limits["memory"], limits["memory"]),
        (resource.RLIMIT_FSIZE, limits["file"], limits["file"]),
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_NOFILE, limits["nofile"], limits["nofile"]),
    ]
    for which, soft, hard in wanted:
        _, current_hard = resource.getrlimit(which)
        if current_hard != resource.RLIM_INFINITY:
            hard = min(hard, current_hard)
            soft = min(soft, hard)
        resource.setrlimit(which, (soft, hard))


# --------------------------------------------------------------------------- libc


class Libc:
    """The few libc calls the jail needs (ctypes: Python 3.11 has no os.mount or os.unshare)."""

    def __init__(self) -> None:
        import ctypes

        self.ctypes = ctypes
        self.lib = ctypes.CDLL(None, use_errno=True)
        self.lib.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                   ctypes.c_ulong, ctypes.c_char_p]
        self.lib.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
        self.lib.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong,
                                   ctypes.c_ulong, ctypes.c_ulong]
        self.lib.unshare.argtypes = [ctypes.c_int]
        self.lib.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]

    def _check(self, result: int, what: str) -> None:
        if result != 0:
            err = self.ctypes.get_errno()
            raise OSError(err, f"{what}: {os.strerror(err)}")

    def mount(self, source, target: str, fstype, flags: int, data=None) -> None:
        def enc(s):
            return None if s is None else os.fsencode(s)

        self._check(self.lib.mount(enc(source), enc(target), enc(fstype), flags, enc(data)),
                    f"mount {target}")

    def umount(self, target: str, flags: int = 0) -> None:
        self._check(self.lib.umount2(os.fsencode(target), flags), f"umount {target}")

    def prctl(self, option: int, arg: int = 0, arg3: int = 0) -> None:
        self._check(self.lib.prctl(option, arg, arg3, 0, 0), f"prctl({option})")

    def unshare(self, flags: int) -> None:
        self._check(self.lib.unshare(flags), "unshare")

    def sethostname(self, name: str) -> None:
        data = name.encode()
        self._check(self.lib.sethostname(data, len(data)), "sethostname")

    def pivot_root(self, new_root: str, put_old: str) -> bool:
        """pivot_root(2) where its syscall number is known; False elsewhere (caller moves)."""
        import platform

        number = PIVOT_ROOT.get(platform.machine())
        if number is None:
            return False
        self._check(self.lib.syscall(number, os.fsencode(new_root), os.fsencode(put_old)), "pivot_root")
        return True

    def clear_capability_sets(self) -> None:
        """capset(2) with effective, permitted and inheritable all empty."""
        ctypes: Any = self.ctypes

        class Header(ctypes.Structure):
            _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

        class Data(ctypes.Structure):
            _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                        ("inheritable", ctypes.c_uint32)]

        header, data = Header(LINUX_CAPABILITY_VERSION_3, 0), (Data * 2)()  # type: ignore[operator]
        self._check(self.lib.capset(ctypes.byref(header), data), "capset")


def die_with_parent(libc: Libc) -> None:
    """SIGKILL this process when its parent dies (cleared by fork and by a uid change: set again)."""
    libc.prctl(PR_SET_PDEATHSIG, SIGKILL)


# --------------------------------------------------------------------------- namespaces


def enter_namespaces(libc: Libc, jail: dict) -> None:
    """New mount, PID (for the children), network, IPC and UTS namespaces; a user namespace
    too when not real root (the only way an unprivileged process gets the others).

    In a user namespace this process's uid becomes 0 there, mapped to its own uid
    outside; the kernel counts the namespace's processes apart from every other
    sandbox's (RLIMIT_NPROC is per user namespace since Linux 5.14).
    """
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    if jail["mode"] == "userns":
        uid, gid = os.geteuid(), os.getegid()
        libc.unshare(flags | CLONE_NEWUSER)
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"0 {uid} 1")
        _write("/proc/self/gid_map", f"0 {gid} 1")
    else:
        libc.unshare(flags)


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


# --------------------------------------------------------------------------- the allow-list


def allow_list(numpy_dirs: list, exclude: "Sequence[str]" = ()) -> dict:
    """What the sandbox may see: {"dirs": [...], "files": [...], "masks": [...], "links": [...]}.

    Computed in the child from its own state, so it is right for whichever Python runs
    it: with -I -S, sys.path holds exactly the standard library (zip, folder,
    lib-dynload), and `exclude` names numpy's site folder when a warm template has
    already put it there. Paths are real paths (no symlinks), mounted at the same place.
    """
    dirs: list[str] = []
    files: list[str] = []
    masks: list[str] = []
    links: list = []

    def add(path: str) -> None:
        real = os.path.realpath(path)
        if real == "/" or not os.path.exists(real):
            return
        (dirs if os.path.isdir(real) else files).append(real)

    skip = {os.path.realpath(e) for e in exclude}  # numpy's site folder: only numpy of it is kept
    for entry in sys.path:
        if os.path.realpath(entry) not in skip:
            add(entry)
    stdlib = list(dirs)
    for path in numpy_dirs:
        add(path)
    add(sys.executable)
    for path in _mapped_libraries():
        add(path)
    # The paths programs name rather than their real ones: the ELF interpreter
    # (/lib64/ld-linux-x86-64.so.2 is often a chain of symlinks) and the executable.
    for path in (_elf_interpreter(os.path.realpath(sys.executable)), sys.executable):
        if path:
            links += symlink_chain(path)
            add(path)
    multiarch = getattr(sys.implementation, "_multiarch", "")
    if multiarch:
        for base in ("/lib", "/usr/lib", "/usr/local/lib"):
            add(os.path.join(base, multiarch))
    add("/etc/ld.so.cache")
    # Package folders inside what is kept: a Python built from source keeps site-packages
    # in its stdlib folder, and a system library folder may hold a python3.X folder.
    for folder in stdlib + [d for d in dirs if d not in stdlib]:
        for name in PACKAGE_FOLDERS:
            if os.path.isdir(os.path.join(folder, name)):
                masks.append(os.path.join(folder, name))
        if folder not in stdlib and folder not in numpy_dirs:
            names = ["python3"] + [f"python3.{minor}" for minor in range(0, 40)]
            masks += [os.path.join(folder, n) for n in names if os.path.isdir(os.path.join(folder, n))]
    for link in TOP_LEVEL_LINKS:
        if os.path.islink(link):
            links.append((link, os.readlink(link)))
    unique = lambda items: sorted(set(items))  # noqa: E731
    return {"dirs": unique(dirs), "files": unique(files), "masks": unique(masks),
            "links": list(dict.fromkeys(links))}


def symlink_chain(path: str, depth: int = 0) -> list:
    """Every (symlink, its target) met while resolving `path`, so the view can repeat them."""
    if depth > 16:
        return []
    found, current = [], "/"
    for part in [p for p in path.split("/") if p]:
        candidate = os.path.join(current, part)
        if os.path.islink(candidate):
            target = os.readlink(candidate)
            found.append((candidate, target))
            resolved = os.path.normpath(os.path.join(current, target))
            found += symlink_chain(resolved, depth + 1)
            current = os.path.realpath(resolved)
        else:
            current = candidate
    return found


def _elf_interpreter(executable: str) -> str:
    """The program interpreter (PT_INTERP) an ELF executable names, or ""."""
    import struct

    try:
        with open(executable, "rb") as f:
            head = f.read(64)
            if head[:4] != b"\x7fELF":
                return ""
            wide, order = head[4] == 2, "<" if head[5] == 1 else ">"
            if wide:
                phoff, = struct.unpack_from(order + "Q", head, 32)
                phentsize, phnum = struct.unpack_from(order + "HH", head, 54)
            else:
                phoff, = struct.unpack_from(order + "I", head, 28)
                phentsize, phnum = struct.unpack_from(order + "HH", head, 42)
            for index in range(min(phnum, 64)):
                f.seek(phoff + index * phentsize)
                entry = f.read(phentsize)
                if struct.unpack_from(order + "I", entry, 0)[0] != 3:  # PT_INTERP
                    continue
                if wide:
                    offset, = struct.unpack_from(order + "Q", entry, 8)
                    size, = struct.unpack_from(order + "Q", entry, 32)
                else:
                    offset, = struct.unpack_from(order + "I", entry, 4)
                    size, = struct.unpack_from(order + "I", entry, 16)
                f.seek(offset)
                return f.read(min(size, 4096)).rstrip(b"\0").decode("utf-8", "replace")
    except (OSError, struct.error):
        pass
    return ""


def _mapped_libraries() -> list:
    """The shared objects this process has mapped (the interpreter's own libraries)."""
    found: dict[str, None] = {}  # a library is mapped several times (text, data, ...): each path once
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split(maxsplit=5)
                if len(parts) == 6 and parts[5].startswith("/") and ".so" in parts[5]:
                    found[parts[5].strip()] = None
    except OSError:
        pass
    return list(found)


# --------------------------------------------------------------------------- the new root


def _remount_flags(path: str) -> int:
    """The flags a bind remount of `path` must keep (locked ones fail with EPERM otherwise)."""
    flags = 0
    current = os.statvfs(path).f_flag
    for bit, ms in _STATVFS_TO_MS:
        if current & bit:
            flags |= ms
    return flags


def _read_only(libc: Libc, path: str) -> None:
    # MS_BIND makes this a per-mount change in our mount namespace: never drop it, or a
    # remount as real root would change the host's file system.
    libc.mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _remount_flags(path))


def _bind(libc: Libc, fd: int, target: str, is_dir: bool) -> None:
    if is_dir:
        os.makedirs(target, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        if not os.path.exists(target):
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))
    libc.mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
    _read_only(libc, target)


def build_root(libc: Libc, jail: dict, allow: dict) -> dict:
    """Make the allow-listed view this process's root (PID 1 of the namespace calls this)."""
    libc.mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we mount propagates to the host
    sources = {}
    for path in allow["dirs"] + allow["files"]:
        try:  # opened now: once /tmp is covered below, a path under it is only reachable so
            sources[path] = os.open(path, O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
    root = "/tmp"  # exists everywhere; the new root's tmpfs is mounted over it
    libc.mount("sandbox-root", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=4096,mode=755")
    # The writable scratch /tmp first: a kept folder that lives under the host's /tmp (a
    # virtual environment, say) is then bound on top of it, read-only, at its own path.
    os.makedirs(root + "/tmp", mode=0o755)
    libc.mount("sandbox-tmp", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
               f"size={jail['tmp_bytes']},nr_inodes=8192,mode=1777")
    _make_dev(libc, root)
    proc = _make_proc(libc, root)
    for path in sorted(sources, key=lambda p: (p.count("/"), p)):
        _bind(libc, sources[path], root + path, path in allow["dirs"])
    for mask in allow["masks"]:
        target = root + mask
        if os.path.isdir(target):
            libc.mount("sandbox-mask", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY,
                       "size=4k,nr_inodes=16,mode=755")
    for link, points_to in allow["links"]:
        if not os.path.lexists(root + link):
            os.makedirs(os.path.dirname(root + link), mode=0o755, exist_ok=True)
            os.symlink(points_to, root + link)
    _switch_root(libc, root)
    for fd in sources.values():
        os.close(fd)
    libc.mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    return {"bound": len(sources), "proc": proc}


def _make_dev(libc: Libc, root: str) -> None:
    dev = root + "/dev"
    os.makedirs(dev, mode=0o755, exist_ok=True)
    libc.mount("sandbox-dev", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,nr_inodes=64,mode=755")
    for name in DEVICES:
        source = "/dev/" + name
        if os.path.exists(source):
            target = f"{dev}/{name}"
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o666))
            libc.mount(source, target, None, MS_BIND)
    os.makedirs(dev + "/shm", mode=0o1777, exist_ok=True)
    libc.mount("sandbox-shm", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
               "size=16m,nr_inodes=256,mode=1777")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{dev}/{name}")
    libc.mount(None, dev, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC)


def _make_proc(libc: Libc, root: str) -> bool:
    """A /proc of the sandbox's own PID namespace. Some container runtimes forbid mounting
    one; then there is no /proc at all (Python does not need it)."""
    target = root + "/proc"
    os.makedirs(target, mode=0o555, exist_ok=True)
    try:
        libc.mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        return True
    except OSError:
        return False


def _switch_root(libc: Libc, root: str) -> None:
    """Make `root` the root and detach the host's view entirely (pivot_root, as bubblewrap does)."""
    os.chdir(root)
    old = root + "/.old-root"
    os.mkdir(old, 0o700)
    if libc.pivot_root(".", ".old-root"):
        os.chdir("/")
        libc.umount("/.old-root", MNT_DETACH)
        os.rmdir("/.old-root")
    else:  # no pivot_root number for this machine: move the mount over / and chroot into it
        os.rmdir(old)
        libc.mount(root, "/", None, MS_MOVE)
        os.chroot(".")
        os.chdir("/")


# --------------------------------------------------------------------------- privileges


def drop_privileges(libc: Libc, jail: dict, last_cap: int) -> None:
    """No capabilities, no way to regain them; as real root also become the sandbox's own uid.

    Order matters: the bounding set can only be cleared while we still hold
    CAP_SETPCAP, and setresuid away from 0 clears the permitted set.
    """
    import resource

    libc.prctl(PR_SET_NO_NEW_PRIVS, 1)
    for cap in range(last_cap + 1):
        libc.prctl(PR_CAPBSET_DROP, cap)
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    uid = jail.get("uid")
    if jail["mode"] == "root":
        assert uid is not None  # a root-mode sandbox has a uid of its own
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    libc.clear_capability_sets()
    # This uid (root mode) or this user namespace (userns mode) belongs to this sandbox
    # alone, so the count is the sandbox's own, not shared with other students.
    resource.setrlimit(resource.RLIMIT_NPROC, (jail["nproc"], jail["nproc"]))
    die_with_parent(libc)  # the uid change cleared it


def verify_privileges(jail: dict, status_fd: int) -> None:
    """Read back this process's status: refuse to go on unless everything is really dropped.

    `status_fd` is /proc/self/status opened before the view changed: it keeps describing
    this process whether or not the sandbox has a /proc of its own.
    """
    status = {}
    text = os.pread(status_fd, 1 << 16, 0).decode("ascii", "replace")
    for line in text.splitlines():
        key, _, value = line.partition(":")
        status[key] = value.split()
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        if key in status and int(status[key][0], 16) != 0:
            raise OSError(f"capabilities remain after dropping them ({key} {status[key][0]})")
    if status.get("NoNewPrivs", ["1"])[0] != "1":
        raise OSError("no_new_privs is not set")
    if jail["mode"] == "root" and set(status["Uid"]) != {str(jail["uid"])}:
        raise OSError(f"still running as uid {status['Uid']}")


def enter_jail(libc: Libc, jail: dict, numpy_dirs: list, exclude: "Sequence[str]" = ()) -> dict:
    """Build the view, make the working folder, drop privileges; return what was achieved.

    Runs as PID 1 of the new PID namespace (still privileged there), before any student
    code. Raises OSError when something that must hold does not.
    """
    allow = allow_list(numpy_dirs, exclude)
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last_cap = int(f.read())
    status_fd = os.open("/proc/self/status", os.O_RDONLY | os.O_CLOEXEC)
    built = build_root(libc, jail, allow)
    workdir = jail["workdir"]
    os.makedirs(workdir, mode=0o700)
    if jail["mode"] == "root":
        os.chown(workdir, jail["uid"], jail["uid"])
    os.chdir(workdir)
    try:
        libc.sethostname("sandbox")
    except OSError:
        pass  # cosmetic: the UTS namespace is the sandbox's own either way
    try:
        drop_privileges(libc, jail, last_cap)
        verify_privileges(jail, status_fd)
    finally:
        os.close(status_fd)
    return {"ok": True, "mode": jail["mode"], "uid": jail.get("uid"), "bound": built["bound"],
            "proc": built["proc"]}
