"""Reading a user's file with a C extension in a child process, so that a crash there is an error here.

scipy's `.mat` reader is compiled code, and some damaged files make it crash the whole process
(a single flipped flag byte, "complex", makes scipy 1.17 read past its buffer: SIGSEGV). A command
must answer such a file with one line, so the reading runs in a forked child: it sends back the
arrays it read (their raw bytes after a JSON header: nothing is pickled), or the one-line reason
it failed; if it dies of a signal instead, that is the reason. Where `fork` does not exist, the
reading runs in this process. It costs about 0.2 s for the 42 MB NIST36 training split.
"""

from __future__ import annotations

import faulthandler
import json
import os
import signal

import numpy as np

from .errors import first_line

_OK, _FAILED = b"A", b"E"


class ReadingFailed(Exception):
    """The reader raised (its message), or its process died (the signal)."""


def read_in_child(read, *args) -> dict[str, np.ndarray]:
    """`read(*args)`, a dict of numpy arrays, computed in a forked child process.

    Arrays of objects (a MATLAB cell or struct) come back as arrays of None of the same shape, so
    that the caller can say what they were without anything being unpickled.
    """
    if not hasattr(os, "fork"):
        return _checked_call(read, *args)
    source, sink = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(source)
        faulthandler.disable()  # its crash is the parent's one-line error, not a dump of the stack
        try:
            with os.fdopen(sink, "wb") as out:
                out.write(_encoded(read, *args))
        finally:
            os._exit(0)
    os.close(sink)
    with os.fdopen(source, "rb") as incoming:
        reply = incoming.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        raise ReadingFailed(f"the reader crashed on it ({name})")
    if not reply.startswith(_OK):
        raise ReadingFailed(reply[1:].decode(errors="replace") or "the reader stopped without a reason")
    return _decoded(reply[1:])


def _checked_call(read, *args):
    try:
        return read(*args)
    except Exception as error:
        raise ReadingFailed(first_line(error)) from None


def _encoded(read, *args) -> bytes:
    """A JSON header (each array's key, dtype, shape; arrays of objects by shape only), a newline,
    then the arrays' bytes one after another."""
    try:
        arrays = {k: np.ascontiguousarray(a) for k, a in read(*args).items()}
        header = {k: [a.dtype.str, list(a.shape)] for k, a in arrays.items() if a.dtype.kind != "O"}
        objects = {k: list(a.shape) for k, a in arrays.items() if a.dtype.kind == "O"}
        head = json.dumps({"arrays": header, "objects": objects}).encode() + b"\n"
        return b"".join([_OK, head, *(arrays[k].tobytes() for k in header)])
    except BaseException as error:
        return _FAILED + first_line(error).encode()


def _decoded(data: bytes) -> dict[str, np.ndarray]:
    end = data.index(b"\n")
    header = json.loads(data[:end])
    body, offset, arrays = memoryview(data)[end + 1 :], 0, {}
    for key, (dtype, shape) in header["arrays"].items():
        dtype = np.dtype(dtype)
        size = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
        arrays[key] = np.frombuffer(body[offset : offset + size], dtype=dtype).reshape(shape).copy()
        offset += size
    for key, shape in header["objects"].items():
        arrays[key] = np.empty(shape, dtype=object)
    return arrays
