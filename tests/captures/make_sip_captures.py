#!/usr/bin/env python3
"""make_sip_captures.py - record the SIP test captures in testdata/sip/ from
real kernel TCP/UDP stacks talking inside two network namespaces.

Run as root:  sudo python3 tests/captures/make_sip_captures.py [OUTDIR]

Topology (exists only while the script runs; removed in a finally block):

  slsip-a [veth-a 10.251.1.1/24 fd00:5d::1/64] <==veth, MTU 1280==> [veth-b 10.251.1.2/24 fd00:5d::2/64] slsip-b

The veth ends have MTU 1280 (so a 3000-byte UDP datagram is fragmented by the
kernel) and gso_max_segs 1 (so tcpdump sees every TCP segment as sent on a
wire, not a GSO super-packet).  tcpdump records on veth-b.  Python sockets
(standard library only) play the SIP client in slsip-a and the server in
slsip-b: the SIP is hand-written, the TCP/UDP/IP is the kernel's.  Nothing
leaves the namespaces.

Each capture F gets F.tshark.tsv beside it, made with the exact command of
testdata/corpus/ORACLE.md, so the test reads ours like the corpus.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

NS_A, NS_B = "slsip-a", "slsip-b"
A4, B4 = "10.251.1.1", "10.251.1.2"
A6, B6 = "fd00:5d::1", "fd00:5d::2"
SIP_PORT = 5060

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
    """A SIP message with a correct Content-Length (CRLF line ends)."""
    body_b = body.encode()
    text = first + "\r\n" + "".join(h + "\r\n" for h in headers)
    text += "Content-Length: %d\r\n\r\n" % len(body_b)
    return text.encode() + body_b


def dialog_headers(call_id, cseq, method, transport, host, branch, to_tag=None):
    to = "<sip:bob@%s>" % B4 + (";tag=%s" % to_tag if to_tag else "")
    return [
        "Via: SIP/2.0/%s %s:5062;branch=z9hG4bK%s;rport" % (transport, host, branch),
        "Max-Forwards: 70",
        "From: \"Alice\" <sip:alice@%s>;tag=a1b2c3" % A4,
        "To: " + to,
        "Call-ID: " + call_id,
        "CSeq: %d %s" % (cseq, method),
        "Contact: <sip:alice@%s:5062;transport=%s>" % (host, transport.lower()),
        "User-Agent: sipladder-capture/1.0",
    ]


def sdp(host, extra_lines=0, ip6=False):
    fam = "IP6" if ip6 else "IP4"
    lines = ["v=0", "o=alice 1 1 IN %s %s" % (fam, host), "s=-", "c=IN %s %s" % (fam, host),
             "b=AS:1024", "t=0 0", "m=audio 49170 RTP/AVP 0 8 101", "a=rtpmap:0 PCMU/8000",
             "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000", "a=sendrecv"]
    lines += ["a=x-padding:%06d-0123456789abcdef0123456789abcdef" % i for i in range(extra_lines)]
    return "\r\n".join(lines) + "\r\n"


def invite(call_id, transport, host, extra_lines=0, ip6=False):
    hdrs = dialog_headers(call_id, 1, "INVITE", transport, host, "inv" + call_id[:6])
    hdrs.append("Content-Type: application/sdp")
    return msg("INVITE sip:bob@%s SIP/2.0" % (("[%s]" % B6) if ip6 else B4), hdrs,
               sdp(host, extra_lines, ip6))


def response(request, code, reason, to_tag="b9", extra=(), body=""):
    """A response echoing the request's Via, From, To, Call-ID, CSeq."""
    head = request.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")[1:]
    keep = [h for h in head if h.split(":", 1)[0].lower() in ("via", "from", "to", "call-id", "cseq")]
    out = []
    for h in keep:
        if h.lower().startswith("to:") and ";tag=" not in h and code > 100:
            h += ";tag=" + to_tag
        out.append(h)
    out += list(extra)
    if body:
        out.append("Content-Type: application/sdp")
    return msg("SIP/2.0 %d %s" % (code, reason), out, body)


