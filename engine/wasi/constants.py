"""WASI preview 1 constants: errno values, rights bits, file types and flag bits.

The numbers are those of the ``wasi_snapshot_preview1`` witx definitions (typenames.witx),
which wasi-libc's ``wasi/api.h`` also checks. ``errno_from_os`` maps a host ``OSError``.
"""

from __future__ import annotations

import errno as _os_errno
import stat

# -- errno (u16) ---------------------------------------------------------------------------
ESUCCESS = 0
E2BIG = 1
EACCES = 2
EAGAIN = 6
EBADF = 8
EBUSY = 10
EEXIST = 20
EFAULT = 21
EFBIG = 22
EILSEQ = 25
EINTR = 27
EINVAL = 28
EIO = 29
EISDIR = 31
ELOOP = 32
EMFILE = 33
EMLINK = 34
ENAMETOOLONG = 37
ENFILE = 41
ENODEV = 43
ENOENT = 44
ENOMEM = 48
ENOSPC = 51
ENOSYS = 52
ENOTCONN = 53
ENOTDIR = 54
ENOTEMPTY = 55
ENOTSOCK = 57
ENOTSUP = 58
ENOTTY = 59
ENXIO = 60
EOVERFLOW = 61
EPERM = 63
EPIPE = 64
ERANGE = 68
EROFS = 69
ESPIPE = 70
ETXTBSY = 74
EXDEV = 75
ENOTCAPABLE = 76

#: Host errno -> WASI errno (names shared by POSIX and WASI; the rest become EIO).
_HOST_NAMES = {
    "E2BIG": 1, "EACCES": 2, "EADDRINUSE": 3, "EADDRNOTAVAIL": 4, "EAFNOSUPPORT": 5,
    "EAGAIN": 6, "EALREADY": 7, "EBADF": 8, "EBADMSG": 9, "EBUSY": 10, "ECANCELED": 11,
    "ECHILD": 12, "ECONNABORTED": 13, "ECONNREFUSED": 14, "ECONNRESET": 15, "EDEADLK": 16,
    "EDESTADDRREQ": 17, "EDOM": 18, "EDQUOT": 19, "EEXIST": 20, "EFAULT": 21, "EFBIG": 22,
    "EHOSTUNREACH": 23, "EIDRM": 24, "EILSEQ": 25, "EINPROGRESS": 26, "EINTR": 27,
    "EINVAL": 28, "EIO": 29, "EISCONN": 30, "EISDIR": 31, "ELOOP": 32, "EMFILE": 33,
    "EMLINK": 34, "EMSGSIZE": 35, "EMULTIHOP": 36, "ENAMETOOLONG": 37, "ENETDOWN": 38,
    "ENETRESET": 39, "ENETUNREACH": 40, "ENFILE": 41, "ENOBUFS": 42, "ENODEV": 43,
    "ENOENT": 44, "ENOEXEC": 45, "ENOLCK": 46, "ENOLINK": 47, "ENOMEM": 48, "ENOMSG": 49,
    "ENOPROTOOPT": 50, "ENOSPC": 51, "ENOSYS": 52, "ENOTCONN": 53, "ENOTDIR": 54,
    "ENOTEMPTY": 55, "ENOTRECOVERABLE": 56, "ENOTSOCK": 57, "ENOTSUP": 58, "EOPNOTSUPP": 58,
    "ENOTTY": 59, "ENXIO": 60, "EOVERFLOW": 61, "EOWNERDEAD": 62, "EPERM": 63, "EPIPE": 64,
    "EPROTO": 65, "EPROTONOSUPPORT": 66, "EPROTOTYPE": 67, "ERANGE": 68, "EROFS": 69,
    "ESPIPE": 70, "ESRCH": 71, "ESTALE": 72, "ETIMEDOUT": 73, "ETXTBSY": 74, "EXDEV": 75,
}  # fmt: skip
_FROM_HOST = {
    getattr(_os_errno, name): value
    for name, value in _HOST_NAMES.items()
    if hasattr(_os_errno, name)
}


def errno_from_os(exc: OSError) -> int:
    """The WASI errno for a host ``OSError`` (EIO when the host errno has no WASI name)."""
    return _FROM_HOST.get(exc.errno or 0, EIO)


