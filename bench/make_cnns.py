#!/usr/bin/env python3
"""Writes the CNNs of the speed benchmark with random weights (no download):
    /usr/bin/python3 bench/make_cnns.py OUTDIR [name ...]
resnet18, resnet50, resnext50_32x4d, mobilenet_v2, vgg16 (the torchvision
architectures, written out in torch.nn since torchvision is not installed;
1x3x224x224) and
kws (a 24-96-channel stack of 1x1 and 3x1 convs on a 1x40x98 spectrogram,
the shape of small speech-embedding models). Random weights have the
trained models' shapes, which is all latency needs; their spectra are
flatter, so errors are pessimistic."""
import os
import sys

import torch
from torch import nn


def conv_bn(cin, cout, k, stride=1, groups=1, act=nn.ReLU):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups,
                        bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(act(inplace=True))
    return nn.Sequential(*layers)


class Basic(nn.Module):
    expansion = 1

    def __init__(self, cin, c, stride):
        super().__init__()
        self.a = conv_bn(cin, c, 3, stride)
        self.b = conv_bn(c, c, 3, act=None)
        self.down = (conv_bn(cin, c, 1, stride, act=None)
                     if stride != 1 or cin != c else nn.Identity())

    def forward(self, x):
        return torch.relu(self.b(self.a(x)) + self.down(x))


class Bottleneck(nn.Module):
    expansion = 4
    groups, width_per_group = 1, 64  # ResNeXt-50 32x4d: 32, 4

    def __init__(self, cin, c, stride):
        super().__init__()
        w = c * self.width_per_group // 64 * self.groups
        self.a = conv_bn(cin, w, 1)
        self.b = conv_bn(w, w, 3, stride, groups=self.groups)
        self.c = conv_bn(w, 4 * c, 1, act=None)
        self.down = (conv_bn(cin, 4 * c, 1, stride, act=None)
                     if stride != 1 or cin != 4 * c else nn.Identity())

    def forward(self, x):
        return torch.relu(self.c(self.b(self.a(x))) + self.down(x))


def resnet(block, counts):
    layers = [conv_bn(3, 64, 7, 2), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for i, n in enumerate(counts):
        c = 64 << i
        for j in range(n):
            layers.append(block(cin, c, 2 if j == 0 and i > 0 else 1))
            cin = c * block.expansion
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1000)]
    return nn.Sequential(*layers)


class NeXt(Bottleneck):
    groups, width_per_group = 32, 4


class Inverted(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        h = cin * t
        layers = [conv_bn(cin, h, 1, act=nn.ReLU6)] if t != 1 else []
        layers += [conv_bn(h, h, 3, stride, groups=h, act=nn.ReLU6),
                   conv_bn(h, cout, 1, act=None)]
        self.body = nn.Sequential(*layers)
        self.res = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.res else y


def mobilenet_v2():
    cfg = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
           (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    layers = [conv_bn(3, 32, 3, 2, act=nn.ReLU6)]
    cin = 32
    for t, c, n, s in cfg:
        for j in range(n):
            layers.append(Inverted(cin, c, s if j == 0 else 1, t))
            cin = c
    layers += [conv_bn(cin, 1280, 1, act=nn.ReLU6), nn.AdaptiveAvgPool2d(1),
               nn.Flatten(), nn.Linear(1280, 1000)]
    return nn.Sequential(*layers)


def vgg16():
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512,
           "M", 512, 512, 512, "M"]
    layers, cin = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=True)]
            cin = v
    layers += [nn.Flatten(), nn.Linear(512 * 49, 4096), nn.ReLU(True),
               nn.Linear(4096, 4096), nn.ReLU(True), nn.Linear(4096, 1000)]
    return nn.Sequential(*layers)


def kws():
    layers, cin = [], 1
    for c, k in [(24, (3, 1)), (48, (1, 1)), (48, (3, 1)), (64, (1, 1)),
                 (64, (1, 3)), (96, (1, 1)), (96, (3, 1)), (96, (1, 1))]:
        layers += [nn.Conv2d(cin, c, k, padding=(k[0] // 2, k[1] // 2)),
                   nn.ReLU(inplace=True)]
        cin = c
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 12)]
    return nn.Sequential(*layers)


MODELS = {
    "resnet18": (lambda: resnet(Basic, [2, 2, 2, 2]), (1, 3, 224, 224)),
    "resnet50": (lambda: resnet(Bottleneck, [3, 4, 6, 3]), (1, 3, 224, 224)),
    "resnext50_32x4d": (lambda: resnet(NeXt, [3, 4, 6, 3]), (1, 3, 224, 224)),
    "mobilenet_v2": (mobilenet_v2, (1, 3, 224, 224)),
    "vgg16": (vgg16, (1, 3, 224, 224)),
    "kws": (kws, (1, 1, 40, 98)),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    for name in sys.argv[2:] or list(MODELS):
        path = os.path.join(out, name + ".onnx")
        if os.path.exists(path):
            continue
        build, shape = MODELS[name]
        model = build().eval()
        torch.onnx.export(model, torch.randn(*shape), path, opset_version=13,
                          input_names=["input"], output_names=["output"])
        print(path)


if __name__ == "__main__":
    main()
