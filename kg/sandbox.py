"""The walls around a process that evaluates queries: no network, bounded memory and CPU.

Oxigraph has an HTTP client built in (for SERVICE) and no switch to turn it off, and
neither pyoxigraph nor rdflib can stop a query that runs too long or grows too big. So
kg evaluates queries only in processes of their own (:mod:`kg.engine`), and each one
first calls :func:`confine`:

* a seccomp filter (libseccomp, through ``pyseccomp``) makes ``socket()`` fail with
  EACCES for every address family, and ``io_uring_setup`` too (io_uring can open
  sockets without the ``socket`` system call). The process keeps the connected socket
  it was handed and can open none: whatever a query asks, it cannot reach the network,
  nor a local service. The filter is inherited by every child and cannot be undone;
* ``RLIMIT_AS`` caps its address space at what it uses now plus the query's memory
  budget (an allocation past it fails and the process dies, not the machine), and
  ``RLIMIT_CPU`` caps the CPU time of each query (:func:`cpu_budget`), in case the
  process that watches the clock dies.

The filter needs Linux with seccomp (any kernel since 3.5) and the libseccomp library
(on every distribution that ships systemd). Where it cannot be had, :func:`confine`
raises :class:`SandboxUnavailable`, unless ``KG_SANDBOX=off`` is set: kg then runs
queries with the check alone, and says so.
"""

from __future__ import annotations

import errno
import os
import resource
import sys

from .errors import KgError


class SandboxUnavailable(KgError):
    """This system cannot keep a query process off the network."""


#: System calls a query process may not make: the ones that open a socket.
DENIED_SYSCALLS = ("socket", "io_uring_setup")


def required() -> bool:
    """Whether queries must run sandboxed: yes, unless ``KG_SANDBOX=off``."""
    return os.environ.get("KG_SANDBOX", "").lower() not in ("off", "0", "no", "false")


def check_platform() -> None:
    """Raise SandboxUnavailable, with what to do, where the sandbox cannot be had."""
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(f"kg's query sandbox needs Linux (this is {sys.platform}); "
                                 "set KG_SANDBOX=off to run queries without it")


def no_network() -> None:
    """Install the seccomp filter that denies opening any socket, in this process and
    every process it starts from now on."""
    check_platform()
    try:
        import pyseccomp as seccomp

        rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        for name in DENIED_SYSCALLS:
            rules.add_rule(seccomp.ERRNO(errno.EACCES), name)
        rules.load()
    except (ImportError, OSError, RuntimeError, ValueError) as exc:
        raise SandboxUnavailable(f"cannot install kg's query sandbox (seccomp): {exc}; set "
                                 "KG_SANDBOX=off to run queries without it") from None


def address_space() -> int:
    """This process's virtual memory size, in bytes."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def confine(*, memory: int | None = None, network: bool = False) -> None:
    """Confine this process: no network (unless ``network``, or ``KG_SANDBOX=off``), and
    at most ``memory`` more bytes of address space than it has now."""
    if not network and required():
        no_network()
    if memory is not None:
        limit = address_space() + memory
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def cpu_budget(seconds: float) -> None:
    """Let this process use at most ``seconds`` more CPU time (then SIGXCPU ends it):
    a backstop for the wall-clock timeout that the parent keeps."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(used.ru_utime + used.ru_stime + seconds) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
