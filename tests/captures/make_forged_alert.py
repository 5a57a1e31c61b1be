#!/usr/bin/env python3
"""make_forged_alert.py - testdata/lifecycle/tls-alert-forged-ttl.pcap: the
real handshake of testdata/scenarios/tls.alert.handshake_failure.pcap (made
by make_scenarios.py with openssl in namespaces) with one change: the
server's fatal alert (frame 9) carries TTL 128 where every other packet of
the server has 63, as when a firewall's TLS inspection answers in the
server's name.  Only the TTL and the IP checksum change.

Run:  /usr/bin/python3 tests/captures/make_forged_alert.py   (python3-scapy)
"""
import os
import sys

from scapy.all import IP, rdpcap, wrpcap  # pylint: disable=no-name-in-module

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SOURCE = os.path.join(ROOT, "testdata", "scenarios", "tls.alert.handshake_failure.pcap")
OUT = os.path.join(ROOT, "testdata", "lifecycle", "tls-alert-forged-ttl.pcap")
ALERT_FRAME = 9


def main():
    packets = list(rdpcap(SOURCE))
    alert = packets[ALERT_FRAME - 1]
    ip = alert[IP]
    if ip.ttl != 63 or bytes(ip.payload)[-2:] != b"\x02\x28":  # fatal (2), handshake_failure (40)
        sys.exit("frame %d is not the server's handshake_failure alert with TTL 63" % ALERT_FRAME)
    ip.ttl = 128
    del ip.chksum
    rebuilt = alert.__class__(bytes(alert))
    rebuilt.time = alert.time
    packets[ALERT_FRAME - 1] = rebuilt
    wrpcap(OUT, packets, linktype=276)
    print("wrote", OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
