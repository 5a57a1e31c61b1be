#!/usr/bin/env python3
"""make_malformed.py - write hostile capture files into testdata/malformed/.

Usage: python3 tests/captures/make_malformed.py [OUTDIR]

Standard library only (but for the zstd and lz4 commands, for the two files
compressed with them) and deterministic: the same bytes on every run (fixed
timestamps, addresses, ports, sequence numbers).  Two families of files:

* damaged containers: the pcap / pcapng framing itself lies (empty, bad magic,
  cut short, impossible record lengths);
* valid containers holding one hostile packet: frame 1 and the last frame are
  well-formed UDP datagrams ("before" / "after"), so a reader can show that it
  reported the bad frame and carried on.

See README in the output folder for what libpcap (tcpdump -r) and tshark make
of every file.
"""

import os
import struct
import sys

TS0 = 1700000000  # 2023-11-14 22:13:20 UTC
MAC_A = bytes.fromhex("025c000000aa")
MAC_B = bytes.fromhex("025c000000bb")
IP_A = bytes([192, 0, 2, 1])      # TEST-NET-1, never routed
IP_B = bytes([192, 0, 2, 2])
IP6_A = bytes.fromhex("20010db8000000000000000000000001")
IP6_B = bytes.fromhex("20010db8000000000000000000000002")

LINKTYPE_ETHERNET = 1


# ---------------------------------------------------------------- checksums

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def pseudo4(src, dst, proto, length):
    return src + dst + struct.pack("!BBH", 0, proto, length)


def pseudo6(src, dst, nh, length):
    return src + dst + struct.pack("!I3xB", length, nh)


# ------------------------------------------------------------------ layers

def eth(payload, ethertype=0x0800, src=MAC_A, dst=MAC_B):
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(payload, proto, src=IP_A, dst=IP_B, ident=1, flags_frag=0x4000,
         ihl=5, total_len=None, options=b"", ttl=64):
    """IPv4 header + payload.  ihl / total_len may lie on purpose."""
    tl = 20 + len(options) + len(payload) if total_len is None else total_len
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | (ihl & 0xF), 0, tl, ident,
                      flags_frag, ttl, proto, 0, src, dst) + options
    c = csum(hdr)
    hdr = hdr[:10] + struct.pack("!H", c) + hdr[12:]
    return hdr + payload


def ipv6(payload, nh, src=IP6_A, dst=IP6_B, plen=None, hlim=64):
    pl = len(payload) if plen is None else plen
    return struct.pack("!IHBB", 0x60000000, pl, nh, hlim) + src + dst + payload


def udp(payload, sport=40000, dport=5060, length=None, src=IP_A, dst=IP_B):
    ln = 8 + len(payload) if length is None else length
    hdr = struct.pack("!HHHH", sport, dport, ln, 0)
    c = csum(pseudo4(src, dst, 17, 8 + len(payload)) + hdr + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, ln, c) + payload


def tcp(payload, sport=40001, dport=5060, seq=1000, ack=0, flags=0x02,
        doff=5, win=64240, src=IP_A, dst=IP_B, options=b""):
    off_flags = ((doff & 0xF) << 12) | flags
    hdr = struct.pack("!HHIIHHHH", sport, dport, seq, ack, off_flags, win,
                      0, 0) + options
    c = csum(pseudo4(src, dst, 6, len(hdr) + len(payload)) + hdr + payload)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:] + payload


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def udp_frame(text, sport=40000, dport=5060):
    return eth(ipv4(udp(text, sport, dport), 17))


BEFORE = udp_frame(b"before: a valid datagram\n")
AFTER = udp_frame(b"after: a valid datagram\n", 40002)


def tcp_session():
    """Five frames of a plausible TCP connection (handshake then data)."""
    c, s = 1000, 5000
    req = b"OPTIONS sip:192.0.2.2 SIP/2.0\r\n" + b"X" * 60 + b"\r\n\r\n"
    resp = b"SIP/2.0 200 OK\r\n" + b"Y" * 40 + b"\r\n\r\n"
    return [
        eth(ipv4(tcp(b"", seq=c, flags=SYN), 6)),
        eth(ipv4(tcp(b"", 5060, 40001, s, c + 1, SYN | ACK, src=IP_B, dst=IP_A),
                 6, IP_B, IP_A), src=MAC_B, dst=MAC_A),
        eth(ipv4(tcp(req, seq=c + 1, ack=s + 1, flags=PSH | ACK), 6)),
        eth(ipv4(tcp(resp, 5060, 40001, s + 1, c + 1 + len(req), PSH | ACK,
                     src=IP_B, dst=IP_A), 6, IP_B, IP_A), src=MAC_B, dst=MAC_A),
        eth(ipv4(tcp(b"", seq=c + 1 + len(req), ack=s + 1 + len(resp),
                     flags=FIN | ACK), 6)),
    ]


