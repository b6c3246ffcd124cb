"""Work whose cost an editor's input decides, run in a child process with a time and a memory limit.

Prose is code: two nested ``{% for %}`` loops over ``range(100000)``, ``{{ 7**(7**9) }}``
or a string doubled forty times cost what they cost (a minute, or 6 GB in 17 s), and
markdown-it parses some inputs in quadratic time (16,000 unmatched quotes: 15 s in the
smart-quotes pass). The sandbox bounds what prose may *reach*; this module bounds what
it may *spend*. :func:`run_bounded` forks (the child shares the decoded data without
copying or pickling it), caps the memory the child may add to what it shares with its
parent (``RLIMIT_AS`` and ``RLIMIT_DATA``), and gives each step of the work
``Limits.seconds`` of wall-clock time. A step that runs longer is stopped, a child that
asks for more memory gets ``MemoryError``, and either becomes one ContentError naming the
file and line the work was at.

The work says where it is with :func:`step` (a file, and the line map of its compiled
expressions), which also restarts the clock, and :func:`at` (a paragraph), written into
shared memory, cheap enough for every paragraph. A child stopped for time first dumps
its Python stack (``faulthandler`` on SIGPROF): that names the line of a runaway
expression even while the child is inside one long C call (a power, a repeat), where
no Python-level signal handler would run. Outside a bounded child both are no-ops.
"""
from __future__ import annotations

import ctypes
import faulthandler
import math
import mmap
import os
import pickle
import re
import resource
import select
import signal
import struct
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, NoReturn, TypeVar

from lossarticle.errors import ContentError, LossArticleError

T = TypeVar("T")
GRACE_S = 5.0  # a child told to stop (SIGPROF) dumps its stack in microseconds; after this, SIGKILL
AT_BYTES = 4096  # the shared slot :func:`at` writes "file:line" into
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process receives when its parent dies (Linux)
HEADER = struct.Struct("<cI")  # each message from the child: its kind (one byte) and its length
TEMPLATE_FRAME = re.compile(r'File "<template>", line (\d+)')  # a Jinja frame in a faulthandler dump


@dataclass(frozen=True)
class Limits:
    """What rendering the prose may spend; README's "When something goes wrong" states the defaults.

    The article's prose takes at most 0.01 s and under 1 MiB a step (2026-12-04, 2 cores):
    the defaults leave room for a machine hundreds of times slower or busier, and stop
    a runaway before it stalls ``serve`` for long or eats the machine. Markdown is
    parsed up to three times (figures first, then each file, then the whole article),
    so a slow but finite paragraph may cost three steps' time.
    """

    seconds: float = 5.0  # wall-clock time of one step: compiling or running a file's expressions, parsing its
    #                       Markdown, or parsing the assembled article
    mebibytes: int = 256  # memory the child may allocate beyond what it shares with its parent


@dataclass
class _Channel:
    """The child's end: the pipe to its parent and the shared slot :func:`at` writes."""

    fd: int
    slot: mmap.mmap


_channel: _Channel | None = None  # set in a bounded child only


def step(where: str, line_map: Sequence[tuple[int, int]] = ()) -> None:
    """The work moves on to the file ``where`` (``article/03-x.md``), and its clock starts again.

    ``line_map`` holds (template line, code line) pairs of the Jinja template about to
    run (``Template.debug_info``): a stopped child's stack shows code lines, and the
    parent maps them back to the file's lines.
    """
    if _channel is not None:
        _write_at(_channel.slot, "")
        _send(_channel.fd, b"S", pickle.dumps((where, tuple(line_map))))


def at(where: str) -> None:
    """The work is at ``where`` ("article/03-x.md:12") within the current step; no message, no syscall."""
    if _channel is not None:
        _write_at(_channel.slot, where)


