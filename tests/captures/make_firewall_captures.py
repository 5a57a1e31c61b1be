#!/usr/bin/env python3
"""make_firewall_captures.py - pairs of captures taken on the two interfaces of
a Linux firewall at once, for `sipladder compare INSIDE OUTSIDE` (issue 17),
into testdata/firewall/NAME-inside.pcap and NAME-outside.pcap.

Run as root:  python3 tests/captures/make_firewall_captures.py [OUTDIR] [NAME...]

Topology (made afresh for every pair, removed in a finally block):

  slfw-in 10.250.1.1 ---- 10.250.1.2 [fwi] slfw-fw [fwo] 10.250.2.1 ---- 10.250.2.2 slfw-out
  inside UA / TLS client                  NAT firewall                    outside UAS / server

The firewall is the kernel's: iptables SNAT of everything leaving fwo to
10.250.2.1 ports 40000-40999 (so ports are rewritten too: PAT), conntrack,
and per scenario a DROP, a REJECT --reject-with tcp-reset, a short
established timeout, or the kernel's own SIP ALG (nf_conntrack_sip /
nf_nat_sip, attached with the raw table's CT --helper sip), or an RST scapy forges in the firewall
namespace (TTL 255).  tcpdump runs in
slfw-fw on fwi (inside) and fwo (outside) at the same time.  SIP is plain
Python over the kernel's sockets, TLS is openssl s_server / s_client.

tc netem is not available in this kernel: loss is iptables DROP.  The two
tcpdumps share the firewall's clock; `clean-tcp` models two capture hosts
whose clocks differ by shifting its outside file's timestamps by +1.250 s
after the capture (every other byte is as captured).
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from make_sip_verdict_captures import Netns, SDP_AUDIO, request, response  # noqa: E402
from make_sip_refresh_captures import Reader  # noqa: E402

NS_IN, NS_FW, NS_OUT = "slfw-in", "slfw-fw", "slfw-out"
NS = [NS_IN, NS_FW, NS_OUT]
IN, FWI, FWO, OUT = "10.250.1.1", "10.250.1.2", "10.250.2.1", "10.250.2.2"
CLOCK_SKEW_NS = 1250000000  # clean-tcp's outside file: +1.250 s


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


def nsx(ns, *args, check=True):
    return sh("ip", "netns", "exec", ns, *args, check=check)


def fw(*rule):
    nsx(NS_FW, "iptables", *rule)


def topology_up():
    for ns in NS:
        sh("ip", "netns", "add", ns)
        nsx(ns, "ip", "link", "set", "lo", "up")
        nsx(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
    sh("ip", "link", "add", "fwa0", "netns", NS_IN, "type", "veth", "peer", "name", "fwi", "netns", NS_FW)
    sh("ip", "link", "add", "fwo", "netns", NS_FW, "type", "veth", "peer", "name", "fwb0", "netns", NS_OUT)
    for ns, dev, addr in ((NS_IN, "fwa0", IN), (NS_FW, "fwi", FWI), (NS_FW, "fwo", FWO), (NS_OUT, "fwb0", OUT)):
        nsx(ns, "ip", "addr", "add", addr + "/24", "dev", dev)
        nsx(ns, "ip", "link", "set", dev, "up")
        # No segmentation offload: the captures show the segments on the wire.
        nsx(ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", check=False)
    nsx(NS_IN, "ip", "route", "add", "default", "via", FWI)
    nsx(NS_FW, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    # PAT: the inside address and port both rewritten on the way out.
    for proto in ("udp", "tcp"):
        fw("-t", "nat", "-A", "POSTROUTING", "-o", "fwo", "-p", proto, "-j", "SNAT", "--to-source",
           FWO + ":40000-40999")


def topology_down():
    for ns in NS:
        sh("ip", "netns", "del", ns, check=False)


class Tcpdumps:
    """tcpdump on both firewall interfaces at once."""

    def __init__(self, tmp):
        self.files = {"inside": os.path.join(tmp, "inside.pcap"), "outside": os.path.join(tmp, "outside.pcap")}
        self.procs = []

    def __enter__(self):
        for side, dev in (("inside", "fwi"), ("outside", "fwo")):
            p = subprocess.Popen(["ip", "netns", "exec", NS_FW, "tcpdump", "-i", dev, "-n", "-U", "-s", "0",
                                  "-w", self.files[side], "ip"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            self.procs.append(p)
        for p in self.procs:  # "listening on ..." once the capture runs
            p.stderr.readline()
        time.sleep(0.3)
        return self

    def __exit__(self, *exc):
        time.sleep(0.5)
        for p in self.procs:
            p.terminate()
            p.wait(timeout=10)


def udp(ns, addr, port=5060):
    with Netns(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
    return s


def tcp_listen(ns, addr, port):
    with Netns(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(4)
    return s


def tcp_connect(ns, dst, port, timeout=None):
    with Netns(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(timeout)
        s.connect((dst, port))
        s.settimeout(None)
    return s


def uas_udp(s, stop, answer=True):
    """The outside UAS: 100 and 200 (with SDP) to INVITE, 200 to BYE, nothing to ACK."""
    s.settimeout(0.2)
    while not stop.is_set():
        try:
            data, peer = s.recvfrom(65535)
        except socket.timeout:
            continue
        except OSError:
            return
        req = data.decode()
        if not answer:
            continue
        if req.startswith("INVITE"):
            s.sendto(response(req, 100, "Trying").encode(), peer)
            time.sleep(0.1)
            s.sendto(response(req, 200, "OK", to_tag="fwb1", body=SDP_AUDIO.format(ip=OUT),
                              server_ip=OUT).encode(), peer)
        elif req.startswith("BYE"):
            s.sendto(response(req, 200, "OK").encode(), peer)


CID_UDP = "fwcall-udp@10.250.1.1"


def ua_udp_call(s, cid=CID_UDP, retransmit=False):
    """INVITE (SDP), wait for 200, ACK, BYE; with retransmit, the INVITE is resent at 0.5 s and 1.5 s
    (RFC 3261 timer A) when nothing comes back, then the caller gives up."""
    inv = request("INVITE", "sip:bob@%s" % OUT, IN, "z9hG4bKfw1", 1, cid, "fwa1", body=SDP_AUDIO.format(ip=IN))
    s.sendto(inv.encode(), (OUT, 5060))
    s.settimeout(0.5)
    final = None
    for wait in ((0.5, 1.0, 2.0) if retransmit else (3.0,)):
        deadline = time.time() + wait
        while time.time() < deadline:
            try:
                data, _ = s.recvfrom(65535)
            except socket.timeout:
                continue
            if data.startswith(b"SIP/2.0 2"):
                final = data.decode()
                break
        if final or not retransmit:
            break
        s.sendto(inv.encode(), (OUT, 5060))
    if not final:
        return
    ruri = "sip:bob@%s:5060" % OUT
    time.sleep(0.1)
    s.sendto(request("ACK", ruri, IN, "z9hG4bKfw2", 1, cid, "fwa1", to_tag="fwb1").encode(), (OUT, 5060))
    time.sleep(0.3)
    s.sendto(request("BYE", ruri, IN, "z9hG4bKfw3", 2, cid, "fwa1", to_tag="fwb1").encode(), (OUT, 5060))
    s.settimeout(2.0)
    try:
        s.recvfrom(65535)
    except socket.timeout:
        pass


def udp_call(retransmit=False):
    stop = threading.Event()
    srv, cli = udp(NS_OUT, OUT), udp(NS_IN, IN)
    t = threading.Thread(target=uas_udp, args=(srv, stop), daemon=True)
    t.start()
    try:
        ua_udp_call(cli, retransmit=retransmit)
    finally:
        stop.set()
        t.join()
        srv.close()
        cli.close()


def sc_clean_udp():
    """A SIP call over UDP through PAT (10.250.1.1:5060 leaves as 10.250.2.1:40xxx): no verdict."""
    udp_call()


def sc_drop_oneway():
    """The firewall drops every UDP datagram coming back from the outside: the INVITE and its two
    retransmissions cross, the 100 and 200 to each are seen on the outside only (fw.dropped,
    outside to inside, blamed on the firewall)."""
    fw("-A", "FORWARD", "-i", "fwo", "-p", "udp", "-j", "DROP")
    udp_call(retransmit=True)


def sc_alg_rewrite_tcp():
    """The kernel's SIP ALG on TCP 5060 (CT --helper sip): it rewrites the INVITE's Via, Contact and SDP,
    changing its length, and shifts the sequence numbers of everything after it in that direction
    (and the acknowledgements of the other) by the difference (fw.rewritten, nothing dropped)."""
    fw("-t", "raw", "-A", "PREROUTING", "-i", "fwi", "-p", "tcp", "--dport", "5060", "-j", "CT", "--helper", "sip")
    # A NAT address two characters longer than the inside one: the rewritten SDP grows.
    nsx(NS_FW, "ip", "addr", "add", "10.250.2.100/24", "dev", "fwo")
    fw("-t", "nat", "-I", "POSTROUTING", "1", "-o", "fwo", "-p", "tcp", "-j", "SNAT", "--to-source",
       "10.250.2.100:40000-40999")
    tcp_call()


def sc_udp_rejected_icmp():
    """The firewall rejects SIP over UDP from the inside with ICMP port unreachable (iptables REJECT's
    default), sent from its own inside address: the INVITE and its retransmissions are seen inside
    only, each answered by the firewall's ICMP (fw.dropped, fw.injected)."""
    fw("-A", "FORWARD", "-i", "fwi", "-p", "udp", "--dport", "5060", "-j", "REJECT")
    udp_call(retransmit=True)


