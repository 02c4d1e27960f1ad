"""The same Tucker-2 HOOI as td_tucker2 in NumPy, on the kernels that
bench/dec_speed.c wrote: HOSVD start from the leading eigenvectors of the
unfolding Gram matrices, sweeps capped at 50, stop when the fit
1 - sqrt(||W||^2 - ||G||^2)/||W|| changes by less than 1e-9, rel_error from
the dense reconstruction. Run after ./dec_speed in the same directory:
    python3 bench/hooi_numpy.py
"""
import time

import numpy as np

MAX_SWEEPS = 50
FIT_TOL = 1e-9


def lead(a, r):
    """Leading r left singular vectors of a via the Gram matrix."""
    _, v = np.linalg.eigh(a @ a.T)
    # contiguous copy: matmul on a negative-stride view skips BLAS
    return np.ascontiguousarray(v[:, ::-1][:, :r])


def tucker2(w, ro, ri):
    co, ci, k = w.shape
    w0 = w.reshape(co, ci * k)
    w1 = w.transpose(1, 0, 2).reshape(ci, co * k)
    nw = np.linalg.norm(w)

    def fit_of(core):
        e2 = nw * nw - np.sum(core * core)
        return 1.0 - np.sqrt(max(e2, 0.0)) / nw

    def project(uo, ui):
        z = (uo.T @ w0).reshape(ro, ci, k).transpose(1, 0, 2).reshape(ci, ro * k)
        return (ui.T @ z).reshape(ri, ro, k).transpose(1, 0, 2)

    uo, ui = lead(w0, ro), lead(w1, ri)
    core = project(uo, ui)
    fit = fit_of(core)
    sweeps = 0
    for s in range(MAX_SWEEPS):
        y = (ui.T @ w1).reshape(ri, co, k).transpose(1, 0, 2).reshape(co, ri * k)
        uo = lead(y, ro)
        z = (uo.T @ w0).reshape(ro, ci, k).transpose(1, 0, 2).reshape(ci, ro * k)
        ui = lead(z, ri)
        core = (ui.T @ z).reshape(ri, ro, k).transpose(1, 0, 2)
        sweeps = s + 1
        nf = fit_of(core)
        change = abs(nf - fit)
        fit = nf
        if change < FIT_TOL:
            break
    rec = (uo @ core.reshape(ro, ri * k)).reshape(co, ri, k)
    rec = np.einsum("arq,br->abq", rec, ui, optimize=True)
    return np.linalg.norm(w - rec) / nw, sweeps


def main():
    c_res = {}
    with open("dec_speed_c.txt") as f:
        for line in f:
            c, t, e, s = line.split()
            c_res[int(c)] = (float(t), float(e), int(s))
    print(f"{'kernel':>14} {'C time':>9} {'NumPy time':>11} {'ratio':>6}"
          f" {'C rel_error':>20} {'NumPy rel_error':>20} sweeps C/NumPy")
    for c in (256, 512):
        w = np.fromfile(f"dec_speed_{c}.bin", dtype="<f8").reshape(c, c, 9)
        best, err, sweeps = None, None, None
        for _ in range(3):
            t0 = time.perf_counter()
            err, sweeps = tucker2(w, c // 2, c // 2)
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        ct, ce, cs = c_res[c]
        print(f"{c}x{c}x3x3 {ct:9.3f} {best:11.3f} {best / ct:6.2f}"
              f" {ce:20.12e} {err:20.12e} {cs}/{sweeps}")


if __name__ == "__main__":
    main()