# ------------------------------------------------------------------- pcap

def pcap_header(snaplen=262144, linktype=LINKTYPE_ETHERNET,
                magic=0xA1B2C3D4):
    return struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)


def pcap_record(data, i, caplen=None, origlen=None):
    cl = len(data) if caplen is None else caplen
    ol = len(data) if origlen is None else origlen
    return struct.pack("<IIII", TS0 + i, 1000 * i, cl, ol) + data


def pcap_file(frames, snaplen=262144):
    return pcap_header(snaplen) + b"".join(
        pcap_record(f, i) for i, f in enumerate(frames))


# ----------------------------------------------------------------- pcapng

def ng_block(btype, body):
    body += b"\0" * (-len(body) % 4)
    ln = 12 + len(body)
    return struct.pack("<II", btype, ln) + body + struct.pack("<I", ln)


def ng_shb():
    return ng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def ng_idb(linktype=LINKTYPE_ETHERNET, snaplen=262144):
    return ng_block(1, struct.pack("<HHI", linktype, 0, snaplen))


def ng_epb(data, i):
    ts = (TS0 + i) * 1000000 + 1000 * i
    return ng_block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF,
                                   len(data), len(data)) + data)


# -------------------------------------------------------------- the files

def damaged_containers():
    out = {}
    session = tcp_session()
    good = pcap_file(session)
    out["empty.pcap"] = b""
    out["bad-magic.pcap"] = pcap_header(magic=0xDEADBEEF) + b"".join(
        pcap_record(f, i) for i, f in enumerate(session))
    out["header-only.pcap"] = pcap_header()
    out["truncated-header.pcap"] = pcap_header()[:10]
    # cut in the middle of the 3rd record's packet bytes (frame 3 carries data)
    rec3 = 24 + sum(16 + len(f) for f in session[:2])
    out["truncated-mid-record.pcap"] = good[:rec3 + 16 + len(session[2]) // 2]
    # two whole records, then 9 of the 16 bytes of the 3rd record header
    out["truncated-record-header.pcap"] = good[:rec3 + 9]
    # the file says snaplen 96; frame 2 claims (and carries) 128 bytes
    big = eth(ipv4(udp(b"Z" * 86), 17))
    assert len(big) == 128
    assert len(BEFORE) <= 96 and len(AFTER) <= 96
    out["caplen-gt-snaplen.pcap"] = pcap_header(snaplen=96) + b"".join([
        pcap_record(BEFORE, 0),
        pcap_record(big, 1),
        pcap_record(AFTER, 2)])
    # frame 2's record header claims 0xFFFFFF00 bytes; only 60 follow
    out["absurd-caplen.pcap"] = pcap_header() + b"".join([
        pcap_record(BEFORE, 0),
        pcap_record(AFTER, 1, caplen=0xFFFFFF00, origlen=0xFFFFFF00)])
    # frame 2: caplen 100 bytes present, but the wire length says 60
    pad = udp_frame(b"caplen > len" + b"Q" * 46)
    out["caplen-gt-len.pcap"] = pcap_header() + b"".join([
        pcap_record(BEFORE, 0),
        pcap_record(pad, 1, origlen=60),
        pcap_record(AFTER, 2)])
    # pcapng: frame 2's Enhanced Packet Block says it is 20 bytes long (an
    # EPB needs at least 32); the body after it is the real frame
    epb2 = bytearray(ng_epb(AFTER, 1))
    struct.pack_into("<I", epb2, 4, 20)
    out["pcapng-bad-block-length.pcapng"] = (ng_shb() + ng_idb() +
                                             ng_epb(BEFORE, 0) + bytes(epb2))
    # pcapng cut in the middle of the 3rd EPB
    ng = ng_shb() + ng_idb()
    blocks = [ng_epb(f, i) for i, f in enumerate(session)]
    out["pcapng-truncated.pcapng"] = (ng + blocks[0] + blocks[1] +
                                      blocks[2][:len(blocks[2]) // 2])
    return out


def hostile_packets():
    """name -> the one bad frame (sits between BEFORE and AFTER)."""
    bad = {}
    # IHL 4: a 16-byte IPv4 header is impossible
    bad["ipv4-ihl-lt-20.pcap"] = eth(ipv4(udp(b"ihl 4"), 17, ihl=4))
    # total length 1400 in a 62-byte frame (caplen == len: not snaplen-cut)
    bad["ipv4-total-length-gt-frame.pcap"] = eth(
        ipv4(udp(b"total length lies"), 17, total_len=1400))
    # TCP data offset 3 (12-byte header)
    bad["tcp-data-offset-lt-5.pcap"] = eth(ipv4(
        tcp(b"doff 3", flags=PSH | ACK, doff=3), 6))
    # TCP data offset 15 (60-byte header) with only 20 bytes of TCP present
    bad["tcp-data-offset-past-end.pcap"] = eth(ipv4(
        tcp(b"", flags=ACK, doff=15), 6))
    # IPv6: Hop-by-Hop (8 bytes) -> Destination Options claiming 8*(200+1)
    # bytes -> UDP; the frame ends long before
    hbh = struct.pack("!BB6s", 60, 0, b"\x01\x04\0\0\0\0")
    dst = struct.pack("!BB6s", 17, 200, b"\x01\x04\0\0\0\0")
    bad["ipv6-ext-chain-past-end.pcap"] = eth(
        ipv6(hbh + dst + b"\0" * 8, 0), 0x86DD)
    # 100 stacked 802.1Q tags, then IPv4/UDP
    tags = b"".join(struct.pack("!HH", 100 + i, 0x8100) for i in range(99))
    inner = struct.pack("!H", 199) + struct.pack("!H", 0x0800)
    payload = ipv4(udp(b"under 100 vlan tags"), 17)
    bad["vlan-100-tags.pcap"] = (MAC_B + MAC_A + struct.pack("!H", 0x8100) +
                                 tags + inner + payload)
    # zero-length UDP: the UDP length field says 0 (less than its own header)
    bad["udp-length-zero.pcap"] = eth(ipv4(udp(b"len 0", length=0), 17))
    return bad


def overlapping_fragments():
    """UDP datagram of 8+64 bytes in three IPv4 fragments; the 2nd overlaps
    the 1st by 16 bytes with different bytes (first copy should win)."""
    body = udp(b"A" * 64, 40003, 5060)          # 72 bytes
    f1 = body[:40]                               # offset 0, 40 bytes, MF
    f2 = b"B" * 32                               # offset 24 (3*8): overlaps 24..39
    f3 = body[56:]                               # offset 56 (7*8), last
    frames = [
        eth(ipv4(f1, 17, ident=0x5C5C, flags_frag=0x2000 | 0)),
        eth(ipv4(f2, 17, ident=0x5C5C, flags_frag=0x2000 | 3)),
        eth(ipv4(f3, 17, ident=0x5C5C, flags_frag=0x0000 | 7)),
    ]
    return frames


# ------------------------------------------------ hostile timestamps
# Real captures (testdata/sip, made in network namespaces by
# make_sip_captures.py) rewritten as pcapng with their timestamps mutated:
# the frames are untouched, only the times lie.

def read_pcap(path):
    """[(sec, usec, frame bytes)] of a little-endian microsecond pcap."""
    with open(path, "rb") as f:
        data = f.read()
    assert struct.unpack_from("<I", data)[0] == 0xA1B2C3D4, path
    out, off = [], 24
    while off + 16 <= len(data):
        sec, usec, caplen, _ = struct.unpack_from("<IIII", data, off)
        out.append((sec, usec, data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return out


def ng_option(code, value):
    return (struct.pack("<HH", code, len(value)) + value +
            b"\0" * (-len(value) % 4))


def ng_idb_opts(options):
    """Ethernet interface, ns resolution (if_tsresol 9) and `options`."""
    body = struct.pack("<HHI", LINKTYPE_ETHERNET, 0, 262144)
    body += ng_option(9, bytes([9])) + options + struct.pack("<HH", 0, 0)
    return ng_block(1, body)


def ng_epb_ts(data, ts, iface=0):
    return ng_block(6, struct.pack("<IIIII", iface, (ts >> 32) & 0xFFFFFFFF,
                                   ts & 0xFFFFFFFF, len(data), len(data)) +
                    data)


def hostile_timestamps(root):
    out = {}
    # A UDP call (INVITE .. BYE/200): frame 2 at the largest 64-bit
    # nanosecond count (year 2554: seconds * 1e9 overflows int64), the last
    # frame at 2^63 ns (year 2262: past 2106, what a pcap record can say).
    call = read_pcap(os.path.join(root, "testdata", "sip",
                                  "udp-call-invite-100-180-200-ack-bye.pcap"))
    blocks = []
    for i, (sec, usec, frame) in enumerate(call):
        ts = (sec * 1000000 + usec) * 1000
        if i == 1:
            ts = 0xFFFFFFFFFFFFFFFF
        elif i == len(call) - 1:
            ts = 1 << 63
        blocks.append(ng_epb_ts(frame, ts))
    out["timestamps-far-future.pcapng"] = (ng_shb() + ng_idb_opts(b"") +
                                           b"".join(blocks))
    # A SIP INVITE over TCP seen on two interfaces: the second's clock is
    # off by if_tsoffset = 2^62 s (the server's frames), the third's by
    # -2^40 s (before 1970; the client's FIN and last ACK).
    tcp_call = read_pcap(os.path.join(root, "testdata", "sip",
                                      "tcp-invite-split-3-segments.pcap"))
    far = ng_option(14, struct.pack("<q", 1 << 62))
    past = ng_option(14, struct.pack("<q", -(1 << 40)))
    blocks = []
    for i, (sec, usec, frame) in enumerate(tcp_call):
        from_server = frame[6:12] != tcp_call[0][2][6:12]
        iface = 1 if from_server else (2 if i >= len(tcp_call) - 2 else 0)
        blocks.append(ng_epb_ts(frame, (sec * 1000000 + usec) * 1000, iface))
    out["timestamps-interface-offsets.pcapng"] = (
        ng_shb() + ng_idb_opts(b"") + ng_idb_opts(far) + ng_idb_opts(past) +
        b"".join(blocks))
    return out


# --------------------------------------------- compressed containers
# tshark reads gzip, zstd and lz4 captures transparently; so does sipladder,
# by their first bytes, never by the name.  gzip, xz and bzip2 come from the
# standard library; zstd and lz4 from their commands (Debian packages zstd
# and lz4), skipped with a note when those are missing.

def zstd_or_lz4(tool, data):
    import shutil
    import subprocess
    if not shutil.which(tool):
        print("note: %s not installed, its files are left as they are" % tool)
        return None
    return subprocess.run([tool, "-q", "-c"], input=data, check=True,
                          stdout=subprocess.PIPE).stdout


def compressed_containers(root):
    import bz2
    import gzip
    import lzma
    out = {}
    tcp = open(os.path.join(root, "testdata", "tcp", "normal-exchange.pcap"),
               "rb").read()
    ng = open(os.path.join(root, "testdata", "corpus",
                           "pcapng-2-interfaces__zeek.pcapng"), "rb").read()
    big = open(os.path.join(root, "testdata", "sip",
                            "tcp-invite-20k-mss536.pcap"), "rb").read()
    gz = gzip.compress(tcp, mtime=0)
    out["compressed-normal-exchange.pcap.gz"] = gz
    out["compressed-2-interfaces.pcapng.gz"] = gzip.compress(ng, mtime=0)
    # gzip inside, named as a plain capture; plain inside, named .gz
    out["compressed-gzip-named-plain.pcap"] = gz
    out["compressed-plain-named-gz.pcap.gz"] = tcp
    # two members (gzip -c a >f; gzip -c b >>f): read as one stream
    half = 24 + sum(16 + struct.unpack_from("<I", tcp, off + 8)[0]
                    for off in record_offsets(tcp)[:10])
    out["compressed-two-members.pcap.gz"] = (gzip.compress(tcp[:half], mtime=0)
                                             + gzip.compress(tcp[half:], mtime=0))
    # cut in the middle of the deflate data: the frames before it are read
    gz_big = gzip.compress(big, mtime=0)
    out["compressed-cut.pcap.gz"] = gz_big[:len(gz_big) // 2]
    # one byte of the deflate data damaged (bit flips in a literal block
    # show up at the latest as the CRC mismatch at the end)
    bad = bytearray(gz_big)
    bad[len(bad) * 2 // 3] ^= 0xFF
    out["compressed-damaged.pcap.gz"] = bytes(bad)
    out["compressed-empty-inside.pcap.gz"] = gzip.compress(b"", mtime=0)
    out["compressed-xz.pcap.xz"] = lzma.compress(tcp)
    out["compressed-bzip2.pcap.bz2"] = bz2.compress(tcp)
    for tool, ext in (("zstd", "zst"), ("lz4", "lz4")):
        data = zstd_or_lz4(tool, tcp)
        if data is not None:
            out["compressed-normal-exchange.pcap." + ext] = data
    return out


def record_offsets(pcap):
    offs, off = [], 24
    while off + 16 <= len(pcap):
        offs.append(off)
        off += 16 + struct.unpack_from("<I", pcap, off + 8)[0]
    return offs


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "..", "..", "testdata", "malformed")
    os.makedirs(outdir, exist_ok=True)
    files = damaged_containers()
    for name, frame in hostile_packets().items():
        files[name] = pcap_file([BEFORE, frame, AFTER])
    files["ipv4-fragment-overlap.pcap"] = pcap_file(
        [BEFORE] + overlapping_fragments() + [AFTER])
    files.update(hostile_timestamps(os.path.join(here, "..", "..")))
    files.update(compressed_containers(os.path.join(here, "..", "..")))
    for name in sorted(files):
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(files[name])
        print("%-36s %6d bytes" % (name, len(files[name])))


if __name__ == "__main__":
    main()