def sc_alg_rewrite():
    """The kernel's SIP ALG (nf_conntrack_sip + nf_nat_sip, CT --helper sip) on UDP 5060: it rewrites
    the Via, Contact and SDP c=/o= lines of the INVITE from 10.250.1.1 to 10.250.2.1 and the NAT
    port (fw.rewritten, header-level diff)."""
    fw("-t", "raw", "-A", "PREROUTING", "-i", "fwi", "-p", "udp", "--dport", "5060", "-j", "CT", "--helper", "sip")
    udp_call()


def uas_tcp(lst, stop):
    lst.settimeout(0.2)
    while not stop.is_set():
        try:
            c, _ = lst.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        threading.Thread(target=serve_tcp, args=(c, stop), daemon=True).start()


def serve_tcp(c, stop):
    rd = Reader(c)
    while not stop.is_set():
        try:
            req = rd.recv(timeout=0.3)
        except OSError:
            return
        if req is None:
            continue
        if req.startswith("INVITE"):
            c.sendall(response(req, 100, "Trying").encode())
            time.sleep(0.1)
            c.sendall(response(req, 200, "OK", to_tag="fwb1", body=SDP_AUDIO.format(ip=OUT), server_ip=OUT).encode())
        elif req.startswith("BYE"):
            c.sendall(response(req, 200, "OK").encode())


