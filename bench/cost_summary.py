#!/usr/bin/env python3
"""Summary of bench/cost_check.sh --real rows (JSON lines with predicted and
measured chain/layer latency ratios): a per-layer table, Spearman's rank
correlation of predicted vs measured, how often "chain faster" was called
right, and the worst misprediction (largest |log(predicted/measured)|).

  cost_summary.py ROWS.jsonl [--md]"""
import json
import math
import sys


def ranks(v):
    order = sorted(range(len(v)), key=lambda i: v[i])
    r = [0.0] * len(v)
    i = 0
    while i < len(order):  # average ranks over ties
        j = i
        while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2
        i = j + 1
    return r


def spearman(a, b):
    if len(a) < 2:
        return float("nan")
    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    num = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    den = math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))
    return num / den if den else float("nan")


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    md = "--md" in sys.argv
    if md:
        print("| model | layer | shape | method, ranks | predicted | measured | right |")
        print("|---|---|---|---|---|---|---|")
    for r in rows:
        ok = (r["predicted"] < 1) == (r["measured"] < 1)
        if md:
            print("| %s | %s | %s | %s %s | %.2f | %.2f | %s |" % (
                r["tag"], r["node"], r["shape"], r["method"], r["ranks"],
                r["predicted"], r["measured"], "yes" if ok else "**no**"))
        else:
            print("%-10s %-40s %-26s %-8s %-12s %6.2f %6.2f %s" % (
                r["tag"], r["node"][:40], r["shape"], r["method"], r["ranks"],
                r["predicted"], r["measured"], "yes" if ok else "NO"))
    for tag in sorted({r["tag"] for r in rows}) + ["all"]:
        sel = [r for r in rows if tag in ("all", r["tag"])]
        if not sel:
            continue
        p = [r["predicted"] for r in sel]
        m = [r["measured"] for r in sel]
        right = sum((a < 1) == (b < 1) for a, b in zip(p, m))
        worst = max(sel, key=lambda r: abs(math.log(r["predicted"] / r["measured"])))
        print("%s: %d layers, Spearman %.2f, faster/slower right %d/%d, "
              "worst %s predicted %.2f measured %.2f" % (
                  tag, len(sel), spearman(p, m), right, len(sel), worst["node"],
                  worst["predicted"], worst["measured"]))


if __name__ == "__main__":
    main()
