"""ctypes mirror of include/onnxtd.h and the search for libonnxtd.

The structures below must match the header field for field: ctypes cannot
read a C header, so a change to a public struct is a change here too.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
from typing import Any, Optional, Tuple

c_char_pp = ctypes.POINTER(ctypes.c_char_p)

ERROR_MESSAGE_SIZE = 1024


class ErrorStruct(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int),
                ("message", ctypes.c_char * ERROR_MESSAGE_SIZE)]


class LoadOptions(ctypes.Structure):
    _fields_ = [("max_depth", ctypes.c_int),
                ("mem_limit", ctypes.c_size_t)]


class SaveOptions(ctypes.Structure):
    _fields_ = [("external_data", ctypes.c_char_p),
                ("size_threshold", ctypes.c_size_t)]


class DimValue(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p),
                ("value", ctypes.c_int64)]


PROGRESS_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_size_t,
                               ctypes.c_size_t)
# onnxtd_judge_fn: (ctx, model path, double *score, char *msg, msg_len)
JUDGE_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
                            ctypes.POINTER(ctypes.c_double), ctypes.c_void_p,
                            ctypes.c_size_t)
PROGRESS_WORK_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_size_t,
                                    ctypes.c_size_t, ctypes.c_double,
                                    ctypes.c_double)


class Budget(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int),
                ("value", ctypes.c_double),
                ("rank", ctypes.c_int64),
                ("also_flops", ctypes.c_double)]


# onnxtd_budget_kind
BUDGET_NONE, BUDGET_RANK, BUDGET_RATIO, BUDGET_TOL = 0, 1, 2, 3
BUDGET_TARGET_PARAMS, BUDGET_TARGET_FLOPS, BUDGET_VBMF = 4, 5, 6
HOLDOUT_AUTO = -1
# ONNXTD_SENS_GROUPS_LAYERS: (size_t)-1
SENS_GROUPS_LAYERS = ctypes.c_size_t(-1).value


class StatePair(ctypes.Structure):
    _fields_ = [("input", ctypes.c_char_p),
                ("output", ctypes.c_char_p)]


def state_array(state: Any) -> Tuple[Any, int]:
    """A recurrent model's loop, {input: output} or [(input, output)], as
    the library's onnxtd_state_pair array (None, 0 for none)."""
    pairs = list(dict(state).items()) if isinstance(state, dict) \
        else [tuple(p) for p in (state or [])]
    if not pairs:
        return None, 0
    for p in pairs:
        if len(p) != 2 or not all(isinstance(x, str) and x for x in p):
            raise ValueError("onnxtd: state pairs are (input name, output "
                             "name), not %r" % (p,))
    arr = (StatePair * len(pairs))(*[StatePair(i.encode(), o.encode())
                                    for i, o in pairs])
    return arr, len(pairs)


class CompressOptions(ctypes.Structure):
    """Filled with the library's defaults by onnxtd_compress_options_init
    (call new_compress_options), which also sets size."""
    _fields_ = [("size", ctypes.c_size_t),
                ("method", ctypes.c_int),
                ("budget", Budget),
                ("include", ctypes.c_char_p),
                ("exclude", ctypes.c_char_p),
                ("force", ctypes.c_int),
                ("fold_bn", ctypes.c_int),
                ("threads", ctypes.c_int),
                ("max_sweeps", ctypes.c_int),
                ("fit_tol", ctypes.c_double),
                ("dims", ctypes.POINTER(DimValue)),
                ("n_dims", ctypes.c_size_t),
                ("sensitivity", ctypes.c_int),
                ("rank_multiple", ctypes.c_int64),
                ("min_rank", ctypes.c_int64),
                ("allow_slower", ctypes.c_int),
                ("act_stats", ctypes.c_char_p),
                ("act_lambda", ctypes.c_double),
                ("calib", c_char_pp),
                ("n_calib", ctypes.c_size_t),
                ("holdout", ctypes.c_long),
                ("ort_lib", ctypes.c_char_p),
                ("measure_runs", ctypes.c_int),
                ("progress", PROGRESS_FN),
                ("progress_ctx", ctypes.c_void_p),
                ("progress_work", PROGRESS_WORK_FN),
                ("command", ctypes.c_char_p),
                ("max_error", ctypes.c_double),
                ("min_agreement", ctypes.c_double),
                ("protect", ctypes.c_int),
                ("latency_cache", ctypes.c_char_p),
                ("sens_cache", ctypes.c_char_p),
                ("refit", ctypes.c_int),
                ("refit_waves", ctypes.c_int),
                ("max_layer_error", ctypes.c_double),
                ("state", ctypes.POINTER(StatePair)),
                ("n_state", ctypes.c_size_t),
                ("softmax_metric", ctypes.c_double),
                ("bound_outputs", ctypes.POINTER(ctypes.c_char_p)),
                ("n_bound_outputs", ctypes.c_size_t),
                ("min_iou", ctypes.c_double),
                ("iou_threshold", ctypes.c_double),
                ("sens_groups", ctypes.c_size_t),
                ("judge", JUDGE_FN),
                ("judge_ctx", ctypes.c_void_p),
                ("judge_name", ctypes.c_char_p),
                ("min_score", ctypes.c_double)]


def new_compress_options() -> CompressOptions:
    """Options with the library's own defaults (and its size check)."""
    o = CompressOptions()
    lib().onnxtd_compress_options_init(ctypes.byref(o))
    return o


