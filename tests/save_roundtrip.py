#!/usr/bin/env python3
"""save_roundtrip.py - `sipladder save` against tshark (issue 15 item 2).

Usage: save_roundtrip.py --sipladder PATH [--root DIR]

For calls of testdata/select/calls-rtp.pcap (tests/captures/make_select_captures.py)
and of the corpus' T.38 capture, `save --call X -w OUT` must write exactly
the frames a tshark display filter written here names (the call's SIP by
Call-ID, the RTP/RTCP ports its SDP negotiated, or its whole TCP
connection), each with the same bytes and time as in the original, in the
original order; no frame of the UDP noise no SDP named; and `calls` and
`diagnose` on OUT show that one call with the same outcome and verdicts.
Exit 1 with every difference printed.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def frames(path, display_filter=None):
    """[(time, raw hex)] in frame order, as tshark reads them."""
    cmd = ["tshark", "-n", "-r", path, "-T", "json", "-x"]
    if display_filter:
        cmd += ["-Y", display_filter]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
    return [(p["_source"]["layers"]["frame"]["frame.time_epoch"], p["_source"]["layers"]["frame_raw"][0])
            for p in json.loads(out or b"[]")]


def run(*args):
    return subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)


def call_lines(sipladder, path):
    out = run(sipladder, "calls", "-q", path).stdout.decode()
    return [strip_frames(l) for l in out.splitlines() if l.startswith("call ")]


def strip_frames(line):
    """A call line without its number and frame numbers (the saved file numbers its own)."""
    return re.sub(r"\(?frame \d+\)?", "", re.sub(r"^call \d+ +", "", line))


def verdict_codes(sipladder, path):
    out = run(sipladder, "diagnose", "-q", path).stdout.decode()
    return sorted(re.findall(r"^  \[\d+\] (\S+)", out, re.M))


def case(sipladder, cap, selector, oracle, tmp, extra_noise=None):
    out = os.path.join(tmp, "out.pcap")
    if os.path.exists(out):
        os.unlink(out)
    p = run(sipladder, "save", "--call", selector, cap, "-w", out)
    check(p.returncode == 0 and os.path.exists(out), "save --call %s %s: exit 0, %s" %
          (selector, os.path.basename(cap), p.stderr.decode().strip()))
    if p.returncode != 0:
        return
    want, got = frames(cap, oracle), frames(out)
    check(want == got, "save --call %s: %d frames equal to tshark's '%s' (%d), bytes and times, in order"
          % (selector, len(got), oracle, len(want)))
    if extra_noise:
        check(not frames(out, extra_noise), "save --call %s: no frame of '%s'" % (selector, extra_noise))
    # The saved call reads back as that call, with the same verdicts.
    whole = run(sipladder, "calls", "-q", "--call", selector, cap).stdout.decode()
    alone = [strip_frames(l) for l in whole.splitlines() if l.startswith("call ")]
    back = call_lines(sipladder, out)
    check(len(back) == 1 and back == alone, "calls on the saved pcap: the one call as in the capture (%s)" %
          (back[0][:60] if back else "none"))
    codes = verdict_codes(sipladder, out)
    sel = run(sipladder, "diagnose", "-q", "--call", selector, cap).stdout.decode()
    check(codes == sorted(re.findall(r"^  \[\d+\] (\S+)", sel, re.M)),
          "diagnose on the saved pcap: the same verdicts %s" % codes)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sipladder", required=True)
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    a = ap.parse_args()
    if not shutil.which("tshark"):
        print("SKIP: tshark is not installed (the oracle of every check here)")
        return 77  # meson: skipped; scripts/test counts it as a failure
    cap = os.path.join(a.root, "testdata", "select", "calls-rtp.pcap")
    t38 = os.path.join(a.root, "testdata", "corpus", "sip-udp-fax-t38-calls-bye-488__ndpi.pcap")
    noise = "udp.port == 42000 or udp.port == 42002 or udp.port == 40010"
    with tempfile.TemporaryDirectory(prefix="sl-save-") as tmp:
        case(a.sipladder, cap, "1", 'sip.Call-ID contains "call1-alice" or udp.port in {40000, 40001, 40002, 40003}',
             tmp, noise)
        case(a.sipladder, cap, "*4281*",
             'sip.Call-ID contains "call2-4281" or udp.port in {41000, 41001, 41002, 41003}', tmp, noise)
        case(a.sipladder, cap, "sip:frank@example.com", 'sip.Call-ID contains "call3-carol"', tmp, noise)
        case(a.sipladder, cap, "4", "tcp.port == 5060", tmp, noise)
        if os.path.exists(t38):
            case(a.sipladder, t38, "1", 'sip.Call-ID contains "00e9d4a500e9d48" or '
                 '(udp and ip.addr == 10.23.1.52 and ip.addr == 10.35.60.100)', tmp)
            case(a.sipladder, t38, "2", 'sip.Call-ID contains "SD4909701"', tmp)
        else:
            check(False, "corpus capture %s missing" % t38)
        # -f alone: every frame that passes the filter, as tcpdump -r -w.
        out = os.path.join(tmp, "f.pcap")
        p = run(a.sipladder, "save", "-f", "udp portrange 41000-41003", cap, "-w", out)
        check(p.returncode == 0 and frames(out) == frames(cap, "udp.port in {41000, 41001, 41002, 41003}"),
              "save -f 'udp portrange 41000-41003': the frames tshark's filter names")
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
