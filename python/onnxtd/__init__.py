"""onnxtd for Python: compress ONNX models with tensor decompositions.

A thin ctypes layer over libonnxtd (the C library of the onnxtd command).
Every function takes a model as an ``onnx.ModelProto``, ``bytes`` or a path
and, where it produces a model, returns the same kind: a path input writes
to the path given as ``output=`` and returns it. Failures raise
:class:`onnxtd.Error` with the library's message and status.

The library is found as: ``$ONNXTD_LIB``, else the copy bundled at install
time, else the system's ``libonnxtd.so.0``.
"""

from __future__ import annotations

import ctypes
import json
import os
from typing import (Any, Callable, Dict, List, Mapping, Optional,
                    Sequence, Tuple, Union)

from . import _lib
from ._io import Error, Model, ModelLike, PathLike, Status, TempModels
from ._io import check, dims_array, from_file, kind_of

__all__ = ["Error", "Status", "compress", "convert", "info", "diff", "eval",
           "library_path", "version"]
__version__ = "0.1.0"
Error.__module__ = Status.__module__ = __name__  # as users name them

_METHODS = {"auto": 0, "tucker2": 1, "cp": 2, "svd": 3, "tr": 4, "rsdtr": 5}
_SENSITIVITY = {"rel": 0, "abs": 1, "measured": 2}


def _bound(value: Union[float, str, None], name: str) -> float:
    """A bound as the library takes it: None the default (0), "off" none
    (-1), else a positive number."""
    if value is None:
        return 0.0
    if value == "off":
        return -1.0
    if isinstance(value, str) or not float(value) > 0:
        raise ValueError(f"onnxtd: {name} is a positive number, \"off\" or "
                         f"None, not {value!r}")
    return float(value)


def _regular_or_absent(path: PathLike, what: str) -> None:
    """Refuses a path that exists and is not a regular file (a device, a
    FIFO, a folder): onnxtd never writes over one."""
    import stat
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"onnxtd: {os.fspath(path)!r} ({what}) exists and "
                         f"is not a regular file; not written")


def _write_atomic(path: PathLike, data: bytes, what: str) -> None:
    """data to path through a temporary file in its folder and a rename."""
    import tempfile
    path = os.fspath(path)
    _regular_or_absent(path, what)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".onnxtd.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _budget(rank: Optional[int], ratio: Optional[float], tol: Optional[float],
            target_params: Optional[float], target_flops: Optional[float],
            vbmf: bool, vbmf_weaken: Optional[float]) -> "_lib.Budget":
    """The one budget the library takes, from the keyword arguments."""
    given = [rank is not None, ratio is not None, tol is not None,
             target_params is not None or target_flops is not None,
             bool(vbmf)]
    if sum(given) > 1:
        raise ValueError("onnxtd: give at most one of rank, ratio, tol, "
                         "target_params and/or target_flops, and vbmf")
    b = _lib.Budget()
    if rank is not None:
        b.kind, b.rank = _lib.BUDGET_RANK, int(rank)
    elif ratio is not None:
        b.kind, b.value = _lib.BUDGET_RATIO, float(ratio)
    elif tol is not None:
        b.kind, b.value = _lib.BUDGET_TOL, float(tol)
    elif target_params is not None:
        b.kind, b.value = _lib.BUDGET_TARGET_PARAMS, float(target_params)
        b.also_flops = float(target_flops or 0)
    elif target_flops is not None:
        b.kind, b.value = _lib.BUDGET_TARGET_FLOPS, float(target_flops)
    elif vbmf:
        b.kind, b.value = _lib.BUDGET_VBMF, float(vbmf_weaken or 1)
    return b


def version() -> str:
    """The version of the libonnxtd in use (onnxtd_version()); __version__
    is this package's, which the library built with it matches."""
    return _lib.lib().onnxtd_version().decode()


def library_path() -> str:
    """The path (or soname) of the libonnxtd in use; loads it."""
    return _lib.loaded_path()


