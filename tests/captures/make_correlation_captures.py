#!/usr/bin/env python3
"""make_correlation_captures.py - record the captures in testdata/correlation/
that the correlation tests (tests/check_correlate.c) and golden rows read:
real kernel TCP/UDP stacks in three network namespaces, SIP written by hand.

Run as root:  sudo python3 tests/captures/make_correlation_captures.py [OUTDIR]

Topology (exists only while the script runs; removed in a finally block):

  slco-a [veth-a 10.252.1.1] <==> [veth-pa 10.252.1.2] slco-p [veth-pb 10.252.2.2] <==> [veth-b 10.252.2.3] slco-b
  caller                           proxy / B2BUA / peer                               callee

tcpdump runs in slco-p on "-i any" (Linux cooked capture, like a capture
taken on an Expressway), so one file holds both hops of a call.

Captures:
  two-hop-proxy-udp      caller -> proxy -> callee; the proxy adds a Via with
                         egress-zone/ingress-zone (as an Expressway does),
                         Record-Route, keeps the Call-ID.  One call, two legs.
  two-hop-b2bua-udp      the same through a B2BUA that changes the Call-ID and
                         the Vias, names itself TANDBERG in Server/User-Agent,
                         but keeps Session-ID and X-TAATag.  One call.
  cseq-collision-udp     two INVITEs with CSeq 1 from the same host to the same
                         host, interleaved, different Call-IDs, both with an
                         all-zero remote Session-ID uuid.  Two calls.
  reinvite-new-tcp-connection  INVITE/200/ACK on one TCP connection; the callee
                         sends a re-INVITE on a NEW connection to the caller's
                         5060; BYE on the first.  One call, one dialog.
"""
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

NS_A, NS_P, NS_B = "slco-a", "slco-p", "slco-b"
A4, PA4, PB4, B4 = "10.252.1.1", "10.252.1.2", "10.252.2.2", "10.252.2.3"
PORT = 5060
B2BUA_PRODUCT = "TANDBERG/4352 (X12.5.4)"  # a B2BUA speaks for itself

ORACLE_FIELDS = [
    "frame.number", "frame.time_epoch", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst",
    "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "sip.Method",
    "sip.Status-Code", "sip.Call-ID", "sip.CSeq", "tls.record.content_type",
    "tls.handshake.type", "tls.alert_message.level", "tls.alert_message.desc",
    "tcp.flags.reset", "tcp.flags.syn", "tcp.flags.ack", "tcp.stream", "frame.cap_len",
    "frame.len", "tls.handshake.extensions_server_name", "tls.record.opaque_type",
    "tls.record.version", "tls.handshake.extensions.supported_version",
]

# ---------------------------------------------------------------- SIP text


def msg(first, headers, body=""):
    body_b = body.encode()
    text = first + "\r\n" + "".join(h + "\r\n" for h in headers)
    text += "Content-Length: %d\r\n\r\n" % len(body_b)
    return text.encode() + body_b


def split(data):
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    return lines[0], [l for l in lines[1:] if not l.lower().startswith("content-length:")], body.decode()


def header(headers, name):
    for h in headers:
        if h.split(":", 1)[0].strip().lower() == name.lower():
            return h.split(":", 1)[1].strip()
    return None


def sdp(host):
    return "\r\n".join(["v=0", "o=- 1 1 IN IP4 " + host, "s=-", "c=IN IP4 " + host, "t=0 0",
                        "m=audio 49170 RTP/AVP 0 8", "a=rtpmap:0 PCMU/8000", "a=sendrecv"]) + "\r\n"


def request(method, ruri, via, call_id, cseq, from_tag, to_tag=None, extra=(), body="", cseq_method=None):
    hdrs = ["Via: " + via, "Max-Forwards: 70",
            "From: <sip:alice@example.com>;tag=" + from_tag,
            "To: <sip:bob@example.com>" + (";tag=" + to_tag if to_tag else ""),
            "Call-ID: " + call_id, "CSeq: %d %s" % (cseq, cseq_method or method)]
    hdrs += list(extra)
    if body:
        hdrs.append("Content-Type: application/sdp")
    return msg("%s %s SIP/2.0" % (method, ruri), hdrs, body)


