#!/usr/bin/env python3
"""make_sip_verdict_captures.py - real captures for the SIP verdicts of issue 14
into testdata/sipverdicts/ (rows in tests/verdicts/sip.tsv).

Run as root:  sudo python3 tests/captures/make_sip_verdict_captures.py [OUTDIR] [NAME...]

Topology (made afresh for every capture, removed in a finally block):

  slsv-a  10.253.1.1 ---- 10.253.1.2, 10.253.1.3  slsv-b  10.253.2.1 ---- 10.253.2.2  slsv-c
  caller UA                proxy / targets (CAPTURE, -i any)                far end

SIP is plain Python over the kernel's UDP and TCP sockets: each scenario is a
short script of sends and waits, the user agents retransmit over UDP with the
RFC 3261 timers (T1 = 500 ms, T2 = 4 s) where the scenario is about
retransmission.  tcpdump runs in slsv-b on "any" (Linux cooked v2).
"""
import ctypes
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
ORACLE = os.path.join(HERE, "make_oracle.sh")
NS = ["slsv-a", "slsv-b", "slsv-c"]
A, B1, B2, BC, C = "10.253.1.1", "10.253.1.2", "10.253.1.3", "10.253.2.1", "10.253.2.2"


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


def nsx(ns, *args, check=True):
    return sh("ip", "netns", "exec", ns, *args, check=check)