def run_bounded(work: Callable[[], T], limits: Limits, start: str) -> T:
    """``work()`` in a forked child within ``limits``: its result, or the error it raised, raised here.

    ``start`` is the file the work begins with, named if the child is stopped before
    its first :func:`step`. A :class:`LossArticleError` crosses back as itself; any
    other exception is a bug, raised as a RuntimeError carrying the child's traceback.
    """
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    with tempfile.TemporaryFile() as dump, mmap.mmap(-1, AT_BYTES) as slot:
        try:
            pid = os.fork()
        except OSError as error:
            os.close(read_fd)
            os.close(write_fd)
            raise LossArticleError(f"{start}: cannot start the process that renders the prose "
                                   f"({error.strerror})") from error
        if pid == 0:
            _child(work, limits, parent, (read_fd, write_fd), dump, slot)
        os.close(write_fd)
        watch = _Watch(pid, start)
        try:
            _watch(watch, read_fd, limits)
        finally:
            os.close(read_fd)
            watch.reap()
        return _conclude(watch, dump, _read_at(slot), limits)


# ---------------------------------------------------------------- the child

def _child(work: Callable[[], object], limits: Limits, parent: int, pipe: tuple[int, int], dump: IO[bytes],
           slot: mmap.mmap) -> NoReturn:
    """Run ``work`` and send its result; never returns into the parent's stack (``os._exit``)."""
    global _channel
    code = 1
    read_fd, write_fd = pipe
    try:
        _die_with(parent)
        os.close(read_fd)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops this child
        _channel = _Channel(write_fd, slot)
        faulthandler.disable()  # a crash inherited from a parent's settings would print into its terminal
        # chain=True: after the dump, SIGPROF's default action ends the process.
        faulthandler.register(signal.SIGPROF, file=dump.fileno(), all_threads=False, chain=True)
        _limit_memory(limits.mebibytes * 2 ** 20)
        try:
            reply = (b"R", pickle.dumps(work()))
        except MemoryError as error:
            reply = (b"M", pickle.dumps(template_line(error)))
        except LossArticleError as error:
            reply = (b"E", pickle.dumps(error))
        except BaseException:  # a bug, not an editor's mistake: its traceback goes to the parent
            reply = (b"X", traceback.format_exc().encode())
        _send(write_fd, *reply)
        code = 0
    finally:
        os._exit(code)


def _die_with(parent: int) -> None:
    """Have the kernel end this child when its parent dies (Linux): only the parent's clock stops a runaway,
    and a ``serve`` killed with SIGKILL must not leave one spinning, holding its port."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # no prctl: not Linux
        return
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(1)


def _limit_memory(extra: int) -> None:
    """Let this process grow by ``extra`` bytes at most, over what it already maps (shared with the parent).

    Both limits: the address space catches every allocation on any kernel; the
    data limit does not count the libraries' read-only mappings. Without
    /proc (not Linux) there is no baseline, and no limit.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as lines:
            status = dict(line.split(":", 1) for line in lines)
    except OSError:
        return
    for limit, key in ((resource.RLIMIT_AS, "VmSize"), (resource.RLIMIT_DATA, "VmData")):
        soft, hard = resource.getrlimit(limit)
        wanted = int(status[key].split()[0]) * 1024 + extra
        if hard != resource.RLIM_INFINITY:
            wanted = min(wanted, hard)
        if soft == resource.RLIM_INFINITY or soft > wanted:
            resource.setrlimit(limit, (wanted, hard))


def _send(fd: int, kind: bytes, payload: bytes) -> None:
    data = HEADER.pack(kind, len(payload)) + payload
    while data:
        data = data[os.write(fd, data):]


def _write_at(slot: mmap.mmap, where: str) -> None:
    data = where.encode("utf-8")[:AT_BYTES - 4]
    slot[4:4 + len(data)] = data
    struct.pack_into("<I", slot, 0, len(data))


def _read_at(slot: mmap.mmap) -> str:
    (length,) = struct.unpack_from("<I", slot, 0)
    return slot[4:4 + length].decode("utf-8", errors="replace")


def template_line(error: BaseException) -> int | None:
    """The template line an exception was raised at (Jinja rewrites its frames to template lines), if any."""
    line = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == "<template>" and frame.lineno is not None:
            line = frame.lineno
    return line


# ---------------------------------------------------------------- the parent

