"""Reading inputs and writing outputs safely.

Inputs (facts files, sources, the ontology, ``kg viz --input``) are read only when
they are regular files, and at most :data:`MAX_INPUT_BYTES` of them: a directory, a
FIFO, a device such as ``/dev/zero`` or a symlink loop is one line naming it, never a
hang or a MemoryError. Outputs (``-o``) are written atomically (a temporary file in
the target's directory, then a rename), through a symlink to the file it points to,
and never over kg's own inputs or the build's files.
"""

from __future__ import annotations

import errno
import fcntl
import io
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import DataError, KgError, UsageError, display_path

#: The largest input file kg reads (facts file, source, ontology, RDF to draw).
MAX_INPUT_BYTES = 64 * 1024**2


class UnreadableInput(DataError):
    """An input that is not a readable regular file of at most MAX_INPUT_BYTES."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{display_path(self.path)}: {problem}")

    def __reduce__(self) -> tuple[type[UnreadableInput], tuple[Path, str]]:
        return (type(self), (self.path, self.problem))


def read_regular(path: Path | str, cap: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of the regular file ``path``; anything else (missing, a directory, a
    FIFO, a device, a symlink loop, unreadable, over ``cap`` bytes) raises
    :class:`UnreadableInput`. Opened non-blocking, so a FIFO never hangs."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise UnreadableInput(path, _problem(exc)) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UnreadableInput(path, "is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableInput(path, "not a regular file (a FIFO, socket or device)")
        if info.st_size > cap:
            raise UnreadableInput(path, f"larger than {_size(cap)} ({_size(info.st_size)})")
        chunks, left = [], cap + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise UnreadableInput(path, _problem(exc)) from None
    finally:
        os.close(fd)
    if len(data) > cap:
        raise UnreadableInput(path, f"larger than {_size(cap)}")
    return data


def _problem(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "no such file"
    if exc.errno == errno.ELOOP:
        return "a symlink loop"
    if exc.errno == errno.EACCES:
        return "permission denied"
    if exc.errno == errno.ENOTDIR:
        return "a part of the path is not a directory"
    return f"cannot read ({exc.strerror or exc})"


def _size(n: int) -> str:
    return f"{n / 1024**2:.0f} MiB" if n >= 1024**2 else f"{n} bytes"


# --------------------------------------------------------------------------- outputs


def check_output(output: Path, protected: Iterable[Path], option: str = "--output") -> None:
    """Refuse (UsageError) an output path that is, or lies under, one of ``protected``
    (kg's inputs and the build's own files), comparing real paths so that a symlink
    to an input is refused too; refuse an existing target that is not a regular file."""
    target = Path(os.path.realpath(output))
    for p in protected:
        real = Path(os.path.realpath(p))
        if target == real or target.is_relative_to(real):
            raise UsageError(f"{option}: {output} is one of kg's inputs or build files "
                             f"({display_path(real)}); choose another file")
    if target.exists() and not target.is_file() and not target.is_dir():
        raise UsageError(f"{option}: {output} is not a regular file")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory, an
    fsync and a rename. A symlink is written through: its target is replaced, the link
    stays."""
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~umask())  # mkstemp makes 0600; give what open() would
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def umask() -> int:
    """This process's file mode creation mask (read without changing it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fsync_dir(path: Path) -> None:
    """Flush the directory ``path`` itself, so that renames into it survive a crash."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the file ``path`` (made if missing): whoever holds
    it next waits until this one is done."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


class ClosedStdout(io.TextIOBase):
    """What ``sys.stdout`` becomes when kg starts with file descriptor 1 closed (Python
    leaves it None): writing to it raises OSError(EBADF), which kg reports on one line,
    where None would be a traceback or silence."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")

    @property
    def buffer(self) -> ClosedStdout:
        return self

    def isatty(self) -> bool:
        return False


def require_stdout() -> None:
    """Raise a one-line :class:`KgError` when standard output is closed."""
    if sys.stdout is None or isinstance(sys.stdout, ClosedStdout):
        raise KgError("cannot write to standard output: standard output is closed")


def write_stdout(data: bytes) -> None:
    """Write ``data`` to standard output; a closed or full standard output is a
    one-line :class:`KgError`, not a traceback (nor one more at exit)."""
    require_stdout()
    stream = sys.stdout
    try:
        stream.buffer.write(data)
        stream.flush()
    except (OSError, ValueError) as exc:
        _silence_stdout()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise KgError(f"cannot write to standard output: {reason}") from None


def _silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null so that the flush at exit fails no more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass
