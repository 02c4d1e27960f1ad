"""Tucker-2 HOOI in NumPy, two modes.

1. (default) The same HOOI as td_tucker2 in NumPy, on the kernels that
bench/dec_speed.c wrote: HOSVD start from the leading eigenvectors of the
unfolding Gram matrices, sweeps capped at 50, stop when the fit
1 - sqrt(||W||^2 - ||G||^2)/||W|| changes by less than 1e-9, rel_error from
the dense reconstruction. Run after ./dec_speed in the same directory:
    python3 bench/hooi_numpy.py

2. --dir DIR --c-results FILE --sweeps N --fit-tol F: an ordinary
partial Tucker (the algorithm of TensorLy's partial_tucker, written out)
on every kernel in DIR/index.txt (bench/extract_convs.py) at ranks of half
the channels: HOSVD start from the leading left singular vectors of each
unfolding (np.linalg.svd, full_matrices=False), then HOOI sweeps that
update U_out and then U_in, each from a thin SVD of the unfolding of W
projected on the other factor, the core from both, and stop once the
relative error sqrt(||W||^2 - ||G||^2)/||W|| changes by less than F or
after N sweeps; rel_error from the dense reconstruction. FILE holds
bench_tucker2's lines for the same kernels; prints both side by side.
"""
import argparse
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


def lead_svd(a, r):
    """Leading r left singular vectors of a via a thin SVD (full U only
    when r exceeds the number of columns, as for ISNet's 3-channel input
    conv)."""
    u, _, _ = np.linalg.svd(a, full_matrices=r > min(a.shape))
    return np.ascontiguousarray(u[:, :r])


def partial_tucker(w, ro, ri, max_sweeps, tol):
    co, ci, k = w.shape
    w0 = w.reshape(co, ci * k)
    w1 = w.transpose(1, 0, 2).reshape(ci, co * k)
    nw = np.linalg.norm(w)
    uo, ui = lead_svd(w0, ro), lead_svd(w1, ri)

    def err_of(core):
        return np.sqrt(abs(nw * nw - np.sum(core * core))) / nw

    core = np.einsum("abq,ar,bs->rsq", w, uo, ui, optimize=True)
    err = err_of(core)
    sweeps = 0
    for s in range(max_sweeps):
        y = np.einsum("abq,bs->asq", w, ui, optimize=True).reshape(co, ri * k)
        uo = lead_svd(y, ro)
        z = np.einsum("abq,ar->brq", w, uo, optimize=True).reshape(ci, ro * k)
        ui = lead_svd(z, ri)
        core = np.einsum("brq,bs->rsq", z.reshape(ci, ro, k), ui,
                         optimize=True)
        sweeps = s + 1
        ne = err_of(core)
        change = abs(ne - err)
        err = ne
        if change < tol:
            break
    rec = np.einsum("rsq,ar,bs->abq", core, uo, ui, optimize=True)
    return np.linalg.norm(w - rec) / nw, sweeps


def bench_dir(a):
    c_res = {}
    with open(a.c_results) as f:
        for line in f:
            p = line.split()
            c_res[p[0]] = (float(p[6]), float(p[7]), int(p[8]))
    by_size = {}
    tot_c = tot_n = 0.0
    worse = worse6 = 0
    excess = 0.0
    print(f"{'file':>12} {'cout x cin':>11} {'C s':>8} {'NumPy s':>8}"
          f" {'ratio':>6} {'C rel_error':>12} {'NumPy rel_err':>13} sweeps")
    with open(f"{a.dir}/index.txt") as f:
        for line in f:
            fn, co, ci, k = line.split()[:4]
            co, ci, k = int(co), int(ci), int(k)
            w = np.fromfile(f"{a.dir}/{fn}", dtype="<f8").reshape(co, ci, k)
            ro, ri = max(co // 2, 1), max(ci // 2, 1)
            t0 = time.perf_counter()
            err, sweeps = partial_tucker(w, ro, ri, a.sweeps, a.fit_tol)
            dt = time.perf_counter() - t0
            ct, ce, cs = c_res[fn]
            worse += ce > err * (1 + 1e-9) + 1e-12
            # C's sweeps run in single precision on big kernels: count also
            # the layers worse by more than 1e-5 relative (equal to 5 digits;
            # fp16 weights carry ~5e-4), and the largest relative excess.
            worse6 += ce > err * (1 + 1e-5) + 1e-12
            if err > 1e-12:
                excess = max(excess, (ce - err) / err)
            tot_c += ct
            tot_n += dt
            b = by_size.setdefault((co, ci), [0, 0.0, 0.0, 0.0, 0.0])
            b[0] += 1
            b[1] += ct
            b[2] += dt
            b[3] += ce
            b[4] += err
            print(f"{fn:>12} {co:5d}x{ci:<5d} {ct:8.4f} {dt:8.4f}"
                  f" {dt / ct:6.1f} {ce:12.6e} {err:13.6e} {cs}/{sweeps}")
    print("\nper size (cout x cin): layers, C s, NumPy s, ratio, mean C"
          " rel_error, mean NumPy rel_error")
    for (co, ci), (n, ct, nt, ce, ne) in sorted(by_size.items(),
                                               key=lambda x: -x[1][2]):
        print(f"{co:5d}x{ci:<5d} {n:3d} {ct:8.3f} {nt:8.3f} {nt / ct:6.1f}"
              f" {ce / n:.6e} {ne / n:.6e}")
    print(f"TOTAL C {tot_c:.3f} s  NumPy {tot_n:.3f} s  ratio"
          f" {tot_n / tot_c:.2f}x  layers where C error > NumPy error: {worse}"
          f" (by more than 1e-5 relative: {worse6}; largest excess"
          f" {excess:.1e} relative)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir")
    ap.add_argument("--c-results")
    ap.add_argument("--sweeps", type=int, default=10)
    ap.add_argument("--fit-tol", type=float, default=1e-4)
    a = ap.parse_args()
    if a.dir:
        bench_dir(a)
        return
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
