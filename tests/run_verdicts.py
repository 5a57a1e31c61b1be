#!/usr/bin/env python3
"""run_verdicts.py - the "must report / must not report" table of issue 14.

Usage:
  run_verdicts.py --sipladder PATH [--root DIR] [TABLE.tsv ...]
  run_verdicts.py --self-test

Reads every tests/verdicts/*.tsv (or the tables named), runs
`sipladder json -q ARGS CAPTURE...` once per distinct (capture, args) and
checks each row against the document's `diagnoses` (format:
tests/verdicts/README.md).  A row whose capture is missing fails: the table
only names captures that are in the repository.  Prints one line per failed
row and ends with 'verdicts: N passed, N failed'.
"""
import argparse
import glob
import json
import os
import shlex
import subprocess
import sys

EXPECTS = ("report", "absent")
KEYS = ("conn", "call", "rejected_by", "role", "evidence", "text", "notext", "injected")


class Row:
    def __init__(self, table, line_no, fields):
        if len(fields) < 5:
            raise ValueError("%s:%d: expected at least 5 tab-separated columns, got %d"
                             % (table, line_no, len(fields)))
        self.where_text = "%s:%d" % (os.path.basename(table), line_no)
        self.captures = fields[0].split("+")
        self.args = [] if fields[1] == "-" else shlex.split(fields[1])
        self.expect = fields[2]
        if self.expect not in EXPECTS:
            raise ValueError("%s: expect must be report or absent, not %r" % (self.where_text, self.expect))
        self.code = fields[3]
        self.filters = parse_where(self.where_text, fields[4])
        self.note = fields[5] if len(fields) > 5 else ""


def parse_where(where_text, text):
    filters = []
    if text == "-":
        return filters
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep or key not in KEYS:
            raise ValueError("%s: bad filter %r (keys: %s)" % (where_text, item, ", ".join(KEYS)))
        filters.append((key, value))
    return filters


def code_matches(pattern, code):
    if pattern == "*":
        return True
    if pattern.endswith("*"):
        return code.startswith(pattern[:-1])
    return code == pattern


def texts_of(d):
    return [d.get("summary") or ""] + list(d.get("causes") or [])


def filter_holds(key, value, d):
    if key == "conn":
        return d.get("connection") == int(value)
    if key == "call":
        return d.get("call") == int(value)
    if key in ("rejected_by", "role"):
        rb = d.get("rejected_by") or {}
        if key == "role":
            return rb.get("role") == value
        ip, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
        if not port:
            return rb.get("ip") == value
        return rb.get("ip") == ip and str(rb.get("port")) == port
    if key == "evidence":
        have = set(d.get("evidence") or [])
        return all(int(f) in have for f in value.split("+"))
    if key == "text":
        return any(value in t for t in texts_of(d))
    if key == "notext":
        return not any(value in t for t in texts_of(d))
    if key == "injected":
        return bool(d.get("suspect_injected")) == (value == "true")
    raise AssertionError(key)


def matches(row, d):
    return code_matches(row.code, d.get("code", "")) and all(filter_holds(k, v, d) for k, v in row.filters)


def load_rows(tables):
    rows = []
    for table in tables:
        with open(table, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                rows.append(Row(table, n, line.split("\t")))
    return rows


def run_json(sipladder, root, captures, args):
    cmd = [sipladder, "json", "-q"] + args + captures
    env = dict(os.environ, TZ="UTC", LC_ALL="C", NO_COLOR="1")
    p = subprocess.run(cmd, cwd=root, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    if p.returncode not in (0, 4):
        return None, "exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace").strip()[:300])
    try:
        return json.loads(p.stdout), None
    except ValueError as e:
        return None, "not JSON: %s" % e


def describe(d):
    rb = d.get("rejected_by") or {}
    return "%s conn=%s call=%s by=%s:%s/%s" % (d.get("code"), d.get("connection"), d.get("call"),
                                               rb.get("ip"), rb.get("port"), rb.get("role"))


def check(rows, sipladder, root):
    cache = {}
    passed = failed = 0
    for row in rows:
        missing = [c for c in row.captures if not os.path.exists(os.path.join(root, c))]
        if missing:
            print("FAIL %s: capture missing: %s" % (row.where_text, ", ".join(missing)))
            failed += 1
            continue
        key = (tuple(row.captures), tuple(row.args))
        if key not in cache:
            cache[key] = run_json(sipladder, root, row.captures, row.args)
        doc, err = cache[key]
        if err:
            print("FAIL %s: %s" % (row.where_text, err))
            failed += 1
            continue
        diagnoses = doc.get("diagnoses") or []
        hits = [d for d in diagnoses if matches(row, d)]
        ok = bool(hits) if row.expect == "report" else not hits
        if ok:
            passed += 1
            continue
        failed += 1
        print("FAIL %s: %s %s %s on %s (%s)" % (row.where_text, row.expect, row.code,
                                                ",".join("%s=%s" % f for f in row.filters) or "-",
                                                "+".join(row.captures), row.note))
        for d in (hits if row.expect == "absent" else diagnoses):
            print("     got: %s | %s" % (describe(d), " / ".join(texts_of(d))[:300]))
    return passed, failed


def self_test():
    d = {"code": "tcp.reset", "connection": 2, "call": None, "summary": "reset by x",
         "causes": ["a firewall"], "evidence": [3, 5, 7], "suspect_injected": True,
         "rejected_by": {"ip": "10.0.0.1", "port": 5060, "role": "server"}}
    row = Row("t.tsv", 1, ["c.pcap", "-", "report", "tcp.*", "conn=2,rejected_by=10.0.0.1:5060,evidence=3+7"])
    assert matches(row, d)
    assert not matches(Row("t.tsv", 2, ["c", "-", "report", "tcp.reset", "conn=3"]), d)
    assert not matches(Row("t.tsv", 3, ["c", "-", "report", "tcp.reset", "evidence=4"]), d)
    assert matches(Row("t.tsv", 4, ["c", "-", "report", "*", "text=firewall,injected=true"]), d)
    assert not matches(Row("t.tsv", 5, ["c", "-", "report", "*", "notext=firewall"]), d)
    assert not matches(Row("t.tsv", 6, ["c", "-", "report", "tls.*", "-"]), d)
    assert matches(Row("t.tsv", 7, ["c", "-", "report", "tcp.reset", "rejected_by=10.0.0.1,role=server"]), d)
    for bad in (["c", "-", "maybe", "x", "-"], ["c", "-", "report", "x", "colour=red"], ["c", "-", "report"]):
        try:
            Row("t.tsv", 9, bad)
        except ValueError:
            continue
        raise AssertionError("accepted %r" % bad)
    print("verdicts: 1 passed, 0 failed")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sipladder")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("tables", nargs="*")
    o = ap.parse_args()
    if o.self_test:
        return self_test()
    if not o.sipladder:
        ap.error("--sipladder is required")
    tables = o.tables or sorted(glob.glob(os.path.join(o.root, "tests", "verdicts", "*.tsv")))
    rows = load_rows(tables)
    if not rows:
        print("verdicts: no rows in %s" % ", ".join(tables) or "tests/verdicts")
        return 1
    passed, failed = check(rows, os.path.abspath(o.sipladder), o.root)
    print("verdicts: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
