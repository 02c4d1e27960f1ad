#!/usr/bin/env python3
"""Markdown table from fidelity.sh's results.jsonl (later lines with the
same tag replace earlier ones); with --sens, from sensitivity.py's output."""
import json
import sys


def macs_ratio(r):
    """MACs before/after from the compress report's totals (computed in the
    pass with --dim); else from `onnxtd info`, which cannot size the new
    Convs of a model with symbolic input dims (then '?')."""
    if r["task"] in ("isnet", "vgg"):   # static shapes: info sizes every Conv
        return "%.2fx fewer" % (r["macs_before"] / r["macs_after"])
    cmd = r["compress_cmd"].split()
    if "--report" in cmd and "--include" not in cmd:   # totals cover included layers only
        try:
            t = json.load(open(cmd[cmd.index("--report") + 1]))["totals"]
            if t.get("flops_before") and t.get("flops_after"):
                return "%.2fx fewer" % (t["flops_before"] / t["flops_after"])
        except (OSError, ValueError, KeyError):
            pass
    return "?"


def sens(paths):
    print("| layer / group | ranks | params saved | rel. error | IoU astronaut | IoU chelsea |")
    print("|---|---|---|---|---|---|")
    for path in paths:
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                if not r.get("replaced"):
                    continue
                print("| %s | %s | %d | %.3f | %.4f | %.4f |" % (
                    r["unit"], r["ranks"][0] if r.get("ranks") else "-", r["params_saved"],
                    r["rel_error_max"], r["iou"][0], r["iou"][1]))


def main():
    if sys.argv[1] == "--sens":
        sens(sys.argv[2:])
        return
    rows = {}
    for path in sys.argv[1:]:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    r = json.loads(line)
                    if "eval" in r or "refused" in r or ("failed" in r and "method" in r):
                        rows[r["tag"]] = r
    print("| run | method, budget | params | conv MACs | compress s | peak RSS MB "
          "| ORT orig ms | ORT comp ms | speed-up | fidelity (mean / min) | layers |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows.values():
        if "refused" in r or "failed" in r:
            what = "refused" if "refused" in r else "failed"
            print("| %s | %s %s | %s: %s | | | | | | | | |" % (
                r["tag"], r["method"], r["args"].replace("|", "\\|"), what,
                r[what].replace("|", "\\|")))
            continue
        e = r["eval"]
        lat = e.get("latency", {})
        if "iou_mean" in e:
            fid = "IoU %.4f / %.4f" % (e["iou_mean"], e["iou_min"])
        elif "agreement" in e:
            fid = "agree %.3f" % e["agreement"]
        else:
            fid = "-"
        meth = ", ".join("%s %d" % kv for kv in sorted(r["layer_methods"].items()))
        print("| %s | %s %s | %.2fx fewer | %s | %.1f | %.0f | %.0f | %.0f | %.2fx | %s | %s |" % (
            r["tag"], r["method"], r["args"].replace("|", "\\|"),
            r["params_before"] / r["params_after"], macs_ratio(r),
            r["compress_s"], r["peak_rss_mb"],
            lat.get("orig_median_ms", float("nan")), lat.get("comp_median_ms", float("nan")),
            1 / lat["ratio_comp_over_orig"] if lat else float("nan"), fid, meth))


if __name__ == "__main__":
    main()
