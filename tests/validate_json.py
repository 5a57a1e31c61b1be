#!/usr/bin/env python3
"""Validate `sipladder json` against docs/sipladder.schema.json.

Runs `sipladder json CAPTURE` and `sipladder json --format jsonl CAPTURE` on
every capture under testdata/ and $SL_TESTDATA/corpus/, checks that the output
is strict UTF-8 and that the document (and each JSON line, against
$defs/jsonl_line) validates, and fails on any error.  It also checks that
the schema rejects mutated copies of a real document (a status as a string,
an endpoint without its port, a missing alert description, ...), so the
validation itself can fail.

Usage: validate_json.py --sipladder BUILD/sipladder --root REPO [--testdata DIR]
Needs python3-jsonschema (Debian).
"""
import argparse
import copy
import json
import os
import subprocess
import sys

import jsonschema

CAPTURE_EXT = (".pcap", ".pcapng", ".cap")
OK_EXIT = (0, 4)  # 4: cut short, what came before is still reported


def captures(root):
    found = []
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(CAPTURE_EXT):
                found.append(os.path.join(d, f))
    return sorted(found)


def run(sipladder, args):
    p = subprocess.run([sipladder, "json", "-q"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    return p.returncode, p.stdout, p.stderr


def errors_of(validator, doc):
    return ["%s: %s" % (e.json_path, e.message[:300]) for e in validator.iter_errors(doc)]


def check_capture(sipladder, doc_v, line_v, path):
    problems = []
    rc, out, err = run(sipladder, [path])
    if rc == 3:  # not a capture at all: nothing is rendered, by design
        return problems, None, 0
    if rc not in OK_EXIT:
        return ["exit %d: %s" % (rc, err.decode("utf-8", "replace").strip())], None, 0
    try:
        doc = json.loads(out.decode("utf-8", "strict"))
    except (UnicodeDecodeError, ValueError) as e:
        return ["not strict UTF-8 JSON: %s" % e], None, 0
    problems += errors_of(doc_v, doc)
    rc, out, err = run(sipladder, ["--format", "jsonl", path])
    if rc not in OK_EXIT:
        problems.append("jsonl exit %d" % rc)
        return problems, doc, 0
    # Only "\n" ends a line: str.splitlines() would also split inside a
    # string at U+2028 or U+0085, which JSON leaves unescaped.
    text = out.decode("utf-8", "strict")
    if not text.endswith("\n"):
        problems.append("jsonl: output does not end with a newline")
    lines = text[:-1].split("\n") if text else []
    for i, line in enumerate(lines):
        try:
            obj = json.loads(line)
        except ValueError as e:
            problems.append("jsonl line %d: %s" % (i + 1, e))
            continue
        if (i == 0) != (obj.get("type") == "capture"):
            problems.append("jsonl line %d: the capture line must be first and only first" % (i + 1))
        problems += ["jsonl line %d %s" % (i + 1, p) for p in errors_of(line_v, obj)]
    return problems, doc, len(lines)


def first(items, pred):
    for it in items:
        if pred(it):
            return it
    return None


def all_messages(doc):
    msgs = list(doc["messages"])
    for c in doc["calls"]:
        msgs += c["messages"]
    return msgs


def mutations(docs):
    """(name, mutate function) pairs; each must make a valid document invalid."""
    def with_message(pred):
        def pick(d):
            return first(all_messages(d), pred)
        return pick

    response = with_message(lambda m: "status" in m and m["status"] is not None)
    request = with_message(lambda m: "method" in m)

    def alert(d):
        for c in d["connections"]:
            if c["tls"] and c["tls"]["alerts"]:
                return c["tls"]["alerts"][0]
        return None

    def cert(d):
        for c in d["connections"]:
            ch = c["tls"] and c["tls"]["certificates"]["server"]
            if ch and ch["certificates"]:
                return ch["certificates"][0]
        return None

    def conn(d):
        return d["connections"][0] if d["connections"] else None

    def set_key(k, v):
        return lambda o: o.__setitem__(k, v)

    def del_key(k):
        return lambda o: o.pop(k)

    return [
        ("schema version", lambda d: d, set_key("schema", "sipladder/2")),
        ("status as a string", response, lambda m: m.__setitem__("status", str(m["status"]))),
        ("message without frame", request, del_key("frame")),
        ("src without port", request, lambda m: m.__setitem__("src", m["src"].rsplit(":", 1)[0])),
        ("cseq as a number", request, set_key("cseq", 1)),
        ("request with a status", request, set_key("status", 200)),
        ("alert without description", alert, del_key("description")),
        ("alert level as a number", alert, set_key("level", 2)),
        ("certificate without san_dns", cert, del_key("san_dns")),
        ("certificate subject_cn as a list", cert, set_key("subject_cn", ["x"])),
        ("connection index 0", conn, set_key("index", 0)),
        ("unknown top-level key", lambda d: d, set_key("surprise", True)),
        ("diagnosis without evidence", lambda d: d,
         lambda d: d["diagnoses"].append({"code": "tcp.reset", "call": None, "connection": 1,
                                          "rejected_by": {"ip": "10.0.0.1", "port": 5060, "label": None,
                                                          "role": "server", "local": False},
                                          "summary": "x", "causes": [], "suspect_injected": False,
                                          "healthy": False})),
    ]


def check_mutations(doc_v, docs):
    problems = []
    for name, pick, mutate in mutations(docs):
        tried = False
        for doc in docs:
            d = copy.deepcopy(doc)
            target = pick(d)
            if target is None:
                continue
            tried = True
            mutate(target)
            if not errors_of(doc_v, d):
                problems.append("mutation '%s' was accepted by the schema" % name)
            break
        if not tried:
            problems.append("mutation '%s' found nothing to mutate in any capture" % name)
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sipladder", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--testdata", default=os.environ.get("SL_TESTDATA"))
    a = ap.parse_args()
    with open(os.path.join(a.root, "docs", "sipladder.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    doc_v = jsonschema.Draft202012Validator(schema)
    line_v = jsonschema.Draft202012Validator(
        {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/jsonl_line"})
    files = captures(os.path.join(a.root, "testdata"))
    if a.testdata and os.path.isdir(os.path.join(a.testdata, "corpus")):
        files += captures(os.path.join(a.testdata, "corpus"))
    failed, docs, n_lines = 0, [], 0
    for path in files:
        problems, doc, lines = check_capture(a.sipladder, doc_v, line_v, path)
        n_lines += lines
        if doc is not None:
            docs.append(doc)
        if problems:
            failed += 1
            print("FAIL %s" % path)
            for p in problems[:20]:
                print("  " + p)
    problems = check_mutations(doc_v, docs)
    for p in problems:
        print("FAIL " + p)
    print("%d captures, %d documents and %d JSON lines validated, %d failed; %d mutations checked, %d accepted"
          % (len(files), len(docs), n_lines, failed, len(mutations(docs)), len(problems)))
    return 1 if failed or problems or not docs else 0


if __name__ == "__main__":
    sys.exit(main())
