#!/usr/bin/env python3
"""make_select_captures.py - captures for the selection and `save` (issue 15
items 1 and 2) into testdata/select/.

Run as root:  sudo python3 tests/captures/make_select_captures.py [OUTDIR]

Topology (made afresh, removed in a finally block):

  slsel-a  10.254.7.1 ---- veth ---- 10.254.7.2  slsel-b
  alice, carol, erin (UAs)                       bob, dave, frank (UAs)
  tcpdump on slsel-a's veth (Ethernet)

calls-rtp.pcap: four calls over the kernel's UDP and TCP, SIP with SDP, and
the RTP and RTCP the SDP negotiated sent on those ports by Python sockets:
  1  alice -> bob, UDP, answered, RTP 40000 <-> 40002 and RTCP on +1, BYE
  2  sip:4281@example.com (P-Asserted-Identity) -> dave, UDP, answered, RTP
     41000 <-> 41002, BYE
  3  carol -> frank, UDP, 486 Busy Here (an SDP offer, no media)
  4  erin -> bob over TCP, 403 Forbidden, the connection closed by FIN
and noise no call negotiated: RTP-like UDP 42000 <-> 42002 and a UDP flow
to 40010 during the calls, which `save --call` must not copy.
"""
import ctypes
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ORACLE = os.path.join(HERE, "make_oracle.sh")
NS = ["slsel-a", "slsel-b"]
A, B = "10.254.7.1", "10.254.7.2"

LIBC = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


def nsx(ns, *args, check=True):
    return sh("ip", "netns", "exec", ns, *args, check=check)