CID_TCP = "fwcall-tcp@10.250.1.1"


def tcp_req(method, branch, cseq, to_tag=None, body=""):
    ruri = "sip:bob@%s:5060;transport=tcp" % OUT
    return request(method, ruri, IN, branch, cseq, CID_TCP, "fwa1", to_tag=to_tag, body=body,
                   transport="TCP").encode()


def tcp_call(idle=0.0, pause=0.3):
    """INVITE/100/200/ACK; then (idle > 0) idle seconds and a re-INVITE; then (pause s later) BYE/200
    and a close."""
    stop = threading.Event()
    lst = tcp_listen(NS_OUT, OUT, 5060)
    t = threading.Thread(target=uas_tcp, args=(lst, stop), daemon=True)
    t.start()
    try:
        s = tcp_connect(NS_IN, OUT, 5060)
        rd = Reader(s)
        s.sendall(tcp_req("INVITE", "z9hG4bKft1", 1, body=SDP_AUDIO.format(ip=IN)))
        while True:
            m = rd.recv(timeout=3.0)
            if m is None or m.startswith("SIP/2.0 2"):
                break
        s.sendall(tcp_req("ACK", "z9hG4bKft2", 1, to_tag="fwb1"))
        if idle:
            time.sleep(idle)
            s.sendall(tcp_req("INVITE", "z9hG4bKft3", 2, to_tag="fwb1", body=SDP_AUDIO.format(ip=IN)))
            rd.recv(timeout=4.0)  # nothing comes: the kernel retransmits meanwhile
            s.close()
            return
        time.sleep(pause)
        try:
            s.sendall(tcp_req("BYE", "z9hG4bKft4", 2, to_tag="fwb1"))
            rd.recv(timeout=2.0)
        except OSError:  # reset meanwhile (rst-forged-midcall)
            pass
        s.close()
        time.sleep(0.3)
    finally:
        stop.set()
        t.join()
        lst.close()