# -- rights (u64 bit set) -------------------------------------------------------------------
FD_DATASYNC = 1 << 0
FD_READ = 1 << 1
FD_SEEK = 1 << 2
FD_FDSTAT_SET_FLAGS = 1 << 3
FD_SYNC = 1 << 4
FD_TELL = 1 << 5
FD_WRITE = 1 << 6
FD_ADVISE = 1 << 7
FD_ALLOCATE = 1 << 8
PATH_CREATE_DIRECTORY = 1 << 9
PATH_CREATE_FILE = 1 << 10
PATH_LINK_SOURCE = 1 << 11
PATH_LINK_TARGET = 1 << 12
PATH_OPEN = 1 << 13
FD_READDIR = 1 << 14
PATH_READLINK = 1 << 15
PATH_RENAME_SOURCE = 1 << 16
PATH_RENAME_TARGET = 1 << 17
PATH_FILESTAT_GET = 1 << 18
PATH_FILESTAT_SET_SIZE = 1 << 19
PATH_FILESTAT_SET_TIMES = 1 << 20
FD_FILESTAT_GET = 1 << 21
FD_FILESTAT_SET_SIZE = 1 << 22
FD_FILESTAT_SET_TIMES = 1 << 23
PATH_SYMLINK = 1 << 24
PATH_REMOVE_DIRECTORY = 1 << 25
PATH_UNLINK_FILE = 1 << 26
POLL_FD_READWRITE = 1 << 27
SOCK_SHUTDOWN = 1 << 28
SOCK_ACCEPT = 1 << 29
RIGHTS_ALL = (1 << 30) - 1

#: What an open regular file may do.
FILE_RIGHTS = (
    FD_DATASYNC
    | FD_READ
    | FD_SEEK
    | FD_FDSTAT_SET_FLAGS
    | FD_SYNC
    | FD_TELL
    | FD_WRITE
    | FD_ADVISE
    | FD_ALLOCATE
    | FD_FILESTAT_GET
    | FD_FILESTAT_SET_SIZE
    | FD_FILESTAT_SET_TIMES
    | POLL_FD_READWRITE
)
#: What an open directory may do (the path operations act on names inside it).
DIR_RIGHTS = (
    FD_FDSTAT_SET_FLAGS
    | FD_SYNC
    | FD_ADVISE
    | PATH_CREATE_DIRECTORY
    | PATH_CREATE_FILE
    | PATH_LINK_SOURCE
    | PATH_LINK_TARGET
    | PATH_OPEN
    | FD_READDIR
    | PATH_READLINK
    | PATH_RENAME_SOURCE
    | PATH_RENAME_TARGET
    | PATH_FILESTAT_GET
    | PATH_FILESTAT_SET_SIZE
    | PATH_FILESTAT_SET_TIMES
    | FD_FILESTAT_GET
    | FD_FILESTAT_SET_TIMES
    | PATH_SYMLINK
    | PATH_REMOVE_DIRECTORY
    | PATH_UNLINK_FILE
    | POLL_FD_READWRITE
)
#: A stdio stream (terminal, pipe or redirected file): no seeking.
STREAM_RIGHTS = FD_READ | FD_WRITE | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE

# -- file types (u8) ------------------------------------------------------------------------
FILETYPE_UNKNOWN = 0
FILETYPE_BLOCK_DEVICE = 1
FILETYPE_CHARACTER_DEVICE = 2
FILETYPE_DIRECTORY = 3
FILETYPE_REGULAR_FILE = 4
FILETYPE_SOCKET_DGRAM = 5
FILETYPE_SOCKET_STREAM = 6
FILETYPE_SYMBOLIC_LINK = 7


def filetype_of_mode(mode: int) -> int:
    """The WASI file type of a host ``st_mode``."""
    if stat.S_ISREG(mode):
        return FILETYPE_REGULAR_FILE
    if stat.S_ISDIR(mode):
        return FILETYPE_DIRECTORY
    if stat.S_ISLNK(mode):
        return FILETYPE_SYMBOLIC_LINK
    if stat.S_ISCHR(mode):
        return FILETYPE_CHARACTER_DEVICE
    if stat.S_ISBLK(mode):
        return FILETYPE_BLOCK_DEVICE
    if stat.S_ISSOCK(mode):
        return FILETYPE_SOCKET_STREAM
    return FILETYPE_UNKNOWN


# -- flag sets ------------------------------------------------------------------------------
WHENCE_SET, WHENCE_CUR, WHENCE_END = 0, 1, 2
FDFLAGS_APPEND = 1
FDFLAGS_DSYNC = 2
FDFLAGS_NONBLOCK = 4
FDFLAGS_RSYNC = 8
FDFLAGS_SYNC = 16
OFLAGS_CREAT = 1
OFLAGS_DIRECTORY = 2
OFLAGS_EXCL = 4
OFLAGS_TRUNC = 8
LOOKUP_SYMLINK_FOLLOW = 1
FSTFLAGS_ATIM = 1
FSTFLAGS_ATIM_NOW = 2
FSTFLAGS_MTIM = 4
FSTFLAGS_MTIM_NOW = 8
CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME, CLOCK_THREAD_CPUTIME = 0, 1, 2, 3
EVENTTYPE_CLOCK, EVENTTYPE_FD_READ, EVENTTYPE_FD_WRITE = 0, 1, 2
SUBCLOCKFLAGS_ABSTIME = 1
PREOPENTYPE_DIR = 0
ADVICE_MAX = 5  # normal, sequential, random, willneed, dontneed, noreuse
