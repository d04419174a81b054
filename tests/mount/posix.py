#!/usr/bin/env python3
"""POSIX rules of a directory, as assertions whose outcomes are printed one a line.

    posix.py DIR USER1 USER2 GROUP
    posix.py --race DIR DISKDIR USER1 USER2 GROUP
    posix.py --tree DIR USER1 USER2 GROUP

Runs as root in DIR (an empty directory, made world-writable). USER1 and USER2 are ordinary users; USER1 is also
a member of GROUP, USER2 is not. Every assertion prints `section/case: outcome`, where the
outcome is what the system call returned (`ok` or the errno's name) and what the file system
looked like after it (types, modes, owners by role, sizes, contents, which names are one
file), never a number that differs between two directories (inode numbers, devices, times:
those are compared with each other, within one case). The same run in a plain directory on a
disk and in a FUSE passthrough of one must print the same lines (case-posix.sh diffs them).

The cases follow the rules of the POSIX system interfaces pages (open, rename, link, unlink,
rmdir, mkdir, mknod, symlink, chmod, chown, utimensat, truncate, write) and their Linux man
pages (renameat2 flags, xattrs, sticky and set-group-ID directories): every operation over
file types, callers (root, the owner, another user) and flags, and sequences of renames,
unlinks and rmdirs that reuse the same names at once.

With --race, DIR is a mount of DISKDIR: processes change the same names at once through DIR,
then each name is compared as seen through DIR and in DISKDIR (`same`, or both outcomes).
With --tree, it prints what is under DIR, the way the outcomes describe files.
"""
import ctypes
import errno
import grp
import itertools
import os
import pwd
import random
import socket
import stat
import struct
import sys

libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
UTIME_NOW, UTIME_OMIT = (1 << 30) - 1, (1 << 30) - 2


ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ, ACL_GROUP, ACL_MASK, ACL_OTHER = 1, 2, 4, 8, 0x10, 0x20
ACL_ACCESS, ACL_DEFAULT = "system.posix_acl_access", "system.posix_acl_default"