def sc_clean_tcp():
    """A SIP call over TCP through PAT: no verdict.  The outside file's clock is set 1.250 s ahead
    afterwards (two capture hosts): compare must report that offset."""
    tcp_call()


def sc_idle_timeout():
    """SIP over TCP through the firewall, whose conntrack forgets an established connection after 5 s
    idle (nf_conntrack_tcp_loose=0, INVALID dropped, as make_sip_refresh_captures.py): after 8 s the
    re-INVITE and the kernel's retransmissions of it are seen inside only (fw.idle_timeout)."""
    nsx(NS_FW, "sysctl", "-qw", "net.netfilter.nf_conntrack_tcp_loose=0")
    nsx(NS_FW, "sysctl", "-qw", "net.netfilter.nf_conntrack_tcp_timeout_established=5")
    fw("-A", "FORWARD", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP")
    tcp_call(idle=8.0)


# Run in slfw-fw: wait for the 200 OK to the INVITE on the inside interface, then forge the
# server's RST at its next sequence number with TTL 255 (scapy; the kernel would never send it).
SCAPY_FORGE = r"""
import time
from scapy.all import IP, TCP, conf, send, sniff
conf.verb = 0
def is_200(p):
    return (IP in p and TCP in p and p[IP].src == "10.250.2.2" and p[TCP].sport == 5060
            and bytes(p[TCP].payload).startswith(b"SIP/2.0 200"))
got = sniff(iface="fwi", lfilter=is_200, count=1, timeout=20)
if got:
    p = got[0]
    time.sleep(0.5)
    send(IP(src=p[IP].src, dst=p[IP].dst, ttl=255) /
         TCP(sport=p[TCP].sport, dport=p[TCP].dport, flags="R", seq=p[TCP].seq + len(p[TCP].payload)))
"""


def sc_rst_forged_midcall():
    """A middlebox in the firewall forges the server's RST mid-call (scapy in slfw-fw, TTL 255) on the
    inside interface after the 200 OK: the caller's TCP connection dies, the BYE is never sent; the
    outside never sees the RST (fw.injected with its TTL against the server's 63)."""
    forger = subprocess.Popen(["ip", "netns", "exec", NS_FW, "/usr/bin/python3", "-c", SCAPY_FORGE],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3.0)  # scapy's import and the sniffer's start
        tcp_call(pause=1.5)
    finally:
        forger.wait(timeout=30)


def sc_syn_dropped():
    """The firewall drops SYNs to TCP 5061 (a SIP/TLS port blocked outbound): the SYN and the kernel's
    retransmissions are seen inside only (fw.dropped, inside to outside)."""
    fw("-A", "FORWARD", "-p", "tcp", "--dport", "5061", "--syn", "-j", "DROP")
    lst = tcp_listen(NS_OUT, OUT, 5061)
    try:
        tcp_connect(NS_IN, OUT, 5061, timeout=3.5)
    except (socket.timeout, OSError):
        pass
    finally:
        lst.close()


def make_cert(tmp):
    key, crt = os.path.join(tmp, "k.pem"), os.path.join(tmp, "c.pem")
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
       "-out", crt, "-days", "3650", "-subj", "/CN=expe.example.test")
    return key, crt


