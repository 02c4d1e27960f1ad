#!/usr/bin/env python3
"""Rows and table of bench/heldout.sh.

  table.py --row TASK CONFIG CMD EXIT SECONDS REPORT LOG EVAL_JSON   # one JSON line
  table.py --table ROWS.jsonl [--last]                              # markdown

A row's metric is the task's (vad: F1 of speech frames against the
original; rec: char accuracy against the labels; det: mean IoU; cls: top-1
agreement; face: F1 of the faces found against the original's),
`metric_orig` the original's on the same inputs. A written
model (exit 0) below COLLAPSE x the original's is marked COLLAPSED, within
KEPT x it "kept". --last: only the newest row of each (task, config).
"""
import json
import sys

COLLAPSE = 0.9
KEPT = 0.97
ORDER = ["original", "default", "calib", "calib-plain", "calib-bound", "calib-slower", "calib-agree",
         "calib-agree97", "calib-0.7", "calib-0.5"]


def metrics(task, ev):
    """(metric, metric of the original, detail) from the evaluator's JSON."""
    if task in ("vad", "vad-if"):
        return ev["f1"], 1.0, "F1 %.3f (min %.3f), agreement %.3f" % (ev["f1"], ev["f1_min"], ev["agreement"])
    if task == "rec":
        # the strict accuracy decides; PaddleOCR's RecMetric (spaces
        # ignored) is shown beside it
        if "char_acc" not in ev:   # the original
            return ev["char_acc_orig"], ev["char_acc_orig"], "char acc %.4f, without spaces %.4f, lines %.3f" % (
                ev["char_acc_orig"], ev["char_acc_nospace_orig"], ev["line_acc_orig"])
        return ev["char_acc"], ev["char_acc_orig"], "char acc %.4f (orig %.4f), without spaces %.4f (orig %.4f), lines %.3f" % (
            ev["char_acc"], ev["char_acc_orig"], ev["char_acc_nospace"], ev["char_acc_nospace_orig"], ev["line_acc"])
    if task == "det":
        ious = [r["iou"] for r in ev["per_input"]]
        # the last two inputs are skimage's photographed page.png and text.png
        return ev["iou_mean"], 1.0, "IoU %.3f / worst %.3f; rendered %.3f, photographed %s" % (
            ev["iou_mean"], ev["iou_min"], sum(ious[:-2]) / len(ious[:-2]),
            " ".join("%.3f" % v for v in ious[-2:]))
    if task == "face":
        if "f1" not in ev:   # the original
            return 1.0, 1.0, "%d faces on %d images" % (ev["faces_orig"], ev["images"])
        return ev["f1"], 1.0, "F1 %.3f (min %.3f; %d of %d faces, %d extra), box IoU %.3f" % (
            ev["f1"], ev["f1_min"], ev["tp"], ev["tp"] + ev["fn"], ev["fp"], ev["box_iou"] or 0)
    if task == "cls":
        r = ev["per_input"][0]
        return ev["agreement"], 1.0, "agreement %.3f (accuracy %.3f, orig %.3f)" % (
            ev["agreement"], r.get("acc_comp", -1), r.get("acc_orig", -1))
    raise SystemExit("table.py: unknown task " + task)


def row(task, cfg, cmd, rc, secs, rep, log, ev):
    r = {"task": task, "config": cfg, "cmd": cmd, "exit": int(rc), "seconds": round(float(secs), 1)}
    if int(rc):
        lines = [l.strip() for l in open(log) if l.startswith("onnxtd:")]
        r["message"] = lines[-1] if lines else ""
        return r
    if cfg != "original":
        rp = json.load(open(rep))
        t, m = rp["totals"], rp.get("measured")
        r["params"] = t["model_params_after"] / t["model_params_before"]
        if m:
            r["held_out_rel_l2"] = max(o["rel_l2"] for o in m["outputs"])
            ag = [o["top1_agreement"] for o in m["outputs"] if o.get("top1_agreement") is not None]
            r["held_out_agreement"] = min(ag) if ag else None
            b = m.get("bound")
            if b:
                r["bound_chosen"] = b.get("chosen")
                r["model_runs"] = b.get("model_runs")
        r["warnings"] = sum(1 for l in open(log) if l.startswith("warning:"))
    v, v0, detail = metrics(task, json.loads(ev))
    r.update(metric=v, metric_orig=v0, detail=detail)
    r["verdict"] = ("COLLAPSED" if v < COLLAPSE * v0 else "kept" if v >= KEPT * v0 else "below")
    return r


def cell(r):
    if r["exit"]:
        return "exit %d" % r["exit"], "-", "-", r.get("message", "")[:400]
    p = "%.3f" % r["params"] if "params" in r else "1"
    dev = "-"
    if r.get("held_out_rel_l2") is not None:
        dev = "%.4f" % r["held_out_rel_l2"]
        if r.get("held_out_agreement") is not None:
            dev += ", agr %.3f" % r["held_out_agreement"]
    note = r["detail"]
    if r.get("bound_chosen"):
        note += "; bound chose %.3f" % r["bound_chosen"]
    return "exit 0, **%s**" % r["verdict"] if r["config"] != "original" else "-", p, dev, note


def table(path, last):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    if last:
        keep = {}
        for r in rows:
            keep[(r["task"], r["config"])] = r
        rows = list(keep.values())
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    rows.sort(key=lambda r: (tasks.index(r["task"]), ORDER.index(r["config"]) if r["config"] in ORDER else 99))
    print("| model | run | result | params | held-out rel. L2 (tool) | task metric | s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        res, p, dev, note = cell(r)
        print("| %s | %s | %s | %s | %s | %s | %.0f |" % (r["task"], r["config"], res, p, dev,
                                                        note.replace("|", "\\|"), r["seconds"]))


def main():
    if sys.argv[1] == "--row":
        print(json.dumps(row(*sys.argv[2:10])))
    elif sys.argv[1] == "--table":
        table(sys.argv[2], "--last" in sys.argv[3:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
