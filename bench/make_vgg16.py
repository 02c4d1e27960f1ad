"""Writes a VGG16-sized ONNX model (about 528 MB of float32 weights) to
the path given: with torchvision when it is importable (the real VGG16
architecture, random init, torch.onnx.export), otherwise the same layer
shapes (13 3x3 convs, 3 Gemm layers 25088-4096-4096-1000) built with
onnx.helper and random NumPy weights.
    /usr/bin/python3 bench/make_vgg16.py OUT.onnx
"""
import sys

import numpy as np


def with_torch(path):
    import torch
    import torchvision
    m = torchvision.models.vgg16().eval()
    torch.onnx.export(m, torch.zeros(1, 3, 224, 224), path, opset_version=13)
    return "torchvision"


def with_numpy(path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512,
           "M", 512, 512, 512, "M"]
    nodes, inits = [], []
    x, c = "input", 3
    for i, v in enumerate(cfg):
        if v == "M":
            nodes.append(helper.make_node("MaxPool", [x], [f"p{i}"],
                                          kernel_shape=[2, 2], strides=[2, 2]))
            x = f"p{i}"
            continue
        w = (rng.standard_normal((v, c, 3, 3), dtype=np.float32) * 0.05)
        inits += [numpy_helper.from_array(w, f"conv{i}.weight"),
                  numpy_helper.from_array(np.zeros(v, np.float32), f"conv{i}.bias")]
        nodes.append(helper.make_node("Conv", [x, f"conv{i}.weight", f"conv{i}.bias"],
                                      [f"c{i}"], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
        x, c = f"r{i}", v
    nodes.append(helper.make_node("Flatten", [x], ["flat"]))
    x, n = "flat", 512 * 7 * 7
    for j, m in enumerate([4096, 4096, 1000]):
        w = rng.standard_normal((m, n), dtype=np.float32) * 0.01
        inits += [numpy_helper.from_array(w, f"fc{j}.weight"),
                  numpy_helper.from_array(np.zeros(m, np.float32), f"fc{j}.bias")]
        out = "output" if j == 2 else f"f{j}"
        nodes.append(helper.make_node("Gemm", [x, f"fc{j}.weight", f"fc{j}.bias"],
                                      [out], transB=1))
        x, n = out, m
    g = helper.make_graph(
        nodes, "vgg16", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1000])], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, path)
    return "numpy"


if __name__ == "__main__":
    try:
        how = with_torch(sys.argv[1])
    except ImportError:
        how = with_numpy(sys.argv[1])
    print(how)
