#!/usr/bin/env python3
"""Expected EVBMF rank and noise variance for test_dec_evbmf.c's fixed
spectrum, computed independently of the C code (NumPy, its own root and
minimum searches).

Nakajima, Sugiyama, Babacan & Tomioka (2013), "Global analytic solution of
fully-observed variational Bayesian matrix factorization", JMLR 14: for an
L x M matrix (L <= M, alpha = L/M) with singular values gamma_h, EVBMF keeps
the components with gamma_h > gamma_bar = sqrt(M sigma2 x_bar), where
x_bar = (1 + tau_bar)(1 + alpha/tau_bar) and tau_bar solves
log(tau + 1) + alpha log(tau/alpha + 1) = tau; sigma2 minimises
Omega(sigma2) = sum_h psi(gamma_h^2 / (M sigma2)) with
psi(x) = x - log x + [x > x_bar] psi1(x),
psi1(x) = log(tau(x) + 1) + alpha log(tau(x)/alpha + 1) - tau(x),
tau(x) = (x - 1 - alpha + sqrt((x - 1 - alpha)^2 - 4 alpha)) / 2.
(A matrix of full rank L: no residual term.)

  /usr/bin/python3 tests/unit/gen_evbmf.py [FOURTH]"""
import numpy as np

import sys

L, M = 20, 30
# three clear components, a fourth near the threshold (9 by default; the
# test also uses 8), then a flat-ish tail
fourth = float(sys.argv[1]) if len(sys.argv) > 1 else 9.0
gamma = np.array([30.0, 22.0, 15.0, fourth] + list(np.linspace(6.0, 1.0, L - 4)))

alpha = L / M
f = lambda t: np.log(t + 1) + alpha * np.log(t / alpha + 1) - t
lo, hi = 1e-3, 100.0  # f > 0 at lo, < 0 at hi: bisect
for _ in range(200):
    mid = 0.5 * (lo + hi)
    lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
tau_bar = 0.5 * (lo + hi)
x_bar = (1 + tau_bar) * (1 + alpha / tau_bar)


def omega(log_s2):
    x = gamma ** 2 / (M * np.exp(log_s2))
    v = x - np.log(x)
    big = x > x_bar
    xb = x[big]
    t = 0.5 * (xb - 1 - alpha + np.sqrt((xb - 1 - alpha) ** 2 - 4 * alpha))
    v[big] += np.log(t + 1) + alpha * np.log(t / alpha + 1) - t
    return v.sum()


# a dense scan in log sigma2 over a wide range, then ternary search on the
# best bracket
grid = np.linspace(np.log(1e-4), np.log((gamma ** 2).sum() / (L * M)), 200001)
k = int(np.argmin([omega(g) for g in grid]))
a, b = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
for _ in range(200):
    c, d = a + (b - a) / 3, b - (b - a) / 3
    a, b = (a, d) if omega(c) < omega(d) else (c, b)
s2 = float(np.exp(0.5 * (a + b)))
thr = np.sqrt(M * s2 * x_bar)
print("tau_bar %.10f x_bar %.10f" % (tau_bar, x_bar))
print("sigma2 %.10g threshold %.10g rank %d" % (s2, thr, int((gamma > thr).sum())))
print("gamma:", ", ".join("%.10g" % g for g in gamma))