def topology_up():
    for ns in NS:
        sh("ip", "netns", "add", ns)
        nsx(ns, "ip", "link", "set", "lo", "up")
    sh("ip", "link", "add", "sva0", "netns", "slsv-a", "type", "veth", "peer", "name", "svb0", "netns", "slsv-b")
    sh("ip", "link", "add", "svb1", "netns", "slsv-b", "type", "veth", "peer", "name", "svc0", "netns", "slsv-c")
    for ns, dev, addrs in (("slsv-a", "sva0", [A]), ("slsv-b", "svb0", [B1, B2]), ("slsv-b", "svb1", [BC]),
                           ("slsv-c", "svc0", [C])):
        for a in addrs:
            nsx(ns, "ip", "addr", "add", a + "/24", "dev", dev)
        nsx(ns, "ip", "link", "set", dev, "up")
    nsx("slsv-a", "ip", "route", "add", "default", "via", B1)
    nsx("slsv-c", "ip", "route", "add", "default", "via", BC)
    nsx("slsv-b", "sysctl", "-qw", "net.ipv4.ip_forward=1")
    for ns in NS:
        nsx(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")


def topology_down():
    for ns in NS:
        sh("ip", "netns", "del", ns, check=False)


LIBC = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def setns(fd):
    if LIBC.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")


class Netns:
    """Run the calling thread's socket calls inside a namespace (setns)."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.old = os.open("/proc/self/ns/net", os.O_RDONLY)
        fd = os.open("/var/run/netns/" + self.name, os.O_RDONLY)
        setns(fd)
        os.close(fd)

    def __exit__(self, *exc):
        setns(self.old)
        os.close(self.old)


def udp(ns, addr, port=5060):
    with Netns(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
    return s


SDP_AUDIO = ("v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
             "m=audio 40000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n")
SDP_T38 = ("v=0\r\no=- 1 2 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
           "m=image 40002 udptl t38\r\na=T38FaxVersion:0\r\na=T38FaxRateManagement:transferredTCF\r\n")


def request(method, ruri, src, branch, cseq, callid, from_tag, to_tag=None, extra="", body="", cseq_method=None,
            to_uri="sip:bob@example.test", transport="UDP", sport=5060):
    to = "<%s>" % to_uri + (";tag=" + to_tag if to_tag else "")
    hdr = [
        "%s %s SIP/2.0" % (method, ruri),
        "Via: SIP/2.0/%s %s:%d;branch=%s" % (transport, src, sport, branch),
        "Max-Forwards: 70",
        "From: <sip:alice@example.test>;tag=%s" % from_tag,
        "To: %s" % to,
        "Call-ID: %s" % callid,
        "CSeq: %d %s" % (cseq, cseq_method or method),
        "Contact: <sip:alice@%s:%d>" % (src, sport),
        "User-Agent: slsv-ua/1.0",
    ]
    if extra:
        hdr += extra.rstrip("\r\n").split("\r\n")
    if body:
        hdr.append("Content-Type: application/sdp")
    hdr.append("Content-Length: %d" % len(body.encode()))
    return "\r\n".join(hdr) + "\r\n\r\n" + body


def header(msg, name):
    for line in msg.split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def response(req, code, reason, to_tag=None, extra="", body="", server_ip=None):
    lines = req.split("\r\n")
    vias = [l for l in lines if l.lower().startswith("via:")]
    to = header(req, "To")
    if to_tag and ";tag=" not in to:
        to += ";tag=" + to_tag
    hdr = ["SIP/2.0 %d %s" % (code, reason)] + vias + [
        "From: " + header(req, "From"), "To: " + to, "Call-ID: " + header(req, "Call-ID"),
        "CSeq: " + header(req, "CSeq"), "Server: slsv-uas/1.0"]
    if server_ip and code // 100 == 2:
        hdr.append("Contact: <sip:bob@%s:5060>" % server_ip)
    if extra:
        hdr += extra.rstrip("\r\n").split("\r\n")
    if body:
        hdr.append("Content-Type: application/sdp")
    hdr.append("Content-Length: %d" % len(body.encode()))
    return "\r\n".join(hdr) + "\r\n\r\n" + body


def recv(s, timeout=5.0):
    s.settimeout(timeout)
    data, peer = s.recvfrom(65535)
    return data.decode(), peer


PACE = 0.2


def send(s, msg, dst, port=5060):
    time.sleep(PACE)
    s.sendto(msg.encode(), (dst, port))


CHALLENGE = 'Proxy-Authenticate: Digest realm="example.test", nonce="6a1f0c", algorithm=MD5, qop="auth"'
CREDS = ('Proxy-Authorization: Digest username="alice", realm="example.test", nonce="6a1f0c", '
         'uri="sip:bob@example.test", response="0123456789abcdef0123456789abcdef", algorithm=MD5, '
         'qop=auth, nc=00000001, cnonce="c0ffee"')


def uas_loop(s, script, stop):
    """Answer requests as script(req, peer) says: a list of (code, reason, extra, body) or None."""
    while not stop.is_set():
        try:
            req, peer = recv(s, 0.2)
        except socket.timeout:
            continue
        if req.startswith("SIP/2.0"):
            continue
        for code, reason, extra, body, delay in script(req, peer) or []:
            time.sleep(delay)
            send(s, response(req, code, reason, to_tag="uas7", extra=extra, body=body, server_ip=s.getsockname()[0]),
                 peer[0], peer[1])


def run_uas(s, script):
    stop = threading.Event()
    t = threading.Thread(target=uas_loop, args=(s, script, stop), daemon=True)
    t.start()
    return stop, t


# ---------------------------------------------------------------- scenarios


def sc_challenge_403():
    """INVITE -> 407 -> ACK -> INVITE with credentials -> 100 -> 403 -> ACK."""
    srv, ua = udp("slsv-b", B1), udp("slsv-a", A)

    def script(req, peer):
        if req.startswith("INVITE"):
            if "Proxy-Authorization" not in req:
                return [(407, "Proxy Authentication Required", CHALLENGE, "", 0)]
            return [(100, "Trying", "", "", 0), (403, "Forbidden", "", "", 0)]
        return None

    stop, _ = run_uas(srv, script)
    cid, body = "chal403@10.253.1.1", SDP_AUDIO.format(ip=A)
    send(ua, request("INVITE", "sip:bob@example.test", A, "z9hG4bKc403a", 1, cid, "a1", body=body), B1)
    recv(ua)
    send(ua, request("ACK", "sip:bob@example.test", A, "z9hG4bKc403a", 1, cid, "a1", to_tag="uas7"), B1)
    send(ua, request("INVITE", "sip:bob@example.test", A, "z9hG4bKc403b", 2, cid, "a1", extra=CREDS, body=body), B1)
    recv(ua)
    recv(ua)
    send(ua, request("ACK", "sip:bob@example.test", A, "z9hG4bKc403b", 2, cid, "a1", to_tag="uas7"), B1)
    time.sleep(0.5)
    stop.set()


def sc_lone_challenge():
    """INVITE -> 407 -> ACK, and REGISTER -> 401: the retries are not in the capture."""
    srv, ua = udp("slsv-b", B1), udp("slsv-a", A)

    def script(req, peer):
        if req.startswith("INVITE"):
            return [(407, "Proxy Authentication Required", CHALLENGE, "", 0)]
        if req.startswith("REGISTER"):
            return [(401, "Unauthorized", CHALLENGE.replace("Proxy-", "WWW-"), "", 0)]
        return None

    stop, _ = run_uas(srv, script)
    cid = "lone407@10.253.1.1"
    send(ua, request("INVITE", "sip:bob@example.test", A, "z9hG4bKl407a", 1, cid, "a2",
                     body=SDP_AUDIO.format(ip=A)), B1)
    recv(ua)
    send(ua, request("ACK", "sip:bob@example.test", A, "z9hG4bKl407a", 1, cid, "a2", to_tag="uas7"), B1)
    send(ua, request("REGISTER", "sip:example.test", A, "z9hG4bKl401r", 1, "lonereg@10.253.1.1", "r2",
                     to_uri="sip:alice@example.test", extra="Expires: 600"), B1)
    recv(ua)
    time.sleep(0.5)
    stop.set()


def register_flow(name, answers):
    """REGISTER, then with credentials as long as the registrar challenges; answers: its finals in order."""
    srv, ua = udp("slsv-b", B1), udp("slsv-a", A)
    queue = list(answers)

    def script(req, peer):
        if req.startswith("REGISTER") and queue:
            return [queue.pop(0)]
        return None

    stop, _ = run_uas(srv, script)
    cid = name + "@10.253.1.1"
    auth = ('Authorization: Digest username="alice", realm="example.test", nonce="%s", uri="sip:example.test", '
            'response="00112233445566778899aabbccddeeff", algorithm=MD5')
    nonce = None
    for i in range(len(answers)):
        extra = "Expires: 600" + ("\r\n" + auth % nonce if nonce else "")
        send(ua, request("REGISTER", "sip:example.test", A, "z9hG4bK%sr%d" % (name[:6], i), i + 1, cid, "r3",
                         to_uri="sip:alice@example.test", extra=extra), B1)
        resp, _ = recv(ua)
        w = header(resp, "WWW-Authenticate")
        nonce = w.split('nonce="', 1)[1].split('"', 1)[0] if 'nonce="' in w else nonce
    time.sleep(0.5)
    stop.set()


def www(nonce, stale):
    return 'WWW-Authenticate: Digest realm="example.test", nonce="%s", algorithm=MD5, stale=%s' % (
        nonce, "TRUE" if stale else "FALSE")


def sc_register_stale():
    """REGISTER -> 401 -> credentials -> 401 stale=TRUE (new nonce) -> credentials -> 200."""
    register_flow("regstale", [(401, "Unauthorized", www("n1", False), "", 0),
                               (401, "Unauthorized", www("n2", True), "", 0),
                               (200, "OK", "Contact: <sip:alice@10.253.1.1:5060>;expires=600", "", 0)])


def sc_register_wrong():
    """REGISTER -> 401 -> credentials -> 401 stale=FALSE, no 200: the credentials were refused."""
    register_flow("regwrong", [(401, "Unauthorized", www("n1", False), "", 0),
                               (401, "Unauthorized", www("n3", False), "", 0)])


def established_call(ua, cid, tag, dst=B1):
    body = SDP_AUDIO.format(ip=A)
    send(ua, request("INVITE", "sip:bob@example.test", A, "z9hG4bK%si" % tag, 1, cid, tag, body=body), dst)
    while not recv(ua)[0].startswith("SIP/2.0 200"):
        pass
    send(ua, request("ACK", "sip:bob@%s" % dst, A, "z9hG4bK%sa" % tag, 1, cid, tag, to_tag="uas7"), dst)


def sc_reinvite_488():
    """A call, then a re-INVITE switching to T.38 answered 488, ACK, and BYE -> 200."""
    srv, ua = udp("slsv-b", B1), udp("slsv-a", A)

    def script(req, peer):
        if req.startswith("INVITE") and "m=image" in req:
            return [(100, "Trying", "", "", 0), (488, "Not Acceptable Here", "", "", 0)]
        if req.startswith("INVITE"):
            return [(100, "Trying", "", "", 0), (180, "Ringing", "", "", 0),
                    (200, "OK", "", SDP_AUDIO.format(ip=B1), 0.3)]
        if req.startswith("BYE"):
            return [(200, "OK", "", "", 0)]
        return None

    stop, _ = run_uas(srv, script)
    cid = "fax488@10.253.1.1"
    established_call(ua, cid, "f4")
    time.sleep(1.0)
    send(ua, request("INVITE", "sip:bob@%s" % B1, A, "z9hG4bKf4r", 2, cid, "f4", to_tag="uas7",
                     body=SDP_T38.format(ip=A)), B1)
    recv(ua)
    recv(ua)
    send(ua, request("ACK", "sip:bob@%s" % B1, A, "z9hG4bKf4r", 2, cid, "f4", to_tag="uas7"), B1)
    time.sleep(1.0)
    send(ua, request("BYE", "sip:bob@%s" % B1, A, "z9hG4bKf4b", 3, cid, "f4", to_tag="uas7"), B1)
    recv(ua)
    time.sleep(0.5)
    stop.set()


def sc_reinvite_ok():
    """The look-alike: a re-INVITE (hold) answered 200: nothing failed."""
    srv, ua = udp("slsv-b", B1), udp("slsv-a", A)

    def script(req, peer):
        if req.startswith("INVITE"):
            return [(100, "Trying", "", "", 0), (200, "OK", "", SDP_AUDIO.format(ip=B1), 0.3)]
        if req.startswith("BYE"):
            return [(200, "OK", "", "", 0)]
        return None

    stop, _ = run_uas(srv, script)
    cid = "hold200@10.253.1.1"
    established_call(ua, cid, "h2")
    send(ua, request("INVITE", "sip:bob@%s" % B1, A, "z9hG4bKh2r", 2, cid, "h2", to_tag="uas7",
                     body=SDP_AUDIO.format(ip=A) + "a=sendonly\r\n"), B1)
    while not recv(ua)[0].startswith("SIP/2.0 200"):
        pass
    send(ua, request("ACK", "sip:bob@%s" % B1, A, "z9hG4bKh2q", 2, cid, "h2", to_tag="uas7"), B1)
    send(ua, request("BYE", "sip:bob@%s" % B1, A, "z9hG4bKh2b", 3, cid, "h2", to_tag="uas7"), B1)
    recv(ua)
    time.sleep(0.5)


def sc_options_no_response():
    """OPTIONS to a UA that reads and never answers, resent by Timer E (T1 doubling to T2) until
    Timer F (64 x T1 = 32 s)."""
    silent, ua = udp("slsv-b", B1), udp("slsv-a", A)
    msg = request("OPTIONS", "sip:bob@example.test", A, "z9hG4bKopt1", 1, "opts@10.253.1.1", "o1")
    start, wait = time.time(), 0.5
    while time.time() - start < 32:
        ua.sendto(msg.encode(), (B1, 5060))
        time.sleep(min(wait, 32 - (time.time() - start)) if time.time() - start < 32 else 0)
        wait = min(wait * 2, 4.0)
    silent.close()


def sc_cancel_after_ringing():
    """INVITE -> 100 -> 180, CANCEL after 2 s -> 200 -> 487 -> ACK."""
    srv, ua = udp("slsv-b", B1), udp("slsv-a", A)

    def script(req, peer):
        if req.startswith("INVITE"):
            return [(100, "Trying", "", "", 0), (180, "Ringing", "", "", 0)]
        if req.startswith("CANCEL"):
            inv = req.replace("CANCEL sip", "INVITE sip", 1).replace(" CANCEL\r\n", " INVITE\r\n")
            send(srv, response(req, 200, "OK", to_tag="uas7"), peer[0], peer[1])
            send(srv, response(inv, 487, "Request Terminated", to_tag="uas7"), peer[0], peer[1])
        return None

    stop, _ = run_uas(srv, script)
    cid = "cancel@10.253.1.1"
    send(ua, request("INVITE", "sip:bob@example.test", A, "z9hG4bKcx1", 1, cid, "cx",
                     body=SDP_AUDIO.format(ip=A)), B1)
    recv(ua)
    recv(ua)
    time.sleep(2.0)
    send(ua, request("CANCEL", "sip:bob@example.test", A, "z9hG4bKcx1", 1, cid, "cx"), B1)
    recv(ua)
    recv(ua)
    send(ua, request("ACK", "sip:bob@example.test", A, "z9hG4bKcx1", 1, cid, "cx", to_tag="uas7"), B1)
    time.sleep(0.5)
    stop.set()


def sc_srv_failover():
    """INVITE to the first SRV target -> 503 Retry-After -> ACK; the same call (Call-ID) to the next
    target -> 100 -> 180 -> 200 -> ACK -> BYE -> 200."""
    t1, t2, ua = udp("slsv-b", B1), udp("slsv-b", B2), udp("slsv-a", A)

    def busy(req, peer):
        return [(503, "Service Unavailable", "Retry-After: 30", "", 0)] if req.startswith("INVITE") else None

    def ok(req, peer):
        if req.startswith("INVITE"):
            return [(100, "Trying", "", "", 0), (180, "Ringing", "", "", 0),
                    (200, "OK", "", SDP_AUDIO.format(ip=B2), 0.3)]
        if req.startswith("BYE"):
            return [(200, "OK", "", "", 0)]
        return None

    s1, _ = run_uas(t1, busy)
    s2, _ = run_uas(t2, ok)
    cid, body = "failover@10.253.1.1", SDP_AUDIO.format(ip=A)
    send(ua, request("INVITE", "sip:bob@example.test", A, "z9hG4bKsv1", 1, cid, "sv", body=body), B1)
    recv(ua)
    send(ua, request("ACK", "sip:bob@example.test", A, "z9hG4bKsv1", 1, cid, "sv", to_tag="uas7"), B1)
    send(ua, request("INVITE", "sip:bob@example.test", A, "z9hG4bKsv2", 1, cid, "sv", body=body), B2)
    while not recv(ua)[0].startswith("SIP/2.0 200"):
        pass
    send(ua, request("ACK", "sip:bob@%s" % B2, A, "z9hG4bKsv3", 1, cid, "sv", to_tag="uas7"), B2)
    time.sleep(0.5)
    send(ua, request("BYE", "sip:bob@%s" % B2, A, "z9hG4bKsv4", 2, cid, "sv", to_tag="uas7"), B2)
    recv(ua)
    time.sleep(0.5)
    s1.set()
    s2.set()


def sc_timer_a_408():
    """The caller's INVITE to the proxy (10.253.1.2): 100 Trying from the proxy, which forwards it
    to a far end (10.253.2.2) that reads and never answers; the proxy resends it by Timer A
    (0.5, 1, 2, 4, 8, 16 s) and answers 408 at Timer B (32 s)."""
    proxy_in, proxy_out = udp("slsv-b", B1), udp("slsv-b", BC)
    silent, ua = udp("slsv-c", C), udp("slsv-a", A)
    cid = "timera@10.253.1.1"
    inv = request("INVITE", "sip:bob@example.test", A, "z9hG4bKta1", 1, cid, "ta", body=SDP_AUDIO.format(ip=A))
    send(ua, inv, B1)
    req, peer = recv(proxy_in)
    send(proxy_in, response(req, 100, "Trying"), peer[0], peer[1])
    lines = req.split("\r\n")
    fwd = "\r\n".join([lines[0], "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bKta1p" % BC] + lines[1:])
    fwd = fwd.replace("Max-Forwards: 70", "Max-Forwards: 69")
    start, wait = time.time(), 0.5
    while time.time() - start < 32:
        proxy_out.sendto(fwd.encode(), (C, 5060))
        time.sleep(max(0.0, min(wait, 32 - (time.time() - start))))
        wait *= 2
    send(proxy_in, response(req, 408, "Request Timeout", to_tag="px9"), peer[0], peer[1])
    recv(ua)
    recv(ua)
    send(ua, request("ACK", "sip:bob@example.test", A, "z9hG4bKta1", 1, cid, "ta", to_tag="px9"), B1)
    time.sleep(0.5)
    silent.close()


def sc_tcp_reuse_486():
    """A UA (10.253.2.2) registers over TCP from port 40123 and keeps the connection; the proxy
    sends it an INVITE on that connection and the UA answers 486 Busy Here on it (from 40123)."""
    with Netns("slsv-b"):
        lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind((BC, 5060))
        lst.listen(1)
    with Netns("slsv-c"):
        cli = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        cli.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        cli.bind((C, 40123))
    cli.connect((BC, 5060))
    conn, _ = lst.accept()
    reg = request("REGISTER", "sip:example.test", C, "z9hG4bKtr1", 1, "tcpreg@10.253.2.2", "t1",
                  to_uri="sip:carol@example.test", extra="Expires: 600", transport="TCP")
    time.sleep(PACE)
    cli.sendall(reg.encode())
    req = conn.recv(65535).decode()
    time.sleep(PACE)
    conn.sendall(response(req, 200, "OK", to_tag="rg1", extra="Contact: <sip:carol@10.253.2.2:5060>;expires=600")
                 .encode())
    cli.recv(65535)
    time.sleep(0.5)
    inv = request("INVITE", "sip:carol@10.253.2.2:5060;transport=tcp", BC, "z9hG4bKtr2", 1, "tcp486@10.253.2.1",
                  "p1", to_uri="sip:carol@example.test", body=SDP_AUDIO.format(ip=BC), transport="TCP")
    conn.sendall(inv.encode())
    req = cli.recv(65535).decode()
    time.sleep(PACE)
    cli.sendall(response(req, 100, "Trying").encode())
    time.sleep(PACE)
    cli.sendall(response(req, 486, "Busy Here", to_tag="c486").encode())
    conn.recv(65535)
    time.sleep(PACE)
    conn.sendall(request("ACK", "sip:carol@10.253.2.2:5060;transport=tcp", BC, "z9hG4bKtr2", 1, "tcp486@10.253.2.1",
                         "p1", to_tag="c486", to_uri="sip:carol@example.test", transport="TCP").encode())
    time.sleep(0.5)
    cli.close()
    conn.close()
    lst.close()
    time.sleep(0.5)


SCENARIOS = {
    "invite-407-retry-403": sc_challenge_403,
    "invite-407-alone": sc_lone_challenge,
    "register-401-stale-200": sc_register_stale,
    "register-401-creds-401": sc_register_wrong,
    "reinvite-t38-488": sc_reinvite_488,
    "reinvite-hold-200": sc_reinvite_ok,
    "options-no-response-udp": sc_options_no_response,
    "invite-cancel-after-180": sc_cancel_after_ringing,
    "invite-503-failover-200": sc_srv_failover,
    "invite-timer-a-408-proxy": sc_timer_a_408,
    "tcp-reused-conn-486": sc_tcp_reuse_486,
}


def capture(outdir, name, fn):
    topology_down()
    topology_up()
    tmp = tempfile.mkdtemp(prefix="slsv-")
    path = os.path.join(tmp, name + ".pcap")
    td = subprocess.Popen(["ip", "netns", "exec", "slsv-b", "tcpdump", "-i", "any", "-B", "32768", "-s", "65535",
                           "-U", "-w", path, "udp or tcp"], stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        fn()
        time.sleep(0.5)
    finally:
        td.terminate()
        err = td.communicate()[1]
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
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "testdata", "sipverdicts")
    names = sys.argv[2:] or list(SCENARIOS)
    os.makedirs(outdir, exist_ok=True)
    for n in names:
        capture(outdir, n, SCENARIOS[n])


if __name__ == "__main__":
    main()
