#!/usr/bin/env python3
"""check_trailing_space.py - no line of any golden expected output
(testdata/expected/*) ends in a space or a tab: the text views trim their
padding (issue 15 item 6), and a golden file regenerated from a view that
pads again fails here, naming the file and line.

Usage: check_trailing_space.py [--root REPO]
"""
import argparse
import glob
import os
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    a = ap.parse_args()
    files = sorted(glob.glob(os.path.join(a.root, "testdata", "expected", "*")))
    bad = 0
    for path in files:
        with open(path, "rb") as f:
            for n, line in enumerate(f, 1):
                if line.rstrip(b"\n").endswith((b" ", b"\t")):
                    print("%s:%d: ends in a space" % (os.path.relpath(path, a.root), n))
                    bad += 1
                    break
    print("%d expected files, %d with a line ending in a space" % (len(files), bad))
    return 1 if bad or not files else 0


if __name__ == "__main__":
    sys.exit(main())
