#!/usr/bin/env python3
"""make_ws_captures.py - record the captures in testdata/ws/: SIP over
WebSocket (RFC 7118 on RFC 6455) and SIP messages whose From header libosip2
refuses (a display name with a stray quote), from real kernel TCP/UDP
stacks talking inside two network namespaces.

Run as root:  sudo python3 tests/captures/make_ws_captures.py [OUTDIR]

Topology (exists only while the script runs; removed in a finally block):

  slws-a [veth-a 10.214.7.1/24] <==veth==> [veth-b 10.214.7.2/24] slws-b

Python sockets (standard library only) play the client in slws-a and the
server in slws-b; the WebSocket handshake and framing are a small RFC 6455
implementation written here (python3-websockets is not installed, and a
library would not send the fragmented, unmasked and malformed frames the
tests need); the TCP/UDP/IP is the kernel's.  tcpdump records on veth-b.
Nothing leaves the namespaces.  Each capture F gets F.tshark.tsv beside it,
made with the command of testdata/corpus/ORACLE.md (check_sip_oracle
compares our messages with it).
"""
import base64
import hashlib
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

NS_A, NS_B = "slws-a", "slws-b"
A4, B4 = "10.214.7.1", "10.214.7.2"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# ---------------------------------------------------------------- SIP text


def sip_msg(first, headers, body=""):
    body_b = body.encode()
    text = first + "\r\n" + "".join(h + "\r\n" for h in headers)
    text += "Content-Length: %d\r\n\r\n" % len(body_b)
    return text.encode() + body_b


def request(method, call_id, cseq, transport, via_host, branch, from_hdr, to_tag=None, body=""):
    to = "<sip:bob@%s>" % B4 + (";tag=%s" % to_tag if to_tag else "")
    hdrs = ["Via: SIP/2.0/%s %s;branch=z9hG4bK%s" % (transport, via_host, branch), "Max-Forwards: 70",
            "From: " + from_hdr, "To: " + to, "Call-ID: " + call_id, "CSeq: %d %s" % (cseq, method),
            "Contact: <sip:alice@%s;transport=%s>" % (via_host, transport.lower()),
            "User-Agent: sipladder-capture/1.0"]
    if method == "REGISTER":
        hdrs.append("Expires: 600")
    if body:
        hdrs.append("Content-Type: application/sdp")
    return sip_msg("%s sip:bob@%s SIP/2.0" % (method, B4), hdrs, body)


def sdp(host):
    return "\r\n".join(["v=0", "o=- 1 1 IN IP4 %s" % host, "s=-", "c=IN IP4 %s" % host, "t=0 0",
                        "m=audio 49170 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", ""])


def response_to(req, code, reason, to_tag="b9", body=""):
    """A response copying Via, From, To (with a tag), Call-ID, CSeq."""
    lines = req.split(b"\r\n\r\n")[0].decode().split("\r\n")[1:]
    keep = []
    for h in lines:
        name = h.split(":", 1)[0].strip().lower()
        if name in ("via", "from", "call-id", "cseq"):
            keep.append(h)
        elif name == "to":
            keep.append(h if ";tag=" in h or code == 100 else h + ";tag=" + to_tag)
        elif name == "contact" and code == 200 and b" REGISTER\r\n" in req:
            keep.append(h + ";expires=600")  # the binding the registrar keeps
    if body:
        keep.append("Content-Type: application/sdp")
    return sip_msg("SIP/2.0 %d %s" % (code, reason), keep, body)


def first_word(m):
    return m.split(b" ", 1)[0].decode()


# ---------------------------------------------------------------- RFC 6455


def ws_frame(payload, opcode=1, fin=True, mask=True, rsv=0):
    b0 = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    if n < 126:
        hdr = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
    if not mask:
        return hdr + payload
    key = os.urandom(4)
    return hdr + key + bytes(b ^ key[i & 3] for i, b in enumerate(payload))