def register(cseq, branch, auth=False):
    hdrs = [
        "Via: SIP/2.0/TCP %s:5062;branch=z9hG4bK%s" % (A4, branch),
        "Max-Forwards: 70",
        "From: <sip:mra01@%s>;tag=00505696779a000700006827-00006484" % B4,
        "To: <sip:mra01@%s>" % B4,
        "Call-ID: 00505696-779a0005-00001bba-00007938@%s" % A4,
        "CSeq: %d REGISTER" % cseq,
        "Contact: <sip:mra01@%s:5062;transport=tcp>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-00505696779a>\";"
        "+u.sip!devicename.ccm.cisco.com=\"CSFMRA01\";+u.sip!model.ccm.cisco.com=\"503\";video;"
        "x-cisco-mra-ha=AR_SK;x-cisco-reg-id=1" % A4,
        "Supported: replaces,X-cisco-srtp-fallback,x-cisco-mra-ha=AR_SK",
        "User-Agent: Cisco-UCM-Jabber/14.0",
        "Expires: 3600",
    ]
    if auth:
        hdrs.append("Authorization: Digest username=\"mra01\", realm=\"ccmsipline\", "
                    "nonce=\"7bCNcNbD3Xx1pQWcZDvRxPBkOlcOPX4I\", uri=\"sip:%s\", "
                    "response=\"0123456789abcdef0123456789abcdef\", algorithm=MD5" % B4)
    return msg("REGISTER sip:%s SIP/2.0" % B4, hdrs)


# ---------------------------------------------------------------- peers

def read_message(conn, buf):
    """Read one SIP message from a TCP socket (header end + Content-Length)."""
    while True:
        while buf.startswith(b"\r\n"):
            buf = buf[2:]
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end].decode(errors="replace")
            cl = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() in ("content-length", "l"):
                    cl = int(value.strip())
            total = end + 4 + cl
            if len(buf) >= total:
                return buf[:total], buf[total:]
        data = conn.recv(65536)
        if not data:
            return None, buf
        buf += data


def tcp_server(scenario):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((B4, SIP_PORT))
    s.listen(1)
    s.settimeout(20)
    conn, _ = s.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    pending = []
    while True:
        if scenario == "keepalive":
            # Answer each CRLFCRLF ping with a CRLF pong (RFC 5626 4.4.1).
            while buf.startswith(b"\r\n\r\n"):
                buf = buf[4:]
                conn.sendall(b"\r\n")
            if buf in (b"", b"\r\n", b"\r\n\r"):
                data = conn.recv(65536)
                if not data:
                    break
                buf += data
                continue
        m, buf = read_message(conn, buf)
        if m is None:
            break
        first = m.split(b"\r\n", 1)[0]
        if scenario == "register":
            if b"Authorization:" in m:
                reply = response(m, 200, "OK", "385623253", [
                    "Contact: <sip:mra01@%s:5062;transport=tcp>;x-cisco-mra-ha=AR_SK;expires=120" % A4,
                    "Expires: 120", "Server: Cisco-CUCM12.5",
                    "Supported: X-cisco-srtp-fallback,X-cisco-sis-9.2.0,X-cisco-supports-AR_SK",
                    "Session-ID: 9b8c276600255000a0000e5dc13f0000;remote=c31f584200255000a00000ddda3c0000"])
            else:
                reply = response(m, 401, "Unauthorized", "1470923213", [
                    "WWW-Authenticate: Digest realm=\"ccmsipline\", nonce=\"7bCNcNbD3Xx1pQWcZDvRxPBkOlcOPX4I\", "
                    "algorithm=MD5", "Server: Cisco-CUCM12.5"])
        elif first.startswith(b"ACK") or first.startswith(b"SIP/2.0"):
            continue
        else:
            reply = response(m, 200, "OK")
        if scenario == "two-in-one":
            pending.append(reply)
            if len(pending) == 2:
                conn.sendall(b"".join(pending))  # two responses, one segment
                pending = []
        else:
            conn.sendall(reply)
    conn.close()
    s.close()


