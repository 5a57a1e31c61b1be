#!/usr/bin/env python3
"""make_scenarios.py - one real capture per failure scenario of
the verdict contract (docs/json.md; SCENARIOS.md of the brief) (plus healthy baselines) into testdata/scenarios/.

Run as root:  sudo python3 tests/captures/make_scenarios.py [OUTDIR] [NAME...]

Topology (built afresh for every capture, removed in a finally block; nothing
leaves the namespaces, IPv6 is disabled, MACs and neighbour entries static):

  slscn-caller      slscn-expc             slscn-expe              slscn-fw               slscn-far
  10.252.1.1 ---- 10.252.1.2 | 10.252.2.1 ---- 10.252.2.2 | 10.252.3.1 ---- 10.252.3.2 | 10.252.4.1 ---- 10.252.4.2
  caller / CUCM    "Expressway-C" proxy    "Expressway-E" proxy    firewall (iptables,     far end / cloud
                                           CAPTURE POINT           RST injection)          DNS at 10.252.4.53

tcpdump runs in slscn-expe on "any" (Linux cooked headers, like a capture taken
on an Expressway-E), so it sees the C->E hop and the E->far hop of each call.
SIP is hand-written Python over the kernel's TCP/UDP: a caller UA, a small
two-hop proxy (this file, role "proxy": pushes a Via with egress-zone,
ingress-zone and proxy-call-id, keeps Call-ID, Session-ID and X-TAATag,
rewrites Contact), and a far-end UA.  TLS is real `openssl s_server` /
`s_client` with the certificates of tests/captures/tls/ (made by
make_tls_captures.sh; reused as they are).  Every send is paced (PACE) so each
segment is ACKed on its own and frame numbers do not move between runs.

Each capture F gets F.tshark.tsv beside it (tests/captures/make_oracle.sh).
The expected verdicts are in testdata/scenarios/EXPECTED.tsv: verdict,
rejected_by and role from the EXPECT table below, evidence frame numbers read
back from each capture with tshark display filters (`--expected` redoes it).
"""
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CERTS = os.path.join(HERE, "tls")
ORACLE = os.path.join(HERE, "make_oracle.sh")

NS = ["slscn-caller", "slscn-expc", "slscn-expe", "slscn-fw", "slscn-far"]
CALLER, C_IN, C_OUT, E_IN, E_OUT, FW_IN, FW_OUT, FAR = (
    "10.252.1.1", "10.252.1.2", "10.252.2.1", "10.252.2.2", "10.252.3.1", "10.252.3.2",
    "10.252.4.1", "10.252.4.2")
DNS = "10.252.4.53"
# (ns a, if a, ip a, ns b, if b, ip b) for each veth pair
LINKS = [
    ("slscn-caller", "cl0", CALLER, "slscn-expc", "c1", C_IN),
    ("slscn-expc", "c2", C_OUT, "slscn-expe", "e1", E_IN),
    ("slscn-expe", "e2", E_OUT, "slscn-fw", "f1", FW_IN),
    ("slscn-fw", "f2", FW_OUT, "slscn-far", "r1", FAR),
]
ROUTES = {
    "slscn-caller": [("default", C_IN)],
    "slscn-expc": [("default", E_IN)],
    "slscn-expe": [("10.252.1.0/24", C_OUT), ("default", FW_IN)],
    "slscn-fw": [("10.252.0.0/16", E_OUT)],
    "slscn-far": [("default", FW_OUT)],
}
# Before every send, so the peer's ACK of the previous segment goes first
# (delayed ACK is 40 ms) and the end points' sends never race the proxies'
# relaying: proxies wait PACE, user agents UA_PACE.
PACE = 0.1
UA_PACE = 0.35

# ---------------------------------------------------------------- SIP text

SESSION_ID = "3a5b7c9d00105000a000%012x;remote=00000000000000000000000000000000"
TAATAG = "c0ffee00-5c3a-4d1e-9b7a-%012x"


def ident(*parts):
    """A stable hex string for branches, tags and ids: no randomness between runs."""
    return hashlib.sha1("/".join(str(p) for p in parts).encode()).hexdigest()


def uuid_of(*parts):
    h = ident(*parts)
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:32])


def build(first, headers, body=b""):
    if isinstance(body, str):
        body = body.encode()
    hs = [h for h in headers if not h.lower().startswith("content-length:")]
    text = first + "\r\n" + "".join(h + "\r\n" for h in hs)
    text += "Content-Length: %d\r\n\r\n" % len(body)
    return text.encode() + body


def parse(m):
    head, _, body = m.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    return lines[0], lines[1:], body


def hget(headers, name):
    for h in headers:
        n, _, v = h.partition(":")
        if n.strip().lower() == name.lower():
            return v.strip()
    return None


def is_request(first):
    return not first.startswith("SIP/2.0")


def method_of(first, headers):
    if is_request(first):
        return first.split(" ", 1)[0]
    return hget(headers, "CSeq").split()[1]


def status_of(first):
    return int(first.split()[1])


def sdp(host, codecs="g711", bw=None, port=49170, refuse=False):
    lines = ["v=0", "o=- 4711 1 IN IP4 %s" % host, "s=-", "c=IN IP4 %s" % host]
    if bw:
        lines.append("b=AS:%d" % bw)
    lines.append("t=0 0")
    if refuse:
        lines += ["m=audio 0 RTP/AVP 18", "a=rtpmap:18 G729/8000"]
    elif codecs == "g729":
        lines += ["m=audio %d RTP/AVP 18 101" % port, "a=rtpmap:18 G729/8000", "a=fmtp:18 annexb=no",
                  "a=rtpmap:101 telephone-event/8000", "a=sendrecv"]
    else:
        lines += ["m=audio %d RTP/AVP 0 8 101" % port, "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
                  "a=rtpmap:101 telephone-event/8000", "a=sendrecv"]
    return "\r\n".join(lines) + "\r\n"


def response(req, code, reason, to_tag=None, extra=(), body=b"", ctype="application/sdp"):
    """A response copying the request's Via, From, To, Call-ID, CSeq."""
    _, headers, _ = parse(req)
    out = []
    for h in headers:
        name = h.split(":", 1)[0].strip().lower()
        if name in ("via", "from", "call-id", "cseq", "session-id", "x-taatag"):
            out.append(h)
        elif name == "to":
            if to_tag and ";tag=" not in h:
                h += ";tag=" + to_tag
            out.append(h)
    out += list(extra)
    if body:
        out.append("Content-Type: " + ctype)
    return build("SIP/2.0 %d %s" % (code, reason), out, body)


# ---------------------------------------------------------------- transports

class Leg:
    """One SIP hop: a TCP connection or a UDP socket with a fixed peer."""

    def __init__(self, sock, udp=False, peer=None):
        self.sock, self.udp, self.peer = sock, udp, peer
        self.buf = b""
        self.lock = threading.Lock()

    def send(self, m):
        time.sleep(PACE)
        with self.lock:
            if self.udp:
                self.sock.sendto(m, self.peer)
                return
            # A big message goes one MSS (1448 with timestamps) at a time,
            # 20 ms apart: otherwise the peer's ACKs interleave with the
            # back-to-back segments differently on every run.
            for i in range(0, len(m), 1448):
                if i:
                    time.sleep(0.02)
                self.sock.sendall(m[i:i + 1448])

    def recv(self, timeout=None):
        """One message, or None on EOF / timeout / reset."""
        self.sock.settimeout(timeout)
        try:
            if self.udp:
                m, peer = self.sock.recvfrom(65535)
                if self.peer is None:
                    self.peer = peer
                return m
            while True:
                while self.buf.startswith(b"\r\n"):
                    self.buf = self.buf[2:]
                end = self.buf.find(b"\r\n\r\n")
                if end >= 0:
                    _, headers, _ = parse(self.buf[:end + 4])
                    cl = int(hget(headers, "Content-Length") or 0)
                    total = end + 4 + cl
                    if len(self.buf) >= total:
                        m, self.buf = self.buf[:total], self.buf[total:]
                        return m
                data = self.sock.recv(65536)
                if not data:
                    return None
                self.buf += data
        except (socket.timeout, ConnectionResetError):
            return None

    def close(self):
        if self.sock.fileno() < 0:
            return
        time.sleep(PACE)
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # FIN now, even if a thread is blocked in recv
        except OSError:
            pass
        self.sock.close()


