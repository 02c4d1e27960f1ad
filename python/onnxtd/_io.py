"""Models in the three kinds the API takes (onnx.ModelProto, bytes, a path)
and the library's handles.

The C API reads and writes files only, so a ModelProto or bytes goes
through a file in a private temporary folder that is removed afterwards.
"""

from __future__ import annotations

import ctypes
import enum
import os
import re
import tempfile
from typing import Any, Dict, Union

from . import _lib

PathLike = Union[str, "os.PathLike[str]"]
ModelLike = Union[bytes, bytearray, memoryview, PathLike, Any]


class Status(enum.IntEnum):
    """The library's status codes (onnxtd_status)."""
    OK = 0
    EINPUT = 1
    EIO = 2
    ENOMEM = 3
    ENUMERIC = 4
    EUSAGE = 5
    EUNMET = 6


class Error(RuntimeError):
    """A failure reported by libonnxtd: .status is the Status, .message the
    library's message (naming the file and element concerned), its option
    fields named as this package's keyword arguments."""

    def __init__(self, status: int, message: str) -> None:
        try:
            self.status: Union[Status, int] = Status(status)
        except ValueError:
            self.status = status
        self.message = message
        super().__init__(message)


# The library names its options as C fields ("options.allow_slower",
# "options.budget target_params 0.5"); here they are keyword arguments.
_FIELD_NAMES = [
    (re.compile(r"(?<![\w.'-])options\.budget (target_params|target_flops)\b"),
     r"\1"),
    (re.compile(r"(?<![\w.'-])options\.budget\.rank\b"), "rank"),
    (re.compile(r"(?<![\w.'-])options\.sensitivity MEASURED\b"),
     "sensitivity='measured'"),
    (re.compile(r"(?<![\w.'-])options\.include/exclude\b"), "include/exclude"),
    (re.compile(r"(?<![\w.'-])options\.act_lambda ONNXTD_ACT_LAMBDA_(CV|AUTO)\b"),
     lambda m: "act_lambda='%s'" % m.group(1).lower()),
    (re.compile(r"(?<![\w.'-])options\.(\w+)\b"), r"\1"),
]


def keyword_names(message: str) -> str:
    """The library's message with its option fields named as this
    package's keyword arguments."""
    for pattern, repl in _FIELD_NAMES:
        message = pattern.sub(repl, message)
    return message


def check(status: int, err: _lib.ErrorStruct) -> None:
    if status != Status.OK:
        raise Error(status, keyword_names(
            err.message.decode("utf-8", "replace")))


def kind_of(model: Any) -> str:
    """'proto', 'bytes' or 'path'."""
    if isinstance(model, (bytes, bytearray, memoryview)):
        return "bytes"
    if isinstance(model, (str, os.PathLike)):
        return "path"
    if hasattr(model, "SerializeToString"):
        return "proto"
    raise TypeError("onnxtd: a model is an onnx.ModelProto, bytes or a path, "
                    f"not {type(model).__name__}")


class TempModels:
    """A private temporary folder holding the models given as bytes or
    ModelProto; errors raised inside name those models, not the temp files
    the library saw."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="onnxtd-")
        self.folder = self._dir.name
        self._labels: Dict[str, str] = {}

    def path(self, model: Any, name: str, label: str = "model") -> str:
        """A file holding the model: the path itself, or one written here."""
        kind = kind_of(model)
        if kind == "path":
            return os.fspath(model)
        data = bytes(model) if kind == "bytes" else model.SerializeToString()
        path = os.path.join(self.folder, name)
        with open(path, "wb") as f:
            f.write(data)
        what = "bytes" if kind == "bytes" else "ModelProto"
        self._labels[path] = f"{label} ({what}, {len(data)} bytes)"
        return path

    def __enter__(self) -> "TempModels":
        return self

    def __exit__(self, typ: Any, exc: Any, tb: Any) -> None:
        self._dir.cleanup()
        if isinstance(exc, Error):
            msg = exc.message
            for path, label in self._labels.items():
                msg = msg.replace(path, label)
            exc.message = msg
            exc.args = (msg,)


def from_file(path: str, kind: str) -> Any:
    """The saved model back in the caller's kind (bytes or ModelProto)."""
    with open(path, "rb") as f:
        data = f.read()
    if kind == "bytes":
        return data
    import onnx  # only needed by callers that pass ModelProtos
    return onnx.load_from_string(data)


class Model:
    """A loaded libonnxtd model handle, freed on close."""

    def __init__(self, path: str) -> None:
        lib = _lib.lib()
        self.handle = ctypes.c_void_p()
        err = _lib.ErrorStruct()
        st = lib.onnxtd_model_load(os.fsencode(path), None,
                                   ctypes.byref(self.handle),
                                   ctypes.byref(err))
        check(st, err)

    def save(self, path: PathLike, external_data: Union[str, None] = None,
             size_threshold: int = 1024) -> None:
        so = _lib.SaveOptions(
            external_data.encode() if external_data else None,
            size_threshold)
        err = _lib.ErrorStruct()
        st = _lib.lib().onnxtd_model_save(self.handle, os.fsencode(path),
                                          ctypes.byref(so), ctypes.byref(err))
        check(st, err)

    def close(self) -> None:
        if self.handle:
            _lib.lib().onnxtd_model_free(self.handle)
            self.handle = ctypes.c_void_p()

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def dims_array(dims: Union[dict, None]):
    """(pointer, count, keep-alive) for a {name: value} dict of symbolic
    dims."""
    if not dims:
        return None, 0, None
    arr = (_lib.DimValue * len(dims))()
    for i, (k, v) in enumerate(dims.items()):
        arr[i].name = str(k).encode()
        arr[i].value = int(v)
    return arr, len(dims), arr
