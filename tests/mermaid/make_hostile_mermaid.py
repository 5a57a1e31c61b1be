#!/usr/bin/env python3
"""make_hostile_mermaid.py - a SIP capture whose strings attack Mermaid.

Usage: python3 tests/mermaid/make_hostile_mermaid.py [OUTDIR]
       (default OUTDIR: testdata/malformed)

Writes hostile-mermaid-sip.pcap: two calls over UDP (INVITE, 180, 486, ACK;
INVITE, 200, ACK, BYE, 200) between hosts whose Server and User-Agent
(their ladder labels) and whose From/To URIs, Request-URIs and reason
phrases carry what Mermaid's sequenceDiagram grammar reads as syntax: ';'
(statement end), '#' (entity code), ':' (message text), quotes, '<' and '>'
(HTML), '&', '%%' comments and %%{init}%% directives, '`' (a Markdown
fence), "end"/"Note"/"participant" keywords, "->>" arrows, "sequenceDiagram"
itself, non-ASCII, and the control bytes of make_hostile_strings.py.  No
network: the pcap bytes are written directly, as make_hostile_strings.py
does (whose helpers it uses), with its tshark oracle beside it;
tests/mermaid/check_mermaid.py reads it.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "captures"))
from make_hostile_strings import ETH, NASTY_NO_NUL, ipv4, oracle, pcap_header, record, udp  # noqa: E402

A, B = bytes([192, 0, 2, 30]), bytes([192, 0, 2, 40])
# Mermaid syntax in one string; kept valid in a SIP URI user part or a
# reason phrase (no spaces in URIs: those are escaped as %20 by the sender).
SYNTAX = (b"x;y#59;z:1\"q\"'s'<b>&amp%%{init:{'theme':'forest'}}%%`end`"
          b"->>P1:Note\xc3\xa9\xe2\x82\xac")
PHRASE = (b"Busy ; # : \" ' <script>alert(1)</script> & %% comment sequenceDiagram "
          b"%%{init: {'theme':'dark'}}%% `fence` end Note over P1: participant X ->> "
          b"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 " + NASTY_NO_NUL.replace(b"\r", b"").replace(b"\n", b""))


def msg(first, call_id, cseq, method, tag_to=b"", extra=b"", ua=b""):
    return (first + b"\r\n"
            b"Via: SIP/2.0/UDP 192.0.2.30:5060;branch=z9hG4bK-" + call_id + b"\r\n"
            b"From: \"A;l#i:c<e>\" <sip:" + SYNTAX.replace(b"\"", b"") + b"@example.com>;tag=a1\r\n"
            b"To: <sip:bob%%{x}%%;end#1@example.com>" + tag_to + b"\r\n"
            b"Call-ID: " + call_id + b"\r\n"
            b"CSeq: " + cseq + b" " + method + b"\r\n" + extra + ua +
            b"Content-Length: 0\r\n\r\n")


def call(frames, t0, call_id, answer):
    ua = b"User-Agent: Phone;v=1#2 <x> \"q\" %%{init}%% `e` \xc3\xa9\r\n"
    srv = b"Server: Exp;E#1: <srv> & %% `s` end\r\n"
    ruri = b"INVITE sip:bob;transport=udp#frag%%{init}%%<x>@192.0.2.40:5060 SIP/2.0"
    frames.append((t0, A, B, msg(ruri, call_id, b"1", b"INVITE", ua=ua)))
    frames.append((t0 + 10000, B, A, msg(b"SIP/2.0 180 Ring;ing #1 <now>", call_id, b"1", b"INVITE",
                                          b";tag=b1", ua=srv)))
    if answer:
        frames.append((t0 + 20000, B, A, msg(b"SIP/2.0 200 OK;\"fine\" %%{init}%%", call_id, b"1", b"INVITE",
                                              b";tag=b1", ua=srv)))
        frames.append((t0 + 30000, A, B, msg(b"ACK sip:bob@192.0.2.40:5060 SIP/2.0", call_id, b"1", b"ACK",
                                              b";tag=b1", ua=ua)))
        frames.append((t0 + 40000, A, B, msg(b"BYE sip:bob@192.0.2.40:5060 SIP/2.0", call_id, b"2", b"BYE",
                                              b";tag=b1", ua=ua)))
        frames.append((t0 + 50000, B, A, msg(b"SIP/2.0 200 OK", call_id, b"2", b"BYE", b";tag=b1", ua=srv)))
    else:
        frames.append((t0 + 20000, B, A, msg(b"SIP/2.0 486 " + PHRASE, call_id, b"1", b"INVITE",
                                              b";tag=b1", ua=srv)))
        frames.append((t0 + 30000, A, B, msg(b"ACK " + ruri[7:], call_id, b"1", b"ACK", b";tag=b1", ua=ua)))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "testdata", "malformed")
    os.makedirs(out, exist_ok=True)
    frames = []
    call(frames, 0, b"mm-1;x#y%%{init}%%`<z>`@host", False)
    call(frames, 1000000, b"mm-2\xc3\xa9:end@host", True)
    path = os.path.join(out, "hostile-mermaid-sip.pcap")
    with open(path, "wb") as f:
        f.write(pcap_header())
        for t, s, d, payload in frames:
            f.write(record(t, ETH + ipv4(s, d, 17, udp(5060, 5060, payload))))
    oracle(os.path.abspath(path))
    print(path)


if __name__ == "__main__":
    main()
