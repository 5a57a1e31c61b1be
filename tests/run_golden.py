#!/usr/bin/env python3
"""run_golden.py - run sipladder on every case of tests/GOLDEN.tsv and compare.

Usage:
  run_golden.py --self-test
  run_golden.py [--sipladder PATH] [--root DIR] [--list FILE] [--update]
                [-k SUBSTRING] [--timeout SECONDS] [PATH]

The binary is --sipladder PATH, else the positional PATH, else $SIPLADDER.

GOLDEN.tsv, one case per line (tab-separated; '#' starts a comment line),
like tcpdump's tests/TESTLIST:

  name  arguments  expected-stdout  exit-code  [expected-stderr]

* arguments: split like a POSIX shell (shlex); paths are relative to the repo
  root, which is the working directory of every run.  $SL_TESTDATA and
  $SL_SOURCE_ROOT expand from the environment (defaults: ROOT/testdata, the folder holding corpus/, and
  ROOT).  A case whose $SL_TESTDATA file is missing fails: the corpus is in the repository.
* expected-stdout: file relative to the repo root, compared byte for byte.
* exit-code: the expected exit status.
* expected-stderr (optional): compared when given; when the column is absent,
  the file beside expected-stdout named NAME.stderr.txt (for NAME.txt) is
  compared if it exists.  '-' means: do not compare stderr.

Runs are made reproducible: TZ=UTC, LC_ALL=C, NO_COLOR=1, stdin from
/dev/null.  Before comparing, the expanded $SL_TESTDATA and $SL_SOURCE_ROOT
paths in the output are written back as those variable names, so expected
files do not depend on where the checkout lives.  A sanitizer report
(AddressSanitizer, UndefinedBehaviorSanitizer, LeakSanitizer) on stderr fails
a case even when everything else matches.

--update rewrites the expected files from the actual output (and writes an
expected-stderr file for a case whose stderr is not empty, or whose stderr
file exists already); the exit-code column is not rewritten, so a changed
exit code still shows up as a failure.

--valgrind runs every case under valgrind --leak-check=full
--error-exitcode=1 (its log in a temporary file, so stdout and stderr still
compare): an invalid access or a definite/possible leak fails the case.

The last line printed is "N passed, N failed"; the exit status is 1 when any
case failed (or the list is unreadable), else 0.
"""

import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile

SANITIZER = re.compile(
    r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|"
    r"SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer)")


class Case:
    def __init__(self, lineno, name, args, expected, code, stderr_file):
        self.lineno = lineno
        self.name = name
        self.args = args
        self.expected = expected
        self.code = code
        self.stderr_file = stderr_file


def parse_list(path):
    """Cases of a GOLDEN.tsv file; raises ValueError on a malformed line."""
    cases = []
    seen = set()
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) not in (4, 5):
                raise ValueError("%s:%d: want 4 or 5 tab-separated columns, got %d"
                                 % (path, lineno, len(cols)))
            name, args, expected, code = cols[:4]
            if not re.fullmatch(r"[A-Za-z0-9._+-]+", name) or name in seen:
                raise ValueError("%s:%d: bad or duplicate name %r" % (path, lineno, name))
            seen.add(name)
            try:
                code = int(code)
            except ValueError:
                raise ValueError("%s:%d: exit code %r is not a number"
                                 % (path, lineno, code)) from None
            stderr_file = cols[4] if len(cols) == 5 else None
            cases.append(Case(lineno, name, args, expected, code, stderr_file))
    return cases


def default_stderr_path(expected):
    stem = expected[:-4] if expected.endswith(".txt") else expected
    return stem + ".stderr.txt"


def expand(args, env):
    """Expand $SL_TESTDATA / $SL_SOURCE_ROOT, then split like a shell."""
    def sub(m):
        return env[m.group(1) or m.group(2)]
    text = re.sub(r"\$\{(SL_TESTDATA|SL_SOURCE_ROOT)\}|\$(SL_TESTDATA|SL_SOURCE_ROOT)\b",
                  sub, args)
    return shlex.split(text)


def normalise(text, env):
    # Longest path first: SL_TESTDATA may lie inside SL_SOURCE_ROOT/..
    pairs = sorted(((env[k], "$" + k) for k in ("SL_TESTDATA", "SL_SOURCE_ROOT")),
                   key=lambda p: -len(p[0]))
    for path, var in pairs:
        if path:
            text = text.replace(path, var)
    return text


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", errors="replace")


def write_text(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "wb") as f:
        f.write(text.encode("utf-8"))


def diff(expected, actual, label):
    return "".join(difflib.unified_diff(
        expected.splitlines(True), actual.splitlines(True),
        "expected/" + label, "actual/" + label))


def missing_inputs(argv, root):
    """Arguments that name a missing file under testdata/corpus."""
    return [a for a in argv if "/corpus/" in a
            and not os.path.exists(os.path.join(root, a))]


