"""Installs the onnxtd package with Debian's setuptools, offline.

The C library is bundled into the package when one is found: the file
named by $ONNXTD_LIB, else the libonnxtd.so.* that `cmake --build build`
leaves in ../build. Without one, the package uses the system's libonnxtd
(or $ONNXTD_LIB at run time). The onnxtd command beside that library
($ONNXTD_CLI, else the build's) is bundled with it for `python3 -m onnxtd`.
"""

import glob
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def built_library():
    env = os.environ.get("ONNXTD_LIB")
    if env:
        if not os.path.isfile(env):
            raise SystemExit(f"setup.py: ONNXTD_LIB={env} is not a file")
        return env
    found = sorted(glob.glob(os.path.join(HERE, "..", "build",
                                          "libonnxtd.so.*.*.*")))
    return found[-1] if found else None


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        lib = built_library()
        if lib:
            dest = os.path.join(self.build_lib, "onnxtd", "libonnxtd.so.0")
            shutil.copyfile(os.path.realpath(lib), dest)
            cli = os.environ.get("ONNXTD_CLI") or \
                os.path.join(os.path.dirname(lib), "onnxtd")
            if os.path.isfile(cli):
                shutil.copy(cli, os.path.join(self.build_lib, "onnxtd",
                                              "onnxtd"))


setup(
    name="onnxtd",
    version="0.1.0",
    description="Compress ONNX models with tensor decompositions "
                "(ctypes bindings to libonnxtd)",
    packages=["onnxtd"],
    python_requires=">=3.8",
    cmdclass={"build_py": BuildWithLibrary},
    zip_safe=False,
)
