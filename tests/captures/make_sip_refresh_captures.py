#!/usr/bin/env python3
"""make_sip_refresh_captures.py - a mid-call refresh over TCP that a firewall's
idle timeout swallowed (sip.refresh_lost, issue 14, seed 000), and its
look-alikes, into testdata/siprefresh/ (rows in tests/verdicts/sip2.tsv).

Run as root:  python3 tests/captures/make_sip_refresh_captures.py [OUTDIR] [NAME...]

Topology (made afresh for every capture, removed in a finally block):

  slrl-a  10.249.1.1 ---- 10.249.1.2  slrl-r  10.249.2.1 ---- 10.249.2.2  slrl-b
  refresher UA (CAPTURE)              stateful firewall                 far end UA

The firewall is the kernel's own: conntrack in slrl-r with
nf_conntrack_tcp_timeout_established = 5 s, nf_conntrack_tcp_loose = 0 (a
mid-stream segment of a forgotten connection is not picked up again) and a
FORWARD rule dropping ctstate INVALID.  SIP is plain Python over the
kernel's TCP sockets; every retransmission in the captures is the kernel's.
tcpdump runs in slrl-a, the side that sends the refresh (where an engineer
sees the re-INVITE resent with nothing back).
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from make_sip_verdict_captures import Netns, SDP_AUDIO, request, response  # noqa: E402

ORACLE = os.path.join(HERE, "make_oracle.sh")
NS = ["slrl-a", "slrl-r", "slrl-b"]
A, RA, RB, B = "10.249.1.1", "10.249.1.2", "10.249.2.1", "10.249.2.2"


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


def nsx(ns, *args, check=True):
    return sh("ip", "netns", "exec", ns, *args, check=check)


def topology_up(idle_timeout):
    for ns in NS:
        sh("ip", "netns", "add", ns)
        nsx(ns, "ip", "link", "set", "lo", "up")
    sh("ip", "link", "add", "rla0", "netns", "slrl-a", "type", "veth", "peer", "name", "rlr0", "netns", "slrl-r")
    sh("ip", "link", "add", "rlr1", "netns", "slrl-r", "type", "veth", "peer", "name", "rlb0", "netns", "slrl-b")
    for ns, dev, addr in (("slrl-a", "rla0", A), ("slrl-r", "rlr0", RA), ("slrl-r", "rlr1", RB),
                          ("slrl-b", "rlb0", B)):
        nsx(ns, "ip", "addr", "add", addr + "/24", "dev", dev)
        nsx(ns, "ip", "link", "set", dev, "up")
    nsx("slrl-a", "ip", "route", "add", "default", "via", RA)
    nsx("slrl-b", "ip", "route", "add", "default", "via", RB)
    for ns in NS:
        nsx(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        # No segmentation offload: the capture shows the segments on the wire.
    for ns, dev in (("slrl-a", "rla0"), ("slrl-b", "rlb0")):
        nsx(ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", check=False)
    nsx("slrl-r", "sysctl", "-qw", "net.ipv4.ip_forward=1")
    # The stateful firewall: conntrack forgets an idle established flow
    # after idle_timeout s; a segment of a forgotten flow is INVALID (no
    # loose pick-up) and dropped, as a firewall/NAT drops it.
    nsx("slrl-r", "iptables", "-A", "FORWARD", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP")
    nsx("slrl-r", "sysctl", "-qw", "net.netfilter.nf_conntrack_tcp_loose=0")
    nsx("slrl-r", "sysctl", "-qw", "net.netfilter.nf_conntrack_tcp_timeout_established=%d" % idle_timeout)


def topology_down():
    for ns in NS:
        sh("ip", "netns", "del", ns, check=False)


def tcp_listen(ns, addr, port=5060):
    with Netns(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(4)
    return s


def tcp_connect(ns, src, dst, sport=0, port=5060):
    with Netns(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.bind((src, sport))
        s.connect((dst, port))
    return s


class Reader:
    """SIP messages out of a TCP byte stream (RFC 3261 18.3: Content-Length frames the body)."""

    def __init__(self, s):
        self.s, self.buf = s, b""

    def recv(self, timeout=10.0):
        self.s.settimeout(timeout)
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head = self.buf[:end].decode()
                clen = 0
                for line in head.split("\r\n"):
                    if line.lower().startswith(("content-length:", "l:")):
                        clen = int(line.split(":", 1)[1])
                total = end + 4 + clen
                if len(self.buf) >= total:
                    msg, self.buf = self.buf[:total].decode(), self.buf[total:]
                    return msg
            try:
                data = self.s.recv(65535)
            except socket.timeout:
                return None
            if not data:
                return None
            self.buf += data


def far_end(lst, script, stop):
    """The far end: answers each request on the connection it came on."""
    conns = []
    lst.settimeout(0.2)
    while not stop.is_set():
        try:
            c, _ = lst.accept()
        except socket.timeout:
            continue
        except OSError:  # closed at the end of the scenario
            break
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conns.append(c)
        threading.Thread(target=serve, args=(c, script, stop), daemon=True).start()
    return conns


def serve(c, script, stop):
    rd = Reader(c)
    while not stop.is_set():
        try:
            req = rd.recv(timeout=0.3)
        except OSError:  # closed at the end of the scenario
            return
        if req is None:
            continue
        for code, reason, body, delay in script(req) or []:
            time.sleep(delay)
            c.sendall(response(req, code, reason, to_tag="bt1", body=body, server_ip=B).encode())


def answering(req):
    if req.startswith("INVITE"):
        return [(100, "Trying", "", 0), (200, "OK", SDP_AUDIO.format(ip=B), 0.2)]
    if req.startswith("BYE"):
        return [(200, "OK", "", 0)]
    return None


CID = "refresh@10.249.1.1"
RURI = "sip:bob@%s:5060;transport=tcp" % B


def req(method, branch, cseq, to_tag=None, extra="", body=""):
    return request(method, RURI if to_tag else "sip:bob@example.test", A, branch, cseq, CID, "at1", to_tag=to_tag,
                   extra=extra, body=body, transport="TCP").encode()


def set_up_call(s, rd):
    """INVITE -> 100 -> 200 -> ACK on the caller's connection; the 200's To tag."""
    s.sendall(req("INVITE", "z9hG4bKrl1", 1, extra="Supported: timer\r\nSession-Expires: 1800;refresher=uac",
                  body=SDP_AUDIO.format(ip=A)))
    while True:
        m = rd.recv()
        if m is None or m.startswith("SIP/2.0 2"):
            break
    s.sendall(req("ACK", "z9hG4bKrl2", 1, to_tag="bt1"))


REFRESH = "Supported: timer\r\nSession-Expires: 1800;refresher=uac"


def sc_refresh_dropped():
    """INVITE/200/ACK over TCP, 8 s idle (the firewall forgets the flow after 5 s), the re-INVITE
    (session refresh) is dropped: the kernel retransmits it, nothing comes back.  6 s later the far
    end opens a new connection to the refresher's Contact (10.249.1.1:5060) with a BYE; the
    refresher answers 200 on it."""
    stop = threading.Event()
    lst_b, lst_a = tcp_listen("slrl-b", B), tcp_listen("slrl-a", A)
    threading.Thread(target=far_end, args=(lst_b, answering, stop), daemon=True).start()
    s = tcp_connect("slrl-a", A, B)
    rd = Reader(s)
    set_up_call(s, rd)
    time.sleep(8.0)
    s.sendall(req("INVITE", "z9hG4bKrl3", 2, to_tag="bt1", extra=REFRESH, body=SDP_AUDIO.format(ip=A)))
    time.sleep(6.0)
    # The far end's own request, on a connection of its own.
    bye = ("BYE sip:alice@%s:5060;transport=tcp SIP/2.0\r\nVia: SIP/2.0/TCP %s:5060;branch=z9hG4bKrlb1\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:bob@example.test>;tag=bt1\r\nTo: <sip:alice@example.test>;tag=at1\r\n"
           "Call-ID: %s\r\nCSeq: 1 BYE\r\nUser-Agent: slsv-uas/1.0\r\nContent-Length: 0\r\n\r\n" % (A, B, CID))
    nb = tcp_connect("slrl-b", B, A)
    lst_a.settimeout(5)
    na, _ = lst_a.accept()
    nb.sendall(bye.encode())
    got = Reader(na).recv()
    na.sendall(response(got, 200, "OK").encode())
    Reader(nb).recv()
    time.sleep(1.0)
    stop.set()
    for x in (s, na, nb, lst_a, lst_b):
        x.close()


def sc_refresh_answered():
    """The look-alike: the same call and the same 8 s idle spell with a firewall that keeps the flow
    (its timeout is longer): the re-INVITE is answered 200 on the same connection, ACK, BYE, 200."""
    stop = threading.Event()
    lst_b = tcp_listen("slrl-b", B)
    threading.Thread(target=far_end, args=(lst_b, answering, stop), daemon=True).start()
    s = tcp_connect("slrl-a", A, B)
    rd = Reader(s)
    set_up_call(s, rd)
    time.sleep(8.0)
    s.sendall(req("INVITE", "z9hG4bKrl3", 2, to_tag="bt1", extra=REFRESH, body=SDP_AUDIO.format(ip=A)))
    while True:
        m = rd.recv()
        if m is None or m.startswith("SIP/2.0 2"):
            break
    s.sendall(req("ACK", "z9hG4bKrl4", 2, to_tag="bt1"))
    time.sleep(0.5)
    s.sendall(req("BYE", "z9hG4bKrl5", 3, to_tag="bt1"))
    rd.recv()
    time.sleep(0.5)
    stop.set()
    s.close()
    lst_b.close()


def sc_retransmitted_once():
    """The other look-alike: the re-INVITE's first copy is lost (a DROP rule in the firewall for
    0.1 s), the kernel retransmits it once, the far end ACKs and answers 200."""
    stop = threading.Event()
    lst_b = tcp_listen("slrl-b", B)
    threading.Thread(target=far_end, args=(lst_b, answering, stop), daemon=True).start()
    s = tcp_connect("slrl-a", A, B)
    rd = Reader(s)
    set_up_call(s, rd)
    time.sleep(2.0)
    rule = ["FORWARD", "-s", A, "-d", B, "-p", "tcp", "-m", "length", "--length", "200:65535", "-j", "DROP"]
    nsx("slrl-r", "iptables", "-I", *rule)
    s.sendall(req("INVITE", "z9hG4bKrl3", 2, to_tag="bt1", extra=REFRESH, body=SDP_AUDIO.format(ip=A)))
    time.sleep(0.1)
    nsx("slrl-r", "iptables", "-D", *rule)
    while True:
        m = rd.recv()
        if m is None or m.startswith("SIP/2.0 2"):
            break
    s.sendall(req("ACK", "z9hG4bKrl4", 2, to_tag="bt1"))
    time.sleep(0.5)
    s.sendall(req("BYE", "z9hG4bKrl5", 3, to_tag="bt1"))
    rd.recv()
    time.sleep(0.5)
    stop.set()
    s.close()
    lst_b.close()


def udp(ns, addr, port=5060):
    with Netns(ns):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((addr, port))
    u.settimeout(5)
    return u


def sc_orphan_responses(start_capture):
    """Responses whose request the capture missed (issue 14: drawn as a call "? -> ?").  The caller
    sends its INVITE before tcpdump starts; the far end answers 100, 180, 200 1.5 s later (in the
    capture, their INVITE is not); ACK, BYE, 200.  Then the far end sends a 200 OK to an OPTIONS
    (Call-ID ping-gone@...) that was never sent in the capture: a response whose Call-ID matches
    nothing."""
    ua, far = udp("slrl-a", A), udp("slrl-b", B)
    cid = "orphan@10.249.1.1"
    inv = request("INVITE", "sip:bob@example.test", A, "z9hG4bKor1", 1, cid, "ao1", body=SDP_AUDIO.format(ip=A))
    ua.sendto(inv.encode(), (B, 5060))
    got, peer = far.recvfrom(65535)
    start_capture()
    for code, reason, body in ((100, "Trying", ""), (180, "Ringing", ""), (200, "OK", SDP_AUDIO.format(ip=B))):
        far.sendto(response(got.decode(), code, reason, to_tag="bo1", body=body, server_ip=B).encode(), peer)
        ua.recvfrom(65535)
        time.sleep(0.2)
    ua.sendto(request("ACK", "sip:bob@%s:5060" % B, A, "z9hG4bKor2", 1, cid, "ao1", to_tag="bo1").encode(), (B, 5060))
    far.recvfrom(65535)
    time.sleep(0.5)
    bye = request("BYE", "sip:bob@%s:5060" % B, A, "z9hG4bKor3", 2, cid, "ao1", to_tag="bo1")
    ua.sendto(bye.encode(), (B, 5060))
    got, peer = far.recvfrom(65535)
    far.sendto(response(got.decode(), 200, "OK").encode(), peer)
    ua.recvfrom(65535)
    time.sleep(0.3)
    ping = request("OPTIONS", "sip:bob@example.test", A, "z9hG4bKor9", 7, "ping-gone@10.249.1.1", "ap9")
    far.sendto(response(ping, 200, "OK").encode(), (A, 5060))
    ua.recvfrom(65535)
    time.sleep(0.3)
    ua.close()
    far.close()


def at_start(fn):
    """A scenario captured from its first packet."""
    def run(start_capture):
        start_capture()
        fn()
    run.__doc__ = fn.__doc__
    return run


SCENARIOS = {
    # name: (function, the firewall's idle timeout for established TCP, s)
    "reinvite-tcp-idle-dropped": (at_start(sc_refresh_dropped), 5),
    "reinvite-tcp-idle-answered": (at_start(sc_refresh_answered), 60),
    "reinvite-tcp-retx-once-200": (at_start(sc_retransmitted_once), 60),
    "orphan-responses-udp": (sc_orphan_responses, 60),
}


def capture(outdir, name, fn, idle_timeout):
    topology_down()
    tmp = tempfile.mkdtemp(prefix="slrl-")
    path = os.path.join(tmp, name + ".pcap")
    td = []

    def start_capture():
        td.append(subprocess.Popen(["ip", "netns", "exec", "slrl-a", "tcpdump", "-i", "rla0", "-B", "32768", "-s",
                                    "65535", "-U", "-w", path, "tcp or udp"], stderr=subprocess.PIPE, text=True))
        time.sleep(1.0)

    try:
        topology_up(idle_timeout)
        fn(start_capture)
        time.sleep(0.5)
    finally:
        err = ""
        if td:
            td[0].terminate()
            err = td[0].communicate()[1]
        topology_down()
    if "\n0 packets dropped by kernel" not in "\n" + err:
        raise SystemExit("%s: tcpdump dropped packets: %s" % (name, err))
    dst = os.path.join(outdir, name + ".pcap")
    shutil.copyfile(path, dst)
    shutil.rmtree(tmp)
    if os.path.exists(ORACLE):
        subprocess.run(["sh", ORACLE, dst], check=False, capture_output=True)
    print("wrote", dst, os.path.getsize(dst), "bytes")


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "testdata", "siprefresh")
    names = sys.argv[2:] or list(SCENARIOS)
    os.makedirs(outdir, exist_ok=True)
    for n in names:
        fn, idle = SCENARIOS[n]
        capture(outdir, n, fn, idle)


if __name__ == "__main__":
    main()
