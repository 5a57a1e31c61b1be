#!/usr/bin/env python3
"""make_lifecycle_captures.py - captures of how TCP connections live and
end, for the verdicts of issue 14: what must be called a rejection and what
must not (a client giving up, a probe, a normal close, traffic that is not
signalling), into testdata/lifecycle/.

Run as root:  sudo python3 tests/captures/make_lifecycle_captures.py [OUTDIR] [NAME...]

Two network namespaces joined by a veth pair (IPv6 off, static neighbours);
tcpdump runs in the client's namespace on its interface.  Everything is the
kernel's TCP and Python's sockets and ssl module (OpenSSL), with iptables
for drops; only the scanner's SYN is sent raw (a
socket of type SOCK_RAW, as nmap's SYN scan does).

  sllc-cli 10.253.1.1 (cl0) ---- (sv0) 10.253.1.2 sllc-srv

Certificates: tests/captures/tls/ (made by make_tls_captures.sh): server.crt
names server.test, wrong.crt names wrong.test, both under inter.crt.
"""
import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CERTS = os.path.join(HERE, "tls")
CLI_NS, SRV_NS = "sllc-cli", "sllc-srv"
CLI, SRV = "10.253.1.1", "10.253.1.2"
MACS = {CLI_NS: "02:53:00:00:01:01", SRV_NS: "02:53:00:00:01:02"}


def run(*cmd, check=True):
    return subprocess.run(list(cmd), check=check)


def nsrun(ns, *cmd, check=True):
    return run("ip", "netns", "exec", ns, *cmd, check=check)


def netns_setup():
    netns_cleanup()
    for ns in (CLI_NS, SRV_NS):
        run("ip", "netns", "add", ns)
        for k, v in (("net.ipv6.conf.all.disable_ipv6", "1"), ("net.ipv6.conf.default.disable_ipv6", "1"),
                     ("net.ipv4.tcp_syn_retries", "2"), ("net.ipv4.tcp_synack_retries", "2"),
                     ("net.ipv4.tcp_syn_linear_timeouts", "0"), ("net.ipv4.tcp_early_retrans", "0")):
            if os.path.exists("/proc/sys/" + k.replace(".", "/")):
                nsrun(ns, "sysctl", "-q", "-w", "%s=%s" % (k, v))
        run("ip", "-n", ns, "link", "set", "dev", "lo", "up")
    run("ip", "-n", CLI_NS, "link", "add", "cl0", "type", "veth", "peer", "name", "sv0", "netns", SRV_NS)
    for ns, ifc, ip in ((CLI_NS, "cl0", CLI), (SRV_NS, "sv0", SRV)):
        run("ip", "-n", ns, "link", "set", "dev", ifc, "address", MACS[ns], "gso_max_segs", "1")
        run("ip", "-n", ns, "addr", "add", ip + "/24", "dev", ifc)
        run("ip", "-n", ns, "link", "set", "dev", ifc, "up")
        for off in ("tso", "gso", "gro"):
            run("ip", "netns", "exec", ns, "ethtool", "-K", ifc, off, "off", check=False)
    run("ip", "-n", CLI_NS, "neigh", "replace", SRV, "lladdr", MACS[SRV_NS], "dev", "cl0", "nud", "permanent")
    run("ip", "-n", SRV_NS, "neigh", "replace", CLI, "lladdr", MACS[CLI_NS], "dev", "sv0", "nud", "permanent")


def netns_cleanup():
    for ns in (CLI_NS, SRV_NS):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def role_proc(ns, *args):
    return subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__), "--role"]
                            + [str(a) for a in args])


# ---------------------------------------------------------------- roles