def acl(*entries):
    """A POSIX ACL as its xattr holds it (acl(5); version 2, then tag, perm, id each)."""
    out = struct.pack("<I", 2)
    for tag, perm, qualifier in entries:
        out += struct.pack("<HHI", tag, perm, 0xFFFFFFFF if qualifier is None else qualifier)
    return out


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def oserr(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def call(fn, *args, **kwargs):
    """'ok' (or what fn returned, as text), or the errno's name."""
    try:
        r = fn(*args, **kwargs)
        return "ok" if r is None else str(r)
    except OSError as e:
        return oserr(e)


def c_check(r):
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def renameat2(src, dst, flags):
    c_check(libc.renameat2(AT_FDCWD, src.encode(), AT_FDCWD, dst.encode(), flags))


def utimensat(path, atime, mtime, nofollow):
    ts = (Timespec * 2)()
    for i, t in enumerate((atime, mtime)):
        ts[i].tv_sec, ts[i].tv_nsec = (0, t) if isinstance(t, int) else t
    flags = AT_SYMLINK_NOFOLLOW if nofollow else 0
    c_check(libc.utimensat(AT_FDCWD, path.encode(), ts, flags))


class Who:
    def __init__(self, label, uid, gid, groups):
        self.label, self.uid, self.gid, self.groups = label, uid, gid, groups


class Suite:
    def __init__(self, base, u1, u2, group):
        self.base = base
        p1, p2 = pwd.getpwnam(u1), pwd.getpwnam(u2)
        self.shared = grp.getgrnam(group).gr_gid
        self.root = Who("root", 0, 0, [0])
        self.u1 = Who("u1", p1.pw_uid, p1.pw_gid, [p1.pw_gid, self.shared])
        self.u2 = Who("u2", p2.pw_uid, p2.pw_gid, [p2.pw_gid])
        self.uids = {0: "root", p1.pw_uid: "u1", p2.pw_uid: "u2"}
        self.gids = {0: "root", p1.pw_gid: "g1", p2.pw_gid: "g2", self.shared: "shared"}
        self.count = 0
        self.ncase = 0

    # ---- output ----
    def out(self, case, outcome):
        self.count += 1
        print(f"{case}: {outcome}")

    def case_dir(self, mode=0o777, owner=None):
        """A fresh directory for one case."""
        self.ncase += 1
        d = os.path.join(self.base, f"c{self.ncase}")
        os.mkdir(d)
        os.chmod(d, mode)
        if owner:
            os.chown(d, owner.uid, owner.gid)
        return d

    # ---- running as someone ----
    def as_user(self, who, fn):
        """fn() run with who's ids in a child; returns its text."""
        if who.uid == 0:
            return self.guarded(fn)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                os.setgroups(who.groups)
                os.setgid(who.gid)
                os.setuid(who.uid)
                text = self.guarded(fn)
            except OSError as e:
                text = "setid " + oserr(e)
            os.write(w, text.encode())
            os._exit(0)
        os.close(w)
        chunks = []
        while True:
            b = os.read(r, 65536)
            if not b:
                break
            chunks.append(b)
        os.close(r)
        os.waitpid(pid, 0)
        return b"".join(chunks).decode()

    @staticmethod
    def guarded(fn):
        """fn()'s text; an exception is an outcome too (the same in both runs, or a diff)."""
        try:
            return fn()
        except Exception as e:
            return f"exception {type(e).__name__} {e}"

    # ---- describing what is there ----
    def desc(self, path, ids=None, times=False):
        try:
            st = os.lstat(path)
        except OSError as e:
            return oserr(e)
        kind = stat.S_IFMT(st.st_mode)
        names = {stat.S_IFREG: "reg", stat.S_IFDIR: "dir", stat.S_IFLNK: "lnk",
                 stat.S_IFIFO: "fifo", stat.S_IFSOCK: "sock", stat.S_IFCHR: "chr",
                 stat.S_IFBLK: "blk"}
        parts = [names.get(kind, "?"), oct(stat.S_IMODE(st.st_mode)),
                 f"n{st.st_nlink}", self.uids.get(st.st_uid, "uid?"),
                 self.gids.get(st.st_gid, "gid?")]
        if kind == stat.S_IFREG:
            parts.append(f"s{st.st_size}")
            try:
                with open(path, "rb") as f:
                    parts.append(repr(f.read(64)))
            except OSError as e:
                parts.append(oserr(e))
        elif kind == stat.S_IFLNK:
            parts.append("->" + os.readlink(path))
        elif kind == stat.S_IFDIR:
            parts.append("[" + ",".join(sorted(os.listdir(path))) + "]")
        elif kind in (stat.S_IFCHR, stat.S_IFBLK):
            parts.append(f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}")
        if ids is not None:
            parts.append("#" + ids.setdefault(st.st_ino, chr(ord("A") + len(ids))))
        if times:
            parts.append(f"t{st.st_mtime_ns}")
        return " ".join(parts)

    def tree(self, d, times=False):
        """Every name under d with what it is, and which names are one file (and with times,
        when each was last modified)."""
        ids = {}
        lines = []
        for top, dirs, files in os.walk(d):
            dirs.sort()
            for name in sorted(dirs + files):
                p = os.path.join(top, name)
                lines.append(os.path.relpath(p, d) + "=" + self.desc(p, ids, times))
        return "; ".join(lines)

    # ---- making things ----
    def make(self, path, kind, owner=None, mode=None):
        """Makes path a kind of file; a failure is an outcome (setup/...), not the end."""
        try:
            self.make_or_raise(path, kind, owner, mode)
        except OSError as e:
            self.out(f"setup/{path}/{kind}", oserr(e))

    def make_or_raise(self, path, kind, owner, mode):
        if kind == "reg":
            with open(path, "w") as f:
                f.write("data:" + os.path.basename(path))
        elif kind == "dir":
            os.mkdir(path)
        elif kind == "full":
            os.mkdir(path)
            with open(os.path.join(path, "inside"), "w") as f:
                f.write("in")
        elif kind == "lnk":
            os.symlink("target-of-" + os.path.basename(path), path)
        elif kind == "lnkreg":
            with open(path + ".t", "w") as f:
                f.write("target")
            os.symlink(os.path.basename(path) + ".t", path)
        elif kind == "lnkdir":
            os.mkdir(path + ".t")
            os.symlink(os.path.basename(path) + ".t", path)
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "sock":
            s = socket.socket(socket.AF_UNIX)
            s.bind(path)
            s.close()
        elif kind == "chr":
            os.mknod(path, stat.S_IFCHR | 0o644, os.makedev(1, 3))
        elif kind != "absent":
            raise ValueError(kind)
        if kind != "absent" and owner:
            os.lchown(path, owner.uid, owner.gid)
        if mode is not None and kind not in ("absent", "lnk", "lnkreg", "lnkdir"):
            os.chmod(path, mode)

    # ==== the sections ====
    def open_flags(self):
        targets = ["absent", "reg", "dir", "lnkreg", "lnk", "lnkdir", "fifo", "reg-u2"]
        acc = [("r", os.O_RDONLY), ("w", os.O_WRONLY), ("rw", os.O_RDWR)]
        creat = [("", 0), ("c", os.O_CREAT), ("cx", os.O_CREAT | os.O_EXCL)]
        opts = [("t", os.O_TRUNC), ("a", os.O_APPEND), ("nf", os.O_NOFOLLOW),
                ("d", os.O_DIRECTORY)]
        for who in (self.root, self.u1):
            for target in targets:
                d = self.case_dir()
                for (an, af), (cn, cf) in itertools.product(acc, creat):
                    for bits in itertools.product((0, 1), repeat=len(opts)):
                        flags = af | cf | os.O_NONBLOCK
                        tag = an + cn
                        for (on, of), b in zip(opts, bits):
                            if b:
                                flags |= of
                                tag += on
                        path = os.path.join(d, f"{target}.{tag}")
                        kind = "reg" if target == "reg-u2" else target
                        owner = self.u2 if target == "reg-u2" else None
                        self.make(path, kind, owner, 0o640 if owner else None)

                        def attempt(path=path, flags=flags):
                            try:
                                fd = os.open(path, flags, 0o640)
                            except OSError as e:
                                return oserr(e)
                            try:
                                w = call(os.write, fd, b"xy")
                                st = os.fstat(fd)
                                return f"ok write={w} size={st.st_size}"
                            finally:
                                os.close(fd)

                        res = self.as_user(who, attempt)
                        self.out(f"open/{who.label}/{target}/{tag}", res)
                        self.out(f"open/{who.label}/{target}/{tag}/after", self.desc(path))

    def permissions(self):
        modes = [0o000, 0o400, 0o200, 0o100, 0o040, 0o020, 0o010, 0o004, 0o002, 0o001,
                 0o600, 0o640, 0o644, 0o660, 0o666, 0o700, 0o750, 0o755, 0o777]
        owners = [("own", self.u1, self.u1.gid), ("grp", self.u2, self.shared),
                  ("oth", self.u2, self.u2.gid)]
        d = self.case_dir(0o755)
        for mode, (on, owner, gid) in itertools.product(modes, owners):
            f = os.path.join(d, f"f{mode:o}{on}")
            self.make(f, "reg")
            os.chown(f, owner.uid, gid)
            os.chmod(f, mode)
            sub = os.path.join(d, f"d{mode:o}{on}")
            os.mkdir(sub)
            self.make(os.path.join(sub, "x"), "reg")
            os.chown(sub, owner.uid, gid)
            os.chmod(sub, mode)

            def file_ops(f=f):
                return " ".join([
                    call(lambda: os.close(os.open(f, os.O_RDONLY))),
                    call(lambda: os.close(os.open(f, os.O_WRONLY))),
                    call(lambda: os.close(os.open(f, os.O_RDWR))),
                    str(os.access(f, os.R_OK)), str(os.access(f, os.W_OK)),
                    str(os.access(f, os.X_OK)),
                    call(os.truncate, f, 3),
                    call(os.chmod, f, mode), call(os.utime, f, None),
                ])

            def dir_ops(sub=sub):
                return " ".join([
                    call(lambda: ",".join(sorted(os.listdir(sub)))),
                    call(lambda: "s%d" % os.stat(os.path.join(sub, "x")).st_size),
                    call(lambda: os.close(os.open(os.path.join(sub, "new"),
                                                  os.O_CREAT | os.O_WRONLY, 0o600))),
                    call(os.mkdir, os.path.join(sub, "newd")),
                    call(os.rename, os.path.join(sub, "x"), os.path.join(sub, "y")),
                    call(os.unlink, os.path.join(sub, "y")),
                    call(os.unlink, os.path.join(sub, "x")),
                    call(os.symlink, "t", os.path.join(sub, "l")),
                ])

            for who in (self.u1, self.u2):
                self.out(f"perm/file/{who.label}/{mode:o}/{on}", self.as_user(who, file_ops))
                self.out(f"perm/dir/{who.label}/{mode:o}/{on}", self.as_user(who, dir_ops))
                self.out(f"perm/dir/{who.label}/{mode:o}/{on}/after", self.tree(sub))
                self.out(f"perm/file/{who.label}/{mode:o}/{on}/after", self.desc(f))

    def sticky(self):
        dirmodes = [0o1777, 0o0777, 0o1770]
        for dmode, downer in itertools.product(dirmodes, (self.root, self.u1, self.u2)):
            for fowner in (self.root, self.u1, self.u2):
                for op in ("unlink", "rename-away", "rename-over", "rmdir", "exchange"):
                    d = self.case_dir(0o777)
                    os.chown(d, downer.uid, self.shared)
                    os.chmod(d, dmode)
                    victim = os.path.join(d, "victim")
                    self.make(victim, "dir" if op == "rmdir" else "reg", fowner)
                    mine = os.path.join(d, "mine")
                    self.make(mine, "reg", self.u1)

                    def act(op=op, victim=victim, mine=mine, d=d):
                        if op == "unlink":
                            return call(os.unlink, victim)
                        if op == "rmdir":
                            return call(os.rmdir, victim)
                        if op == "rename-away":
                            return call(os.rename, victim, os.path.join(d, "moved"))
                        if op == "exchange":
                            return call(renameat2, mine, victim, RENAME_EXCHANGE)
                        return call(os.rename, mine, victim)

                    case = f"sticky/{dmode:o}/{downer.label}/{fowner.label}/{op}"
                    self.out(case, self.as_user(self.u1, act))
                    self.out(case + "/after", self.tree(d))

    def rename(self):
        srcs = ["reg", "dir", "full", "lnk", "fifo", "absent", "lnkdir"]
        dsts = ["absent", "reg", "dir", "full", "lnk", "fifo", "same", "link", "sub",
                "parent", "lnkdir"]
        flagset = [("0", 0), ("noreplace", RENAME_NOREPLACE), ("exchange", RENAME_EXCHANGE)]
        for who in (self.root, self.u1):
            for src, dst, (fn, flags), cross in itertools.product(srcs, dsts, flagset,
                                                                  (False, True)):
                d = self.case_dir()
                os.mkdir(os.path.join(d, "a"))
                os.mkdir(os.path.join(d, "b"))
                s = os.path.join(d, "a", "s")
                self.make(s, src)
                t = os.path.join(d, "b" if cross else "a", "t")
                if dst == "same":
                    t = s
                elif dst == "link":
                    if src in ("reg", "fifo", "lnk"):
                        os.link(s, t)
                elif dst == "sub":
                    t = os.path.join(s, "inner")
                    if src == "full":
                        t = os.path.join(s, "inside")
                elif dst == "parent":
                    t = os.path.join(d, "a")
                else:
                    self.make(t, dst)
                os.chmod(d, 0o777)
                for x in ("a", "b"):
                    os.chmod(os.path.join(d, x), 0o777)

                def act(s=s, t=t, flags=flags):
                    return call(renameat2, s, t, flags)

                case = f"rename/{who.label}/{src}/{dst}/{fn}/{'x' if cross else 's'}"
                self.out(case, self.as_user(who, act))
                self.out(case + "/after", self.tree(d))
                # the old name, asked at once (a stale name shows here)
                self.out(case + "/old", self.desc(s))
                self.out(case + "/new", self.desc(t))

    def chmod_chown(self):
        kinds = ["reg", "dir", "fifo", "lnk", "sock"]
        modes = [0o4755, 0o2755, 0o2745, 0o1755, 0o6777, 0o644, 0o7000, 0o0]
        for kind, who in itertools.product(kinds, (self.root, self.u1, self.u2)):
            d = self.case_dir()
            for mode in modes:
                p = os.path.join(d, f"m{mode:o}")
                self.make(p, kind, self.u1)
                if kind != "lnk":
                    os.lchown(p, self.u1.uid, 0)  # a group u1 is not in: set-gid rules

                def act(p=p, mode=mode):
                    return call(os.chmod, p, mode)  # a symlink: its (missing) target

                case = f"chmod/{kind}/{who.label}/{mode:o}"
                self.out(case, self.as_user(who, act))
                self.out(case + "/after", self.desc(p))
            changes = [("keep", -1, -1), ("u2", self.u2.uid, -1), ("shared", -1, self.shared),
                       ("g2", -1, self.u2.gid), ("u1", self.u1.uid, -1), ("root", 0, 0),
                       ("u1g1", self.u1.uid, self.u1.gid)]
            for (cn, uid, gid), before in itertools.product(changes, (0o6755, 0o6745, 0o644)):
                p = os.path.join(d, f"o{cn}{before:o}")
                self.make(p, kind, self.u1)
                if kind != "lnk":
                    os.chmod(p, before)

                def act(p=p, uid=uid, gid=gid):
                    return call(os.lchown, p, uid, gid) + " " + call(os.chown, p, uid, gid)

                case = f"chown/{kind}/{who.label}/{cn}/{before:o}"
                self.out(case, self.as_user(who, act))
                self.out(case + "/after", self.desc(p))

    def utimes(self):
        times = [("now-now", UTIME_NOW, UTIME_NOW), ("omit-now", UTIME_OMIT, UTIME_NOW),
                 ("now-omit", UTIME_NOW, UTIME_OMIT), ("omit-omit", UTIME_OMIT, UTIME_OMIT),
                 ("set-set", (1000, 5), (2000, 7)), ("set-omit", (1000, 5), UTIME_OMIT),
                 ("omit-set", UTIME_OMIT, (2000, 7)), ("now-set", UTIME_NOW, (2000, 7))]
        targets = [("reg666", "reg", 0o666), ("reg644", "reg", 0o644), ("dir777", "dir", 0o777),
                   ("dir755", "dir", 0o755), ("lnk", "lnk", None)]
        for (tn, kind, mode), who in itertools.product(targets, (self.root, self.u1, self.u2)):
            d = self.case_dir()
            for name, at, mt in times:
                p = os.path.join(d, name)
                self.make(p, kind, self.u2, mode)
                os.utime(p, ns=(10**9, 2 * 10**9), follow_symlinks=False)

                def act(p=p, at=at, mt=mt, kind=kind):
                    r = call(utimensat, p, at, mt, kind == "lnk")
                    st = os.lstat(p)
                    return (f"{r} a={'old' if st.st_atime_ns == 10**9 else st.st_atime_ns}"
                            f" m={'old' if st.st_mtime_ns == 2 * 10**9 else st.st_mtime_ns}")

                res = self.as_user(who, act)
                # NOW is the clock, different in each run: only "changed" is compared
                res = " ".join(w if not w[2:].isdigit() or w[2:] in ("1000000005", "2000000007")
                               else w[:2] + "now" for w in res.split())
                self.out(f"utime/{tn}/{who.label}/{name}", res)

    def links(self):
        kinds = ["reg", "dir", "lnk", "fifo", "sock", "absent", "reg600"]
        for kind, dst, who in itertools.product(kinds, ("absent", "reg", "dir", "nodir"),
                                                (self.root, self.u1)):
            d = self.case_dir()
            s = os.path.join(d, "s")
            self.make(s, "reg" if kind == "reg600" else kind, self.u2,
                      0o600 if kind == "reg600" else None)
            t = os.path.join(d, "t")
            if dst == "nodir":
                t = os.path.join(d, "missing", "t")
            else:
                self.make(t, dst)

            def act(s=s, t=t):
                return call(os.link, s, t, follow_symlinks=False)

            case = f"link/{kind}/{dst}/{who.label}"
            self.out(case, self.as_user(who, act))
            self.out(case + "/after", self.tree(d))
            if os.path.lexists(s):
                os.chmod(d, 0o777)
                self.out(case + "/unlink-src", call(os.unlink, s) if kind != "dir" else "dir")
                self.out(case + "/after2", self.tree(d))

    def names(self):
        """mkdir, rmdir, unlink, symlink, mknod and the errnos of paths."""
        d = self.case_dir()
        for k in ("reg", "dir", "full", "lnk", "lnkdir", "fifo", "sock", "chr", "lnkreg"):
            self.make(os.path.join(d, k), k)
        os.symlink("loop2", os.path.join(d, "loop1"))
        os.symlink("loop1", os.path.join(d, "loop2"))
        long_ok, long_bad = "n" * 255, "n" * 256
        paths = ["reg", "dir", "full", "lnk", "lnkdir", "fifo", "sock", "chr", "lnkreg",
                 "missing", "reg/", "dir/", "lnkdir/", "lnk/", "missing/", "reg/x", "dir/x",
                 "missing/x", "loop1", "loop1/x", "lnkreg/x", "full/inside", "full/inside/",
                 long_ok, long_bad, "dir/" + long_bad, "dir/.", "dir/..", ".", "lnkdir/x"]
        ops = {
            "lstat": lambda p: self.desc(p),
            "stat": lambda p: call(lambda: stat.S_IFMT(os.stat(p).st_mode)),
            "mkdir": lambda p: call(os.mkdir, p, 0o755),
            "rmdir": lambda p: call(os.rmdir, p),
            "unlink": lambda p: call(os.unlink, p),
            "symlink": lambda p: call(os.symlink, "somewhere", p),
            "mkfifo": lambda p: call(os.mkfifo, p, 0o644),
            "readlink": lambda p: call(os.readlink, p),
            "truncate": lambda p: call(os.truncate, p, 1),
            "opendir": lambda p: call(lambda: os.close(os.open(p, os.O_RDONLY | os.O_DIRECTORY))),
            "chdir": lambda p: self.as_user(self.u1, lambda: call(os.chdir, p)),
            "creat": lambda p: call(lambda: os.close(os.open(p, os.O_CREAT | os.O_WRONLY |
                                                              os.O_NONBLOCK, 0o644))),
            "setxattr": lambda p: call(os.setxattr, p, "user.k", b"v"),
            "lsetxattr": lambda p: call(os.setxattr, p, "user.k", b"v",
                                        follow_symlinks=False),
        }
        for (on, op), p in itertools.product(ops.items(), paths):
            case_d = self.case_dir()
            for k in ("reg", "dir", "full", "lnk", "lnkdir", "fifo", "sock", "chr", "lnkreg"):
                self.make(os.path.join(case_d, k), k)
            os.symlink("loop2", os.path.join(case_d, "loop1"))
            os.symlink("loop1", os.path.join(case_d, "loop2"))
            full = os.path.join(case_d, p)
            self.out(f"names/{on}/{p[:40]}", op(full))
            self.out(f"names/{on}/{p[:40]}/after", self.tree(case_d))
        # the root of a mount too: "." of the case directory itself
        self.out("names/rmdir-self", call(os.rmdir, d + "/."))

    def make_nodes(self):
        kinds = [("fifo", stat.S_IFIFO, 0), ("chr", stat.S_IFCHR, os.makedev(1, 3)),
                 ("blk", stat.S_IFBLK, os.makedev(7, 0)), ("sock", stat.S_IFSOCK, 0),
                 ("reg", stat.S_IFREG, 0), ("dir", stat.S_IFDIR, 0)]
        modes = [0o777, 0o644, 0o4755, 0o2755, 0o1755, 0o000]
        for umask in (0o022, 0o000, 0o077):
            for who in (self.root, self.u1):
                d = self.case_dir(0o777)
                for (kn, kt, dev), mode in itertools.product(kinds, modes):
                    p = os.path.join(d, f"{kn}{mode:o}")

                    def act(p=p, kt=kt, dev=dev, mode=mode, umask=umask):
                        os.umask(umask)
                        try:
                            return call(os.mknod, p, kt | mode, dev)
                        finally:
                            os.umask(0o022)

                    case = f"mknod/{umask:o}/{who.label}/{kn}/{mode:o}"
                    self.out(case, self.as_user(who, act))
                    self.out(case + "/after", self.desc(p))
                for name, fn in (("mkdir", lambda p, m: os.mkdir(p, m)),
                                 ("creat", lambda p, m: os.close(os.open(p, os.O_CREAT |
                                                                         os.O_WRONLY, m))),
                                 ("mkfifo", lambda p, m: os.mkfifo(p, m)),
                                 ("bind", None)):
                    for mode in modes:
                        p = os.path.join(d, f"{name}{mode:o}")

                        def act(p=p, fn=fn, mode=mode, umask=umask):
                            os.umask(umask)
                            try:
                                if fn is None:
                                    s = socket.socket(socket.AF_UNIX)
                                    r = call(s.bind, p)
                                    s.close()
                                    return r
                                return call(fn, p, mode)
                            finally:
                                os.umask(0o022)

                        case = f"make/{umask:o}/{who.label}/{name}/{mode:o}"
                        self.out(case, self.as_user(who, act))
                        self.out(case + "/after", self.desc(p))

    def setgid_dirs(self):
        for dmode, downer in itertools.product((0o2777, 0o2775, 0o777), (self.u1, self.u2)):
            for who in (self.root, self.u1, self.u2):
                d = self.case_dir()
                os.chown(d, downer.uid, self.shared)
                os.chmod(d, dmode)

                def act(d=d):
                    return " ".join([
                        call(lambda: os.close(os.open(os.path.join(d, "f"),
                                                      os.O_CREAT | os.O_WRONLY, 0o2755))),
                        call(os.mkdir, os.path.join(d, "sub"), 0o755),
                        call(os.mkfifo, os.path.join(d, "p"), 0o2644),
                        call(os.symlink, "x", os.path.join(d, "l")),
                        call(os.chmod, os.path.join(d, "f"), 0o2755),
                    ])

                case = f"setgid/{dmode:o}/{downer.label}/{who.label}"
                self.out(case, self.as_user(who, act))
                self.out(case + "/after", self.tree(d))

    def io(self):
        sizes = [0, 1, 100, 4095, 4096, 4097, 70000, 3000000, -1]
        for who in (self.root, self.u1):
            d = self.case_dir()
            for size, how in itertools.product(sizes, ("path", "fd", "fd-ro", "fd-append")):
                p = os.path.join(d, f"t{size}{how}")
                self.make(p, "reg", self.u1)

                def act(p=p, size=size, how=how):
                    if how == "path":
                        r = call(os.truncate, p, size)
                    else:
                        flags = {"fd": os.O_RDWR, "fd-ro": os.O_RDONLY,
                                 "fd-append": os.O_WRONLY | os.O_APPEND}[how]
                        fd = os.open(p, flags)
                        r = call(os.ftruncate, fd, size)
                        r += " " + call(os.write, fd, b"Z")
                        r += " " + call(os.pwrite, fd, b"QQ", 2)
                        r += " " + call(lambda: os.lseek(fd, 0, os.SEEK_CUR))
                        os.close(fd)
                    with open(p, "rb") as f:
                        data = f.read()
                    return f"{r} size={len(data)} head={data[:12]!r} tail={data[-4:]!r}"

                self.out(f"io/{who.label}/{how}/{size}", self.as_user(who, act))
            for kind in ("dir", "fifo", "lnk"):
                p = os.path.join(d, "x" + kind)
                self.make(p, kind)
                self.out(f"io/{who.label}/truncate-{kind}",
                         self.as_user(who, lambda p=p: call(os.truncate, p, 0)))
        d = self.case_dir()
        p = os.path.join(d, "rw")
        fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o644)
        for i, (off, data) in enumerate([(0, b"hello"), (10, b"world"), (3, b"XY"),
                                         (100000, b"end"), (4094, b"span"),
                                         (2500000, b"far")]):
            os.pwrite(fd, data, off)
            self.out(f"io/pwrite/{i}", f"{os.fstat(fd).st_size} {os.pread(fd, 16, max(0, off - 4))!r}")
        os.close(fd)
        fd = os.open(p, os.O_RDWR)
        # fallocate(2): its modes, and the size they leave
        for i, (mode, off, length) in enumerate([(0, 0, 300000), (1, 0, 900000), (3, 4096, 8192),
                                                 (0, -1, 10), (0, 0, 0), (0x10, 0, 4096),
                                                 (0, 3000000, 4096), (1, 3200000, 4096)]):
            r = call(c_check, libc.fallocate(fd, mode, ctypes.c_long(off), ctypes.c_long(length)))
            self.out(f"io/fallocate/{i}", f"{r} {os.fstat(fd).st_size}")
        os.close(fd)
        # Holes made by writing past them only, on the disk before asking (fsync): extents
        # allocated but not written, or pages not written back, are the disk's timing.
        fd = os.open(os.path.join(d, "sparse"), os.O_CREAT | os.O_RDWR, 0o644)
        os.pwrite(fd, b"x" * 4096, 0)
        os.pwrite(fd, b"y" * 4096, 1 << 20)
        os.fsync(fd)
        for off, whence in itertools.product((0, 5000, 1 << 20, 10**7),
                                             (os.SEEK_DATA, os.SEEK_HOLE)):
            self.out(f"io/seek/{off}/{whence}", call(os.lseek, fd, off, whence))
        os.close(fd)
        fd = os.open(p, os.O_WRONLY | os.O_APPEND)
        for i in range(3):
            os.write(fd, b"app%d" % i)
            self.out(f"io/append/{i}", f"{os.fstat(fd).st_size} {os.lseek(fd, 0, os.SEEK_CUR)}")
        os.close(fd)

    def xattrs(self):
        for kind, who in itertools.product(("reg", "dir", "lnk", "fifo", "reg644"),
                                           (self.root, self.u1, self.u2)):
            d = self.case_dir()
            p = os.path.join(d, "x")
            self.make(p, "reg" if kind == "reg644" else kind, self.u1,
                      0o644 if kind == "reg644" else None)

            def act(p=p):
                nf = {"follow_symlinks": False}
                steps = [
                    call(os.getxattr, p, "user.a", **nf),
                    call(os.setxattr, p, "user.a", b"1", os.XATTR_REPLACE, **nf),
                    call(os.setxattr, p, "user.a", b"1", os.XATTR_CREATE, **nf),
                    call(os.setxattr, p, "user.a", b"2", os.XATTR_CREATE, **nf),
                    call(os.setxattr, p, "user.a", b"22", os.XATTR_REPLACE, **nf),
                    call(os.setxattr, p, "user.b", b"x" * 300, **nf),
                    call(lambda: os.getxattr(p, "user.a", **nf)),
                    call(lambda: sorted(os.listxattr(p, **nf))),
                    call(os.removexattr, p, "user.a", **nf),
                    call(os.removexattr, p, "user.a", **nf),
                    call(lambda: sorted(os.listxattr(p, **nf))),
                    call(os.setxattr, p, "trusted.t", b"1", **nf),
                    call(os.setxattr, p, "bogus.t", b"1", **nf),
                    call(lambda: len(os.getxattr(p, "user.b", **nf))),
                ]
                return " ".join(steps)

            self.out(f"xattr/{kind}/{who.label}", self.as_user(who, act))

    def acls(self):
        """POSIX ACLs: they grant and refuse in permission checks, chmod moves their mask,
        and a default ACL gives what is created in its directory its ACL and mode, umask
        or not (acl(5))."""
        u2 = self.u2.uid
        grant = acl((ACL_USER_OBJ, 6, None), (ACL_USER, 6, u2), (ACL_GROUP_OBJ, 0, None),
                    (ACL_MASK, 6, None), (ACL_OTHER, 0, None))
        default = acl((ACL_USER_OBJ, 7, None), (ACL_USER, 7, u2), (ACL_GROUP_OBJ, 5, None),
                      (ACL_MASK, 7, None), (ACL_OTHER, 0, None))
        d = self.case_dir()
        f = os.path.join(d, "f")
        self.make(f, "reg", self.u1, 0o600)
        opens = lambda: " ".join(call(lambda fl=fl: os.close(os.open(f, fl)))
                                 for fl in (os.O_RDONLY, os.O_WRONLY, os.O_RDWR))
        steps = [
            ("set", self.root, lambda: call(os.setxattr, f, ACL_ACCESS, grant)),
            ("get", self.root, lambda: call(lambda: os.getxattr(f, ACL_ACCESS).hex())),
            ("u2", self.u2, opens),
            ("u1", self.u1, opens),
            ("chmod600", self.u1, lambda: call(os.chmod, f, 0o600)),
            ("u2-after", self.u2, opens),
            ("get-after", self.root, lambda: call(lambda: os.getxattr(f, ACL_ACCESS).hex())),
            ("chmod660", self.u1, lambda: call(os.chmod, f, 0o660)),
            ("u2-again", self.u2, opens),
            ("set-by-other", self.u2, lambda: call(os.setxattr, f, ACL_ACCESS, grant)),
            ("remove", self.u1, lambda: call(os.removexattr, f, ACL_ACCESS)),
            ("u2-none", self.u2, opens),
            ("bad", self.root, lambda: call(os.setxattr, f, ACL_ACCESS, b"junk")),
            ("default-on-file", self.root, lambda: call(os.setxattr, f, ACL_DEFAULT, default)),
        ]
        for name, who, fn in steps:
            self.out(f"acl/file/{name}/{who.label}", self.as_user(who, fn))
            self.out(f"acl/file/{name}/after", self.desc(f))
        for umask in (0o022, 0o077, 0o000):
            d = self.case_dir()
            os.setxattr(d, ACL_DEFAULT, default)
            for who in (self.root, self.u1):
                def make(d=d, umask=umask):
                    os.umask(umask)
                    try:
                        return " ".join([
                            call(lambda: os.close(os.open(os.path.join(d, "f"),
                                                          os.O_CREAT | os.O_WRONLY, 0o666))),
                            call(os.mkdir, os.path.join(d, "sub"), 0o777),
                            call(os.mkfifo, os.path.join(d, "p"), 0o664),
                        ])
                    finally:
                        os.umask(0o022)

                case = f"acl/default/{umask:o}/{who.label}"
                self.out(case, self.as_user(who, make))
                for name in ("f", "sub", "p"):
                    p = os.path.join(d, name)
                    self.out(f"{case}/{name}", self.desc(p) + " " + " ".join(
                        call(lambda a=a: os.getxattr(p, a).hex()) for a in (ACL_ACCESS, ACL_DEFAULT)))
                    call(os.rmdir if name == "sub" else os.unlink, p)

    def statfs(self):
        sv = os.statvfs(self.base)
        self.out("statfs", f"bsize={sv.f_bsize} namemax={sv.f_namemax} frsize={sv.f_frsize}")

    REUSE_NAMES = ["a", "b", "c", "d1/a", "d1/b", "d2/a", "d1", "d2", "d1/e/a"]
    REUSE_OPS = ["creat", "mkdir", "rename", "rename", "rename", "unlink", "rmdir", "link",
                 "symlink", "exchange", "noreplace", "write", "mkfifo"]

    def step(self, rnd, d, step):
        """One random operation over the reused names in d: (op, x, y, fn)."""
        op = rnd.choice(self.REUSE_OPS)
        x, y = (os.path.join(d, rnd.choice(self.REUSE_NAMES)) for _ in range(2))
        fn = {
            "creat": lambda: os.close(os.open(x, os.O_CREAT | os.O_WRONLY | os.O_NONBLOCK,
                                              0o666)),
            "mkdir": lambda: os.mkdir(x, 0o777),
            "rename": lambda: os.rename(x, y),
            "unlink": lambda: os.unlink(x),
            "rmdir": lambda: os.rmdir(x),
            "link": lambda: os.link(x, y, follow_symlinks=False),
            "symlink": lambda: os.symlink(os.path.basename(y), x),
            "exchange": lambda: renameat2(x, y, RENAME_EXCHANGE),
            "noreplace": lambda: renameat2(x, y, RENAME_NOREPLACE),
            "write": lambda: self.append(x, step),
            "mkfifo": lambda: os.mkfifo(x, 0o666),
        }[op]
        return op, os.path.relpath(x, d), os.path.relpath(y, d), fn

    def reuse(self):
        """Random sequences of renames, unlinks, rmdirs, links, over a few names reused at
        once: after each step, the result and every name (a stale name shows at once)."""
        for seed in range(8):
            rnd = random.Random(seed)
            d = self.case_dir()
            for i in range(120):
                op, x, y, fn = self.step(rnd, d, i)
                who = rnd.choice([self.root, self.u1])
                r = self.as_user(who, lambda fn=fn: call(fn))
                self.out(f"reuse/{seed}/{i}/{op} {x} {y} {who.label}", r)
                self.out(f"reuse/{seed}/{i}/tree", self.tree(d))

    @staticmethod
    def append(path, step):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK)
        try:
            os.write(fd, b"%d;" % step)
        finally:
            os.close(fd)

    def race(self, disk, rounds=6, workers=4, steps=300):
        """The same names changed by several processes at once, through this directory (a
        mount); then every name, seen here and in disk (the directory underneath), must be
        the same file, and the same names one file."""
        for rnd_no in range(rounds):
            d = self.case_dir()
            pids = []
            for w in range(workers):
                pid = os.fork()
                if pid == 0:
                    rnd = random.Random(rnd_no * 100 + w)
                    if w % 2:
                        os.setgroups(self.u1.groups)
                        os.setgid(self.u1.gid)
                        os.setuid(self.u1.uid)
                    for i in range(steps):
                        call(self.step(rnd, d, i)[3])
                    os._exit(0)
                pids.append(pid)
            for pid in pids:
                os.waitpid(pid, 0)
            under = os.path.join(disk, d)
            for name in self.REUSE_NAMES:
                a, b = self.desc(os.path.join(d, name)), self.desc(os.path.join(under, name))
                self.out(f"race/{rnd_no}/{name}", "same" if a == b else f"{a} | disk: {b}")
            a, b = self.tree(d), self.tree(under)
            self.out(f"race/{rnd_no}/tree", "same" if a == b else f"{a} | disk: {b}")

    def run(self):
        os.umask(0o022)
        os.chmod(self.base, 0o777)
        for section in (self.statfs, self.open_flags, self.permissions, self.sticky,
                        self.rename, self.chmod_chown, self.utimes, self.links, self.names,
                        self.make_nodes, self.setgid_dirs, self.io, self.xattrs, self.acls,
                        self.reuse):
            try:
                section()
            except Exception as e:  # the rest of the section is lost: one outcome says so
                self.out(f"{section.__name__}/aborted", f"{type(e).__name__} {e}")
            sys.stdout.flush()


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "--tree":
        # What is under DIR, as the assertions describe it, with times (trees tools made).
        os.chdir(sys.argv[2])
        print(Suite(".", *sys.argv[3:]).tree(".", times=True))
        return
    race = len(sys.argv) == 7 and sys.argv[1] == "--race"
    if not (race or len(sys.argv) == 5) or os.geteuid() != 0:
        sys.exit("usage (as root): posix.py DIR USER1 USER2 GROUP\n"
                 "                posix.py --race DIR DISKDIR USER1 USER2 GROUP")
    args = sys.argv[2:] if race else sys.argv[1:]
    disk = os.path.abspath(args.pop(1)) if race else None
    # Relative paths: the same in both directories (and short enough for a socket's name).
    os.chdir(args[0])
    suite = Suite(".", *args[1:])
    if race:
        os.chmod(".", 0o777)
        suite.race(disk)
    else:
        suite.run()
    print(f"# {suite.count} assertions", file=sys.stderr)


if __name__ == "__main__":
    main()
