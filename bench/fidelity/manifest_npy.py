#!/usr/bin/env python3
"""The raw float32 inputs of a prep.py / calib_prep.py manifest as a folder
of .npy files, in the model input's dtype, for `onnxtd compress --calib`
and `onnxtd eval --inputs`:

  manifest_npy.py MANIFEST.json MODEL.onnx OUT_DIR [--split]

--split: each batch as that many one-sample files (PP-OCR cls's 16 crops
are one batch; split, 4 of them can be held out).
"""
import json
import os
import sys

import numpy as np
import onnx


def main():
    man, model, out = sys.argv[1:4]
    m = json.load(open(man))
    g = onnx.load(model, load_external_data=False).graph
    inits = {t.name for t in g.initializer}
    inp = [i for i in g.input if i.name not in inits][0]
    dtype = onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[inp.type.tensor_type.elem_type]
    os.makedirs(out, exist_ok=True)
    split = "--split" in sys.argv[4:]
    for e in m["inputs"]:
        x = np.fromfile(e["file"], dtype="<f4").reshape(e["dims"]).astype(dtype)
        if split:
            for i in range(x.shape[0]):
                np.save(os.path.join(out, "%s_%02d.npy" % (e["name"], i)), x[i:i + 1])
        else:
            np.save(os.path.join(out, e["name"] + ".npy"), x)
    print("%s: %d inputs (%s) in %s" % (man, len(m["inputs"]), np.dtype(dtype).name, out))


if __name__ == "__main__":
    main()
