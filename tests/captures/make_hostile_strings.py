#!/usr/bin/env python3
"""make_hostile_strings.py - captures whose strings attack the terminal.

Usage: python3 tests/captures/make_hostile_strings.py [OUTDIR]
       (default OUTDIR: testdata/malformed beside this script's repo)

No network: the pcap bytes are written directly (python3 stdlib; openssl(1)
only to make one certificate).  Writes:

  hostile-strings-sip.pcap  SIP over UDP: an INVITE and a 403 whose Call-ID,
      From, User-Agent, Warning and request line carry ESC/CSI/OSC
      sequences, BEL, NUL, DEL, C1 controls (raw 0x9b and UTF-8 U+009B),
      invalid UTF-8 (lone continuation, 0xfe/0xff, truncated sequences),
      overlong forms (C0 AF, E0 80 AF, F0 80 80 AF), a UTF-16 surrogate
      (ED A0 80) and a 6000-byte header line.
  hostile-strings-tls.pcap  one TCP connection on 5061: a ClientHello whose
      SNI holds the same bytes, and ServerHello + Certificate +
      ServerHelloDone, the certificate's subject CN, O and SAN dNSName
      patched (same length, DER kept valid; the signature no longer matches,
      which nothing here checks): CN and O hold control characters (valid
      UTF-8: OpenSSL converts names to UTF-8 while parsing and would reject
      the certificate), the SAN (an IA5String) also invalid UTF-8.

Each capture F gets F.tshark.tsv beside it (tests/captures/make_oracle.sh)
when that script and tshark exist.
"""
import os
import struct
import subprocess
import sys
import tempfile

ETH = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
BASE = 1700000000

# Everything a hostile header can hold that must not reach a terminal raw.
NASTY = (b"\x1b[2J\x1b[31mRED\x1b[0m\x1b]0;pwned\x07\x1bP+q\x1b\\"  # CSI, OSC+BEL, DCS+ST
         b"nul\x00del\x7fbel\x07bs\x08cr\rtab\t"
         b"c1raw\x9b31m c1utf8\xc2\x9b31m\xc2\x85"                     # C1 CSI raw / UTF-8, NEL
         b"lone\x80 fe\xfe ff\xff trunc\xe2\x82 trunc4\xf0\x9f\x98"
         b"over2\xc0\xaf over3\xe0\x80\xaf over4\xf0\x80\x80\xaf surr\xed\xa0\x80"
         b" big\xf4\x90\x80\x80 ok\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 bs\\x1b")


# The same without NUL (a NUL makes the SIP header section malformed) and
# valid UTF-8 only (X.509 names are converted to UTF-8 when parsed; invalid
# UTF-8 there makes the whole certificate unreadable).
NASTY_NO_NUL = NASTY.replace(b"\x00", b"")
CONTROLS_UTF8 = b"\x1b[2J\x1b]0;pwned\x07\x00\x7f\xc2\x9b31m\x08\r\n\x1bP"


def pcap_header():
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)