def topology_up():
    for ns in NS:
        sh("ip", "netns", "add", ns)
        nsx(ns, "ip", "link", "set", "lo", "up")
    sh("ip", "link", "add", "slsa0", "netns", "slsel-a", "type", "veth", "peer", "name", "slsb0", "netns", "slsel-b")
    for ns, dev, addr in (("slsel-a", "slsa0", A), ("slsel-b", "slsb0", B)):
        nsx(ns, "ip", "addr", "add", addr + "/24", "dev", dev)
        nsx(ns, "ip", "link", "set", dev, "up")
        nsx(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")


def topology_down():
    for ns in NS:
        sh("ip", "netns", "del", ns, check=False)


class Netns:
    """Sockets made inside a namespace (setns); they stay there after."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.home = os.open("/proc/self/ns/net", os.O_RDONLY)
        fd = os.open("/var/run/netns/" + self.name, os.O_RDONLY)
        try:
            if LIBC.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
        finally:
            os.close(fd)
        return self

    def __exit__(self, *exc):
        LIBC.setns(self.home, CLONE_NEWNET)
        os.close(self.home)


def udp(ns, addr, port):
    with Netns(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, port))
        s.settimeout(5)
        return s


def sdp(addr, port, sess):
    return ("v=0\r\no=- %d 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
            % (sess, addr, addr, port))


def msg(first, headers, body=""):
    lines = [first] + ["%s: %s" % h for h in headers]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(body.encode()))
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


class Dialog:
    def __init__(self, callid, frm, to, src, dst, transport="UDP", pai=None):
        self.callid, self.frm, self.to, self.src, self.dst = callid, frm, to, src, dst
        self.transport, self.pai = transport, pai
        self.n = 0

    def request(self, method, cseq, to_tag=None, body="", cseq_method=None):
        self.n += 1
        hdrs = [("Via", "SIP/2.0/%s %s:5060;branch=z9hG4bK-%s-%d" % (self.transport, self.src, self.callid, self.n)),
                ("Max-Forwards", "70"),
                ("From", "<%s>;tag=%s-f" % (self.frm, self.callid)),
                ("To", "<%s>%s" % (self.to, ";tag=" + to_tag if to_tag else "")),
                ("Call-ID", "%s@%s" % (self.callid, self.src)),
                ("CSeq", "%d %s" % (cseq, cseq_method or method)),
                ("Contact", "<sip:ua@%s:5060>" % self.src),
                ("User-Agent", "slsel-ua")]
        if self.pai:
            hdrs.append(("P-Asserted-Identity", self.pai))
        return msg("%s %s SIP/2.0" % (method, self.to), hdrs, body)

    @staticmethod
    def response(req, code, reason, to_tag, body=""):
        text = req.decode()
        head = text.split("\r\n\r\n")[0].split("\r\n")[1:]
        keep = []
        for line in head:
            name = line.split(":", 1)[0]
            if name in ("Via", "From", "Call-ID", "CSeq"):
                keep.append(tuple(line.split(": ", 1)))
            elif name == "To":
                value = line.split(": ", 1)[1]
                keep.append(("To", value if ";tag=" in value else value + ";tag=" + to_tag))
        keep.append(("Server", "slsel-uas"))
        return msg("SIP/2.0 %d %s" % (code, reason), keep, body)


def exchange(tx, rx, data, dst):
    tx.sendto(data, dst)
    got, _ = rx.recvfrom(65535)
    assert got == data
    return got


def rtp(a, b, a_dst, b_dst, seq0, n=5, ssrc=0x1111):
    """n RTP packets each way (PCMU, 160 bytes), then one RTCP sender report each way."""
    for i in range(n):
        for s, d, r in ((a, a_dst, b), (b, b_dst, a)):
            pkt = bytes([0x80, 0x00]) + (seq0 + i).to_bytes(2, "big") + (160 * i).to_bytes(4, "big") + \
                ssrc.to_bytes(4, "big") + bytes([0xff]) * 160
            s.sendto(pkt, d)
            r.recvfrom(2048)
        time.sleep(0.02)


def rtcp(a, b, a_dst, b_dst, ssrc=0x1111):
    for s, d, r in ((a, a_dst, b), (b, b_dst, a)):
        s.sendto(bytes([0x80, 200, 0, 6]) + ssrc.to_bytes(4, "big") + bytes(20), d)
        r.recvfrom(2048)


def udp_call(sa, sb, dlg, a_media, b_media, answer=True, media=None):
    """INVITE with SDP, 100, 180, then 200 + ACK (+ media, BYE) or a rejection."""
    inv = dlg.request("INVITE", 1, body=sdp(A, a_media, 1))
    exchange(sa, sb, inv, (B, 5060))
    tag = dlg.callid + "-t"
    exchange(sb, sa, Dialog.response(inv, 100, "Trying", tag), (A, 5060))
    exchange(sb, sa, Dialog.response(inv, 180, "Ringing", tag), (A, 5060))
    if not answer:
        exchange(sb, sa, Dialog.response(inv, 486, "Busy Here", tag), (A, 5060))
        exchange(sa, sb, dlg.request("ACK", 1, to_tag=tag), (B, 5060))
        return
    exchange(sb, sa, Dialog.response(inv, 200, "OK", tag, body=sdp(B, b_media, 2)), (A, 5060))
    exchange(sa, sb, dlg.request("ACK", 1, to_tag=tag), (B, 5060))
    if media:
        media()
    bye = dlg.request("BYE", 2, to_tag=tag)
    exchange(sa, sb, bye, (B, 5060))
    exchange(sb, sa, Dialog.response(bye, 200, "OK", tag), (A, 5060))


def media_pair(a_port, b_port, seq0, noise=None):
    def run():
        ra, rb = udp("slsel-a", A, a_port), udp("slsel-b", B, b_port)
        ca, cb = udp("slsel-a", A, a_port + 1), udp("slsel-b", B, b_port + 1)
        try:
            rtp(ra, rb, (B, b_port), (A, a_port), seq0)
            if noise:
                noise()
            rtcp(ca, cb, (B, b_port + 1), (A, a_port + 1))
        finally:
            for s in (ra, rb, ca, cb):
                s.close()
    return run


def noise():
    """UDP that no SDP names: RTP-like 42000 <-> 42002 and a flow to 40010."""
    na, nb = udp("slsel-a", A, 42000), udp("slsel-b", B, 42002)
    other_a, other_b = udp("slsel-a", A, 40011), udp("slsel-b", B, 40010)
    try:
        rtp(na, nb, (B, 42002), (A, 42000), 900, n=3, ssrc=0x9999)
        other_a.sendto(b"not media of any call", (B, 40010))
        other_b.recvfrom(2048)
    finally:
        for s in (na, nb, other_a, other_b):
            s.close()


def tcp_call():
    """erin -> bob over TCP 5060: INVITE, 100, 403; closed by FIN."""
    with Netns("slsel-b"):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((B, 5060))
        ls.listen(4)
    with Netns("slsel-a"):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.connect((B, 5060))
    s, _ = ls.accept()
    dlg = Dialog("call4-tcp", "sip:erin@example.com", "sip:bob@example.com", A, B, transport="TCP")
    inv = dlg.request("INVITE", 1, body=sdp(A, 43000, 4))
    c.sendall(inv)
    got = b""
    while len(got) < len(inv):
        got += s.recv(65535)
    tag = "call4-t"
    for code, reason in ((100, "Trying"), (403, "Forbidden")):
        r = Dialog.response(inv, code, reason, tag)
        s.sendall(r)
        got = b""
        while len(got) < len(r):
            got += c.recv(65535)
        time.sleep(0.05)
    ack = dlg.request("ACK", 1, to_tag=tag)
    c.sendall(ack)
    got = b""
    while len(got) < len(ack):
        got += s.recv(65535)
    time.sleep(0.05)
    c.close()
    time.sleep(0.05)
    s.close()
    ls.close()


def make_calls_rtp():
    sa, sb = udp("slsel-a", A, 5060), udp("slsel-b", B, 5060)
    try:
        udp_call(sa, sb, Dialog("call1-alice", "sip:alice@example.com", "sip:bob@example.com", A, B),
                 40000, 40002, media=media_pair(40000, 40002, 100, noise=noise))
        time.sleep(0.1)
        udp_call(sa, sb, Dialog("call2-4281", "sip:anonymous@anonymous.invalid", "sip:dave@example.com", A, B,
                                pai="\"Reception\" <sip:4281@example.com;user=phone>"),
                 41000, 41002, media=media_pair(41000, 41002, 500))
        time.sleep(0.1)
        udp_call(sa, sb, Dialog("call3-carol", "sip:carol@example.com", "sip:frank@example.com", A, B),
                 44000, 44002, answer=False)
    finally:
        sa.close()
        sb.close()
    time.sleep(0.1)
    tcp_call()


def capture(outdir, name, fn):
    tmp = tempfile.mkdtemp(prefix="slsel-")
    raw = os.path.join(tmp, name + ".pcap")
    dump = subprocess.Popen(["ip", "netns", "exec", "slsel-a", "tcpdump", "-i", "slsa0", "-w", raw, "-U",
                             "-s", "0", "--immediate-mode", "not arp and not icmp6"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        fn()
        time.sleep(0.5)
    finally:
        dump.terminate()
        dump.wait()
    out = os.path.join(outdir, name + ".pcap")
    shutil.copyfile(raw, out)
    shutil.rmtree(tmp)
    if os.path.exists(ORACLE):
        subprocess.run(["sh", ORACLE, out], check=False, stdout=subprocess.DEVNULL)
    print("wrote", out, os.path.getsize(out), "bytes")


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "testdata", "select")
    os.makedirs(outdir, exist_ok=True)
    topology_down()
    try:
        topology_up()
        capture(outdir, "calls-rtp", make_calls_rtp)
    finally:
        topology_down()


if __name__ == "__main__":
    main()
