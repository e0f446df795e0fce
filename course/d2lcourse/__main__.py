"""``python -m d2lcourse``: check a notebook before submitting it; where the data is, fetch it, or build a
data root from the CSV sample."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import resolve_data_root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m d2lcourse", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    check = sub.add_parser("validate", help="run a notebook's public tests in a fresh kernel and read it for "
                           "forbidden calls (advisory) before you submit")
    check.add_argument("notebook", type=Path)
    check.add_argument("--timeout", type=int, default=600, help="seconds any one cell may run (default 600)")
    where = sub.add_parser("where", help="show the data root and whether Fashion-MNIST is there")
    where.add_argument("--root")
    get = sub.add_parser("download", help="download Fashion-MNIST into the data root (needs internet)")
    get.add_argument("--root")
    csv = sub.add_parser("from-csv", help="write a label,pixel1..pixel784 CSV as a Fashion-MNIST data root")
    csv.add_argument("csv", type=Path)
    csv.add_argument("--root", required=True, type=Path)
    csv.add_argument("--test-fraction", type=float, default=0.2)
    args = parser.parse_args(argv)

    if args.cmd == "validate":  # imports no torch here: the notebook's own process does (~2 s a student waits)
        from .submission_check import main as validate_main
        return validate_main(args.notebook, timeout=args.timeout)
    from .data import DataNotFound, download, fashion_mnist, read_csv_sample, write_fashion_mnist_root
    if args.cmd == "where":
        root, source = resolve_data_root(args.root)
        print(f"data root: {root} (from {source})")
        try:  # the setting as given, so that the message names the same source as the line above
            print(f"Fashion-MNIST: {len(fashion_mnist(True, args.root))} training and "
                  f"{len(fashion_mnist(False, args.root))} test images")
        except DataNotFound as exc:
            print(exc)
            return 1
    elif args.cmd == "download":
        download(resolve_data_root(args.root)[0])
    elif args.cmd == "from-csv":
        if not args.csv.is_file():
            print(f"no such file: {args.csv}", file=sys.stderr)
            return 2
        images, labels = read_csv_sample(args.csv)
        n_test = max(1, int(len(labels) * args.test_fraction))
        train, test = (images[n_test:], labels[n_test:]), (images[:n_test], labels[:n_test])
        raw = write_fashion_mnist_root(args.root, train, test)
        print(f"wrote {len(labels) - n_test} training and {n_test} test images to {raw}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