def response(req, code, reason, to_tag, extra=(), body=""):
    _, hdrs, _ = split(req)
    out = []
    for h in hdrs:
        name = h.split(":", 1)[0].strip().lower()
        if name == "to" and ";tag=" not in h and code > 100:
            h += ";tag=" + to_tag
        if name in ("via", "from", "to", "call-id", "cseq", "session-id", "x-taatag", "record-route"):
            out.append(h)
    out += list(extra)
    if body:
        out.append("Content-Type: application/sdp")
    return msg("SIP/2.0 %d %s" % (code, reason), out, body)


def short_hash(*parts):
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


# ---------------------------------------------------------------- UDP roles


def udp_socket(host):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, PORT))
    s.settimeout(10)
    return s


def recv_until(s, want):
    """Datagrams until one whose start line contains `want`."""
    while True:
        data, _ = s.recvfrom(65535)
        if want in data.split(b"\r\n", 1)[0]:
            return data


def caller(mode):
    """One call through the proxy: INVITE, ACK of the 200, BYE."""
    s = udp_socket(A4)
    via = "SIP/2.0/UDP %s:5060;branch=z9hG4bK%s;rport"
    extra = ["Contact: <sip:alice@%s:5060>" % A4, "User-Agent: sipladder-caller/1.0",
             "Session-ID: ab30317f1a784dc48ff824d0d3715d86;remote=00000000000000000000000000000000",
             "X-TAATag: 7c9a1f3e-5b2d-4e8f-9a61-0d3c2b1e4f5a"]
    call_id = "corr-%s-1@%s" % (mode, A4)
    inv = request("INVITE", "sip:bob@example.com", via % (A4, "c1inv"), call_id, 1, "ca11er", extra=extra,
                  body=sdp(A4))
    s.sendto(inv, (PA4, PORT))
    ok = recv_until(s, b" 200 ")
    to_tag = header(split(ok)[1], "To").split(";tag=")[1].split(";")[0]
    ack = request("ACK", "sip:bob@%s:5060" % B4, via % (A4, "c1ack"), call_id, 1, "ca11er", to_tag, extra)
    s.sendto(ack, (PA4, PORT))
    time.sleep(0.3)
    bye = request("BYE", "sip:bob@%s:5060" % B4, via % (A4, "c1bye"), call_id, 2, "ca11er", to_tag, extra)
    s.sendto(bye, (PA4, PORT))
    recv_until(s, b" 200 ")


def callee():
    """Answer one INVITE (100, 180, 200), then the BYE."""
    s = udp_socket(B4)
    server = ["Server: Cisco-CUCM11.5", "Contact: <sip:bob@%s:5060>" % B4,
              "Session-ID: 47755a9de7794ba387653f2099600ef2;remote=ab30317f1a784dc48ff824d0d3715d86"]
    while True:
        data, peer = s.recvfrom(65535)
        first = data.split(b"\r\n", 1)[0]
        if first.startswith(b"INVITE"):
            s.sendto(response(data, 100, "Trying", "", ["Server: Cisco-CUCM11.5"]), peer)
            s.sendto(response(data, 180, "Ringing", "ca11ee", server), peer)
            time.sleep(0.2)
            s.sendto(response(data, 200, "OK", "ca11ee", server, sdp(B4)), peer)
        elif first.startswith(b"BYE"):
            s.sendto(response(data, 200, "OK", "ca11ee", server), peer)
            return