def sc_rst_injected_tls(tmp):
    """Application inspection on TLS 5062: the firewall answers the ClientHello (the first segment
    with data) with an RST it forges as the server (iptables REJECT --reject-with tcp-reset) and
    drops the ClientHello.  The handshake's SYN/SYN-ACK/ACK cross; the RST is seen inside only,
    with the firewall's TTL 64 where the server's segments arrive with 63 (fw.injected)."""
    fw("-A", "FORWARD", "-i", "fwi", "-p", "tcp", "--dport", "5062", "-m", "length", "--length", "100:65535",
       "-j", "REJECT", "--reject-with", "tcp-reset")
    key, crt = make_cert(tmp)
    srv = subprocess.Popen(["ip", "netns", "exec", NS_OUT, "openssl", "s_server", "-accept", OUT + ":5062",
                            "-key", key, "-cert", crt, "-quiet"],
                           stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        cli = subprocess.run(["ip", "netns", "exec", NS_IN, "openssl", "s_client", "-connect", OUT + ":5062",
                              "-servername", "expe.example.test"],
                             input=b"", capture_output=True, timeout=10)
        del cli
        time.sleep(0.5)
    finally:
        srv.terminate()
        srv.wait(timeout=5)


SCENARIOS = {
    "clean-udp": sc_clean_udp,
    "clean-tcp": sc_clean_tcp,
    "drop-oneway": sc_drop_oneway,
    "alg-rewrite": sc_alg_rewrite,
    "udp-rejected-icmp": sc_udp_rejected_icmp,
    "alg-rewrite-tcp": sc_alg_rewrite_tcp,
    "idle-timeout": sc_idle_timeout,
    "syn-dropped": sc_syn_dropped,
    "rst-forged-midcall": sc_rst_forged_midcall,
    "rst-injected-tls": sc_rst_injected_tls,
}


def shift_pcap(path, delta_ns):
    """Every record's timestamp moved by delta_ns (classic pcap, us or ns resolution)."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    magic = struct.unpack_from("<I", data, 0)[0]
    scale = {0xa1b2c3d4: 1000, 0xa1b23c4d: 1}[magic]
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack_from("<IIII", data, off)
        t = sec * 1000000000 + frac * scale + delta_ns
        struct.pack_into("<II", data, off, t // 1000000000, (t % 1000000000) // scale)
        off += 16 + caplen
    with open(path, "wb") as f:
        f.write(data)


def make(name, outdir):
    tmp = tempfile.mkdtemp(prefix="slfw-")
    try:
        topology_down()
        topology_up()
        fn = SCENARIOS[name]
        with Tcpdumps(tmp) as caps:
            if name == "rst-injected-tls":
                fn(tmp)
            else:
                fn()
        for side, path in caps.files.items():
            if name == "clean-tcp" and side == "outside":
                shift_pcap(path, CLOCK_SKEW_NS)
            shutil.copy(path, os.path.join(outdir, "%s-%s.pcap" % (name, side)))
            print("%s-%s.pcap: %d bytes" % (name, side, os.path.getsize(path)))
    finally:
        topology_down()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "testdata", "firewall")
    names = sys.argv[2:] or list(SCENARIOS)
    os.makedirs(outdir, exist_ok=True)
    for name in names:
        make(name, outdir)


if __name__ == "__main__":
    main()