class EvalOptions(ctypes.Structure):
    _fields_ = [("model_a", ctypes.c_char_p),
                ("model_b", ctypes.c_char_p),
                ("inputs", c_char_pp),
                ("n_inputs", ctypes.c_size_t),
                ("random", ctypes.c_size_t),
                ("seed", ctypes.c_uint64),
                ("dims", ctypes.POINTER(DimValue)),
                ("n_dims", ctypes.c_size_t),
                ("ort_lib", ctypes.c_char_p),
                ("threads", ctypes.c_int),
                ("runs", ctypes.c_size_t),
                ("rtol", ctypes.c_double),
                ("min_cosine", ctypes.c_double),
                ("min_agreement", ctypes.c_double),
                ("elem_rtol", ctypes.c_double),
                ("elem_atol", ctypes.c_double)]


def _bundled() -> Optional[str]:
    here = os.path.dirname(os.path.abspath(__file__))
    found = sorted(glob.glob(os.path.join(here, "libonnxtd.so*")))
    return found[0] if found else None


def find_library() -> str:
    """The library to load: $ONNXTD_LIB, else the copy bundled at install
    time, else the system's (the dynamic linker's search)."""
    env = os.environ.get("ONNXTD_LIB")
    if env:
        return env
    bundled = _bundled()
    if bundled:
        return bundled
    return ctypes.util.find_library("onnxtd") or "libonnxtd.so.0"


def _declare(lib: ctypes.CDLL) -> None:
    vp, err = ctypes.c_void_p, ctypes.POINTER(ErrorStruct)
    out_str = ctypes.POINTER(ctypes.c_void_p)
    sigs = {
        "onnxtd_model_load": [ctypes.c_char_p, ctypes.POINTER(LoadOptions),
                              ctypes.POINTER(vp), err],
        "onnxtd_model_save": [vp, ctypes.c_char_p,
                              ctypes.POINTER(SaveOptions), err],
        "onnxtd_model_info_dims": [vp, ctypes.c_int, ctypes.POINTER(DimValue),
                                   ctypes.c_size_t, out_str, err],
        "onnxtd_model_diff": [vp, vp, ctypes.c_int, out_str,
                              ctypes.POINTER(ctypes.c_int), err],
        "onnxtd_compress": [vp, ctypes.POINTER(CompressOptions),
                            ctypes.POINTER(vp), err],
        "onnxtd_report_json": [vp, out_str, err],
        "onnxtd_report_stats": [vp, ctypes.POINTER(ctypes.c_void_p),
                                ctypes.POINTER(ctypes.c_size_t), err],
        "onnxtd_report_latency_cache": [vp, ctypes.POINTER(ctypes.c_char_p),
                                        ctypes.POINTER(ctypes.c_size_t), err],
        "onnxtd_eval": [ctypes.POINTER(EvalOptions), ctypes.c_int, out_str,
                        ctypes.POINTER(ctypes.c_int), err],
        "onnxtd_eval_loop": [ctypes.POINTER(EvalOptions),
                             ctypes.POINTER(StatePair), ctypes.c_size_t,
                             ctypes.c_int, out_str,
                             ctypes.POINTER(ctypes.c_int), err],
    }
    for name, args in sigs.items():
        fn = getattr(lib, name)
        fn.argtypes = args
        fn.restype = ctypes.c_int
    lib.onnxtd_model_free.argtypes = [vp]
    lib.onnxtd_model_free.restype = None
    lib.onnxtd_eval_options_init.argtypes = [ctypes.POINTER(EvalOptions)]
    lib.onnxtd_eval_options_init.restype = None
    lib.onnxtd_compress_options_init.argtypes = [
        ctypes.POINTER(CompressOptions)]
    lib.onnxtd_compress_options_init.restype = None
    lib.onnxtd_report_free.argtypes = [vp]
    lib.onnxtd_report_free.restype = None
    lib.onnxtd_version.argtypes = []
    lib.onnxtd_version.restype = ctypes.c_char_p


_state: dict = {}


def lib() -> ctypes.CDLL:
    """The loaded library (loaded on first use, so that importing onnxtd
    never fails for want of it)."""
    if "lib" not in _state:
        path = find_library()
        try:
            handle = ctypes.CDLL(path)
        except OSError as e:
            raise OSError(
                f"onnxtd: cannot load the library '{path}' ({e}); set "
                "ONNXTD_LIB to a built libonnxtd.so") from None
        _declare(handle)
        _state["lib"] = handle
        _state["path"] = path
    return _state["lib"]


def loaded_path() -> str:
    lib()
    return _state["path"]


def take_string(ptr: ctypes.c_void_p) -> str:
    """Copies a malloc'd C string and frees it with the process's free()
    (the one the library's malloc pairs with, ASan's when preloaded)."""
    if not ptr.value:
        return ""
    try:
        return ctypes.string_at(ptr.value).decode("utf-8", "replace")
    finally:
        _libc_free(ptr)


def _libc_free(ptr: ctypes.c_void_p) -> None:
    if "free" not in _state:
        free = ctypes.CDLL(None).free
        free.argtypes = [ctypes.c_void_p]
        free.restype = None
        _state["free"] = free
    _state["free"](ptr)


def judge_fn(judge: Any) -> Any:
    """A Python callable (model path -> score) as an onnxtd_judge_fn: an
    exception or a result that is no number becomes the library's error
    message, which stops the compression."""
    def call(_ctx: Any, path: bytes, score: Any, msg: Any,
             msg_len: int) -> int:
        try:
            v = judge(os.fsdecode(path))
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise TypeError("returned %r, not a number" % (v,))
            score[0] = float(v)
            return 0
        except BaseException as e:  # noqa: BLE001 -- back through C
            text = ("%s: %s" % (type(e).__name__, e)).encode(
                "utf-8", "replace")[:max(int(msg_len) - 1, 0)]
            ctypes.memmove(msg, text, len(text))
            ctypes.memset(msg + len(text), 0, 1)
            return 1
    return JUDGE_FN(call)