def options(n):
    return ("OPTIONS sip:%s:5061;transport=tls SIP/2.0\r\n"
            "Via: SIP/2.0/TLS %s:5061;branch=z9hG4bK-lc-%d\r\n"
            "From: <sip:probe@%s>;tag=lc%d\r\nTo: <sip:%s>\r\nCall-ID: lc-%d@%s\r\nCSeq: 1 OPTIONS\r\n"
            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n" % (SRV, CLI, n, CLI, n, SRV, n, CLI)).encode()


def ok_for(req):
    lines = req.decode().split("\r\n")
    keep = [l for l in lines if l.split(":")[0] in ("Via", "From", "To", "Call-ID", "CSeq")]
    return ("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n").encode()


def read_message(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    return buf


def linger_reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def listener(port):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((SRV, port))
    l.listen(64)
    return l


def role_server(mode):
    """Servers for each capture; they stop after the given number of connections."""
    if mode == "plain":  # 5060 and 5061: accept, answer an OPTIONS, wait for the peer's close
        for port in (5060, 5061):
            threading.Thread(target=serve_plain, args=(listener(port),), daemon=True).start()
        time.sleep(20)
    elif mode in ("tls-wrong", "tls-right"):
        cert = "wrong" if mode == "tls-wrong" else "server"
        l = listener(5061)
        for _ in range(4):
            c, _a = l.accept()
            threading.Thread(target=serve_tls, args=(c, cert), daemon=True).start()
        time.sleep(6)
    elif mode == "idle-reset":  # answer an OPTIONS, then reset the idle connection 31 s later
        l = listener(5060)
        c, _a = l.accept()
        req = read_message(c)
        c.sendall(ok_for(req))
        time.sleep(31)
        linger_reset(c)
        time.sleep(1)
    elif mode == "sip-5080-once":  # SIP over TCP on 5080, then the service goes away
        l = listener(5080)
        c, _a = l.accept()
        l.close()
        serve_plain_conn(c)
        time.sleep(3)
    elif mode == "tls13-wrong":  # TLS 1.3 with a certificate for wrong.test; a good one on 5062
        threading.Thread(target=serve_tls13, args=(listener(5062), "server"), daemon=True).start()
        serve_tls13(listener(5061), "wrong", once=True)
        time.sleep(4)
    elif mode == "hello-close":  # 5061 closes on the ClientHello; 5062 reads it and says nothing
        l1, l2 = listener(5061), listener(5062)
        c, _a = l1.accept()
        c.recv(4096)
        c.close()
        c2, _a = l2.accept()
        c2.recv(4096)
        time.sleep(8)
        c2.close()
    elif mode == "s_server-wrong":  # OpenSSL's own server, which answers an EOF mid-handshake with an alert
        subprocess.run(["openssl", "s_server", "-quiet", "-naccept", "1", "-accept", "%s:5061" % SRV, "-tls1_2",
                        "-cert", os.path.join(CERTS, "wrong.crt"), "-key", os.path.join(CERTS, "wrong.key"),
                        "-cert_chain", os.path.join(CERTS, "inter.crt")],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20)
    elif mode == "tls-close":  # conn 1: close_notify then RST; conn 2: RST answering the request
        l = listener(5061)
        c, _a = l.accept()
        ctx = tls_server_ctx("server")
        t = ctx.wrap_socket(c, server_side=True)
        req = read_message(t)
        t.sendall(ok_for(req))
        try:
            t.recv(1024)  # the client's close_notify
            t.unwrap()
        except (ssl.SSLError, OSError):
            pass
        time.sleep(1)
        c2, _a = l.accept()
        t2 = ctx.wrap_socket(c2, server_side=True)
        read_message(t2)
        time.sleep(0.05)
        linger_reset(t2)
        c3, _a = l.accept()
        t3 = ctx.wrap_socket(c3, server_side=True)
        req = read_message(t3)
        t3.sendall(ok_for(req))
        time.sleep(3)


def tls_server_ctx(cert, tls13=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if tls13:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    else:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(CERTS, cert + "-full.pem"), os.path.join(CERTS, cert + ".key"))
    return ctx


def serve_plain(l):
    while True:
        c, _a = l.accept()
        threading.Thread(target=serve_plain_conn, args=(c,), daemon=True).start()


def serve_plain_conn(c):
    try:
        req = read_message(c)
        if req:
            c.sendall(ok_for(req))
        while c.recv(4096):
            pass
    except OSError:
        pass
    c.close()


def serve_tls(c, cert, tls13=False):
    """Answer one OPTIONS over TLS (1.2, or 1.3 only), then wait for the close."""
    try:
        t = tls_server_ctx(cert, tls13).wrap_socket(c, server_side=True)
        req = read_message(t)
        if req:
            t.sendall(ok_for(req))
        while t.recv(4096):
            pass
    except (ssl.SSLError, OSError):
        pass
    c.close()


def serve_tls13(l, cert, once=False):
    while True:
        c, _a = l.accept()
        serve_tls(c, cert, tls13=True)
        if once:
            return


def client_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the client checks the name itself, as an Expressway's zone does
    return ctx


def names_of(der):
    """The DNS names a certificate carries, read with openssl x509."""
    p = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-ext", "subjectAltName"], input=der,
                       capture_output=True)
    return [w.split(":", 1)[1].strip(",") for w in p.stdout.decode().split() if w.startswith("DNS:")]


def tls_exchange(n, close_if_wrong, want="server.test"):
    s = socket.create_connection((SRV, 5061))
    t = client_ctx().wrap_socket(s, server_hostname=want)
    if close_if_wrong and want not in names_of(t.getpeercert(binary_form=True)):
        time.sleep(0.05)
        s.close()  # FIN, no alert, no data: how the zone drops a peer whose names do not match
        return
    t.sendall(options(n))
    read_message(t)
    time.sleep(0.2)
    t.close()


def raw_syn(sport, dport):
    """A scanner's SYN from a raw socket: the kernel of the scanning host
    answers the SYN-ACK with an RST, having no socket for it."""
    def csum(b):
        if len(b) % 2:
            b += b"\0"
        s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        s = (s >> 16) + (s & 0xffff)
        return ~(s + (s >> 16)) & 0xffff
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 0x5ca11ab1, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = socket.inet_aton(CLI) + socket.inet_aton(SRV) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    r.sendto(tcp, (SRV, dport))
    r.close()


def role_client(mode):
    if mode == "abandon":
        # 1: happy eyeballs' loser: the socket is closed before its SYN-ACK
        # gets through (held back by this host's own filter for a moment),
        # so the kernel answers the server's next SYN-ACK with an RST.
        hold = ["INPUT", "-p", "tcp", "--sport", "5061", "--tcp-flags", "SYN,ACK", "SYN,ACK", "-j", "DROP"]
        run("iptables", "-A", *hold)
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect((SRV, 5061))
        except BlockingIOError:
            pass
        time.sleep(0.3)
        s.close()
        run("iptables", "-D", *hold)
        time.sleep(1.5)
        # 2: a scanner's half-open SYN to 5060.
        raw_syn(45000, 5060)
        time.sleep(0.6)
        # 3: a port check: connect, then close at once with an RST (SO_LINGER 0), no data.
        s = socket.create_connection((SRV, 5060))
        time.sleep(0.3)
        linger_reset(s)
        time.sleep(0.6)
        # 4: a real exchange on the same server that goes well.
        s = socket.create_connection((SRV, 5061))
        s.sendall(options(4))
        read_message(s)
        time.sleep(0.2)
        s.close()
        time.sleep(0.6)
    elif mode == "refused-many":
        for i in range(12):  # nothing listens on 5062: every SYN is answered by an RST
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect((SRV, 5062))
            except OSError:
                pass
            s.close()
            time.sleep(0.1)
    elif mode == "scope":
        # UDP SIP, then SYNs the firewall drops: to SMB (445, 139) and to SIP over TLS (5061).
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((CLI, 5060))
        u.sendto(options(1).replace(b"TLS", b"UDP").replace(b"5061", b"5060"), (SRV, 5060))
        time.sleep(0.3)
        threads = []
        for port in (445, 139, 5061):
            th = threading.Thread(target=try_connect, args=(port,))
            th.start()
            threads.append(th)
            time.sleep(0.1)
        for th in threads:
            th.join()
    elif mode == "handshake-lost":
        s = socket.create_connection((SRV, 5060), timeout=10)  # the SYN-ACK comes; our ACK never gets there
        s.sendall(options(1).replace(b"TLS", b"TCP").replace(b"5061", b"5060"))
        time.sleep(6)
        s.close()
    elif mode == "tls-wrong":
        tls_exchange(1, close_if_wrong=True)
        time.sleep(0.5)
    elif mode == "tls-elsewhere":
        tls_exchange(1, close_if_wrong=False)  # this client accepts wrong.test on its first connection...
        time.sleep(0.5)
        tls_exchange(2, close_if_wrong=True)   # ...then leaves the next one right after the handshake
        time.sleep(0.5)
    elif mode == "tls-right":
        tls_exchange(1, close_if_wrong=True)
        time.sleep(0.5)
    elif mode == "idle-reset":
        s = socket.create_connection((SRV, 5060))
        s.sendall(options(1).replace(b"TLS", b"TCP").replace(b"5061", b"5060"))
        read_message(s)
        try:
            s.recv(10)  # until the server's RST
        except OSError:
            pass
        s.close()
    elif mode == "syn-at-end":
        # SIP over UDP, then a SYN the capture ends 0.3 s after: too soon to say nobody answers.
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((CLI, 5060))
        u.sendto(options(1).replace(b"TLS", b"UDP").replace(b"5061", b"5060"), (SRV, 5060))
        time.sleep(0.3)
        threading.Thread(target=try_connect, args=(5061,), daemon=True).start()
        time.sleep(0.3)
    elif mode == "sip-5080":
        s = socket.create_connection((SRV, 5080))
        s.sendall(options(1).replace(b"TLS", b"TCP").replace(b"5061", b"5080"))
        read_message(s)
        time.sleep(0.3)
        s.close()
        time.sleep(0.5)
        try_connect(5080)  # refused: nothing listens any more
        time.sleep(0.3)
    elif mode == "tls13-reject":
        # A verifying TLS 1.3 client (trusts root.crt, wants server.test): it
        # refuses wrong.test with an encrypted alert and closes; then the same
        # client completes a handshake with the good server on 5062.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_verify_locations(os.path.join(CERTS, "root.crt"))
        for port in (5061, 5062):
            s = socket.create_connection((SRV, port))
            try:
                t = ctx.wrap_socket(s, server_hostname="server.test")
                t.sendall(options(port))
                read_message(t)
                time.sleep(0.2)
                t.close()
            except ssl.SSLError:
                s.close()
            time.sleep(0.8)
    elif mode == "hello-close":
        for port, wait in ((5061, 0.5), (5062, 7)):
            s = socket.create_connection((SRV, port))
            inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
            obj = client_ctx().wrap_bio(inc, outg, server_hostname="server.test")
            try:
                obj.do_handshake()
            except ssl.SSLWantReadError:
                pass
            s.sendall(outg.read())
            s.settimeout(wait)
            try:
                while s.recv(4096):
                    pass
            except OSError:
                pass
            s.close()
            time.sleep(0.5)
    elif mode == "tls-fin-after-certificate":
        fin_after_server_flight()
    elif mode == "tls-close":
        s = socket.create_connection((SRV, 5061))
        t = client_ctx().wrap_socket(s, server_hostname="server.test")
        t.sendall(options(1))
        read_message(t)
        time.sleep(0.2)
        raw = t.unwrap()  # close_notify both ways
        time.sleep(0.3)
        linger_reset(raw)  # then the socket goes with an RST: a normal abortive close
        time.sleep(1.2)
        s = socket.create_connection((SRV, 5061))
        t = client_ctx().wrap_socket(s, server_hostname="server.test")
        t.sendall(options(2))
        try:
            t.recv(1024)
        except (ssl.SSLError, OSError):
            pass
        time.sleep(0.5)
        s.close()
        time.sleep(1.2)
        # 3: a session in use both ways that the client drops with an RST
        # right after the server's answer, without close_notify: its own session.
        s = socket.create_connection((SRV, 5061))
        t = client_ctx().wrap_socket(s, server_hostname="server.test")
        t.sendall(options(3))
        read_message(t)
        linger_reset(t)
        time.sleep(0.5)


def fin_after_server_flight():
    """A TLS 1.2 client that sends a genuine ClientHello (OpenSSL's, through a
    memory BIO), reads the server's flight up to ServerHelloDone and leaves
    with a FIN, no alert: the server then answers the EOF with an alert of
    its own, which is not the rejection."""
    ctx = client_ctx()
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, outg, server_hostname="server.test")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    s = socket.create_connection((SRV, 5061))
    s.sendall(outg.read())
    buf = b""
    s.settimeout(5)
    while b"\x0e\x00\x00\x00" not in buf:  # ServerHelloDone: type 14, empty body
        data = s.recv(65536)
        if not data:
            break
        buf += data
    time.sleep(0.05)
    s.shutdown(socket.SHUT_WR)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()
    time.sleep(0.5)