def _rewrite(model: ModelLike, output: Optional[PathLike], work,
             external_data: Optional[str], size_threshold: int) -> Any:
    """Loads model, applies work(handle), saves in the input's kind."""
    kind = kind_of(model)
    if kind == "path" and output is None:
        raise ValueError("onnxtd: a model given by path needs output= (the "
                         "path to write)")
    if kind != "path" and output is not None:
        raise ValueError("onnxtd: output= is for models given by path; this "
                         "one is returned as it was given")
    if kind != "path" and external_data:
        raise ValueError("onnxtd: external_data= needs a model given by path")
    with TempModels() as tmp:
        with Model(tmp.path(model, "in.onnx")) as m:
            result = work(m)
            dest = output if kind == "path" else \
                os.path.join(tmp.folder, "out.onnx")
            m.save(dest, external_data, size_threshold)
        if kind == "path":
            return output, result
        return from_file(dest, kind), result


def compress(model: ModelLike, *, output: Optional[PathLike] = None,
             target_params: Optional[float] = None,
             target_flops: Optional[float] = None,
             ratio: Optional[float] = None, tol: Optional[float] = None,
             rank: Optional[int] = None, method: str = "auto",
             act_stats: Optional[PathLike] = None,
             act_lambda: Union[float, str, None] = None,
             calib: Union[PathLike, Sequence[Union[PathLike, Sample]],
                          None] = None,
             holdout: Optional[int] = None,
             state: Union[Mapping[str, str], Sequence[Tuple[str, str]],
                          None] = None,
             refit: Union[bool, str] = False, refit_waves: Optional[int] = None,
             ort_lib: Optional[PathLike] = None, measure_runs: int = 0,
             threads: int = 0,
             include: Optional[str] = None, exclude: Optional[str] = None,
             force: bool = False, fold_bn: bool = True,
             sensitivity: str = "rel", vbmf: bool = False,
             vbmf_weaken: Optional[float] = None,
             rank_multiple: Optional[int] = None,
             min_rank: Optional[int] = None, allow_slower: bool = False,
             dims: Optional[Mapping[str, int]] = None,
             max_sweeps: Optional[int] = None,
             fit_tol: Optional[float] = None,
             protect: bool = True,
             max_layer_error: Union[float, str, None] = None,
             max_error: Union[float, str, None] = None,
             min_agreement: Union[float, str, None] = None,
             softmax_metric: Union[float, str, None] = None,
             bound_outputs: Optional[Sequence[str]] = None,
             min_iou: Optional[float] = None,
             iou_threshold: Optional[float] = None,
             judge: Optional[Callable[[str], float]] = None,
             min_score: Optional[float] = None,
             latency_cache: Optional[PathLike] = None,
             sens_cache: Optional[PathLike] = None,
             sens_groups: Union[int, str, None] = None,
             external_data: Optional[str] = None, size_threshold: int = 1024,
             with_report: bool = False) -> Any:
    """Compresses the model's Conv/Gemm/MatMul layers (onnxtd compress).

    The budget is one of ``target_params`` / ``target_flops`` (fractions in
    (0, 1] of the whole model, ranks allocated across layers; both may be
    given), ``ratio`` (per layer), ``tol`` (per-layer relative Frobenius
    error) or ``rank``; with none, the library's default (ratio 0.5).
    ``method``: auto, tucker2, cp, svd, tr or rsdtr. ``act_stats``: an
    activation-statistics file (see the README's calibration section) to
    minimise each layer's output error instead of its weight error.
    ``act_lambda``: how far the statistics are trusted (default 0.1; larger
    keeps more of each layer's own weight error in view), or ``"cv"`` (with
    ``calib``): each layer's chosen by cross-validation over four folds of
    the calibration inputs, or ``"auto"`` (with ``calib`` and a budget):
    0.1, 1 and "cv" each tried at the budget and measured on the held-out
    inputs, the one using the least of the bound kept (its ``min_iou`` and
    ``min_agreement`` floors included; without a bound the least rel. L2;
    the report's ``measured.act_lambda_auto``).
    ``calib``: calibration inputs, as ``eval``'s ``inputs`` (paths, numpy
    arrays for one-input models, or dicts {input name: array}): the
    statistics are gathered in ONNX Runtime, ``holdout`` of them (default a
    quarter, 0: none) are kept out and the compressed model is measured
    against the original on them (the report's "measured"; ``measure_runs``
    timed runs each, 0: the library's default, < 0: no timing).
    ``state`` (with ``calib``, a recurrent model): {input: output} (or
    pairs) of outputs fed back to inputs at the next step; the held-out
    inputs are then the last ones of ``calib``, taken as consecutive steps,
    and each model is measured on them in its own loop.
    ``refit`` (with ``calib``): each chain's last factor and bias refitted
    to the original layer's output on what the compressed model feeds it
    (each chain's ridge chosen by cross-validation over the inputs),
    ``refit_waves`` groups of layers one after the other (default 8);
    ``'chain'``: the same, and a chain of two pointwise factors (SVD of a
    1x1 conv, Gemm, MatMul) has both refitted together on its input.
    ``dims`` gives symbolic input dims a value. ``threads`` 0: all CPUs.

    The guards (the CLI's options of the same names): ``protect`` leaves
    heads and first layers as they are without data; ``max_layer_error``
    caps a layer's relative weight error without data; ``max_error`` and
    ``min_agreement`` bound the measured output deviation with ``calib``
    (a budget beyond it raises :class:`Error` with status EUNMET). Each is
    None for the library's default, "off" for none, or a number;
    ``max_error="off"`` with a ``min_agreement`` bounds by the agreement
    alone; ``bound_outputs`` (names) limits the outputs it judges.
    ``min_iou``: probability maps (outputs whose values are all in [0, 1])
    keep this mask IoU on every held-out input, binarised at
    ``iou_threshold`` (None: 0.5); with ``max_error="off"`` it bounds
    alone.
    ``judge`` (with a ``target_params``/``target_flops`` budget or
    none): your own evaluation, called with the path of each model the
    bound's search tries (a temporary ONNX file, removed after the call),
    and of the original and of the model written, returning a score
    (higher is better; an exception stops the compression with its
    message); a model scoring below ``min_score`` is outside the bound;
    with ``calib`` and ``max_error="off"``, or without ``calib`` (the
    factors then data-free), it bounds alone (the report's
    ``measured.score`` is the written model's).
    ``softmax_metric`` (with ``calib``): a Gemm/MatMul feeding a
    softmax is factored in the softmax's metric plus this share of the
    plain output error (None: 0.1, "off": the plain error).
    ``sensitivity``: "rel", "abs" or "measured" (with ``calib``; its
    weights cached in ``sens_cache``; ``sens_groups``: the probes' groups
    of layers at most, None for the library's 8, "layers" for one per
    layer). ``latency_cache``: a file of
    per-layer timings, read when present and written (atomically) after
    a compression that succeeds.

    Returns the compressed model in the input's kind (the ``output`` path
    for a path input); with ``with_report=True``, a pair (model, report)
    where report is the library's JSON report as a dict.
    """
    if method not in _METHODS:
        raise ValueError(f"onnxtd: method is one of {sorted(_METHODS)}, "
                         f"not {method!r}")
    if sensitivity not in _SENSITIVITY:
        raise ValueError("onnxtd: sensitivity is 'rel', 'abs' or 'measured'")
    o = _lib.new_compress_options()
    o.method = _METHODS[method]
    o.budget = _budget(rank, ratio, tol, target_params, target_flops, vbmf,
                       vbmf_weaken)
    o.include = include.encode() if include is not None else None
    o.exclude = exclude.encode() if exclude is not None else None
    o.force, o.fold_bn = int(force), int(bool(fold_bn))
    o.threads = int(threads)
    if max_sweeps:
        o.max_sweeps = int(max_sweeps)
    if fit_tol:
        o.fit_tol = float(fit_tol)
    o.sensitivity = _SENSITIVITY[sensitivity]
    o.protect = int(bool(protect))
    o.max_layer_error = _bound(max_layer_error, "max_layer_error")
    o.max_error = _bound(max_error, "max_error")
    o.softmax_metric = _bound(softmax_metric, "softmax_metric")
    o.min_agreement = _bound(min_agreement, "min_agreement")
    if min_iou is not None:
        o.min_iou = float(min_iou)
    if iou_threshold is not None:
        o.iou_threshold = float(iou_threshold)
    judge_keep = None
    if judge is not None:
        if not callable(judge):
            raise ValueError("onnxtd: judge is a callable (model path -> "
                             "score), not %r" % (judge,))
        judge_keep = _lib.judge_fn(judge)
        o.judge = judge_keep
        o.judge_name = ("Python %s" % getattr(judge, "__qualname__",
                                               type(judge).__name__)).encode()
    if min_score is not None:
        o.min_score = float(min_score)
    if latency_cache is not None:  # before any work
        _regular_or_absent(latency_cache, "the latency cache")
    o.latency_cache = (os.fsencode(latency_cache)
                       if latency_cache is not None else None)
    o.sens_cache = os.fsencode(sens_cache) if sens_cache is not None else None
    if sens_groups == "layers":
        o.sens_groups = _lib.SENS_GROUPS_LAYERS
    elif sens_groups is not None:
        if isinstance(sens_groups, bool) or not isinstance(sens_groups, int) \
                or sens_groups < 1:
            raise ValueError("onnxtd: sens_groups is a positive int or "
                             f"'layers', not {sens_groups!r}")
        o.sens_groups = sens_groups
    if rank_multiple:
        o.rank_multiple = int(rank_multiple)
    if min_rank:
        o.min_rank = int(min_rank)
    o.allow_slower = int(allow_slower)
    o.act_stats = os.fsencode(act_stats) if act_stats is not None else None
    if act_lambda == "cv":
        o.act_lambda = -1.0   # ONNXTD_ACT_LAMBDA_CV
    elif act_lambda == "auto":
        o.act_lambda = -2.0   # ONNXTD_ACT_LAMBDA_AUTO
    elif isinstance(act_lambda, str):
        raise ValueError("onnxtd: act_lambda is a number, 'cv' or 'auto', "
                         "not %r" % (act_lambda,))
    elif act_lambda:
        o.act_lambda = float(act_lambda)
    o.dims, o.n_dims, keep = dims_array(dict(dims) if dims else None)
    o.ort_lib = os.fsencode(ort_lib) if ort_lib is not None else None
    if measure_runs:  # 0: the library's default; < 0: no timing
        o.measure_runs = max(int(measure_runs), 0)
    if holdout is not None:
        o.holdout = int(holdout)
    st_arr, o.n_state = _lib.state_array(state)
    if st_arr is not None:
        o.state = st_arr
    keep = (keep, st_arr, judge_keep)
    if bound_outputs:
        names = [os.fsencode(n) for n in bound_outputs]
        bo = (ctypes.c_char_p * len(names))(*names)
        o.bound_outputs = ctypes.cast(bo, ctypes.POINTER(ctypes.c_char_p))
        o.n_bound_outputs = len(names)
        keep = (keep, bo)
    if refit == "chain":
        o.refit = 2   # ONNXTD_REFIT_CHAIN
    elif isinstance(refit, bool) or refit in (0, 1):
        o.refit = int(bool(refit))
    else:
        raise ValueError("refit must be True, False or 'chain', not %r" % (refit,))
    if refit_waves:
        o.refit_waves = int(refit_waves)
    if isinstance(calib, (str, os.PathLike)):
        calib = [calib]
    calib = list(calib or [])
    samples = [c for c in calib if not isinstance(c, (str, os.PathLike))]
    srcs = [os.fsencode(c) for c in calib if isinstance(c, (str, os.PathLike))]
    with TempModels() as tmp:
        if samples:
            srcs.append(os.fsencode(_write_samples(samples, tmp.folder)))
        arr = (ctypes.c_char_p * max(len(srcs), 1))(*srcs)
        o.calib, o.n_calib = (arr, len(srcs)) if srcs else (None, 0)
        return _compress_with(model, output, o, external_data,
                              size_threshold, with_report, keep,
                              latency_cache)