def close_frame(code, reason, mask):
    return ws_frame(struct.pack("!H", code) + reason.encode(), opcode=8, mask=mask)


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_http(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(1)
        if not chunk:
            raise EOFError
        data += chunk
    return data.decode()


def read_frame(conn):
    """(fin, opcode, payload), or None for a header this reader refuses."""
    b0, b1 = recv_exact(conn, 2)
    n = b1 & 0x7f
    if n == 126:
        n = struct.unpack("!H", recv_exact(conn, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", recv_exact(conn, 8))[0]
        if n >> 63:
            return None
    key = recv_exact(conn, 4) if b1 & 0x80 else None
    payload = recv_exact(conn, n)
    if key:
        payload = bytes(b ^ key[i & 3] for i, b in enumerate(payload))
    return bool(b0 & 0x80), b0 & 0x0f, payload


def read_message(conn):
    """A whole data message (fragments joined) or a control frame."""
    parts = []
    while True:
        fr = read_frame(conn)
        if fr is None:
            return None
        fin, op, payload = fr
        if op >= 8:
            return op, payload
        parts.append(payload)
        if fin:
            return 1, b"".join(parts)


# ---------------------------------------------------------------- roles

PORTS = {"call": 8080, "malformed": 5066, "chat": 8080}


def ws_server(scenario):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((B4, PORTS[scenario]))
    ls.listen(1)
    conn, _ = ls.accept()
    req = read_http(conn)
    key = [l.split(":", 1)[1].strip() for l in req.split("\r\n") if l.lower().startswith("sec-websocket-key:")][0]
    proto = [l.split(":", 1)[1].strip() for l in req.split("\r\n")
             if l.lower().startswith("sec-websocket-protocol:")][0]
    accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
    conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: %s\r\n\r\n" % (accept, proto)).encode())
    while True:
        m = read_message(conn)
        if m is None:  # a length this server refuses: RFC 6455 7.4.1 1002
            conn.sendall(close_frame(1002, "invalid frame length", mask=False))
            break
        op, payload = m
        if op == 8:
            conn.sendall(close_frame(1000, "", mask=False))
            break
        if op == 9:
            conn.sendall(ws_frame(payload, opcode=10, mask=False))
            continue
        if proto != "sip":
            conn.sendall(ws_frame(b"echo: " + payload, mask=False))
            continue
        method = first_word(payload)
        if method == "INVITE" and b"ws-call-2" in payload:
            answers = [(100, "Trying"), (486, "Busy Here")]
        else:
            answers = {"REGISTER": [(200, "OK")], "OPTIONS": [(200, "OK")], "BYE": [(200, "OK")],
                       "INVITE": [(100, "Trying"), (180, "Ringing"), (200, "OK")]}.get(method, [])
        for code, reason in answers:
            body = sdp(B4) if method == "INVITE" and code == 200 else ""
            conn.sendall(ws_frame(response_to(payload, code, reason, body=body), mask=False))
            time.sleep(0.05)
    drain(conn, 0.3)  # what the client still sends, so the close is a FIN, not an RST
    conn.close()
    ls.close()


def drain(s, t=0.3):
    s.settimeout(t)
    try:
        while s.recv(65536):
            pass
    except (socket.timeout, OSError):
        pass


def ws_client(scenario):
    s = socket.create_connection((B4, PORTS[scenario]))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    proto = "chat" if scenario == "chat" else "sip"
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n"
               "Origin: http://%s\r\n\r\n" % (B4, PORTS[scenario], key, proto, A4)).encode())
    drain(s, 0.3)
    via = "df7jal23ls0d.invalid"
    alice = "\"Alice\" <sip:alice@%s>;tag=wsa1" % A4

    def send(data, pause=0.3):
        s.sendall(data)
        drain(s, pause)

    if scenario == "chat":
        # A SIP-looking text on a chat connection: not SIP (no sip subprotocol).
        send(ws_frame(request("OPTIONS", "chat-1", 1, "WS", via, "c1", alice)))
        send(ws_frame(b"hello"))
        send(close_frame(1000, "", mask=True))
    elif scenario == "call":
        reg = request("REGISTER", "ws-reg-1", 1, "WS", via, "r1", alice)
        send(ws_frame(reg))
        inv = request("INVITE", "ws-call-1", 1, "WS", via, "i1", alice, body=sdp(A4))
        # One message in three frames (RFC 6455 5.4), each its own segment.
        k1, k2 = len(inv) // 3, 2 * len(inv) // 3
        s.sendall(ws_frame(inv[:k1], opcode=1, fin=False))
        time.sleep(0.05)
        s.sendall(ws_frame(inv[k1:k2], opcode=0, fin=False))
        time.sleep(0.05)
        send(ws_frame(inv[k2:], opcode=0, fin=True), 0.6)
        send(ws_frame(request("ACK", "ws-call-1", 1, "WS", via, "a1", alice, to_tag="b9")))
        send(ws_frame(b"ka", opcode=9))
        send(ws_frame(request("BYE", "ws-call-1", 2, "WS", via, "b1", alice, to_tag="b9")))
        # A second call refused by the far end: its verdict over WebSocket.
        send(ws_frame(request("INVITE", "ws-call-2", 1, "WS", via, "i2", alice, body=sdp(A4))), 0.6)
        send(ws_frame(request("ACK", "ws-call-2", 1, "WS", via, "i2", alice, to_tag="b9")))
        send(close_frame(1000, "", mask=True))
    elif scenario == "malformed":
        send(ws_frame(request("REGISTER", "ws-reg-2", 1, "WS", via, "r2", alice)))
        # An unmasked client frame (RFC 6455 5.1 says masked): still SIP.
        send(ws_frame(request("OPTIONS", "ws-opt-2", 1, "WS", via, "o2", alice), mask=False))
        # A 64-bit length with its most significant bit set: the server
        # refuses it with close 1002.
        send(struct.pack("!BBQ", 0x81, 0x80 | 127, 1 << 63) + os.urandom(4) + b"x" * 40)
    drain(s, 0.5)
    s.close()


def udp_stray_quote(role):
    """A call over UDP whose From has a stray quote (libosip2 refuses it,
    tshark reads it): call 1 refused 486, call 2 answered and hung up."""
    if role == "server":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((B4, 5060))
        s.settimeout(5)
        try:
            while True:
                data, peer = s.recvfrom(65535)
                method = first_word(data)
                if method == "INVITE" and b"sq-call-1" in data:
                    answers = [(100, "Trying"), (486, "Busy Here")]
                elif method == "INVITE":
                    answers = [(100, "Trying"), (180, "Ringing"), (200, "OK")]
                elif method == "BYE":
                    answers = [(200, "OK")]
                else:
                    answers = []
                for code, reason in answers:
                    body = sdp(B4) if code == 200 and method == "INVITE" else ""
                    s.sendto(response_to(data, code, reason, body=body), peer)
                    time.sleep(0.05)
                if method == "BYE":
                    break
        finally:
            s.close()
        return
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((A4, 5060))
    s.settimeout(1)
    bob = "\"Bob <sip:bob@%s>;tag=sq1" % A4  # the stray quote
    dst = (B4, 5060)

    def send(m, pause=0.4):
        s.sendto(m, dst)
        end = time.time() + pause
        while time.time() < end:
            try:
                s.recvfrom(65535)
            except socket.timeout:
                break

    send(request("INVITE", "sq-call-1", 1, "UDP", A4 + ":5060", "q1", bob, body=sdp(A4)))
    send(request("ACK", "sq-call-1", 1, "UDP", A4 + ":5060", "q1", bob, to_tag="b9"))
    send(request("INVITE", "sq-call-2", 1, "UDP", A4 + ":5060", "q2", bob, body=sdp(A4)))
    send(request("ACK", "sq-call-2", 1, "UDP", A4 + ":5060", "q3", bob, to_tag="b9"))
    send(request("BYE", "sq-call-2", 2, "UDP", A4 + ":5060", "q4", bob, to_tag="b9"))
    s.close()


# ---------------------------------------------------------------- harness


def run(*cmd):
    subprocess.run(list(cmd), check=True)


def netns_setup():
    netns_cleanup()
    run("ip", "netns", "add", NS_A)
    run("ip", "netns", "add", NS_B)
    run("ip", "-n", NS_A, "link", "add", "veth-a", "type", "veth", "peer", "name", "veth-b", "netns", NS_B)
    for ns, ifc, v4 in ((NS_A, "veth-a", A4), (NS_B, "veth-b", B4)):
        run("ip", "-n", ns, "link", "set", "dev", ifc, "gso_max_segs", "1")
        run("ip", "-n", ns, "addr", "add", v4 + "/24", "dev", ifc)
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
                             "--immediate-mode", "-Z", "root", "-s", "262144", "-w", tmp, "tcp or udp"],
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


