#!/usr/bin/env python3
"""Markdown table from protect_defaults.sh's results.jsonl files (a later
line for the same model and configuration replaces an earlier one).

  protect_table.py RESULTS.jsonl...
"""
import json
import re
import sys

VARIANTS = {"none": "no protection, no cap", "prot": "protection",
            "cap0.4": "protection + cap 0.4 (default)"}


def variant(v):
    return VARIANTS.get(v, "protection + cap %s" % v[3:] if v.startswith("cap") else v)


def metric(r):
    e = r["eval"]
    if "char_acc" in e:
        return "char acc %.3f" % e["char_acc"]
    if "agreement" in e:
        return "agreement %.3f" % e["agreement"]
    return "IoU %.3f / %.3f" % (e["iou_mean"], e["iou_min"])


def refusal(msg):
    """The refusal's gist: what the allocation reached and the cap's part."""
    reach = re.search(r"keep ([0-9.]+) of the model's", msg)
    cap = re.search(r"(\d+) layers stay as they are because their rel. error "
                    r"would pass options.max_layer_error [0-9.]+ \(the first, '([^']+)'\)", msg)
    if "nothing could be compressed" in msg:
        return "nothing compressed: every layer kept for the cap or for speed"
    out = "reached %s of the parameters" % reach.group(1) if reach else msg[:120]
    if cap:
        out += "; %s layers kept for the cap (first `%s`)" % cap.groups()
    return out


def main():
    rows = {}
    for path in sys.argv[1:]:
        for line in open(path):
            r = json.loads(line)
            rows[(r["model"], r["config"])] = r
    print("| model | budget | guards | params | layers factored / protected / capped | largest layer rel. error | metric (mean / worst) |")
    print("|---|---|---|---|---|---|---|")
    for (m, c), r in rows.items():
        budget, v = c.split("+", 1)
        budget = "default (ratio 0.5)" if budget == "default" else "--target-params " + budget[2:]
        if r.get("extra"):
            budget += " " + r["extra"]
        if "refused" in r:
            print("| %s | %s | %s | refused, exit 1 | | | %s |" % (m, budget, variant(v), refusal(r["refused"])))
            continue
        print("| %s | %s | %s | %.2fx fewer | %d / %d / %d | %.3f | %s |" % (
            m, budget, variant(v), r["params_ratio"], r["factored"], r["protected"],
            r["capped"], r["max_rel_error"], metric(r)))


if __name__ == "__main__":
    main()