def _compress_with(model: ModelLike, output: Optional[PathLike],
                   o: "_lib.CompressOptions", external_data: Optional[str],
                   size_threshold: int, with_report: bool, keep: Any,
                   latency_cache: Optional[PathLike] = None) -> Any:
    cache: List[bytes] = []

    def work(m: Model) -> Dict[str, Any]:
        report = ctypes.c_void_p()
        err = _lib.ErrorStruct()
        st = _lib.lib().onnxtd_compress(m.handle, ctypes.byref(o),
                                        ctypes.byref(report),
                                        ctypes.byref(err))
        check(st, err)
        try:
            out = ctypes.c_void_p()
            st = _lib.lib().onnxtd_report_json(report, ctypes.byref(out),
                                               ctypes.byref(err))
            text = _lib.take_string(out)
            check(st, err)
            if latency_cache is not None:
                data = ctypes.c_char_p()
                n = ctypes.c_size_t()
                st = _lib.lib().onnxtd_report_latency_cache(
                    report, ctypes.byref(data), ctypes.byref(n),
                    ctypes.byref(err))
                check(st, err)
                if data.value is not None:
                    cache.append(ctypes.string_at(data, n.value))
        finally:
            _lib.lib().onnxtd_report_free(report)
        return json.loads(text) if text else {}

    out, report = _rewrite(model, output, work, external_data,
                           size_threshold)
    del keep
    if cache:  # after the model: a failed write leaves no cache behind it
        _write_atomic(latency_cache, cache[0], "the latency cache")
    return (out, report) if with_report else out