def read_valgrind_log(path):
    """The valgrind report of a run when it found errors or leaks, else ''
    (the log file is removed)."""
    if not path:
        return ""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    finally:
        os.unlink(path)
    m = re.search(r"ERROR SUMMARY: (\d+) errors", text)
    if m and m.group(1) == "0":
        return ""
    return text


def run_case(case, opts, env):
    """Returns (status, messages): status is 'pass', 'fail' or 'skip'."""
    argv = expand(case.args, env)
    missing = missing_inputs(argv, opts.root)
    if missing:
        return "fail", ["input not found: " + " ".join(missing)]
    prefix, vg_log = [], None
    if opts.valgrind:
        # valgrind reports to its own file: stderr stays comparable.
        fd, vg_log = tempfile.mkstemp(prefix="sl-valgrind-")
        os.close(fd)
        prefix = ["valgrind", "--leak-check=full", "--error-exitcode=1", "--log-file=" + vg_log]
    try:
        proc = subprocess.run(prefix + [opts.sipladder] + argv, cwd=opts.root, env=env,
                              stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=opts.timeout)
    except subprocess.TimeoutExpired:
        return "fail", ["timed out after %g s" % opts.timeout]
    except OSError as e:
        return "fail", ["cannot run %s: %s" % (opts.sipladder, e)]
    finally:
        vg_report = read_valgrind_log(vg_log)
    out = normalise(proc.stdout.decode("utf-8", errors="replace"), env)
    err = normalise(proc.stderr.decode("utf-8", errors="replace"), env)

    exp_path = os.path.join(opts.root, case.expected)
    if case.stderr_file == "-":
        err_path = None
    elif case.stderr_file:
        err_path = os.path.join(opts.root, case.stderr_file)
    else:
        err_path = os.path.join(opts.root, default_stderr_path(case.expected))
        if not os.path.exists(err_path) and not (opts.update and err):
            err_path = None

    msgs = []
    if opts.update:
        write_text(exp_path, out)
        if err_path:
            write_text(err_path, err)
    if proc.returncode < 0:
        msgs.append("killed by signal %d" % -proc.returncode)
    elif proc.returncode != case.code:
        msgs.append("exit code %d, expected %d" % (proc.returncode, case.code))
    if SANITIZER.search(err):
        msgs.append("sanitizer report on stderr")
    if vg_report:
        msgs.append("valgrind:\n" + vg_report)
    if not os.path.exists(exp_path):
        msgs.append("expected output %s does not exist (run with --update)"
                    % case.expected)
    else:
        d = diff(read_text(exp_path), out, case.expected)
        if d:
            msgs.append("stdout differs:\n" + d)
    if err_path:
        if not os.path.exists(err_path):
            msgs.append("expected stderr %s does not exist"
                        % os.path.relpath(err_path, opts.root))
        else:
            d = diff(read_text(err_path), err,
                     os.path.relpath(err_path, opts.root))
            if d:
                msgs.append("stderr differs:\n" + d)
    if msgs and (err and not err_path):
        msgs.append("stderr was:\n" + err)
    return ("fail" if msgs else "pass"), msgs


FAKE = """\
import os, sys
arg = sys.argv[-1]
if arg == "fail":
    sys.stderr.write("sipladder: cannot open fail\\n")
    sys.exit(3)
if arg == "asan":
    sys.stderr.write("==1==ERROR: AddressSanitizer: heap-buffer-overflow\\n")
if arg == "segv":
    os.kill(os.getpid(), 11)
print("args: " + " ".join(sys.argv[1:]))
print("TZ=%s NO_COLOR=%s" % (os.environ.get("TZ"), os.environ.get("NO_COLOR")))
"""