ORACLE_FIELDS = [
    "frame.number", "frame.time_epoch", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst",
    "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "sip.Method",
    "sip.Status-Code", "sip.Call-ID", "sip.CSeq", "tls.record.content_type",
    "tls.handshake.type", "tls.alert_message.level", "tls.alert_message.desc",
    "tcp.flags.reset", "tcp.flags.syn", "tcp.flags.ack", "tcp.stream", "frame.cap_len",
    "frame.len", "tls.handshake.extensions_server_name", "tls.record.opaque_type",
    "tls.record.version", "tls.handshake.extensions.supported_version",
]


def oracle(path):
    """The command of testdata/corpus/ORACLE.md, verbatim: tshark decodes
    SIP in WebSocket messages when the subprotocol is sip."""
    cmd = ["tshark", "-n", "-2", "-r", path, "-d", "tcp.port==6060,sip", "-T", "fields", "-E", "header=y",
           "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in ORACLE_FIELDS:
        cmd += ["-e", f]
    with open(path + ".tshark.tsv", "w") as out:
        subprocess.run(cmd, check=True, stdout=out, stderr=subprocess.DEVNULL)


SCENARIOS = [
    ("ws-sip-register-call", ["ws-server", "call"], ["ws-client", "call"]),
    ("ws-sip-malformed-length-close-1002", ["ws-server", "malformed"], ["ws-client", "malformed"]),
    ("ws-chat-not-sip", ["ws-server", "chat"], ["ws-client", "chat"]),
    ("sip-udp-from-stray-quote", ["udp", "server"], ["udp", "client"]),
]


def role(args):
    if args[0] == "ws-server":
        ws_server(args[1])
    elif args[0] == "ws-client":
        ws_client(args[1])
    elif args[0] == "udp":
        udp_stray_quote(args[1])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--role":
        role(sys.argv[2:])
        return 0
    if os.geteuid() != 0:
        print("make_ws_captures.py: must run as root (network namespaces, tcpdump)", file=sys.stderr)
        return 2
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "testdata", "ws")
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