def try_connect(port):
    s = socket.socket()
    s.settimeout(8)
    try:
        s.connect((SRV, port))
    except OSError:
        pass
    s.close()


def role_udp_server():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((SRV, 5060))
    data, peer = u.recvfrom(65535)
    u.sendto(ok_for(data), peer)


# ---------------------------------------------------------------- captures

# name -> (server roles, client mode, setup commands run in the server namespace)
CAPTURES = {
    "tcp-abandoned-and-probes": (["plain"], "abandon", []),
    "tcp-refused-many": ([], "refused-many", []),
    "tcp-scope-smb-sip": (["udp"], "scope",
                          [["iptables", "-A", "INPUT", "-p", "tcp", "-m", "multiport", "--dports", "445,139,5061",
                            "-j", "DROP"]]),
    "tcp-handshake-incomplete": ([], "handshake-lost",
                                 [["iptables", "-A", "INPUT", "-p", "tcp", "--dport", "5060", "!", "--syn",
                                   "-j", "DROP"]]),
    "tls-closed-after-handshake": (["tls-wrong"], "tls-wrong", []),
    "tls-closed-after-handshake-accepted-elsewhere": (["tls-wrong"], "tls-elsewhere", []),
    "tls-names-match": (["tls-right"], "tls-right", []),
    "tls-close-notify-then-rst": (["tls-close"], "tls-close", []),
    "tls-fin-after-certificate-server-alert": (["s_server-wrong"], "tls-fin-after-certificate", []),
    "tcp-server-idle-reset": (["idle-reset"], "idle-reset", []),
    "tls13-client-rejects-certificate": (["tls13-wrong"], "tls13-reject", []),
    "tls-no-server-hello": (["hello-close"], "hello-close", []),
    "tcp-sip-5080-then-refused": (["sip-5080-once"], "sip-5080", []),
    "tcp-syn-at-capture-end": (["udp"], "syn-at-end",
                               [["iptables", "-A", "INPUT", "-p", "tcp", "--dport", "5061", "-j", "DROP"]]),
}


