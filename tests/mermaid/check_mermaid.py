#!/usr/bin/env python3
"""check_mermaid.py - every `ladder --format mermaid` output parsed by
Mermaid's own parser (issue 15 item 5).

Usage: check_mermaid.py --sipladder BIN [--root REPO]

For each distinct capture set of tests/GOLDEN.tsv (with its --name labels),
for the hostile captures of testdata/malformed/hostile-*.pcap (also with
hostile --name labels), runs `sipladder ladder --format mermaid` and checks:

* the output is only fenced ```mermaid blocks, one per ladder, a blank
  line between two (a Markdown viewer renders each; diagrams back to back
  are one text Mermaid cannot parse);
* no control byte but the newline, no '`' inside a block (it could close
  the fence), no "%%" (a comment or an %%{init}%% directive);
* Mermaid (tests/mermaid/node_modules, pinned by package-lock.json and
  installed by scripts/setup with `npm ci`) parses each block as a
  sequenceDiagram; its title, once the entity codes are decoded, is the
  ladder's title ("Call 2: ...", "Connection 1: ..."), with one participant
  per "participant" line and one message or note per arrow or note line,
  each ending in "(frame N)" or being a verdict: a ';' or '#' that leaked
  would cut a statement in two and change these counts.

Skips (exit 77) when node or the npm packages are missing; scripts/test
counts a skip as a failure (scripts/setup installs them).
"""
import argparse
import glob
import html
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HOSTILE_NAME = "A;l#i:c<e> \"q\" %%{init: {'theme':'dark'}}%% `x` end ->> P2: é€"
TITLE = re.compile(r"^(Call|Connection|Registration) \d+: |^Capture: ")
EVENT = re.compile(r"^    (P\d+->>P\d+: |Note over P\d+(,P\d+)?: )")


