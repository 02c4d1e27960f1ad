#!/usr/bin/env python3
"""One manifest of eval.js's from several (bench/noise_floor.sh and
bench/layer_oracle.sh use it):

  manifest_join.py OUT FIRST [MORE...] [--skip REGEX]

writes OUT: FIRST (its input and output names) with the inputs of every
MORE after its own, less those whose name REGEX matches.
"""
import argparse
import json
import re


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("first")
    ap.add_argument("more", nargs="*")
    ap.add_argument("--skip", default="")
    a = ap.parse_args()
    m = json.load(open(a.first))
    for p in a.more:
        m["inputs"] += json.load(open(p))["inputs"]
    if a.skip:
        m["inputs"] = [i for i in m["inputs"] if not re.search(a.skip, i["name"])]
    json.dump(m, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