def proxy_request(data, src, mode, state):
    first, hdrs, body = split(data)
    toward_callee = src[0] == A4
    me, zone_out = (PB4, "CUCMZone") if toward_callee else (PA4, "DefaultZone")
    top = header(hdrs, "Via")
    branch = "z9hG4bK" + short_hash(mode, top)
    out = []
    if mode == "proxy":
        out.append("Via: SIP/2.0/UDP %s:5060;egress-zone=%s;branch=%s;proxy-call-id=%s;rport"
                   % (me, zone_out, branch, short_hash("pci", header(hdrs, "Call-ID"))))
        first_via = True
        for h in hdrs:
            name = h.split(":", 1)[0].strip().lower()
            if name == "via" and first_via:
                h += ";received=%s;ingress-zone=%s" % (src[0], "DefaultZone" if toward_callee else "CUCMZone")
                first_via = False
            elif name == "max-forwards":
                h = "Max-Forwards: %d" % (int(h.split(":")[1]) - 1)
            out.append(h)
        if first.startswith("INVITE") and header(hdrs, "To").find(";tag=") < 0:
            out.insert(1, "Record-Route: <sip:%s;lr>" % me)
    else:  # b2bua: its own Via only, another Call-ID; Session-ID and X-TAATag pass
        vias = [h for h in hdrs if h.lower().startswith("via:")]
        state[branch] = vias
        out.append("Via: SIP/2.0/UDP %s:5060;branch=%s;rport" % (me, branch))
        for h in hdrs:
            name = h.split(":", 1)[0].strip().lower()
            if name == "via":
                continue
            if name == "call-id":
                h = "Call-ID: b2b-%s@%s" % (short_hash("cid", h), me)
            if name in ("user-agent", "server"):
                h = "User-Agent: " + B2BUA_PRODUCT
            out.append(h)
    return msg(first, out, body), ((B4, PORT) if toward_callee else (A4, PORT))


def proxy_response(data, src, mode, state):
    first, hdrs, body = split(data)
    out = []
    if mode == "proxy":
        dropped = False
        for h in hdrs:
            if h.lower().startswith("via:") and not dropped:
                dropped = True
                continue
            out.append(h)
    else:
        branch = header(hdrs, "Via").split("branch=")[1].split(";")[0]
        out += state.get(branch, [])
        for h in hdrs:
            name = h.split(":", 1)[0].strip().lower()
            if name == "via":
                continue
            if name == "call-id":
                h = "Call-ID: corr-b2bua-1@%s" % A4
            if name in ("user-agent", "server"):
                h = "Server: " + B2BUA_PRODUCT
            out.append(h)
    return msg(first, out, body), ((A4, PORT) if src[0] == B4 else (B4, PORT))