def convert(model: ModelLike, *, output: Optional[PathLike] = None,
            external_data: Optional[str] = None,
            size_threshold: int = 1024) -> Any:
    """Loads and saves the model unchanged in meaning (onnxtd convert):
    with ``external_data`` (path inputs only), tensors of at least
    ``size_threshold`` bytes go to that file beside ``output``. Returns the
    model in the input's kind (the ``output`` path for a path input)."""
    out, _ = _rewrite(model, output, lambda m: None, external_data,
                      size_threshold)
    return out


def info(model: ModelLike, *,
         dims: Optional[Mapping[str, int]] = None) -> Dict[str, Any]:
    """The model's description as a dict (onnxtd info --json): IR version,
    opsets, inputs/outputs, op counts, parameters by dtype, per Conv its
    geometry, parameters and MACs."""
    with TempModels() as tmp:
        with Model(tmp.path(model, "in.onnx")) as m:
            ptr, n, keep = dims_array(dict(dims) if dims else None)
            out = ctypes.c_void_p()
            err = _lib.ErrorStruct()
            st = _lib.lib().onnxtd_model_info_dims(m.handle, 1, ptr, n,
                                                   ctypes.byref(out),
                                                   ctypes.byref(err))
            text = _lib.take_string(out)
            del keep
            check(st, err)
    return json.loads(text)


