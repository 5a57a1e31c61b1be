#!/usr/bin/env python3
"""check_compare_json.py - `sipladder compare --format json` on every pair of
testdata/firewall (made by tests/captures/make_firewall_captures.py) against
$defs/compare_document of docs/sipladder.schema.json, the text report's
verdict lines against the document's, and mutated documents that the schema
must reject (so the validation itself can fail).

Usage: check_compare_json.py --sipladder BUILD/sipladder --root REPO
"""
import argparse
import copy
import glob
import json
import os
import subprocess
import sys

import jsonschema


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sipladder", required=True)
    ap.add_argument("--root", required=True)
    a = ap.parse_args()
    schema = json.load(open(os.path.join(a.root, "docs", "sipladder.schema.json")))
    sub = dict(schema["$defs"]["compare_document"])
    sub["$defs"] = schema["$defs"]
    validator = jsonschema.Draft202012Validator(sub)
    pairs = sorted(glob.glob(os.path.join(a.root, "testdata", "firewall", "*-inside.pcap")))
    if len(pairs) < 10:
        print("expected 10 pairs in testdata/firewall, found %d" % len(pairs))
        return 1
    failed = 0
    docs = []
    for inside in pairs:
        outside = inside.replace("-inside.pcap", "-outside.pcap")
        p = subprocess.run([a.sipladder, "compare", "--format", "json", inside, outside], capture_output=True)
        t = subprocess.run([a.sipladder, "compare", inside, outside], capture_output=True)
        name = os.path.basename(inside)
        if p.returncode != 0 or t.returncode != 0:
            print("%s: exit %d / %d: %s" % (name, p.returncode, t.returncode, p.stderr.decode()))
            failed += 1
            continue
        doc = json.loads(p.stdout.decode("utf-8"))
        errors = list(validator.iter_errors(doc))
        for e in errors[:5]:
            print("%s: %s at %s" % (name, e.message, "/".join(map(str, e.absolute_path))))
        failed += bool(errors)
        text_codes = [l.split()[0] for l in t.stdout.decode().splitlines() if l.startswith("  fw.")]
        json_codes = [v["code"] for v in doc["compare"]["verdicts"]]
        if text_codes != json_codes:
            print("%s: text verdicts %s, json %s" % (name, text_codes, json_codes))
            failed += 1
        docs.append(doc)
    # The schema must be able to fail.
    rich = next(d for d in docs if d["compare"]["verdicts"])
    mutations = [
        ("verdict code unknown", lambda d: d["compare"]["verdicts"][0].__setitem__("code", "fw.eaten")),
        ("count as a string", lambda d: d["compare"]["verdicts"][0].__setitem__("count", "1")),
        ("offset missing", lambda d: d["compare"].pop("clock_offset")),
        ("one side only", lambda d: d["compare"]["sides"].pop()),
        ("frame 0", lambda d: d["compare"]["verdicts"][0]["frames"].__setitem__("inside", 0)),
        ("unknown fate", lambda d: d["compare"]["connections"][0].__setitem__("fate", "lost")),
    ]
    for what, mutate in mutations:
        d = copy.deepcopy(rich)
        mutate(d)
        if validator.is_valid(d):
            print("the schema accepts a document with %s" % what)
            failed += 1
    print("%d pairs, %d mutations, %d failures" % (len(pairs), len(mutations), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
