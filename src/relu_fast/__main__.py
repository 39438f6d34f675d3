"""python -m relu_fast [report|bench|demo]  (report is the default)."""
import argparse
import sys


def main(argv=None):
    from ._version import __version__
    parser = argparse.ArgumentParser(prog="python -m relu_fast", description=__doc__)
    parser.add_argument("--version", action="version", version=f"relu_fast {__version__}")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("report", help="build configuration, self-check against NumPy, short timing table")
    # add_help=False: `bench --help` and `demo --help` reach the modules' own parsers
    sub.add_parser("bench", add_help=False, help="benchmark against NumPy and PyTorch (if installed)")
    sub.add_parser("demo", add_help=False, help="train a small network with each activation")
    args, rest = parser.parse_known_args(argv)
    if args.command == "bench":
        from . import _bench
        return _bench.main(rest)
    if args.command == "demo":
        from . import _demo
        return _demo.main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    from . import _report
    return _report.main()


if __name__ == "__main__":
    sys.exit(main())