def diff(a: ModelLike, b: ModelLike) -> Tuple[bool, Dict[str, Any]]:
    """Compares two models' meaning (onnxtd diff --json). Returns
    (differ, report): differ is False when they are the same."""
    with TempModels() as tmp:
        with Model(tmp.path(a, "a.onnx", "model a")) as ma, \
                Model(tmp.path(b, "b.onnx", "model b")) as mb:
            out = ctypes.c_void_p()
            differ = ctypes.c_int()
            err = _lib.ErrorStruct()
            st = _lib.lib().onnxtd_model_diff(ma.handle, mb.handle, 1,
                                              ctypes.byref(out),
                                              ctypes.byref(differ),
                                              ctypes.byref(err))
            text = _lib.take_string(out)
            check(st, err)
    return bool(differ.value), json.loads(text)


Sample = Union[Mapping[str, Any], Any]


def _write_samples(samples: Sequence[Sample], tmp: str) -> str:
    """numpy samples as eval's input source: a folder of .npy files (one
    array per sample, one-input models) or a manifest (NAME=PATH lines, a
    dict per sample)."""
    import numpy as np
    folder = os.path.join(tmp, "samples")
    os.mkdir(folder)
    lines: List[str] = []
    dicts = [isinstance(s, Mapping) for s in samples]
    if any(dicts) and not all(dicts):
        raise TypeError("onnxtd: samples are all arrays or all dicts")
    for i, s in enumerate(samples):
        if not isinstance(s, Mapping):
            np.save(os.path.join(folder, f"{i:06d}.npy"),
                    np.ascontiguousarray(s))
            continue
        parts = []
        for j, (name, arr) in enumerate(s.items()):
            if not name or any(c in name for c in " \t\r\n="):
                raise ValueError(f"onnxtd: input name {name!r} cannot go "
                                 "in a manifest")
            rel = f"{i:06d}_{j}.npy"
            np.save(os.path.join(folder, rel), np.ascontiguousarray(arr))
            parts.append(f"{name}={rel}")
        lines.append(" ".join(parts))
    if not all(dicts):
        return folder
    manifest = os.path.join(folder, "manifest.txt")
    with open(manifest, "w") as f:
        f.write("\n".join(lines) + "\n")
    return manifest


