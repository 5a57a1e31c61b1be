#!/usr/bin/env python3
"""check_exp_log_json.py - `sipladder json` with Expressway logs (issue 18)
is valid against docs/sipladder.schema.json, and carries the sources: each
message read from a log has its `log` (file, line, host, in_capture), the
capture object lists the logs with their clock offset; a log-only message
has frame 0, one also in the capture keeps its frame.

Usage: check_exp_log_json.py --sipladder BIN [--root REPO]
"""
import argparse
import json
import os
import subprocess
import sys

import jsonschema


def run(binary, root, args):
    p = subprocess.run([binary, "json", "-q"] + args, cwd=root, capture_output=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, (args, p.stderr)
    return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sipladder", required=True)
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    o = ap.parse_args()
    o.sipladder = os.path.abspath(o.sipladder)  # the runs go from the repository's root
    schema = json.load(open(os.path.join(o.root, "docs", "sipladder.schema.json")))
    validator = jsonschema.Draft202012Validator(schema)
    L, S = "testdata/logs/", "testdata/scenarios/"
    failed = 0

    def check(name, cond):
        nonlocal failed
        print(("ok   " if cond else "FAIL ") + name)
        failed += not cond

    cases = {
        "log alone": [L + "policy-reject-exp-e.log"],
        "two peers + capture": ["--log", L + "response-404-exp-e.log.gz", "--log", L + "response-404-exp-c.log",
                                S + "sip.response.404.pcap"],
        "encrypted leg": ["--log", L + "tls-leg-exp-e.log", S + "healthy-tls12-mutual.pcap"],
        "bundle": [L + "bundle-srv-failed.tar.gz"],
        "tls log alone": [L + "tls-cert-unknown-exp-e.log"],
        "no log": [S + "sip.response.404.pcap"],
    }
    docs = {}
    for name, args in cases.items():
        doc = docs[name] = run(o.sipladder, o.root, args)
        errors = list(validator.iter_errors(doc))
        check("%s: valid against the schema%s" % (name, (": " + errors[0].message[:200]) if errors else ""),
              not errors)

    def all_messages(doc):
        out = []

        def walk(v):
            if isinstance(v, dict):
                if "first_line" in v and "call_id" in v:
                    out.append(v)
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
        walk(doc)
        return out

    alone = all_messages(docs["log alone"])
    check("log alone: every message from the log, frame 0, in_capture false",
          alone and all(m.get("log", {}).get("in_capture") is False and m["frame"] == 0 for m in alone))
    check("log alone: line and host of the INVITE",
          any(m["log"]["line"] == 5 and m["log"]["host"] == "vcse" and m.get("method") == "INVITE" for m in alone))
    peers = all_messages(docs["two peers + capture"])
    frames = sorted({m["frame"] for m in peers})
    check("two peers + capture: the 8 messages once each, with their frames", frames == [4, 9, 11, 13, 15, 17, 19, 21])
    check("two peers + capture: each also in the E's log",
          all(m.get("log", {}).get("in_capture") is True and m["log"]["host"] == "vcse" for m in peers))
    logs = docs["two peers + capture"]["capture"].get("logs", [])
    check("two peers + capture: both logs listed, the C's clock 1.25 s ahead",
          len(logs) == 2 and abs(logs[1]["clock_offset"] + 1.25) < 0.002 and logs[1]["clock_offset_from"] == "messages")
    leg = all_messages(docs["encrypted leg"])
    check("encrypted leg: the OPTIONS on connection 1, from the log",
          len(leg) >= 1 and all(m["connection"] == 1 and m["log"]["in_capture"] is False for m in leg))
    check("no log: no 'logs', no 'log'",
          "logs" not in docs["no log"]["capture"] and not any("log" in m for m in all_messages(docs["no log"])))
    print("%d failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