@dataclass
class _Watch:
    """What the parent learns of its child."""

    pid: int
    where: str  # the file of the current step
    line_map: tuple[tuple[int, int], ...] = ()
    reply: tuple[bytes, bytes] | None = None  # the child's last word: its kind and payload
    stopped: bool = False  # the parent stopped it for time
    status: int | None = None  # os.waitpid's, once reaped
    deadline: float = field(default=math.inf)

    def reap(self) -> None:
        """Make sure the child is gone (also when the parent is interrupted)."""
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.status = os.waitpid(self.pid, 0)[1]


def _watch(watch: _Watch, fd: int, limits: Limits) -> None:
    """Read the child's messages until it exits, stopping it when a step outlasts its time."""
    buffer = bytearray()
    watch.deadline = time.monotonic() + limits.seconds
    while True:
        remaining = watch.deadline - time.monotonic()
        if remaining <= 0:
            _stop(watch)
            continue
        if not select.select([fd], [], [], remaining)[0]:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:  # the child's end closed: it has exited
            break
        buffer += chunk
        for kind, payload in _messages(buffer):
            if kind == b"S":
                if not watch.stopped:
                    watch.where, watch.line_map = pickle.loads(payload)
                    watch.deadline = time.monotonic() + limits.seconds
            else:
                watch.reply = (kind, payload)
                watch.deadline = time.monotonic() + GRACE_S  # it exits next
    watch.status = os.waitpid(watch.pid, 0)[1]


def _stop(watch: _Watch) -> None:
    """First ask for a stack dump and an end (SIGPROF), then, should that not end it, SIGKILL."""
    if watch.reply is None and not watch.stopped:
        watch.stopped = True
        os.kill(watch.pid, signal.SIGPROF)
        watch.deadline = time.monotonic() + GRACE_S
    else:
        os.kill(watch.pid, signal.SIGKILL)
        watch.deadline = math.inf


def _messages(buffer: bytearray) -> Iterator[tuple[bytes, bytes]]:
    """Complete messages at the front of ``buffer``, removed from it as they are read."""
    while len(buffer) >= HEADER.size:
        kind, length = HEADER.unpack_from(buffer)
        if len(buffer) < HEADER.size + length:
            return
        payload = bytes(buffer[HEADER.size:HEADER.size + length])
        del buffer[:HEADER.size + length]
        yield kind, payload


def _conclude(watch: _Watch, dump: IO[bytes], at_now: str, limits: Limits) -> Any:
    """The child's result, or one line saying why there is none."""
    if watch.reply is not None:
        kind, payload = watch.reply
        if kind == b"R":
            return pickle.loads(payload)
        if kind == b"E":
            raise pickle.loads(payload)
        if kind == b"M":
            where = at_now or f"{watch.where}:{pickle.loads(payload) or 1}"
            raise ContentError(f"{where}: needed more than {limits.mebibytes} MiB")
        if kind == b"X":
            raise RuntimeError(f"the bounded child failed:\n{payload.decode(errors='replace')}")
        raise RuntimeError(f"unknown reply {kind!r} from the bounded child")
    dump.seek(0)
    where = at_now or f"{watch.where}:{dumped_line(dump.read().decode(errors='replace'), watch.line_map)}"
    if watch.stopped:
        raise ContentError(f"{where}: took more than {limits.seconds:g} s")
    assert watch.status is not None
    raise ContentError(f"{where}: stopped by {describe_status(watch.status)}")


def dumped_line(dump: str, line_map: Sequence[tuple[int, int]]) -> int:
    """The template line of the innermost Jinja frame of a faulthandler dump (most recent call first); 1 if none.

    The dump shows lines of the compiled code; ``line_map`` maps them back as
    ``Template.get_corresponding_lineno`` does.
    """
    match = TEMPLATE_FRAME.search(dump)
    if match is None:
        return 1
    code_line = int(match[1])
    return next((template for template, code in reversed(line_map) if code <= code_line), 1)


def describe_status(status: int) -> str:
    """An exit status in words: ``signal SIGSEGV`` or ``exit status 3``."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            return f"signal {signal.Signals(number).name}"
        except ValueError:
            return f"signal {number}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