def eval(a: ModelLike, b: Optional[ModelLike] = None, *,
         inputs: Union[PathLike, Sequence[Union[PathLike, Sample]],
                       None] = None,
         random: int = 0, seed: int = 0,
         dims: Optional[Mapping[str, int]] = None,
         rtol: Optional[float] = None, min_cosine: Optional[float] = None,
         min_agreement: Optional[float] = None,
         elementwise: Optional[Tuple[float, float]] = None,
         threads: int = 0, runs: int = 0,
         state: Union[Mapping[str, str], Sequence[Tuple[str, str]],
                      None] = None,
         ort_lib: Optional[PathLike] = None) -> Tuple[bool, Dict[str, Any]]:
    """Runs a and b in ONNX Runtime on the same inputs (onnxtd eval --json)
    and compares b's outputs with a's (rel. L2, cosine, max |b-a|, top-1
    agreement), or, with b None, a's with the outputs stored beside the
    inputs. ``inputs``: paths as ``--inputs`` takes them, or samples as
    numpy arrays (one-input models) or dicts {input name: array}.
    ``random``: that many seeded random samples instead. Criteria not given
    are not checked. ``runs``: timed runs of each (0: no timing).
    ``state``: for a recurrent model, {input: output} (or pairs) of outputs
    fed back to inputs: the inputs are consecutive steps, and each model
    runs them in its own loop.

    Returns (passed, report): passed is True when every criterion holds.
    ONNX Runtime is loaded at run time (``ort_lib``, $ONNXTD_ORT_LIB, ...).
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    inputs = list(inputs or [])
    paths = [i for i in inputs if isinstance(i, (str, os.PathLike))]
    samples = [i for i in inputs if not isinstance(i, (str, os.PathLike))]
    if not inputs and not random:
        raise ValueError("onnxtd: eval needs inputs= or random=")
    o = _lib.EvalOptions()
    _lib.lib().onnxtd_eval_options_init(ctypes.byref(o))
    with TempModels() as tmp:
        o.model_a = os.fsencode(tmp.path(a, "a.onnx", "model a"))
        o.model_b = os.fsencode(tmp.path(b, "b.onnx", "model b")) \
            if b is not None else None
        srcs = [os.fsencode(p) for p in paths]
        if samples:
            srcs.append(os.fsencode(_write_samples(samples, tmp.folder)))
        arr = (ctypes.c_char_p * max(len(srcs), 1))(*srcs)
        o.inputs, o.n_inputs = arr, len(srcs)
        o.random, o.seed = int(random), int(seed)
        o.dims, o.n_dims, keep = dims_array(dict(dims) if dims else None)
        o.ort_lib = os.fsencode(ort_lib) if ort_lib is not None else None
        o.threads, o.runs = int(threads), int(runs)
        if rtol is not None:
            o.rtol = float(rtol)
        if min_cosine is not None:
            o.min_cosine = float(min_cosine)
        if min_agreement is not None:
            o.min_agreement = float(min_agreement)
        if elementwise is not None:
            o.elem_rtol, o.elem_atol = map(float, elementwise)
        out = ctypes.c_void_p()
        passed = ctypes.c_int()
        err = _lib.ErrorStruct()
        st_arr, n_state = _lib.state_array(state)
        st = _lib.lib().onnxtd_eval_loop(ctypes.byref(o), st_arr, n_state, 1,
                                         ctypes.byref(out),
                                         ctypes.byref(passed),
                                         ctypes.byref(err))
        text = _lib.take_string(out)
        del keep
        check(st, err)
    return bool(passed.value), json.loads(text)
