#!/usr/bin/env python3
"""make_hostile.py - captures built to exhaust sipladder's caps (issue 7, item 3).

Usage: make_hostile.py OUTDIR [--flows N] [--stream-bytes N] [--fragments N]

Writes, deterministically (python3 stdlib only, no network), into OUTDIR:

  half-open.pcap   N (default 1,000,000) TCP SYNs, each from its own source
                   address/port to 192.0.2.1:5060, never answered; all within
                   a few seconds so idle expiry cannot help: only --max-flows
                   bounds the open flows.
  gap-stream.pcap  one TCP connection to port 5060 (handshake seen), then a
                   client stream of N bytes (default 1 GiB) in 1460-byte
                   segments starting one byte after the ISN+1: the first byte
                   is never sent, the server never ACKs, so nothing can be
                   delivered in order and --max-tcp-buffer must bound it.
  fragments.pcap   N (default 100,000) first IPv4 fragments (MF set, offset
                   0) of UDP datagrams to port 5060, each with its own IP ID,
                   whose other fragments never come: --max-fragments bounds
                   them.

The outputs are large and are not committed; bench/hostile/run.sh makes them
in a scratch directory.
"""
import argparse
import os
import struct
import sys

LINKTYPE_ETHERNET = 1
ETH = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
BASE_TS = 1700000000


def pcap_header(snaplen=262144):
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, LINKTYPE_ETHERNET)


def record(ts_us, frame):
    sec, usec = divmod(ts_us, 1000000)
    return struct.pack("<IIII", BASE_TS + sec, usec, len(frame), len(frame)) + frame


def checksum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident=0, flags_frag=0x4000, total=None):
    total = total if total is not None else 20 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, ident & 0xFFFF, flags_frag, 64, proto, 0, src, dst)
    return hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:] + payload


def tcp(sport, dport, seq, ack, flags, payload=b"", window=65535):
    # Checksums are left 0: sipladder, like tshark by default, does not check them.
    return struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, window, 0, 0) + payload


SYN, ACK, PSH = 0x02, 0x10, 0x08


def write_half_open(path, n):
    dst = bytes([192, 0, 2, 1])
    with open(path, "wb", buffering=1 << 20) as f:
        f.write(pcap_header())
        for i in range(n):
            # 10.0.0.0/8 source addresses, a different port for each SYN too.
            src = bytes([10, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])
            sport = 1024 + (i * 7919) % 64000
            seg = tcp(sport, 5060, 0x10000000 + i * 977, 0, SYN)
            f.write(record(i * 2, ETH + ipv4(src, dst, 6, seg, ident=i)))


def write_gap_stream(path, nbytes):
    cli, srv = bytes([10, 1, 0, 1]), bytes([10, 1, 0, 2])
    cport, sport = 40000, 5060
    isn_c, isn_s = 1000, 5000000
    mss = 1460
    line = b"OPTIONS sip:bench@10.1.0.2 SIP/2.0\r\nContent-Length: 0\r\n\r\n"
    chunk = (line * (mss // len(line) + 1))[:mss]
    with open(path, "wb", buffering=1 << 22) as f:
        f.write(pcap_header())
        f.write(record(0, ETH + ipv4(cli, srv, 6, tcp(cport, sport, isn_c, 0, SYN))))
        f.write(record(100, ETH + ipv4(srv, cli, 6, tcp(sport, cport, isn_s, isn_c + 1, SYN | ACK))))
        f.write(record(200, ETH + ipv4(cli, srv, 6, tcp(cport, sport, isn_c + 1, isn_s + 1, ACK))))
        # Byte isn_c+1 is never sent: every segment sits behind that hole.
        seq = isn_c + 2
        sent = 0
        t = 300
        while sent < nbytes:
            data = chunk if nbytes - sent >= mss else chunk[: nbytes - sent]
            f.write(record(t, ETH + ipv4(cli, srv, 6, tcp(cport, sport, seq, isn_s + 1, ACK | PSH, data))))
            seq += len(data)
            sent += len(data)
            t += 10


def write_fragments(path, n):
    src, dst = bytes([10, 2, 0, 1]), bytes([10, 2, 0, 2])
    body = b"INVITE sip:frag@10.2.0.2 SIP/2.0\r\n" + b"X" * 30  # 64 bytes of a bigger datagram
    udp = struct.pack("!HHHH", 5060, 5060, 8 + 3000, 0) + body
    with open(path, "wb", buffering=1 << 20) as f:
        f.write(pcap_header())
        for i in range(n):
            # MF set, offset 0: the first fragment of a 3 kB datagram.  IDs
            # wrap at 65536, so the source address changes too.
            s = bytes([10, 2 + (i >> 16), (i >> 8) & 0xFF, i & 0xFF])
            pkt = ipv4(s, dst, 17, udp, ident=i, flags_frag=0x2000)
            f.write(record(i * 10, ETH + pkt))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--flows", type=int, default=1000000)
    ap.add_argument("--stream-bytes", type=int, default=1 << 30)
    ap.add_argument("--fragments", type=int, default=100000)
    ap.add_argument("--only", choices=["half-open", "gap-stream", "fragments"])
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    jobs = {
        "half-open": lambda p: write_half_open(p, args.flows),
        "gap-stream": lambda p: write_gap_stream(p, args.stream_bytes),
        "fragments": lambda p: write_fragments(p, args.fragments),
    }
    for name, job in jobs.items():
        if args.only and name != args.only:
            continue
        path = os.path.join(args.outdir, name + ".pcap")
        job(path)
        print("%s: %d bytes" % (path, os.path.getsize(path)), file=sys.stderr)


if __name__ == "__main__":
    main()
