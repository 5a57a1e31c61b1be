#!/usr/bin/env python3
"""make_hostile_web.py - a SIP call whose strings attack a web page.

Usage: python3 tests/captures/make_hostile_web.py [OUTDIR]
       (default OUTDIR: testdata/web beside this script's repo)

No network: the pcap bytes are written directly (python3 stdlib), as in
make_hostile_strings.py; no SIP stack would send these headers.  Writes:

  hostile-web.pcap  SIP over UDP: INVITE (with SDP), 486 and ACK whose From
      display name, To, Contact, Subject, User-Agent, Server, Call-ID, the
      486's reason phrase and the SDP's session name hold <script>,
      <img src=x onerror=...>, javascript: URIs, "</script>", "<!--" and
      U+2028 / U+2029.  Every payload that could run sets window.pwned, so a
      test sees it if one did.

tests/check_html.py opens `sipladder html` of it in Chromium and checks that
nothing ran and that the text is shown as it was sent.  The capture gets
F.tshark.tsv beside it (tests/captures/make_oracle.sh) when tshark exists."""
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The same pcap and header writers as the other hostile capture.
from make_hostile_strings import ipv4, pcap_header, udp  # noqa: E402

ETH = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
BASE = 1795000000

LS, PS = "\u2028".encode(), "\u2029".encode()
SCRIPT = b"<script>window.pwned='script'</script>"
IMG = b"<img src=x onerror=\"window.pwned='img'\">"
CLOSE = b"</script><script>window.pwned='close'</script><!--"
JSURI = b"javascript:window.pwned='uri'"


def record(t_us, frame):
    return struct.pack("<IIII", BASE + t_us // 1000000, t_us % 1000000, len(frame), len(frame)) + frame


A, B = bytes([192, 0, 2, 10]), bytes([192, 0, 2, 20])
CALL_ID = b"web-" + LS + b"line" + PS + b"para-" + CLOSE + b"@host"


def messages():
    sdp = (b"v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=" + SCRIPT + IMG + b"\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
           b"m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
    common = (b"From: \"" + SCRIPT + b"\" <sip:alice@example.com>;tag=a1\r\n"
              b"Call-ID: " + CALL_ID + b"\r\n")
    invite = (b"INVITE sip:bob@example.com SIP/2.0\r\n"
              b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-w1\r\n" + common +
              b"To: <sip:bob@example.com>\r\n"
              b"CSeq: 1 INVITE\r\n"
              b"Contact: <" + JSURI + b">\r\n"
              b"Subject: " + IMG + b" " + LS + b" after U+2028 " + PS + b" after U+2029\r\n"
              b"User-Agent: " + CLOSE + b"\r\n"
              b"Max-Forwards: 70\r\n"
              b"Content-Type: application/sdp\r\n"
              b"Content-Length: " + str(len(sdp)).encode() + b"\r\n\r\n" + sdp)
    busy = (b"SIP/2.0 486 Busy " + CLOSE + b"\r\n"
            b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-w1\r\n" + common +
            b"To: <sip:bob@example.com>;tag=b1\r\n"
            b"CSeq: 1 INVITE\r\n"
            b"Server: " + IMG + b"\r\n"
            b"Content-Length: 0\r\n\r\n")
    ack = (b"ACK sip:bob@example.com SIP/2.0\r\n"
           b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-w1\r\n" + common +
           b"To: <sip:bob@example.com>;tag=b1\r\n"
           b"CSeq: 1 ACK\r\n"
           b"Max-Forwards: 70\r\n"
           b"Content-Length: 0\r\n\r\n")
    return [(0, A, B, invite), (50000, B, A, busy), (60000, A, B, ack)]


def oracle(path):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "make_oracle.sh")
    if os.path.exists(script):
        subprocess.run(["sh", script, os.path.abspath(path)], check=False, capture_output=True)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "testdata", "web")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "hostile-web.pcap")
    with open(path, "wb") as f:
        f.write(pcap_header())
        for t, src, dst, payload in messages():
            f.write(record(t, ETH + ipv4(src, dst, 17, udp(5060, 5060, payload))))
    oracle(path)
    print(path)


if __name__ == "__main__":
    main()