def self_test():
    """Run the runner on a fake binary: every kind of mismatch must fail."""
    import contextlib
    import io
    import tempfile
    with tempfile.TemporaryDirectory() as root:
        fake = os.path.join(root, "fake-sipladder")
        with open(fake, "w") as f:
            f.write("#!%s\n%s" % (sys.executable, FAKE))
        os.chmod(fake, 0o755)
        os.makedirs(os.path.join(root, "tests"))
        shared = os.path.join(root, "shared")
        os.makedirs(os.path.join(shared, "corpus"))
        write_text(os.path.join(shared, "corpus", "x.pcap"), "")
        rows = [
            ("plain", "summary 'a b.pcap'", 0),
            ("code", "summary fail", 3),
            ("shared", "summary $SL_TESTDATA/corpus/x.pcap", 0),
            ("nocorpus", "summary $SL_TESTDATA/corpus/absent.pcap", 0),
            ("wrongcode", "summary fail", 0),
            ("asan", "summary asan", 0),
            ("segv", "summary segv", 0),
        ]
        write_text(os.path.join(root, "tests", "GOLDEN.tsv"), "".join(
            "%s\t%s\texpected/%s.txt\t%d\n" % (n, a, n, c) for n, a, c in rows))
        os.environ["SL_TESTDATA"] = shared

        def run(*extra):
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                rc = main(["--root", root, "--sipladder", fake] + list(extra))
            return rc, buf.getvalue()

        checks = []
        rc, out = run("--update")
        checks.append(("update run", rc == 1 and out.endswith(
            "3 passed, 4 failed\n") and "input not found" in out))
        plain = read_text(os.path.join(root, "expected", "plain.txt"))
        checks.append(("args split, TZ/NO_COLOR set",
                       plain == "args: summary a b.pcap\nTZ=UTC NO_COLOR=1\n"))
        shared_out = read_text(os.path.join(root, "expected", "shared.txt"))
        checks.append(("$SL_TESTDATA written back",
                       "$SL_TESTDATA/corpus/x.pcap" in shared_out))
        checks.append(("stderr file written", read_text(os.path.join(
            root, "expected", "code.stderr.txt")) == "sipladder: cannot open fail\n"))
        rc, out = run("-k", "plain")
        checks.append(("clean pass", rc == 0 and out.endswith("1 passed, 0 failed\n")))
        write_text(os.path.join(root, "expected", "plain.txt"), plain + "extra\n")
        write_text(os.path.join(root, "expected", "code.stderr.txt"), "other\n")
        rc, out = run()
        checks.append(("stdout diff", "FAIL    plain" in out and "-extra" in out))
        checks.append(("stderr diff", "FAIL    code" in out and "+sipladder: cannot open fail" in out))
        checks.append(("exit code", "exit code 3, expected 0" in out))
        checks.append(("sanitizer", "sanitizer report on stderr" in out))
        checks.append(("signal", "killed by signal 11" in out))
        checks.append(("missing corpus file fails", "FAIL    nocorpus" in out and "input not found" in out))
        checks.append(("final line", rc == 1 and out.endswith("1 passed, 6 failed\n")))
    bad = [name for name, ok in checks if not ok]
    for name, ok in checks:
        print("%s self-test: %s" % ("ok  " if ok else "FAIL", name))
    if bad:
        print(out)
    print("%d passed, %d failed" % (len(checks) - len(bad), len(bad)))
    return 1 if bad else 0


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", nargs="?", help="sipladder binary")
    ap.add_argument("--sipladder", help="sipladder binary (default $SIPLADDER)")
    ap.add_argument("--root", default=os.path.dirname(here),
                    help="repository root (default: parent of tests/)")
    ap.add_argument("--list", help="case list (default ROOT/tests/GOLDEN.tsv)")
    ap.add_argument("--update", action="store_true",
                    help="rewrite expected files from the actual output")
    ap.add_argument("-k", dest="filter", default="",
                    help="run only cases whose name contains this")
    ap.add_argument("--timeout", type=float, default=120.0,
                    help="seconds per case (default 120)")
    ap.add_argument("--valgrind", action="store_true",
                    help="run each case under valgrind --leak-check=full: any "
                         "error or definite/possible leak fails it (timeout x20)")
    ap.add_argument("--only-with-env", metavar="VAR",
                    help="do nothing (exit 77, skipped) unless $VAR is set and not 0")
    ap.add_argument("--self-test", action="store_true",
                    help="check the runner itself against a fake binary")
    opts = ap.parse_args(argv)
    if opts.self_test:
        return self_test()

    if opts.valgrind:
        opts.timeout *= 20
    if opts.only_with_env and os.environ.get(opts.only_with_env, "") in ("", "0"):
        print("skipped: set %s=1 to run" % opts.only_with_env)
        return 77  # meson's "skipped"
    opts.root = os.path.abspath(opts.root)
    opts.sipladder = opts.sipladder or opts.binary or os.environ.get("SIPLADDER")
    if not opts.sipladder:
        ap.error("no sipladder binary: give --sipladder PATH or set SIPLADDER")
    opts.sipladder = os.path.abspath(opts.sipladder)
    list_path = opts.list or os.path.join(opts.root, "tests", "GOLDEN.tsv")

    env = dict(os.environ)
    env.setdefault("SL_SOURCE_ROOT", opts.root)
    env.setdefault("SL_TESTDATA", os.path.join(opts.root, "testdata"))
    env.update({"TZ": "UTC", "LC_ALL": "C", "NO_COLOR": "1"})

    try:
        cases = parse_list(list_path)
    except (OSError, ValueError) as e:
        print("run_golden: %s" % e)
        print("0 passed, 1 failed")
        return 1

    passed = failed = skipped = 0
    for case in cases:
        if opts.filter not in case.name:
            continue
        status, msgs = run_case(case, opts, env)
        if status == "pass":
            passed += 1
            print("ok      %s" % case.name)
        elif status == "skip":
            skipped += 1
            print("skip    %s: %s" % (case.name, "; ".join(msgs)))
        else:
            failed += 1
            print("FAIL    %s (%s:%d: %s)" % (case.name, os.path.basename(list_path),
                                            case.lineno, case.args))
            for m in msgs:
                print("        " + m.rstrip("\n").replace("\n", "\n        "))
        sys.stdout.flush()
    if skipped:
        print("%d skipped (missing corpus files)" % skipped)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