def tcp_client(scenario):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if scenario == "big":
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
    c.bind((A4, 0))  # ephemeral: earlier runs leave TIME_WAIT behind
    c.connect((B4, SIP_PORT))
    buf = b""
    if scenario == "split3":
        m = invite("split3-4f1c2a@10.251.1.1", "TCP", A4)
        cuts = [0, 40, len(m) // 2, len(m)]  # the start line itself is cut
        for i in range(3):
            c.sendall(m[cuts[i]:cuts[i + 1]])
            time.sleep(0.2)
        _, buf = read_message(c, buf)
    elif scenario == "two-in-one":
        a = invite("twoinone-a7d3@10.251.1.1", "TCP", A4)
        b = msg("OPTIONS sip:bob@%s SIP/2.0" % B4,
                dialog_headers("twoinone-b8e4@10.251.1.1", 1, "OPTIONS", "TCP", A4, "optb8e4"))
        c.sendall(a + b)  # two requests, one segment
        for _ in range(2):
            _, buf = read_message(c, buf)
    elif scenario == "big":
        m = invite("big20k-9c0d@10.251.1.1", "TCP", A4, extra_lines=420)
        assert len(m) > 20000, len(m)
        c.sendall(m)
        _, buf = read_message(c, buf)
    elif scenario == "keepalive":
        c.sendall(b"\r\n\r\n")
        c.recv(2)  # the pong
        time.sleep(0.2)
        o = msg("OPTIONS sip:bob@%s SIP/2.0" % B4,
                dialog_headers("keepalive-5e6f@10.251.1.1", 1, "OPTIONS", "TCP", A4, "ka5e6f"))
        c.sendall(o)
        _, buf = read_message(c, buf)
        time.sleep(0.2)
        c.sendall(b"\r\n\r\n")
        c.recv(2)
        time.sleep(0.3)
    elif scenario == "register":
        c.sendall(register(104, "00003665"))
        _, buf = read_message(c, buf)
        time.sleep(0.1)
        c.sendall(register(105, "00007e98", auth=True))
        _, buf = read_message(c, buf)
    time.sleep(0.2)
    c.close()


def udp_server(ip6):
    fam = socket.AF_INET6 if ip6 else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((B6 if ip6 else B4, SIP_PORT))
    s.settimeout(5)
    try:
        while True:
            m, peer = s.recvfrom(65535)
            first = m.split(b"\r\n", 1)[0]
            if first.startswith(b"INVITE"):
                s.sendto(response(m, 100, "Trying"), peer)
                time.sleep(0.05)
                s.sendto(response(m, 180, "Ringing"), peer)
                time.sleep(0.05)
                s.sendto(response(m, 200, "OK", body=sdp(B6 if ip6 else B4, ip6=ip6)), peer)
            elif first.startswith(b"BYE"):
                s.sendto(response(m, 200, "OK"), peer)
                return
            elif first.startswith(b"ACK"):
                continue
    except socket.timeout:
        pass


def udp_client(scenario, ip6):
    fam = socket.AF_INET6 if ip6 else socket.AF_INET
    me, peer = (A6, B6) if ip6 else (A4, B4)
    c = socket.socket(fam, socket.SOCK_DGRAM)
    c.bind((me, 5062))
    c.settimeout(5)
    extra = 60 if scenario == "frag" else 0  # ~3.5 KB INVITE: > MTU 1280
    call_id = ("frag6-%s" if ip6 else "frag4-%s") % "77aa@h" if scenario == "frag" else "udpcall-31ce@h"
    inv = invite(call_id, "UDP", ("[%s]" % me) if ip6 else me, extra, ip6)
    c.sendto(inv, (peer, SIP_PORT))
    final = None
    while final is None:
        r, _ = c.recvfrom(65535)
        if r.startswith(b"SIP/2.0 200"):
            final = r
    to_line = [h for h in final.decode().split("\r\n") if h.startswith("To:")][0]
    hdrs = dialog_headers(call_id, 1, "ACK", "UDP", ("[%s]" % me) if ip6 else me, "ack" + call_id[:5])
    hdrs = [to_line if h.startswith("To:") else h for h in hdrs]
    target = "sip:bob@%s" % (("[%s]" % peer) if ip6 else peer)
    c.sendto(msg("ACK %s SIP/2.0" % target, hdrs), (peer, SIP_PORT))
    time.sleep(0.2)
    hdrs = dialog_headers(call_id, 2, "BYE", "UDP", ("[%s]" % me) if ip6 else me, "bye" + call_id[:5])
    hdrs = [to_line if h.startswith("To:") else h for h in hdrs]
    hdrs.append("Reason: Q.850;cause=16;text=\"Normal call clearing\"")
    c.sendto(msg("BYE %s SIP/2.0" % target, hdrs), (peer, SIP_PORT))
    c.recvfrom(65535)


# ---------------------------------------------------------------- harness

def run(*cmd, **kw):
    return subprocess.run(list(cmd), check=True, **kw)


def netns_setup():
    netns_cleanup()
    run("ip", "netns", "add", NS_A)
    run("ip", "netns", "add", NS_B)
    run("ip", "-n", NS_A, "link", "add", "veth-a", "type", "veth", "peer", "name", "veth-b", "netns", NS_B)
    for ns, ifc, v4, v6 in ((NS_A, "veth-a", A4, A6), (NS_B, "veth-b", B4, B6)):
        run("ip", "-n", ns, "link", "set", "dev", ifc, "mtu", "1280", "gso_max_segs", "1")
        run("ip", "-n", ns, "addr", "add", v4 + "/24", "dev", ifc)
        run("ip", "-n", ns, "addr", "add", v6 + "/64", "dev", ifc, "nodad")
        run("ip", "-n", ns, "link", "set", "dev", ifc, "up")
        run("ip", "-n", ns, "link", "set", "dev", "lo", "up")


def netns_cleanup():
    for ns in (NS_A, NS_B):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def in_ns(ns, *args):
    return subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__), "--role"]
                            + list(args))


