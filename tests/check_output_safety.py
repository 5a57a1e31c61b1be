#!/usr/bin/env python3
"""check_output_safety.py - capture bytes never reach the terminal raw.

Usage: check_output_safety.py SIPLADDER [CAPTURE...]
       (default: every capture under $SL_SOURCE_ROOT/testdata, the
       hostile-strings ones of testdata/malformed first and required)

Every command named in `sipladder --help` (summary, messages, tls, and the
others as they land: calls, ladder, diagnose, json) is run on each capture
alone and on the hostile-strings captures together; both stdout and stderr
must:
  * be valid UTF-8 (strict: no overlong forms, no surrogates);
  * hold no byte below 0x20 but \\n and \\t, and no 0x7f (no ESC: colour is
    off since the output is not a terminal; --color=always is tried too and
    then only SGR colour sequences of the renderer itself, ESC [ digits m,
    may appear);
  * hold no C1 control (U+0080-U+009F), which terminals treat like ESC.
The json command's output must parse as JSON (each line with --format
jsonl).  The hostile captures must also show the hostile strings escaped
(\\x1b), so the test fails if they stop being displayed at all.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import tempfile
import sys

SGR = re.compile(rb"\x1b\[[0-9;]*m")
HOSTILE = ("hostile-strings-sip.pcap", "hostile-strings-tls.pcap")


def commands(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, check=True).stdout.decode()
    names, in_cmds = [], False
    for line in out.splitlines():
        if line.startswith("Commands:"):
            in_cmds = True
            continue
        if in_cmds:
            m = re.match(r"  ([a-z][a-z-]*)\s", line)
            if not m:
                if not line.strip() or not line.startswith("   "):
                    if not line.strip():
                        break
                continue
            names.append(m.group(1))
    if "summary" not in names:
        raise SystemExit("cannot read the command list from --help")
    return names


def problems(data, colour):
    errs = []
    if colour:
        data = SGR.sub(b"", data)
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        errs.append("invalid UTF-8 at byte %d: %r" % (e.start, data[max(0, e.start - 20):e.start + 10]))
        text = data.decode("utf-8", errors="replace")
    for i, ch in enumerate(text):
        o = ord(ch)
        if (o < 0x20 and ch not in "\n\t") or o == 0x7F or 0x80 <= o <= 0x9F:
            errs.append("raw control U+%04X at char %d: %r" % (o, i, text[max(0, i - 30):i + 10]))
            break
    return errs


def check_json(cmd, data):
    text = data.decode("utf-8", errors="strict")
    if "jsonl" in cmd:
        # Only \n ends a line (docs/json.md): splitlines() would also cut at
        # a U+2028 inside a string (testdata/web/hostile-web.pcap).
        for line in text.split("\n"):
            if line:
                json.loads(line)
    else:
        json.loads(text)


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    binary = sys.argv[1]
    root = os.environ.get("SL_SOURCE_ROOT", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    hostile = [os.path.join(root, "testdata", "malformed", h) for h in HOSTILE]
    for h in hostile:
        if not os.path.exists(h):
            raise SystemExit("missing %s (tests/captures/make_hostile_strings.py)" % h)
    captures = sys.argv[2:] or sorted(
        p for p in glob.glob(os.path.join(root, "testdata", "**", "*"), recursive=True)
        if re.search(r"\.(pcap|pcapng|cap)\d*$", p))
    runs = [[c] for c in captures] + [hostile]
    cmds = commands(binary)
    failures, n = 0, 0
    tmp = tempfile.mkdtemp(prefix="sl-safety-")
    # What a command needs besides its captures: save writes a pcap of a
    # selection (everything from the start; its stdout and stderr are what
    # is checked), compare takes two sides (the first capture twice).
    needs = {"save": ["--from", "+0s", "-w", os.path.join(tmp, "saved.pcap")]}
    for cmd in cmds:
        variants = [[cmd], [cmd, "--color=always", "-v"]]
        if cmd == "json":
            variants.append([cmd, "--format", "jsonl"])
        for k, extra in enumerate(variants):
            # The other variants read the hostile captures and every fifth
            # one (the test runs under ASan in CI too: 10 commands on ~200
            # captures, three ways, would take most of its time).
            for i, files in enumerate(runs):
                if k and files != hostile and i % 5:
                    continue
                sides = files[:1] * 2 if cmd == "compare" else files
                argv = [binary] + extra + needs.get(cmd, []) + sides
                p = subprocess.run(argv, capture_output=True, timeout=120)
                n += 1
                errs = []
                if p.returncode not in (0, 3, 4, 6):  # 6: a selection matched nothing
                    errs.append("exit status %d" % p.returncode)
                colour = "--color=always" in extra
                for name, data in (("stdout", p.stdout), ("stderr", p.stderr)):
                    errs += ["%s: %s" % (name, e) for e in problems(data, colour)]
                if cmd == "json" and p.returncode in (0, 4):
                    try:
                        check_json(" ".join(extra), p.stdout)
                    except (ValueError, UnicodeDecodeError) as e:
                        errs.append("stdout is not JSON: %s" % e)
                if files == hostile and cmd in ("summary", "messages", "tls") and b"\\x1b" not in p.stdout:
                    errs.append("the hostile strings are not shown escaped (no \\x1b in the output)")
                if errs:
                    failures += 1
                    print("FAIL %s\n  %s" % (" ".join(argv), "\n  ".join(errs[:5])))
    shutil.rmtree(tmp, ignore_errors=True)
    print("%d runs of %d commands (%s), %d failed" % (n, len(cmds), ", ".join(cmds), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
