"""python3 -m onnxtd ARGS: runs the onnxtd command with ARGS.

The command run is $ONNXTD_CLI if set, else the `onnxtd` beside the loaded
library (a build tree keeps both in one folder) or in the bin/ folder next
to its lib/ folder (an installed prefix), else `onnxtd` on PATH.
"""

import os
import shutil
import sys

from . import _lib


def cli_path() -> str:
    env = os.environ.get("ONNXTD_CLI")
    if env:
        return env
    lib = _lib.find_library()
    if os.sep in lib:
        folder = os.path.dirname(os.path.abspath(lib))
        for cand in (os.path.join(folder, "onnxtd"),
                     os.path.join(folder, "..", "bin", "onnxtd")):
            if os.path.isfile(cand) and os.access(cand, os.X_OK):
                return cand
    found = shutil.which("onnxtd")
    if not found:
        sys.exit("onnxtd: no onnxtd command found (set ONNXTD_CLI, or put "
                 "it on PATH)")
    return found


def main() -> None:
    cli = cli_path()
    os.execv(cli, [cli] + sys.argv[1:])


if __name__ == "__main__":
    main()