def capture(out_dir, name, server_args, client_args):
    path = os.path.join(out_dir, name + ".pcap")
    tmp = tempfile.mktemp(suffix=".pcap", dir="/tmp")
    dump = subprocess.Popen(["ip", "netns", "exec", NS_B, "tcpdump", "-i", "veth-b", "-n", "-U",
                             "--immediate-mode", "-Z", "root", "-s", "262144", "-w", tmp,
                             "tcp port 5060 or udp port 5060 or ip[6:2] & 0x1fff != 0 or ip6[6] == 44"],
                            stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # tcpdump listening
    server = in_ns(NS_B, *server_args)
    time.sleep(0.3)
    client = in_ns(NS_A, *client_args)
    try:
        if client.wait(timeout=30) != 0:
            raise RuntimeError("client failed: %s" % name)
        server.wait(timeout=30)
    finally:
        for p in (client, server):
            if p.poll() is None:
                p.kill()
    time.sleep(0.5)
    dump.terminate()
    dump.wait()
    shutil.move(tmp, path)
    os.chmod(path, 0o644)
    oracle(path)
    print("%s: %d bytes" % (path, os.path.getsize(path)))


def oracle(path):
    """The ORACLE.md command, verbatim."""
    cmd = ["tshark", "-n", "-2", "-r", path, "-d", "tcp.port==6060,sip", "-T", "fields", "-E", "header=y",
           "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in ORACLE_FIELDS:
        cmd += ["-e", f]
    with open(path + ".tshark.tsv", "w") as out:
        subprocess.run(cmd, check=True, stdout=out, stderr=subprocess.DEVNULL)


SCENARIOS = [
    ("tcp-invite-split-3-segments", ["tcp-server", "split3"], ["tcp-client", "split3"]),
    ("tcp-two-messages-one-segment", ["tcp-server", "two-in-one"], ["tcp-client", "two-in-one"]),
    ("tcp-invite-20k-mss536", ["tcp-server", "big"], ["tcp-client", "big"]),
    ("tcp-crlf-keepalives", ["tcp-server", "keepalive"], ["tcp-client", "keepalive"]),
    ("tcp-register-401-200-mra-ar-sk", ["tcp-server", "register"], ["tcp-client", "register"]),
    ("udp-invite-fragmented-ipv4", ["udp-server", "4"], ["udp-client", "frag", "4"]),
    ("udp-invite-fragmented-ipv6", ["udp-server", "6"], ["udp-client", "frag", "6"]),
    ("udp-call-invite-100-180-200-ack-bye", ["udp-server", "4"], ["udp-client", "call", "4"]),
]


def role(args):
    kind = args[0]
    if kind == "tcp-server":
        tcp_server(args[1])
    elif kind == "tcp-client":
        tcp_client(args[1])
    elif kind == "udp-server":
        udp_server(args[1] == "6")
    elif kind == "udp-client":
        udp_client(args[1], args[2] == "6")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--role":
        role(sys.argv[2:])
        return 0
    if os.geteuid() != 0:
        print("make_sip_captures.py: must run as root (network namespaces, tcpdump)", file=sys.stderr)
        return 2
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "testdata", "sip")
    os.makedirs(out_dir, exist_ok=True)
    try:
        netns_setup()
        for name, server_args, client_args in SCENARIOS:
            capture(out_dir, name, server_args, client_args)
    finally:
        netns_cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