def golden_runs(root):
    """(name, argv) for each distinct capture set of GOLDEN.tsv."""
    testdata = os.environ.get("SL_TESTDATA", os.path.join(root, "testdata"))
    seen, runs = set(), []
    with open(os.path.join(root, "tests", "GOLDEN.tsv"), encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            args = shlex.split(cols[1].replace("${SL_TESTDATA}", testdata).replace("$SL_TESTDATA", testdata))
            files, names, i = [], [], 0
            while i < len(args):
                a = args[i]
                if a == "--name" and i + 1 < len(args):
                    names += ["--name", args[i + 1]]
                    i += 1
                elif a.startswith("--name="):
                    names.append(a)
                elif not a.startswith("-") and os.path.isfile(os.path.join(root, a)):
                    files.append(a)
                i += 1
            key = tuple(names + files)
            if files and key not in seen:
                seen.add(key)
                runs.append((cols[0], names + files))
    return runs


def hostile_runs(root):
    runs = []
    for p in sorted(glob.glob(os.path.join(root, "testdata", "malformed", "hostile-*.pcap"))):
        rel = os.path.relpath(p, root)
        runs.append((rel, [rel]))
        runs.append((rel + " --name", ["--name", "192.0.2.10=" + HOSTILE_NAME, "--name", "192.0.2.20=" + HOSTILE_NAME,
                                       "--name", "192.0.2.30=" + HOSTILE_NAME, "--name", "192.0.2.40=x", rel]))
    return runs


def split_blocks(text):
    """The diagrams of one output, or raise ValueError saying what is wrong."""
    blocks, lines, i = [], text.split("\n"), 0
    if text and not text.endswith("\n"):
        raise ValueError("output does not end in a newline")
    lines = lines[:-1] if text else []
    while i < len(lines):
        if blocks:
            if lines[i] != "":
                raise ValueError("line %d: %r between two blocks (want one blank line)" % (i + 1, lines[i]))
            i += 1
        if i >= len(lines) or lines[i] != "```mermaid":
            raise ValueError("line %d: %r, want ```mermaid" % (i + 1, lines[i] if i < len(lines) else "EOF"))
        start = i + 1
        i = start
        while i < len(lines) and lines[i] != "```":
            i += 1
        if i == len(lines):
            raise ValueError("block from line %d never closed" % start)
        blocks.append(lines[start:i])
        i += 1
    return blocks


def decode(s):
    """Mermaid's placeholders for entity codes back to text."""
    return html.unescape(s.replace("\ufb02\u00b0\u00b0", "&#").replace("\ufb02\u00b0", "&").replace("\u00b6\u00df", ";"))


def check_block(body, parsed):
    errs = []
    text = "\n".join(body)
    if "`" in text:
        errs.append("a '`' inside the block")
    if "%%" in text:
        errs.append("'%%' inside the block")
    if "error" in parsed:
        return errs + ["Mermaid: " + parsed["error"].splitlines()[0] + " | " + " ".join(parsed["error"].splitlines()[1:3])]
    if parsed["type"] != "sequence":
        errs.append("diagram type %r" % parsed["type"])
    title = decode(parsed.get("title") or "")
    if not TITLE.match(title):
        errs.append("title %r" % title)
    n_part = sum(1 for l in body if l.startswith("    participant P"))
    if len(parsed["actors"]) != n_part:
        errs.append("%d participants read, %d written" % (len(parsed["actors"]), n_part))
    events = [l for l in body if EVENT.match(l)]
    if len(parsed["messages"]) != len(events):
        errs.append("%d messages/notes read, %d written" % (len(parsed["messages"]), len(events)))
    for m in parsed["messages"]:
        m = decode(m).strip()
        if not (re.search(r"\(frame \d+\)$", m) or m.startswith(("Verdict: ", "Note: "))):
            errs.append("message %r: cut short" % m[:120])
    return errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sipladder", required=True)
    ap.add_argument("--root", default=os.path.normpath(os.path.join(HERE, "..", "..")))
    a = ap.parse_args()
    a.sipladder = os.path.abspath(a.sipladder)
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        print("SKIP: node is not installed (scripts/setup installs Debian's nodejs and npm)")
        return 77
    if not os.path.isdir(os.path.join(HERE, "node_modules", "mermaid")):
        print("SKIP: tests/mermaid/node_modules/mermaid is missing: run scripts/setup "
              "(or `npm ci` in tests/mermaid)")
        return 77
    runs = golden_runs(a.root) + hostile_runs(a.root)
    outputs, texts = [], []
    failures = 0
    multi = 0
    for name, argv in runs:
        p = subprocess.run([a.sipladder, "ladder", "--format", "mermaid"] + argv, cwd=a.root,
                           capture_output=True, timeout=300)
        if p.returncode not in (0, 4):
            if p.returncode == 3:
                continue  # not a capture (malformed/ cases): nothing to draw
            print("FAIL %s: exit %d: %s" % (name, p.returncode, p.stderr.decode(errors="replace")[:300]))
            failures += 1
            continue
        raw = p.stdout
        bad = sorted({b for b in raw if b < 0x20 and b != 0x0a or b == 0x7f})
        if bad:
            print("FAIL %s: control bytes %s in the output" % (name, bad))
            failures += 1
        try:
            blocks = split_blocks(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            print("FAIL %s: %s" % (name, e))
            failures += 1
            continue
        multi += len(blocks) > 1
        for b in blocks:
            outputs.append((name, b))
            texts.append("\n".join(b) + "\n")
    p = subprocess.run([node, os.path.join(HERE, "parse_mermaid.mjs")], input=json.dumps(texts).encode(),
                       capture_output=True, cwd=HERE, timeout=900)
    if p.returncode != 0:
        print("FAIL: parse_mermaid.mjs exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace")[-2000:]))
        return 1
    results = json.loads(p.stdout)
    for (name, body), parsed in zip(outputs, results):
        for e in check_block(body, parsed):
            print("FAIL %s: %s: %s" % (name, body[1].strip()[:100] if len(body) > 1 else "?", e))
            failures += 1
    if multi == 0:
        print("FAIL: no capture gave several diagrams: the separation is untested")
        failures += 1
    print("%d runs, %d diagrams (%d outputs with several), %d failures" % (len(runs), len(texts), multi, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