def record(t_us, frame):
    return struct.pack("<IIII", BASE + t_us // 1000000, t_us % 1000000, len(frame), len(frame)) + frame


def csum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(sport, dport, seq, ack, flags, payload=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload


A, B = bytes([192, 0, 2, 10]), bytes([192, 0, 2, 20])


def sip_pcap(path):
    long_line = b"X" * 6000
    nasty = NASTY_NO_NUL
    invite = (b"INVITE sip:bob@example.com SIP/2.0\r\n"
              b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-h1\r\n"
              b"From: \"\x1b[31mAlice" + nasty + b"\" <sip:alice@example.com>;tag=a1\r\n"
              b"To: <sip:bob@example.com>\r\n"
              b"Call-ID: id-" + nasty + b"@host\r\n"
              b"CSeq: 1 INVITE\r\n"
              b"User-Agent: " + nasty + long_line + b"\r\n"
              b"Warning: 399 evil \"" + nasty + b"\"\r\n"
              b"Max-Forwards: 70\r\n"
              b"Content-Length: 0\r\n\r\n")
    resp = (b"SIP/2.0 403 Forbidden \x1b[5m" + NASTY + b"\r\n"
            b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-h1\r\n"
            b"From: \"\x1b[31mAlice" + NASTY + b"\" <sip:alice@example.com>;tag=a1\r\n"
            b"To: <sip:bob@example.com>;tag=b\x1b2\r\n"
            b"Call-ID: id-" + NASTY + b"@host\r\n"
            b"CSeq: 1 INVITE\r\n"
            b"Server: " + NASTY + b"\r\n"
            b"Warning: 399 evil \"" + NASTY + long_line + b"\"\r\n"
            b"Content-Length: 0\r\n\r\n")
    with open(path, "wb") as f:
        f.write(pcap_header())
        f.write(record(0, ETH + ipv4(A, B, 17, udp(5060, 5060, invite))))
        f.write(record(20000, ETH + ipv4(B, A, 17, udp(5060, 5060, resp))))


def make_cert(tmp):
    """A self-signed certificate whose CN, O and SAN hold placeholder runs of
    the same length as NASTY-derived bytes, then patched in the DER."""
    key, pem, der = (os.path.join(tmp, n) for n in ("k.pem", "c.pem", "c.der"))
    cn, org, san = "C" * 60, "O" * 60, "S" * 60
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", pem,
                    "-days", "3650", "-subj", "/CN=%s/O=%s" % (cn, org), "-addext", "subjectAltName=DNS:%s" % san],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-in", pem, "-outform", "DER", "-out", der], check=True)
    d = open(der, "rb").read()
    for placeholder, evil in ((cn, CONTROLS_UTF8), (org, b"\x1b[5mBLINK\x1b[0m\x1b[1A\xc2\x85\x7f\x00\x0b\x0c"), (san, NASTY)):
        p = placeholder.encode()
        # Padded, never cut: a cut could split a UTF-8 sequence of CN/O.
        evil = evil[:60] if placeholder == san else (evil + b" " * 60)[:60]
        assert d.count(p) >= 1, placeholder
        d = d.replace(p, evil)
    return d


def tls_pcap(path, cert):
    sni = b"evil" + NASTY[:120]
    ext_sni = struct.pack("!HHHBH", 0, len(sni) + 5, len(sni) + 3, 0, len(sni)) + sni
    alpn_name = b"h2\x1b[31m\x00"
    ext_alpn = struct.pack("!HHHB", 16, len(alpn_name) + 3, len(alpn_name) + 1, len(alpn_name)) + alpn_name
    exts = ext_sni + ext_alpn
    ch_body = b"\x03\x03" + bytes(range(32)) + b"\x00" + b"\x00\x02\x00\x2f" + b"\x01\x00" + struct.pack("!H", len(exts)) + exts
    hs = lambda t, body: bytes([t]) + struct.pack("!I", len(body))[1:] + body
    rec = lambda t, body: bytes([t]) + b"\x03\x03" + struct.pack("!H", len(body)) + body
    client = rec(22, hs(1, ch_body))
    sh_body = b"\x03\x03" + bytes(range(32, 64)) + b"\x00" + b"\x00\x2f" + b"\x00"
    certs = struct.pack("!I", len(cert))[1:] + cert
    cert_body = struct.pack("!I", len(certs))[1:] + certs
    server = rec(22, hs(2, sh_body) + hs(11, cert_body) + hs(14, b""))
    cp, sp, ci, si = 40001, 5061, 1000, 900000
    seq_c, seq_s = ci + 1, si + 1
    frames = [
        (A, B, tcp(cp, sp, ci, 0, 0x02)),
        (B, A, tcp(sp, cp, si, ci + 1, 0x12)),
        (A, B, tcp(cp, sp, seq_c, seq_s, 0x10)),
        (A, B, tcp(cp, sp, seq_c, seq_s, 0x18, client)),
    ]
    seq_c += len(client)
    frames.append((B, A, tcp(sp, cp, seq_s, seq_c, 0x10)))
    for off in range(0, len(server), 1400):
        part = server[off:off + 1400]
        frames.append((B, A, tcp(sp, cp, seq_s, seq_c, 0x18, part)))
        seq_s += len(part)
    frames.append((A, B, tcp(cp, sp, seq_c, seq_s, 0x10)))
    with open(path, "wb") as f:
        f.write(pcap_header())
        for i, (s, d, seg) in enumerate(frames):
            f.write(record(i * 1000, ETH + ipv4(s, d, 6, seg)))


def oracle(path):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "make_oracle.sh")
    if os.path.exists(script):
        subprocess.run(["sh", script, path], check=False, capture_output=True)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "testdata", "malformed")
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cert = make_cert(tmp)
    for name, make in (("hostile-strings-sip.pcap", sip_pcap),
                       ("hostile-strings-tls.pcap", lambda p: tls_pcap(p, cert))):
        p = os.path.join(out, name)
        make(p)
        oracle(p)
        print(p)


if __name__ == "__main__":
    main()
