"""`python3 -m repro.commands.preflight --docker --gpu --target reproduce-cifar`: what the Makefile
runs before `make image` / `make reproduce-*` touch anything. Standard library only (no virtualenv
exists yet when it runs). Prints what is missing and how to run on the CPU instead, and exits 5
(ExitCode.UNAVAILABLE); exits 0 when everything is there."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from repro.commands.output import ExitCode
from repro.launch.preflight import problems, report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m repro.commands.preflight", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docker", action="store_true", help="require a reachable Docker engine")
    parser.add_argument("--gpu", action="store_true", help="require at least one NVIDIA GPU")
    parser.add_argument("--data", metavar="DIR", help="require this dataset folder to exist and not be empty")
    parser.add_argument("--target", default="image", help="the make target asking, for the message")
    args = parser.parse_args(argv)
    missing = problems(need_docker=args.docker, need_gpu=args.gpu, data=args.data)
    if missing:
        print(report(args.target, missing), file=sys.stderr)
        return ExitCode.UNAVAILABLE
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