def tcp_listen(ip, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, port))
    s.listen(4)
    return s


def tcp_connect(src, sport, dst, dport, syncnt=None):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if syncnt is not None:
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, syncnt)
    c.bind((src, sport))
    c.connect((dst, dport))
    return c


def accept_leg(listener, timeout=30):
    listener.settimeout(timeout)
    try:
        conn, _ = listener.accept()
    except socket.timeout:
        return None
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return Leg(conn)


def udp_leg(ip, port, peer=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, port))
    return Leg(s, udp=True, peer=peer)


def reset_close(sock):
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


# ---------------------------------------------------------------- DNS

def dns_query(server, name, qtype=33, sport=53000, qid=0x5c01):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack("!HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((E_OUT, sport))
    s.settimeout(3)
    time.sleep(PACE)
    s.sendto(q, (server, 53))
    try:
        r, _ = s.recvfrom(4096)
    except socket.timeout:
        return None
    finally:
        s.close()
    return r


def dns_parse_srv(r):
    """(rcode, [(prio, weight, port, target)])."""
    _, flags, qd, an, _, _ = struct.unpack("!HHHHHH", r[:12])
    pos = 12

    def skip_name(p):
        while True:
            ln = r[p]
            if ln == 0:
                return p + 1
            if ln & 0xC0:
                return p + 2
            p += ln + 1

    def read_name(p):
        out = []
        while True:
            ln = r[p]
            if ln == 0:
                return ".".join(out)
            if ln & 0xC0:
                return ".".join(out + [read_name(((ln & 0x3F) << 8) | r[p + 1])])
            out.append(r[p + 1:p + 1 + ln].decode())
            p += ln + 1

    for _ in range(qd):
        pos = skip_name(pos) + 4
    srv = []
    for _ in range(an):
        pos = skip_name(pos)
        rtype, _, _, rdlen = struct.unpack("!HHIH", r[pos:pos + 10])
        pos += 10
        if rtype == 33:
            prio, weight, port = struct.unpack("!HHH", r[pos:pos + 6])
            srv.append((prio, weight, port, read_name(pos + 6)))
        pos += rdlen
    return flags & 0xF, srv


def encode_name(name):
    return b"".join(bytes([len(x)]) + x.encode() for x in name.split(".")) + b"\x00"


def dns_server(mode):
    """Answer one SRV query: NXDOMAIN, or _sips._tcp.example.com -> far.example.com:5061."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((DNS, 53))
    s.settimeout(30)
    q, peer = s.recvfrom(4096)
    qid = struct.unpack("!H", q[:2])[0]
    end = 12
    while q[end] != 0:
        end += q[end] + 1
    question = q[12:end + 5]
    if mode == "nxdomain":
        soa = (encode_name("example.com") + struct.pack("!HHIH", 6, 1, 300, 0))
        rdata = encode_name("ns.example.com") + encode_name("hostmaster.example.com") + \
            struct.pack("!IIIII", 2026112101, 3600, 600, 86400, 300)
        soa = soa[:-2] + struct.pack("!H", len(rdata)) + rdata
        r = struct.pack("!HHHHHH", qid, 0x8183, 1, 0, 1, 0) + question + soa
    else:
        target = encode_name("far.example.com")
        ans = b"\xc0\x0c" + struct.pack("!HHIH", 33, 1, 300, 6 + len(target)) + \
            struct.pack("!HHH", 10, 10, 5061) + target
        add = target + struct.pack("!HHIH", 1, 1, 300, 4) + socket.inet_aton(FAR)
        r = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 1) + question + ans + add
    time.sleep(PACE)
    s.sendto(r, peer)
    s.close()


# ---------------------------------------------------------------- proxy

class Proxy:
    """A two-leg relay like one Expressway hop: every message from one leg goes
    to the other with a Via pushed (requests) or popped (responses)."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.name = cfg["name"]
        self.inb = None
        self.outb = None
        self.done = threading.Event()
        self.local_finals = set()  # CSeq numbers this hop answered itself
        self.pending = {}  # (leg id, branch) -> (message, answered Event) for UDP retransmission

    def my_via(self, leg_out, upstream_branch):
        c = self.cfg
        ip, port, transport = (c["out_ip"], c["out_port"], c["out_tr"]) if leg_out == "out" else \
            (c["in_ip"], c["in_port"], c["in_tr"])
        zone_e, zone_i = (c["out_zone"], c["in_zone"]) if leg_out == "out" else (c["in_zone"], c["out_zone"])
        return "Via: SIP/2.0/%s %s:%d;egress-zone=%s;ingress-zone=%s;branch=z9hG4bK%s;proxy-call-id=%s;rport" % (
            transport.upper(), ip, port, zone_e, zone_i, ident(self.name, upstream_branch)[:32],
            uuid_of(self.name, "proxy-call-id", c["scenario"]))

    def rewrite(self, first, headers, toward, body):
        """Headers for the other leg: Via pushed/popped, Contact rewritten to
        this hop, Max-Forwards decremented; Call-ID, Session-ID, X-TAATag kept."""
        c = self.cfg
        out = []
        request = is_request(first)
        pushed = False
        popped = False
        ip, port, tr = (c["out_ip"], c["out_port"], c["out_tr"]) if toward == "out" else \
            (c["in_ip"], c["in_port"], c["in_tr"])
        for h in headers:
            name = h.split(":", 1)[0].strip().lower()
            if name == "via":
                if request and not pushed:
                    branch = h.split("branch=", 1)[1].split(";", 1)[0]
                    out.append(self.my_via(toward, branch))
                    pushed = True
                    if ";received=" not in h:
                        h += ";received=%s" % (c["prev_ip"][toward])
                elif not request and not popped:
                    popped = True
                    continue
            elif name == "max-forwards":
                h = "Max-Forwards: %d" % (int(h.split(":", 1)[1]) - 1)
            elif name == "contact":
                params = h.split(">", 1)[1] if ">" in h else ""
                if c.get("strip") and toward == "out":
                    params = ";".join(p for p in params.split(";") if not p.startswith("call-type="))
                h = "Contact: <sip:%s:%d;transport=%s>%s" % (ip, port, tr.lower(), params)
            out.append(h)
        return out

    def forward(self, m, toward):
        first, headers, body = parse(m)
        if toward == "out" and first.startswith("INVITE "):
            self.open_invite = m  # as received: its Via is the one to answer on
        elif toward == "in" and not is_request(first) and status_of(first) >= 200:
            self.open_invite = None
        leg = self.outb if toward == "out" else self.inb
        out = build(first, self.rewrite(first, headers, toward, body), body)
        if leg.udp and is_request(first) and method_of(first, headers) in ("INVITE", "BYE"):
            self.send_udp_request(leg, toward, first, headers, out)
        else:
            leg.send(out)

    def send_udp_request(self, leg, toward, first, headers, out):
        """RFC 3261 timer A: retransmit at 0.5, 1, 2, 4 s until a response;
        then give up with 408 toward the sender."""
        key = hget(headers, "CSeq")
        answered = threading.Event()
        self.pending[key] = answered
        leg.send(out)

        def timer():
            t = 0.5
            for _ in range(4):
                if answered.wait(t):
                    return
                leg.send(out)
                t *= 2
            if answered.wait(t):
                return
            back = self.inb if toward == "out" else self.outb
            orig = build(first, headers)
            self.local_finals.add(hget(headers, "CSeq").split()[0])
            back.send(response(orig, 408, "Request Timeout", extra=["Server: TANDBERG/4352 (X14.0.7)"]))
        threading.Thread(target=timer, daemon=True).start()

    def relay(self, src_leg, toward):
        other = "in" if toward == "out" else "out"
        while True:
            m = src_leg.recv()
            if m is None:
                break
            first, headers, _ = parse(m)
            if not is_request(first):
                ev = self.pending.get(hget(headers, "CSeq"))
                if ev:
                    ev.set()
            elif first.startswith("ACK ") and hget(headers, "CSeq").split()[0] in self.local_finals:
                continue  # the ACK of our own 408/503: hop by hop, not forwarded
            self.forward(m, toward)
        if src_leg is self.outb and getattr(self, "open_invite", None) is not None:
            # the next hop dropped the connection with our INVITE unanswered
            self.inb.send(response(self.open_invite, 503, "Service Unavailable",
                                   to_tag=ident(self.name, "tag")[:10],
                                   extra=["Server: TANDBERG/4352 (X14.0.7)"]))
            self.local_finals.add(hget(parse(self.open_invite)[1], "CSeq").split()[0])
            self.open_invite = None
            time.sleep(1.5)  # the caller's ACK arrives (and is absorbed) before we close
        # one leg ended: run() closes the other one first, then this one
        if not self.done.is_set():
            self.ended = src_leg
            self.done.set()
        del other

    def accept_new_outside(self):
        """The next hop opens a new connection to us (re-INVITE): from then on
        that connection carries the dialog outward, as on an Expressway."""
        leg = accept_leg(tcp_listen(self.cfg["out_ip"], self.cfg["reinvite_port"]), 20)
        if leg is None:
            return
        self.old_outb, self.outb = self.outb, leg
        self.relay(leg, "in")

    def reject(self, m, code, reason, extra=()):
        self.inb.send(response(m, code, reason, to_tag=ident(self.name, "tag")[:10],
                               extra=list(extra) + ["Server: TANDBERG/4352 (X14.0.7)"]))
        ack = self.inb.recv(timeout=5)  # the ACK of the error response
        del ack
        time.sleep(0.5)

    def run(self):
        c = self.cfg
        if c["in_tr"] == "tcp":
            self.inb = accept_leg(tcp_listen(c["in_ip"], c["in_port"]))
        else:
            self.inb = udp_leg(c["in_ip"], c["in_port"])
        first_msg = self.inb.recv(timeout=30)
        here = "%s:%d" % (c["in_ip"], c["in_port"])
        if c.get("policy"):
            self.reject(first_msg, 403, "Forbidden", ['Warning: 399 %s "Policy Response"' % here])
            self.inb.close()
            return
        dst = (c["next_ip"], c["next_port"])
        if c.get("dns"):
            r = dns_query(DNS, "_sips._tcp.example.com")
            rcode, srv = dns_parse_srv(r)
            if rcode != 0 or not srv:
                self.reject(first_msg, 404, "Not Found")
                self.inb.close()
                return
            dst = (FAR, srv[0][2])
        if c["out_tr"] == "tcp":
            try:
                sock = tcp_connect(c["out_ip"], c["out_port"], dst[0], dst[1])
            except ConnectionRefusedError:
                self.reject(first_msg, 503, "Service Unavailable")
                self.inb.close()
                return
            self.outb = Leg(sock)
        else:
            self.outb = udp_leg(c["out_ip"], c["out_port"], dst)
        self.forward(first_msg, "out")
        if c.get("reinvite_port"):
            threading.Thread(target=self.accept_new_outside, daemon=True).start()
        t1 = threading.Thread(target=self.relay, args=(self.inb, "out"), daemon=True)
        t2 = threading.Thread(target=self.relay, args=(self.outb, "in"), daemon=True)
        t1.start()
        t2.start()
        self.done.wait(c.get("life", 40))
        ended = getattr(self, "ended", self.inb)
        outs = [self.outb] + ([self.old_outb] if getattr(self, "old_outb", None) else [])
        order = outs + [self.inb] if ended is self.inb else [self.inb] + outs
        for leg in order:  # the live legs first, the one whose peer closed last
            # 0.5 s + PACE: longer than a user agent's UA_PACE answer to our FIN
            time.sleep(0.5)
            if not leg.udp:
                leg.close()


def proxy_cfg(name, scenario, **kw):
    if name == "C":
        cfg = dict(in_ip=C_IN, in_port=5060, in_tr="tcp", in_zone="CUCMNeighbor",
                   out_ip=C_OUT, out_port=25060, out_tr="tcp", out_zone="TraversalClient",
                   next_ip=E_IN, next_port=7001, prev_ip={"out": CALLER, "in": E_IN})
    else:
        cfg = dict(in_ip=E_IN, in_port=7001, in_tr="tcp", in_zone="TraversalServer",
                   out_ip=E_OUT, out_port=25061, out_tr="tcp", out_zone="WebexDNSZone",
                   next_ip=FAR, next_port=5060, prev_ip={"out": C_OUT, "in": FAR})
    cfg.update(name=name, scenario=scenario)
    cfg.update(kw)
    return cfg


# ---------------------------------------------------------------- caller UA

def caller_invite(sc, cseq=1, method="INVITE", body=None, branch=None, to_tag=None, codecs="g711",
                  bw=None, contact_params="", extra=()):
    call_id = "%s@%s" % (ident(sc, "call-id")[:24], CALLER)
    hdrs = [
        "Via: SIP/2.0/TCP %s:5062;branch=z9hG4bK%s;rport" % (CALLER, branch or ident(sc, cseq, method)[:24]),
        "Max-Forwards: 70",
        "From: \"Alice\" <sip:alice@cucm.example.org>;tag=%s" % ident(sc, "from-tag")[:10],
        "To: <sip:bob@example.com>" + (";tag=" + to_tag if to_tag else ""),
        "Call-ID: " + call_id,
        "CSeq: %d %s" % (cseq, method),
        "Contact: <sip:alice@%s:5062;transport=tcp>%s" % (CALLER, contact_params),
        "Session-ID: " + SESSION_ID % int(ident(sc)[:12], 16),
        "X-TAATag: " + TAATAG % int(ident(sc, "taa")[:12], 16),
        "User-Agent: Cisco-CUCM14.0",
    ]
    hdrs += list(extra)
    if body is None and method == "INVITE":
        body = sdp(CALLER, codecs=codecs, bw=bw)
    if body:
        hdrs.append("Content-Type: application/sdp")
    return build("%s sip:bob@example.com SIP/2.0" % method, hdrs, body or b"")


def wait_final(leg, timeout=30):
    """Responses until a final one; returns (final, [provisionals])."""
    prov = []
    while True:
        m = leg.recv(timeout=timeout)
        if m is None:
            return None, prov
        first, headers, _ = parse(m)
        if is_request(first):
            continue
        if status_of(first) >= 200:
            return m, prov
        prov.append(m)


def to_tag_of(m):
    to = hget(parse(m)[1], "To")
    return to.split(";tag=", 1)[1].split(";")[0] if ";tag=" in to else None


def ack_for(sc, inv_branch, final, ok):
    tag = to_tag_of(final)
    return caller_invite(sc, 1, "ACK", body=b"", branch=(ident(sc, 1, "ACK2xx")[:24] if ok else inv_branch),
                         to_tag=tag)


def caller(sc):
    leg = Leg(tcp_connect(CALLER, 5062, C_IN, 5060))
    branch = ident(sc, 1, "INVITE")[:24]
    kw = {}
    if sc == "sip.bandwidth_reject":
        kw["bw"] = 384
    elif sc == "sip.codec_refused":
        kw["codecs"] = "g729"
    elif sc == "sip.param_stripped":
        kw["contact_params"] = ";call-type=squared"
    elif sc == "sip.oversize_reset":
        kw["extra"] = ["X-Padding-%02d: %s" % (i, ident(sc, i) * 2) for i in range(60)]
    if sc.startswith("sip.register"):
        register_flow(sc, leg)
        return
    if sc == "sip.no_final_response":
        inv = caller_invite(sc, body=b"")
        leg.send(inv)
        prov = []
        deadline = time.time() + 3.0
        while time.time() < deadline:
            m = leg.recv(timeout=max(0.05, deadline - time.time()))
            if m:
                prov.append(m)
        leg.send(caller_invite(sc, 1, "CANCEL", body=b"", branch=branch))
        got = []
        while len(got) < 2:
            m = leg.recv(timeout=10)
            if m is None:
                break
            got.append(m)
            if m.startswith(b"SIP/2.0 487"):
                leg.send(ack_for(sc, branch, m, False))
        time.sleep(0.5)
        leg.close()
        return
    inv = caller_invite(sc, **kw)
    if sc == "sip.oversize_reset":
        assert len(inv) > 5000, len(inv)
    leg.send(inv)
    final, _ = wait_final(leg)
    if final is None:
        leg.close()
        return
    ok = final.startswith(b"SIP/2.0 2")
    leg.send(ack_for(sc, branch, final, ok))
    tag = to_tag_of(final)
    if not ok:
        time.sleep(0.5)
        leg.close()
        return
    if sc == "sip.codec_refused":
        bye = leg.recv(timeout=10)  # BYE with Reason: Q.850;cause=47
        if bye:
            leg.send(response(bye, 200, "OK"))
        time.sleep(0.5)
        leg.close()
        return
    if sc == "sip.refresh_lost":
        time.sleep(1.5)  # the firewall closes the pinhole meanwhile (orchestrator)
        reinv = caller_invite(sc, 2, "INVITE", to_tag=tag, extra=["Session-Expires: 1800;refresher=uac"])
        leg.send(reinv)
        final, _ = wait_final(leg, timeout=20)
        if final is not None:
            leg.send(caller_invite(sc, 2, "ACK", body=b"", branch=ident(sc, 2, "INVITE")[:24], to_tag=tag))
        time.sleep(0.5)
        leg.close()
        return
    if sc == "healthy-call-reinvite-new-conn":
        reinv = leg.recv(timeout=10)  # the far end's re-INVITE, relayed
        leg.send(response(reinv, 200, "OK", None, ["Contact: <sip:alice@%s:5062;transport=tcp>" % CALLER],
                          sdp(CALLER)))
        leg.recv(timeout=10)  # its ACK
    time.sleep(1.0)
    leg.send(caller_invite(sc, 2, "BYE", body=b"", to_tag=tag,
                           extra=['Reason: Q.850;cause=16;text="Normal call clearing"']))
    wait_final(leg, timeout=10)
    time.sleep(0.5)
    leg.close()


def register_msg(sc, cseq, auth):
    hdrs = [
        "Via: SIP/2.0/TCP %s:5062;branch=z9hG4bK%s;rport" % (CALLER, ident(sc, cseq, "REGISTER")[:24]),
        "Max-Forwards: 70",
        "From: <sip:mra01@example.com>;tag=%s" % ident(sc, "reg-tag")[:10],
        "To: <sip:mra01@example.com>",
        "Call-ID: %s@%s" % (ident(sc, "reg-call")[:24], CALLER),
        "CSeq: %d REGISTER" % cseq,
        "Contact: <sip:mra01@%s:5062;transport=tcp>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-00505696779a>\";"
        "+u.sip!devicename.ccm.cisco.com=\"CSFMRA01\";x-cisco-mra-ha=AR_SK;reg-id=1" % CALLER,
        "Supported: replaces,X-cisco-srtp-fallback,x-cisco-mra-ha=AR_SK",
        "User-Agent: Cisco-UCM-Jabber/14.3",
        "Expires: 3600",
    ]
    if auth:
        hdrs.append("Authorization: Digest username=\"mra01\", realm=\"ccmsipline\", "
                    "nonce=\"%s\", uri=\"sip:example.com\", response=\"%s\", algorithm=MD5"
                    % (ident(sc, "nonce")[:32], ident(sc, "resp")[:32]))
    return build("REGISTER sip:example.com SIP/2.0", hdrs)


def register_flow(sc, leg):
    leg.send(register_msg(sc, 101, False))
    wait_final(leg)
    leg.send(register_msg(sc, 102, True))
    wait_final(leg)
    time.sleep(0.5)
    leg.close()


# ---------------------------------------------------------------- far end UA

def far(sc, transport="tcp"):
    if transport == "udp":
        leg = udp_leg(FAR, 5060)
    else:
        lst = tcp_listen(FAR, 5060 if sc != "dns.srv_port_mismatch" else 5062)
        if sc == "dns.srv_port_mismatch":
            time.sleep(15)  # listening on 5062 while the SRV record says 5061
            return
        leg = accept_leg(lst, 12)
        if leg is None:  # the call never got this far (policy, DNS)
            return
    tag = ident(sc, "far-tag")[:10]
    server = "Server: Cisco-SIPGateway/Webex"
    if sc == "sip.oversize_reset":
        # Read the whole oversized INVITE, then drop the connection with RST.
        leg.recv(timeout=10)
        time.sleep(0.3)
        reset_close(leg.sock)
        return
    while True:
        m = leg.recv(timeout=25)
        if m is None:
            break
        first, headers, _ = parse(m)
        if not is_request(first):
            continue
        meth = method_of(first, headers)
        if meth == "REGISTER":
            if hget(headers, "Authorization") is None:
                leg.send(response(m, 401, "Unauthorized", tag, [
                    "WWW-Authenticate: Digest realm=\"ccmsipline\", nonce=\"%s\", algorithm=MD5" % ident(sc, "nonce")[:32],
                    "Server: Cisco-CUCM14.0"]))
            elif sc == "sip.register.ok":
                leg.send(response(m, 200, "OK", tag, [
                    "Contact: <sip:mra01@%s:5062;transport=tcp>;x-cisco-mra-ha=AR_SK;expires=120" % E_OUT,
                    "Expires: 120", "Server: Cisco-CUCM14.0",
                    "Supported: X-cisco-srtp-fallback,X-cisco-sis-9.2.0,X-cisco-supports-AR_SK"]))
            else:
                leg.send(response(m, 403, "Forbidden", tag, ["Server: Cisco-CUCM14.0"]))
        elif meth == "INVITE" and hget(headers, "CSeq").startswith("1 "):
            leg.send(response(m, 100, "Trying", extra=[server]))
            contact = "Contact: <sip:bob@%s:5060;transport=%s>" % (FAR, transport)
            if sc.startswith("sip.response."):
                code = int(sc.rsplit(".", 1)[1])
                reason = {404: "Not Found", 486: "Busy Here", 503: "Service Unavailable"}[code]
                leg.send(response(m, code, reason, tag, [server]))
            elif sc == "sip.bandwidth_reject":
                leg.send(response(m, 404, "Not Found", tag, [server]))
            elif sc == "sip.param_stripped":
                leg.send(response(m, 480, "Temporarily Unavailable", tag, [server]))
            elif sc == "sip.no_final_response":
                continue
            elif sc == "sip.codec_refused":
                leg.send(response(m, 200, "OK", tag, [contact, server], sdp(FAR, refuse=True)))
            else:
                leg.send(response(m, 180, "Ringing", tag, [contact, server]))
                time.sleep(0.3)
                leg.send(response(m, 200, "OK", tag, [contact, server], sdp(FAR, port=30000)))
            if sc == "healthy-call-reinvite-new-conn":
                leg.recv(timeout=10)  # ACK
                far_reinvite_new_conn(sc, m, tag, leg)
                return
            if sc == "sip.codec_refused":
                leg.recv(timeout=10)  # ACK
                time.sleep(0.5)
                _, ih, _ = parse(m)
                bye = [
                    "Via: SIP/2.0/%s %s:5060;branch=z9hG4bK%s;rport" % (transport.upper(), FAR, ident(sc, "bye")[:24]),
                    "Max-Forwards: 70",
                    "From: " + hget(ih, "To") + ";tag=" + tag,
                    "To: " + hget(ih, "From"),
                    "Call-ID: " + hget(ih, "Call-ID"),
                    "CSeq: 1 BYE",
                    "Session-ID: " + hget(ih, "Session-ID"),
                    "X-TAATag: " + hget(ih, "X-TAATag"),
                    "Reason: Q.850;cause=47;text=\"Resource unavailable, unspecified\"",
                    server,
                ]
                leg.send(build("BYE sip:alice@%s:25061 SIP/2.0" % E_OUT, bye))
        elif meth == "CANCEL":
            leg.send(response(m, 200, "OK", tag, [server]))
            inv = m.replace(b"CANCEL", b"INVITE")
            leg.send(response(inv, 487, "Request Terminated", tag, [server]))
        elif meth in ("BYE",):
            leg.send(response(m, 200, "OK", None, [server]))
            if transport == "udp":
                break
    time.sleep(0.3)
    leg.close()


def far_reinvite_new_conn(sc, inv, tag, old):
    """Like the cloud: a session refresh re-INVITE on a NEW connection to the
    E's 5061; then the BYE comes back on that connection."""
    _, ih, _ = parse(inv)
    server = "Server: Cisco-SIPGateway/Webex"
    time.sleep(0.5)
    new = Leg(tcp_connect(FAR, 40100, E_OUT, 5061))
    hdrs = [
        "Via: SIP/2.0/TCP %s:5060;branch=z9hG4bK%s;rport" % (FAR, ident(sc, "reinvite")[:24]),
        "Max-Forwards: 70",
        "From: " + hget(ih, "To") + ";tag=" + tag,
        "To: " + hget(ih, "From"),
        "Call-ID: " + hget(ih, "Call-ID"),
        "CSeq: 101 INVITE",
        "Contact: <sip:bob@%s:5060;transport=tcp>" % FAR,
        "Session-ID: " + hget(ih, "Session-ID"),
        "X-TAATag: " + hget(ih, "X-TAATag"),
        "Session-Expires: 1800;refresher=uas",
        server,
        "Content-Type: application/sdp",
    ]
    new.send(build("INVITE sip:alice@%s:5061;transport=tcp SIP/2.0" % E_OUT, hdrs, sdp(FAR, port=30000)))
    final, _ = wait_final(new)
    hdrs = [h for h in hdrs if not h.startswith(("Content-Type", "Session-Expires"))]
    hdrs = ["To: " + hget(parse(final)[1], "To") if h.startswith("To:") else h for h in hdrs]
    hdrs = ["CSeq: 101 ACK" if h.startswith("CSeq:") else h for h in hdrs]
    hdrs[0] = "Via: SIP/2.0/TCP %s:5060;branch=z9hG4bK%s;rport" % (FAR, ident(sc, "reinvite-ack")[:24])
    new.send(build("ACK sip:alice@%s:5061;transport=tcp SIP/2.0" % E_OUT, hdrs))
    bye = new.recv(timeout=15)
    new.send(response(bye, 200, "OK", None, [server]))
    new.recv(timeout=15)  # EOF: the E closes the new connection first
    new.close()
    old.recv(timeout=15)  # then the original one
    old.close()


# ---------------------------------------------------------------- TCP/TLS at the E

def e_client(sc):
    """The E as a client of the far end (what an Expressway-E does toward the cloud)."""
    if sc == "tcp.no_answer":
        try:
            tcp_connect(E_OUT, 40000, FAR, 5062, syncnt=2)
        except OSError:
            pass
        return
    if sc == "tcp.refused":
        try:
            tcp_connect(E_OUT, 40000, FAR, 5062)
        except ConnectionRefusedError:
            pass
        return
    # tcp.reset, tcp.reset-injected: OPTIONS ping, 200 OK, then the RST.
    leg = Leg(tcp_connect(E_OUT, 40000, FAR, 5060))
    leg.send(options_msg(sc))
    leg.recv(timeout=5)
    m = leg.recv(timeout=10)  # the RST ends this
    assert m is None
    leg.close()


def options_msg(sc):
    return build("OPTIONS sip:%s:5060;transport=tcp SIP/2.0" % FAR, [
        "Via: SIP/2.0/TCP %s:40000;egress-zone=WebexDNSZone;branch=z9hG4bK%s;rport" % (E_OUT, ident(sc, "opt")[:24]),
        "Call-ID: %s@%s" % (ident(sc, "opt-call")[:24], E_OUT),
        "CSeq: 1 OPTIONS",
        "From: <sip:%s>;tag=%s" % (E_OUT, ident(sc, "opt-tag")[:10]),
        "To: <sip:%s:5060>" % FAR,
        "Max-Forwards: 70",
        "User-Agent: TANDBERG/4352 (X14.0.7)",
    ])


def far_tcp(sc):
    lst = tcp_listen(FAR, 5060)
    leg = accept_leg(lst)
    m = leg.recv(timeout=10)
    leg.send(response(m, 200, "OK", ident(sc, "far-tag")[:10], ["Server: Cisco-SIPGateway/Webex"]))
    if sc == "tcp.reset":
        time.sleep(1.0)
        reset_close(leg.sock)
        return
    leg.recv(timeout=10)  # the injected RST ends this
    leg.close()


def csum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def raw_rst(src, sport, dst, dport, seq, ttl, ip_id):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x04, 0, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ip_id, 0x4000, ttl, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    s.sendto(ip + tcp, (dst, 0))
    s.close()


def injector():
    """In the firewall: watch the far end's 200 OK go by, then reset both
    sides with sequence numbers taken from it (TTL 128, IP-ID 0x1234: not the
    far end's)."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    s.bind(("f2", 0))
    s.settimeout(20)
    while True:
        frame = s.recv(65535)
        ip = frame[14:]
        if ip[9] != 6:
            continue
        ihl = (ip[0] & 0xF) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        tcp = ip[ihl:total]
        sport, dport, seq, ack = struct.unpack("!HHII", tcp[:12])
        doff = (tcp[12] >> 4) * 4
        payload = tcp[doff:]
        if socket.inet_ntoa(ip[12:16]) == FAR and sport == 5060 and payload.startswith(b"SIP/2.0 200"):
            break
    s.close()
    time.sleep(1.0)
    raw_rst(FAR, 5060, E_OUT, dport, (seq + len(payload)) & 0xFFFFFFFF, 128, 0x1234)
    raw_rst(E_OUT, dport, FAR, 5060, ack, 128, 0x1235)


def tls_closer():
    """A TLS 1.2 client that sends a genuine ClientHello (from ssl.MemoryBIO),
    reads the server's flight up to ServerHelloDone and drops the connection
    with RST, no alert (what an Expressway-E does when the peer's certificate
    names the wrong host; a FIN would make OpenSSL's server answer with a
    decode_error alert of its own)."""
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, outg, server_hostname="server.test")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outg.read()
    c = tcp_connect(E_OUT, 40000, FAR, 5062)
    time.sleep(PACE)
    c.sendall(hello)
    buf = b""
    c.settimeout(5)
    seen_done = False
    while not seen_done:
        data = c.recv(65536)
        if not data:
            break
        buf += data
        pos = 0
        while pos + 5 <= len(buf):
            ln = struct.unpack("!H", buf[pos + 3:pos + 5])[0]
            if pos + 5 + ln > len(buf):
                break
            if buf[pos] == 22 and buf[pos + 5:pos + 6] == b"\x0e":
                seen_done = True
            # several handshake messages may share a record
            rec = buf[pos + 5:pos + 5 + ln]
            i = 0
            while buf[pos] == 22 and i + 4 <= len(rec):
                if rec[i] == 14:
                    seen_done = True
                i += 4 + int.from_bytes(rec[i + 1:i + 4], "big")
            pos += 5 + ln
    time.sleep(0.3)
    reset_close(c)


TLS_SERVER = {  # name -> (s_server args, s_client args)
    "tls.alert.unknown_ca": (
        "-tls1_2 -cert server.crt -key server.key -cert_chain inter.crt",
        "-tls1_2 -servername server.test -CAfile other.crt -verify_return_error"),
    "tls.alert.certificate_expired": (
        "-tls1_2 -cert expired.crt -key expired.key -cert_chain inter.crt",
        "-tls1_2 -servername server.test -CAfile root.crt -verify_return_error"),
    "tls.alert.bad_certificate": (
        "-tls1_2 -cert wrong.crt -key wrong.key -cert_chain inter.crt",
        "-tls1_2 -servername server.test -verify_hostname server.test -CAfile root.crt -verify_return_error"),
    "tls.alert.handshake_failure": (
        "-tls1_2 -cert server.crt -key server.key -cert_chain inter.crt -Verify 2 -verify_return_error -CAfile root.crt",
        "-tls1_2 -servername server.test -CAfile root.crt"),
    "tls.alert.unknown_ca-server": (
        "-tls1_2 -cert server.crt -key server.key -cert_chain inter.crt -Verify 2 -verify_return_error -CAfile root.crt",
        "-tls1_2 -servername server.test -cert stranger.crt -key stranger.key -CAfile root.crt"),
    "healthy-tls12-mutual": (
        "-tls1_2 -cert server.crt -key server.key -cert_chain inter.crt -Verify 2 -verify_return_error -CAfile root.crt",
        "-tls1_2 -servername server.test -cert client.crt -key client.key -cert_chain inter.crt "
        "-CAfile root.crt -verify_return_error"),
    "tls.closed_after_certificate": (
        "-tls1_2 -cert wrong.crt -key wrong.key -cert_chain inter.crt", None),
}


CLIENT_ALERTS = {  # alert sent by the client: the server is Python's ssl (OpenSSL), which closes 0.5 s later
    "tls.alert.unknown_ca": ("server.crt", "server.key"),
    "tls.alert.certificate_expired": ("expired.crt", "expired.key"),
    "tls.alert.bad_certificate": ("wrong.crt", "wrong.key"),
}


def py_tls_server(cert, key):
    """A TLS 1.2 server that, after the client's fatal alert, waits 0.5 s
    before closing, so the client's FIN always comes first (s_server closes at
    once and races the client)."""
    import ssl
    chain = tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False)
    with open(os.path.join(CERTS, cert)) as a, open(os.path.join(CERTS, "inter.crt")) as b:
        chain.write(a.read() + b.read())
    chain.close()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(chain.name, os.path.join(CERTS, key))
    os.unlink(chain.name)
    lst = tcp_listen(FAR, 5062)
    lst.settimeout(15)
    conn, _ = lst.accept()
    tls = ctx.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
    try:
        tls.do_handshake()
    except (ssl.SSLError, OSError):
        pass
    time.sleep(0.5)
    conn.close()
    tls.close()


def tls_server(sc):
    if sc in CLIENT_ALERTS:
        py_tls_server(*CLIENT_ALERTS[sc])
        return
    args = TLS_SERVER[sc][0].split()
    subprocess.run("sleep 6 | openssl s_server -accept %s:5062 -naccept 1 -quiet %s >/dev/null 2>&1"
                   % (FAR, " ".join(args)), shell=True, cwd=CERTS)


def tls_client(sc):
    if TLS_SERVER[sc][1] is None:
        tls_closer()
        return
    subprocess.run("(sleep 0.5; printf 'OPTIONS\\n'; sleep 1) | openssl s_client -connect %s:5062 %s "
                   ">/dev/null 2>&1" % (FAR, TLS_SERVER[sc][1]), shell=True, cwd=CERTS)


# ---------------------------------------------------------------- harness

def run(*cmd):
    subprocess.run(list(cmd), check=True)


def nsrun(ns, *cmd):
    run("ip", "netns", "exec", ns, *cmd)


def mac(ns, ifc):
    h = ident(ns, ifc)
    return "02:52:%s:%s:%s:%s" % (h[0:2], h[2:4], h[4:6], h[6:8])


def netns_setup():
    netns_cleanup()
    for ns in NS:
        run("ip", "netns", "add", ns)
        for k, v in (("net.ipv6.conf.all.disable_ipv6", "1"), ("net.ipv6.conf.default.disable_ipv6", "1"),
                     ("net.ipv4.ip_forward", "1" if ns == "slscn-fw" else "0"),
                     ("net.ipv4.tcp_timestamps", "1"), ("net.ipv4.ip_local_port_range", "40000 40000"),
                     # classic exponential SYN backoff (1 s, 2 s, 4 s), not the linear first tries of Linux >= 6.5
                     ("net.ipv4.tcp_syn_linear_timeouts", "0"),
                     # no tail loss probes: their timing depends on RTT estimates
                     ("net.ipv4.tcp_early_retrans", "0")):
            if os.path.exists("/proc/sys/" + k.replace(".", "/")):
                nsrun(ns, "sysctl", "-q", "-w", "%s=%s" % (k, v))
        run("ip", "-n", ns, "link", "set", "dev", "lo", "up")
    for na, ia, ipa, nb, ib, ipb in LINKS:
        run("ip", "-n", na, "link", "add", ia, "type", "veth", "peer", "name", ib, "netns", nb)
        for ns, ifc, ip in ((na, ia, ipa), (nb, ib, ipb)):
            run("ip", "-n", ns, "link", "set", "dev", ifc, "address", mac(ns, ifc), "gso_max_segs", "1")
            run("ip", "-n", ns, "addr", "add", ip + "/24", "dev", ifc)
            run("ip", "-n", ns, "link", "set", "dev", ifc, "up")
        run("ip", "-n", na, "neigh", "replace", ipb, "lladdr", mac(nb, ib), "dev", ia, "nud", "permanent")
        run("ip", "-n", nb, "neigh", "replace", ipa, "lladdr", mac(na, ia), "dev", ib, "nud", "permanent")
    run("ip", "-n", "slscn-far", "addr", "add", DNS + "/24", "dev", "r1")
    run("ip", "-n", "slscn-fw", "neigh", "replace", DNS, "lladdr", mac("slscn-far", "r1"), "dev", "f2",
        "nud", "permanent")
    for ns, routes in ROUTES.items():
        for prefix, via in routes:
            run("ip", "-n", ns, "route", "add", prefix, "via", via)


def netns_cleanup():
    for ns in NS:
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def role_proc(ns, *args):
    return subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__), "--role"]
                            + [str(a) for a in args])


def e2e(sc, e_cfg=None, c_cfg=None, far_tr="tcp"):
    """Caller -> C -> E -> far, each a process in its namespace."""
    procs = [role_proc("slscn-far", "far", sc, far_tr)]
    if sc.startswith("dns."):
        procs.append(role_proc("slscn-far", "dns", "nxdomain" if sc == "dns.srv_failed" else "srv5061"))
    time.sleep(0.5)
    procs.append(role_proc("slscn-expe", "proxy", json.dumps(proxy_cfg("E", sc, **(e_cfg or {})))))
    time.sleep(0.3)
    procs.append(role_proc("slscn-expc", "proxy", json.dumps(proxy_cfg("C", sc, **(c_cfg or {})))))
    time.sleep(0.3)
    procs.append(role_proc("slscn-caller", "caller", sc))
    return procs


def scenario_procs(sc):
    if sc in ("tcp.no_answer", "tcp.refused"):
        if sc == "tcp.no_answer":
            nsrun("slscn-fw", "iptables", "-A", "FORWARD", "-p", "tcp", "--dport", "5062", "--syn", "-j", "DROP")
        return [role_proc("slscn-expe", "e-client", sc)], []
    if sc in ("tcp.reset", "tcp.reset-injected"):
        procs = [role_proc("slscn-far", "far-tcp", sc)]
        if sc == "tcp.reset-injected":
            procs.append(role_proc("slscn-fw", "injector"))
        time.sleep(0.5)
        return [role_proc("slscn-expe", "e-client", sc)], procs
    if sc in TLS_SERVER:
        srv = role_proc("slscn-far", "tls-server", sc)
        time.sleep(1.0)
        return [role_proc("slscn-expe", "tls-client", sc)], [srv]
    e_cfg, far_tr = {}, "tcp"
    if sc == "sip.policy_reject":
        e_cfg["policy"] = True
    elif sc == "sip.param_stripped":
        e_cfg["strip"] = True
    elif sc.startswith("dns."):
        e_cfg["dns"] = True
    elif sc == "healthy-call-reinvite-new-conn":
        e_cfg["reinvite_port"] = 5061
    elif sc in ("sip.refresh_lost", "healthy-call-udp"):
        e_cfg.update(out_tr="udp", out_port=5060, life=30)
        far_tr = "udp"
    procs = e2e(sc, e_cfg, None, far_tr)
    if sc == "sip.refresh_lost":
        # Once the call is up (ACK through), the firewall starts dropping everything.
        threading.Timer(3.2, lambda: nsrun("slscn-fw", "iptables", "-I", "FORWARD", "-j", "DROP")).start()
    return [procs[-1]], procs[:-1]


SCENARIOS = [
    "tcp.no_answer", "tcp.refused", "tcp.reset", "tcp.reset-injected",
    "tls.alert.unknown_ca", "tls.alert.certificate_expired", "tls.alert.bad_certificate",
    "tls.alert.handshake_failure", "tls.alert.unknown_ca-server", "tls.closed_after_certificate",
    "healthy-tls12-mutual",
    "sip.response.404", "sip.response.486", "sip.response.503", "sip.policy_reject",
    "sip.bandwidth_reject", "sip.no_final_response", "sip.codec_refused", "sip.oversize_reset",
    "sip.refresh_lost", "sip.param_stripped", "sip.register.auth_failed", "sip.register.ok",
    "dns.srv_failed", "dns.srv_port_mismatch", "healthy-call", "healthy-call-udp",
    "healthy-call-reinvite-new-conn",
]


def capture(out_dir, sc):
    netns_setup()
    path = os.path.join(out_dir, sc + ".pcap")
    tmp = tempfile.mktemp(suffix=".pcap", dir="/tmp")
    # -s 65535 -B 32768: with immediate mode the ring has buffer/snaplen slots;
    # at the default 2 MB / 256 KB a burst of 8 segments would be dropped.
    log = open(tmp + ".log", "w")
    dump = subprocess.Popen(["ip", "netns", "exec", "slscn-expe", "tcpdump", "-i", "any", "-n", "-U",
                             "--immediate-mode", "-Z", "root", "-s", "65535", "-B", "32768", "-w", tmp, "ip"],
                            stderr=log)
    time.sleep(1.0)
    mains, others = scenario_procs(sc)
    try:
        for p in mains:
            p.wait(timeout=60)
        for p in others:
            p.wait(timeout=40)
    finally:
        for p in mains + others:
            if p.poll() is None:
                p.kill()
                p.wait()
    time.sleep(0.5)
    dump.send_signal(signal.SIGTERM)
    dump.wait()
    log.close()
    with open(tmp + ".log") as f:
        stats = f.read()
    os.unlink(tmp + ".log")
    if "\n0 packets dropped by kernel" not in "\n" + stats:
        raise RuntimeError("%s: tcpdump dropped packets: %s" % (sc, stats))
    netns_cleanup()
    shutil.move(tmp, path)
    os.chmod(path, 0o644)
    subprocess.run(["sh", ORACLE, os.path.abspath(path)], check=True, stdout=subprocess.DEVNULL)
    print("%s: %d bytes" % (path, os.path.getsize(path)), flush=True)


# ---------------------------------------------------------------- EXPECTED.tsv
# For each capture: verdict, rejected_by, role, notes, and the tshark display
# filters whose matching frames are the evidence.  Frame numbers are read back
# with tshark from the capture just made, so EXPECTED.tsv always matches it.
FAR_LEG = "ip.addr==%s && " % FAR
EXPECT = [
    ("tcp.no_answer", "tcp.no_answer", "-", "network", "-",
     ["tcp.flags.syn==1 && tcp.flags.ack==0"]),
    ("tcp.refused", "tcp.refused", FAR + ":5062", "server", "-",
     ["tcp.flags.syn==1 && tcp.flags.ack==0", "tcp.flags.reset==1"]),
    ("tcp.reset", "tcp.reset", FAR + ":5060", "server", "-", ["tcp.flags.reset==1"]),
    ("tcp.reset-injected", "tcp.reset", FAR + ":5060", "server", "suspect_injected (RST ttl 128 ip.id 0x1234; peer ttl 63)",
     ["tcp.flags.reset==1"]),
    ("tls.alert.unknown_ca", "tls.alert.unknown_ca", E_OUT + ":40000", "client", "-",
     ["tls.handshake.type==11 && ip.src==%s" % FAR, "tls.alert_message"]),
    ("tls.alert.certificate_expired", "tls.alert.certificate_expired", E_OUT + ":40000", "client", "-",
     ["tls.handshake.type==11 && ip.src==%s" % FAR, "tls.alert_message"]),
    ("tls.alert.bad_certificate", "tls.alert.bad_certificate", E_OUT + ":40000", "client",
     "hostname mismatch: wanted server.test, got wrong.test",
     ["tls.handshake.type==11 && ip.src==%s" % FAR, "tls.alert_message"]),
    ("tls.alert.handshake_failure", "tls.alert.handshake_failure", FAR + ":5062", "server",
     "mutual TLS: CertificateRequest answered by an empty Certificate",
     ["tls.handshake.type==13", "tls.handshake.type==11 && ip.src==%s" % E_OUT, "tls.alert_message"]),
    ("tls.alert.unknown_ca-server", "tls.alert.unknown_ca", FAR + ":5062", "server",
     "the server rejects the client certificate (stranger.test, Other Test Root CA)",
     ["tls.handshake.type==11 && ip.src==%s" % E_OUT, "tls.alert_message"]),
    ("tls.closed_after_certificate", "tls.closed_after_certificate", E_OUT + ":40000", "client",
     "RST from the client right after the server's Certificate, no alert",
     ["tls.handshake.type==11 && ip.src==%s" % FAR, "tcp.flags.reset==1"]),
    ("healthy-tls12-mutual", "healthy", "-", "-", "TLS 1.2 mutual on 5062", []),
    ("sip.response.404", "sip.response.404", FAR + ":5060", "remote", "relayed by the E to the C",
     [FAR_LEG + "sip.Method==INVITE", FAR_LEG + "sip.Status-Code==404"]),
    ("sip.response.486", "sip.response.486", FAR + ":5060", "remote", "relayed by the E to the C",
     [FAR_LEG + "sip.Method==INVITE", FAR_LEG + "sip.Status-Code==486"]),
    ("sip.response.503", "sip.response.503", FAR + ":5060", "remote", "relayed by the E to the C",
     [FAR_LEG + "sip.Method==INVITE", FAR_LEG + "sip.Status-Code==503"]),
    ("sip.policy_reject", "sip.policy_reject", E_IN + ":7001", "local", "403 with Warning 399 Policy Response; never forwarded",
     ["sip.Method==INVITE", "sip.Status-Code==403"]),
    ("sip.bandwidth_reject", "sip.bandwidth_reject", FAR + ":5060", "remote", "offer b=AS:384",
     [FAR_LEG + "sip.Method==INVITE", FAR_LEG + "sip.Status-Code==404"]),
    ("sip.no_final_response", "sip.no_final_response", FAR + ":5060", "remote",
     "INVITE without SDP (delayed offer); 100 only; CANCEL after 3 s; 487",
     [FAR_LEG + "sip.Method==INVITE", FAR_LEG + "sip.Status-Code==100", FAR_LEG + "sip.Method==CANCEL",
      FAR_LEG + "sip.Status-Code==487"]),
    ("sip.codec_refused", "sip.codec_refused", FAR + ":5060", "remote", "offer G.729 only; m=audio 0; BYE Q.850 cause 47",
     [FAR_LEG + "sip.Method==INVITE", FAR_LEG + "sip.Status-Code==200 && sip.CSeq.method==INVITE",
      FAR_LEG + "sip.Method==BYE"]),
    ("sip.oversize_reset", "sip.oversize_reset", FAR + ":5060", "remote",
     "6920-byte INVITE over TCP; the E then answers 503 upstream",
     [FAR_LEG + "sip.Method==INVITE", "tcp.flags.reset==1 && ip.src==%s" % FAR]),
    ("sip.refresh_lost", "sip.refresh_lost", "-", "network",
     "re-INVITE over UDP retransmitted 4 times, no answer; the E answers 408 upstream",
     [FAR_LEG + "sip.Method==INVITE && sip.CSeq.seq==2"]),
    ("sip.param_stripped", "sip.param_stripped", E_OUT + ":25061", "local",
     "Contact call-type=squared on the C->E leg, missing on the E->far leg; far answers 480",
     ["sip.Method==INVITE", FAR_LEG + "sip.Status-Code==480"]),
    ("sip.register.auth_failed", "sip.register.auth_failed", FAR + ":5060", "remote", "REGISTER 401 REGISTER 403",
     [FAR_LEG + "sip.Method==REGISTER", FAR_LEG + "sip.Status-Code==401", FAR_LEG + "sip.Status-Code==403"]),
    ("sip.register.ok", "sip.register.ok", "-", "-", "x-cisco-mra-ha=AR_SK offered, X-cisco-supports-AR_SK answered",
     [FAR_LEG + "sip.Method==REGISTER", FAR_LEG + "sip.Status-Code==401", FAR_LEG + "sip.Status-Code==200"]),
    ("dns.srv_failed", "dns.srv_failed", DNS + ":53", "remote", "NXDOMAIN for _sips._tcp.example.com; the E answers 404, no outbound attempt",
     ["dns", "sip.Status-Code==404"]),
    ("dns.srv_port_mismatch", "dns.srv_port_mismatch", DNS + ":53", "remote",
     "SRV says 5061, the far end listens on 5062; 5061 refused; the E answers 503",
     ["dns", "tcp.dstport==5061 && tcp.flags.syn==1", "tcp.flags.reset==1"]),
    ("healthy-call", "healthy", "-", "-", "INVITE/100/180/200/ACK/BYE/200 on both hops of the E (same Call-ID)", []),
    ("healthy-call-udp", "healthy", "-", "-", "as healthy-call; E->far leg over UDP", []),
    ("healthy-call-reinvite-new-conn", "healthy", "-", "-",
     "the far end's re-INVITE (CSeq 101) arrives on a NEW connection to the E's 5061 and joins the dialog;"
     " BYE later goes out on that connection", []),
]


def frames(path, flt):
    out = subprocess.run(["tshark", "-n", "-r", path, "-Y", flt, "-T", "fields", "-e", "frame.number"],
                         check=True, capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def write_expected(out_dir):
    rows = ["file\tverdict\trejected_by\trole\tevidence\tnotes"]
    for name, verdict, by, role_name, notes, filters in EXPECT:
        path = os.path.join(out_dir, name + ".pcap")
        if not os.path.exists(path):
            continue
        ev = set()
        for flt in filters:
            got = frames(path, flt)
            if not got:
                raise RuntimeError("%s: no frame matches %s" % (name, flt))
            ev.update(got)
        rows.append("\t".join([name + ".pcap", verdict, by, role_name,
                               ",".join(str(f) for f in sorted(ev)) or "-", notes]))
    with open(os.path.join(out_dir, "EXPECTED.tsv"), "w") as f:
        f.write("\n".join(rows) + "\n")


def role(args):
    global PACE
    kind = args[0]
    if kind in ("caller", "far", "e-client", "far-tcp"):
        PACE = UA_PACE
    if kind == "proxy":
        Proxy(json.loads(args[1])).run()
    elif kind == "caller":
        caller(args[1])
    elif kind == "far":
        far(args[1], args[2])
    elif kind == "dns":
        dns_server(args[1])
    elif kind == "e-client":
        e_client(args[1])
    elif kind == "far-tcp":
        far_tcp(args[1])
    elif kind == "injector":
        injector()
    elif kind == "tls-server":
        tls_server(args[1])
    elif kind == "tls-client":
        tls_client(args[1])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--role":
        role(sys.argv[2:])
        return 0
    if sys.argv[1:] != ["--expected"] and os.geteuid() != 0:
        print("make_scenarios.py: must run as root (network namespaces, tcpdump)", file=sys.stderr)
        return 2
    args = sys.argv[1:]
    out_dir = os.path.join(ROOT, "testdata", "scenarios")
    if args and ("/" in args[0] or os.path.isdir(args[0])):
        out_dir = args.pop(0)
    os.makedirs(out_dir, exist_ok=True)
    if args == ["--expected"]:
        write_expected(out_dir)
        return 0
    want = args or SCENARIOS
    try:
        for sc in want:
            capture(out_dir, sc)
    finally:
        netns_cleanup()
    write_expected(out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