def full_chains():
    """cert-full.pem: the leaf and the intermediate, for load_cert_chain."""
    for name in ("server", "wrong"):
        with open(os.path.join(CERTS, name + "-full.pem"), "w") as out:
            for part in (name + ".crt", "inter.crt"):
                out.write(open(os.path.join(CERTS, part)).read())


def capture(name, outdir):
    servers, client, setup = CAPTURES[name]
    netns_setup()
    procs = []
    try:
        for cmd in setup:
            nsrun(SRV_NS, *cmd)
        pcap = os.path.join(outdir, name + ".pcap")
        dump = subprocess.Popen(["ip", "netns", "exec", CLI_NS, "tcpdump", "-i", "cl0", "-s", "65535", "-B", "4096",
                                 "-U", "-w", pcap], stderr=subprocess.PIPE)
        time.sleep(1.5)
        if name == "tcp-handshake-incomplete":
            procs.append(subprocess.Popen(["ip", "netns", "exec", SRV_NS, sys.executable, "-c",
                                           "import socket,time\nl=socket.socket()\nl.bind(('%s',5060))\n"
                                           "l.listen(8)\ntime.sleep(12)" % SRV]))
        for role in servers:
            procs.append(role_proc(SRV_NS, "udp-server") if role == "udp" else role_proc(SRV_NS, "server", role))
        time.sleep(0.5)
        cl = role_proc(CLI_NS, "client", client)
        cl.wait(timeout=60)
        time.sleep(0.1 if name == "tcp-syn-at-capture-end" else 1.0)
        dump.send_signal(signal.SIGINT)
        _out, err = dump.communicate(timeout=10)
        if b"\n0 packets dropped by kernel" not in err:
            raise RuntimeError("tcpdump dropped packets: %s" % err.decode())
        oracle = os.path.join(HERE, "make_oracle.sh")
        if os.path.exists(oracle):
            subprocess.run(["bash", oracle, os.path.abspath(pcap)], check=False, stdout=subprocess.DEVNULL)
        print("wrote", pcap)
    finally:
        for p in procs:
            p.kill()
            p.wait()
        netns_cleanup()


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--role":
        role, args = sys.argv[2], sys.argv[3:]
        if role == "server":
            role_server(*args)
        elif role == "client":
            role_client(*args)
        elif role == "udp-server":
            role_udp_server()
        return 0
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "testdata", "lifecycle")
    names = sys.argv[2:] or list(CAPTURES)
    os.makedirs(outdir, exist_ok=True)
    full_chains()
    try:
        for name in names:
            capture(name, outdir)
    finally:
        for name in ("server", "wrong"):
            p = os.path.join(CERTS, name + "-full.pem")
            if os.path.exists(p):
                os.unlink(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