def proxy(mode):
    """A stateless proxy (or a toy B2BUA) between the two links."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", PORT))
    s.settimeout(3)
    state = {}
    while True:
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            return
        if data.startswith(b"SIP/2.0"):
            out, dst = proxy_response(data, src, mode, state)
        else:
            out, dst = proxy_request(data, src, mode, state)
        s.sendto(out, dst)


def collide_caller():
    """Two calls at once from one host to one host, both CSeq 1 INVITE."""
    s = udp_socket(A4)
    calls = []
    for n in (1, 2):
        call_id = "collide-%d@%s" % (n, A4)
        extra = ["Contact: <sip:alice@%s:5060>" % A4,
                 "Session-ID: %032x;remote=00000000000000000000000000000000" % (0xa11ce0 + n)]
        via = "SIP/2.0/UDP %s:5060;branch=z9hG4bKcollide%d;rport" % (A4, n)
        calls.append((call_id, extra))
        s.sendto(request("INVITE", "sip:bob@%s" % PA4, via, call_id, 1, "tag%d" % n, extra=extra, body=sdp(A4)),
                 (PA4, PORT))
        time.sleep(0.05)
    finals = {}
    while len(finals) < 2:
        data, _ = s.recvfrom(65535)
        first, hdrs, _ = split(data)
        code = int(first.split()[1])
        if code >= 200:
            finals[header(hdrs, "Call-ID")] = (code, header(hdrs, "To").split(";tag=")[1])
    for n, (call_id, extra) in enumerate(calls, 1):
        code, to_tag = finals[call_id]
        branch = "collide%d" % n if code >= 300 else "collideack%d" % n
        via = "SIP/2.0/UDP %s:5060;branch=z9hG4bK%s;rport" % (A4, branch)
        s.sendto(request("ACK", "sip:bob@%s" % PA4, via, call_id, 1, "tag%d" % n, to_tag, extra), (PA4, PORT))
    time.sleep(0.2)
    call_id, extra = calls[0]
    via = "SIP/2.0/UDP %s:5060;branch=z9hG4bKcollidebye;rport" % A4
    s.sendto(request("BYE", "sip:bob@%s" % PA4, via, call_id, 2, "tag1", finals[call_id][1], extra), (PA4, PORT))
    recv_until(s, b" 200 ")


def collide_callee():
    """Answers call 1 with 200 and call 2 with 486, interleaved."""
    s = udp_socket(PA4)
    invites = []
    while len(invites) < 2:
        data, peer = s.recvfrom(65535)
        invites.append((data, peer))
        s.sendto(response(data, 100, "Trying", ""), peer)
    s.sendto(response(invites[1][0], 180, "Ringing", "bob2"), invites[1][1])
    s.sendto(response(invites[0][0], 200, "OK", "bob1", ["Contact: <sip:bob@%s>" % PA4], sdp(PA4)), invites[0][1])
    s.sendto(response(invites[1][0], 486, "Busy Here", "bob2"), invites[1][1])
    while True:
        data, peer = s.recvfrom(65535)
        if data.startswith(b"BYE"):
            s.sendto(response(data, 200, "OK", "bob1"), peer)
            return


# ---------------------------------------------------------------- TCP roles


def read_message(conn, buf):
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65535)
        if not chunk:
            raise RuntimeError("connection closed")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(rest) < length:
        rest += conn.recv(65535)
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def tcp_listener(host):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, PORT))
    s.listen(4)
    s.settimeout(10)
    return s


def reinvite_caller():
    """A: INVITE on conn 1; accepts the re-INVITE on conn 2; BYE on conn 1."""
    lst = tcp_listener(A4)
    c1 = socket.create_connection((PA4, PORT), timeout=10)
    via = "SIP/2.0/TCP %s:5060;branch=z9hG4bK%s"
    call_id = "reinvite-tcp-1@" + A4
    extra = ["Contact: <sip:alice@%s:5060;transport=tcp>" % A4]
    c1.sendall(request("INVITE", "sip:bob@%s;transport=tcp" % PA4, via % (A4, "ri1"), call_id, 1, "alice1",
                       extra=extra, body=sdp(A4)))
    buf = b""
    while True:
        m, buf = read_message(c1, buf)
        if b" 200 " in m.split(b"\r\n", 1)[0]:
            break
    c1.sendall(request("ACK", "sip:bob@%s;transport=tcp" % PA4, via % (A4, "ri1ack"), call_id, 1, "alice1", "bob1",
                       extra))
    c2, _ = lst.accept()
    m, _ = read_message(c2, b"")
    c2.sendall(response(m, 200, "OK", "alice1", extra, sdp(A4)))
    read_message(c2, b"")  # its ACK
    time.sleep(0.2)
    c1.sendall(request("BYE", "sip:bob@%s;transport=tcp" % PA4, via % (A4, "ri1bye"), call_id, 2, "alice1", "bob1",
                       extra))
    read_message(c1, buf)
    c1.close()
    c2.close()


def reinvite_callee():
    """B: answers on conn 1, then sends its re-INVITE on a new connection."""
    lst = tcp_listener(PA4)
    c1, _ = lst.accept()
    c1.settimeout(10)
    m, buf = read_message(c1, b"")
    contact = ["Contact: <sip:bob@%s:5060;transport=tcp>" % PA4]
    c1.sendall(response(m, 100, "Trying", ""))
    c1.sendall(response(m, 200, "OK", "bob1", contact, sdp(PA4)))
    _, buf = read_message(c1, buf)  # ACK
    time.sleep(0.2)
    c2 = socket.create_connection((A4, PORT), timeout=10)
    via = "SIP/2.0/TCP %s:5060;branch=z9hG4bK%s" % (PA4, "rb1")
    hdrs = ["Via: " + via, "Max-Forwards: 70", "From: <sip:bob@example.com>;tag=bob1",
            "To: <sip:alice@example.com>;tag=alice1", "Call-ID: reinvite-tcp-1@" + A4, "CSeq: 1 INVITE"]
    c2.sendall(msg("INVITE sip:alice@%s:5060;transport=tcp SIP/2.0" % A4, hdrs + contact
                   + ["Content-Type: application/sdp"], sdp(PA4)))
    read_message(c2, b"")
    ack = [h.replace("CSeq: 1 INVITE", "CSeq: 1 ACK").replace("rb1", "rb1ack") for h in hdrs]
    c2.sendall(msg("ACK sip:alice@%s:5060;transport=tcp SIP/2.0" % A4, ack))
    m, buf = read_message(c1, buf)  # BYE
    c1.sendall(response(m, 200, "OK", "bob1"))
    time.sleep(0.3)
    c2.close()
    c1.close()


# ---------------------------------------------------------------- plumbing


def run(*cmd):
    return subprocess.run(list(cmd), check=True)


def netns_setup():
    netns_cleanup()
    for ns in (NS_A, NS_P, NS_B):
        run("ip", "netns", "add", ns)
        run("ip", "-n", ns, "link", "set", "dev", "lo", "up")
    run("ip", "-n", NS_A, "link", "add", "veth-a", "type", "veth", "peer", "name", "veth-pa", "netns", NS_P)
    run("ip", "-n", NS_B, "link", "add", "veth-b", "type", "veth", "peer", "name", "veth-pb", "netns", NS_P)
    for ns, ifc, v4 in ((NS_A, "veth-a", A4), (NS_P, "veth-pa", PA4), (NS_P, "veth-pb", PB4), (NS_B, "veth-b", B4)):
        run("ip", "-n", ns, "link", "set", "dev", ifc, "gso_max_segs", "1")
        run("ip", "-n", ns, "addr", "add", v4 + "/24", "dev", ifc)
        run("ip", "-n", ns, "link", "set", "dev", ifc, "up")


def netns_cleanup():
    for ns in (NS_A, NS_P, NS_B):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def in_ns(ns, *args):
    return subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__), "--role"]
                            + list(args))


def oracle(path):
    """The command of testdata/corpus/ORACLE.md."""
    cmd = ["tshark", "-n", "-2", "-r", path, "-d", "tcp.port==6060,sip", "-T", "fields", "-E", "header=y",
           "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in ORACLE_FIELDS:
        cmd += ["-e", f]
    with open(path + ".tshark.tsv", "w") as out:
        subprocess.run(cmd, check=True, stdout=out, stderr=subprocess.DEVNULL)


def capture(out_dir, name, roles):
    """roles: (namespace, args) started in order; the last is waited for."""
    path = os.path.join(out_dir, name + ".pcap")
    tmp = tempfile.mktemp(suffix=".pcap", dir="/tmp")
    dump = subprocess.Popen(["ip", "netns", "exec", NS_P, "tcpdump", "-i", "any", "-n", "-U", "--immediate-mode",
                             "-Z", "root", "-s", "262144", "-w", tmp, "port 5060"], stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    procs = []
    try:
        for ns, args in roles:
            procs.append(in_ns(ns, *args))
            time.sleep(0.3)
        for p in reversed(procs):
            if p.wait(timeout=30) != 0:
                raise RuntimeError("a role failed in " + name)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    time.sleep(0.5)
    dump.terminate()
    dump.wait()
    shutil.move(tmp, path)
    os.chmod(path, 0o644)
    oracle(path)
    print("%s: %d bytes" % (path, os.path.getsize(path)))


SCENARIOS = [
    ("two-hop-proxy-udp", [(NS_B, ["callee"]), (NS_P, ["proxy", "proxy"]), (NS_A, ["caller", "proxy"])]),
    ("two-hop-b2bua-udp", [(NS_B, ["callee"]), (NS_P, ["proxy", "b2bua"]), (NS_A, ["caller", "b2bua"])]),
    ("cseq-collision-udp", [(NS_P, ["collide-callee"]), (NS_A, ["collide-caller"])]),
    ("reinvite-new-tcp-connection", [(NS_P, ["reinvite-callee"]), (NS_A, ["reinvite-caller"])]),
]

ROLES = {
    "caller": caller, "callee": callee, "proxy": proxy, "collide-caller": collide_caller,
    "collide-callee": collide_callee, "reinvite-caller": reinvite_caller, "reinvite-callee": reinvite_callee,
}


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--role":
        ROLES[sys.argv[2]](*sys.argv[3:])
        return 0
    if os.geteuid() != 0:
        print("make_correlation_captures.py: must run as root (network namespaces, tcpdump)", file=sys.stderr)
        return 2
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "testdata", "correlation")
    os.makedirs(out_dir, exist_ok=True)
    try:
        netns_setup()
        for name, roles in SCENARIOS:
            capture(out_dir, name, roles)
    finally:
        netns_cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
