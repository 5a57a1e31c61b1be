#!/usr/bin/env python3
"""check_docs.py - the examples of README.md and of the EXAMPLES section of
docs/sipladder.1 are what sipladder prints today (issue 15 item 7).

Usage: check_docs.py --sipladder BIN [--root REPO] [--update]

README.md: every indented code block line "    $ sipladder ARGS" (a line
ending in '\\' goes on on the next one) is run from the repository root,
and its standard output compared with the lines under it, up to the end of
the block or the next "$ " line.  docs/sipladder.1: every ".nf" block of
EXAMPLES whose first line is "$ sipladder ARGS" (troff-escaped: \\- \\e
\\(aq), output likewise.  A README example whose output is not shown (the
block holds only the command) must still run and exit 0.

The run is the one a reader gets in a pipe: NO_COLOR=1, no terminal (the
ladder 120 columns unless --width says), TZ=UTC.  --update writes what the
tool prints into both files (one command regenerates every example); read
the diff before committing it.
"""
import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys

PROMPT = "$ sipladder "


def run(binary, root, command):
    args = shlex.split(command)
    assert args[0] == "sipladder", command
    env = dict(os.environ, NO_COLOR="1", TZ="UTC", LC_ALL="C.UTF-8")
    env.pop("COLUMNS", None)
    p = subprocess.run([binary] + args[1:], cwd=root, capture_output=True, env=env, timeout=300,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode("utf-8", errors="replace"), p.stderr.decode("utf-8", errors="replace")


# README.md ------------------------------------------------------------------

def readme_examples(lines):
    """(first line, after the command, end) index triples, end exclusive;
    and the command."""
    out, i = [], 0
    while i < len(lines):
        if not lines[i].startswith("    " + PROMPT):
            i += 1
            continue
        start = i
        cmd = lines[i][4:]
        while cmd.endswith("\\") and i + 1 < len(lines):
            i += 1
            cmd = cmd[:-1].rstrip() + " " + lines[i].strip()
        i += 1
        body = i
        end = i
        # The block goes on over blank lines while indented lines follow.
        while i < len(lines) and not lines[i].startswith("    $ "):
            if lines[i].startswith("    "):
                i += 1
                end = i
            elif lines[i].strip() == "":
                i += 1
            else:
                break
        out.append((start, body, end, cmd[2:]))
        i = end
    return out


def readme_expected(lines, body, end):
    return [l[4:] if l.startswith("    ") else "" for l in lines[body:end]]


def readme_render(output):
    return [("    " + l) if l else "" for l in output.rstrip("\n").split("\n")]


# docs/sipladder.1 -------------------------------------------------------------

ROFF_OUT = [("\\", "\\e"), ("-", "\\-"), ("'", "\\(aq")]


def roff_unescape(s):
    s = s.replace("\\-", "-").replace("\\(aq", "'").replace("\\(lq", "\u201c").replace("\\(rq", "\u201d")
    s = s.replace("\\&", "").replace("\\e", "\\")
    return s


def roff_escape(s):
    for a, b in ROFF_OUT:
        s = s.replace(a, b)
    if s.startswith((".", "\\(aq")):
        s = "\\&" + s
    return s


def man_examples(lines):
    """(command line, first output line, .fi line, command) of EXAMPLES."""
    try:
        sec = lines.index(".SH EXAMPLES")
    except ValueError:
        return []
    out, i = [], sec + 1
    while i < len(lines) and not lines[i].startswith(".SH "):
        if lines[i] == ".nf" and i + 1 < len(lines) and roff_unescape(lines[i + 1]).startswith(PROMPT):
            k = i + 2
            while k < len(lines) and lines[k] != ".fi":
                k += 1
            out.append((i + 1, i + 2, k, roff_unescape(lines[i + 1])[2:]))
            i = k
        i += 1
    return out


# ---------------------------------------------------------------------------

def check_file(path, binary, root, update, kind):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    examples = readme_examples(lines) if kind == "readme" else man_examples(lines)
    failures, replaced = 0, []
    for start, body, end, cmd in examples:
        rc, out, err = run(binary, root, cmd)
        where = "%s:%d" % (os.path.relpath(path, root), start + 1)
        if kind == "readme":
            want = readme_expected(lines, body, end)
            got = out.rstrip("\n").split("\n") if out else []
            new = readme_render(out) if out else []
        else:
            want = [roff_unescape(l) for l in lines[body:end]]
            got = out.rstrip("\n").split("\n") if out else []
            new = [roff_escape(l) for l in got]
        if rc != 0:
            print("FAIL %s: `%s` exits %d: %s" % (where, cmd, rc, err.strip()[:300]))
            failures += 1
            continue
        if not want and kind == "readme":
            continue  # the command alone: it runs, its output is not shown
        if want != got:
            if update:
                replaced.append((body, end, new))
                print("updated %s: `%s`" % (where, cmd))
                continue
            print("FAIL %s: `%s` prints something else:" % (where, cmd))
            for l in difflib.unified_diff(want, got, "documented", "printed", lineterm="", n=1):
                print("    " + l)
            failures += 1
    if update and replaced:
        for body, end, new in reversed(replaced):
            lines[body:end] = new
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
    return len(examples), failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sipladder", required=True)
    ap.add_argument("--root", default=os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")))
    ap.add_argument("--update", action="store_true", help="write what the tool prints into the documents")
    a = ap.parse_args()
    binary = os.path.abspath(a.sipladder)
    total = fails = 0
    for rel, kind in (("README.md", "readme"), (os.path.join("docs", "sipladder.1"), "man")):
        n, f = check_file(os.path.join(a.root, rel), binary, a.root, a.update, kind)
        if n == 0:
            print("FAIL %s: no example found" % rel)
            f += 1
        total += n
        fails += f
    print("%d examples, %d failures" % (total, fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
