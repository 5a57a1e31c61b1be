#!/usr/bin/python3
"""make_encap_captures.py - real SIP and TLS traffic, then the same frames
inside the encapsulations a capture point meets (GTP-U, VXLAN, Geneve, Cisco
MetaData/SGT, GRE with key and sequence, GRE over IPv6 bridging Ethernet,
ERSPAN I and III), into testdata/encap/.

Run as root with Debian's python (python3-scapy):
    sudo /usr/bin/python3 tests/captures/make_encap_captures.py [OUTDIR]

Topology (exists only while the script runs; removed in a finally block):

  slen-a [slen0 10.253.7.1/24] <==veth==> [slen1 10.253.7.2/24] slen-b

tcpdump records on slen1 (Ethernet).  Python sockets play a SIP UA in
slen-a (UDP 5062) and a UAS in slen-b (UDP 5060): a first INVITE is
answered 100, 180, 486 Busy Here, a second 100, 180, 200, then ACK and BYE.
Then `openssl s_client` in slen-a connects to `openssl s_server` in slen-b
(TLS 1.2, port 5061) trusting another CA (tests/captures/tls/other.crt), so
the client rejects the server's certificate with a fatal unknown_ca alert.
The SIP is hand-written; the UDP, TCP and TLS are the kernel's and
OpenSSL's.  Nothing leaves the namespaces.

That capture is plain.pcap.  Scapy then wraps its frames, one for one and
with their timestamps, in what real software cannot easily produce here
(each outer header built by hand, per its specification):

  gtpu.pcap        outer IPv4/UDP 2152, GTPv1-U G-PDU; uplink (the client's)
                   frames carry a sequence field and a PDU session container
                   extension header, as on a 5G N3 interface
  vxlan.pcap       outer IPv4/UDP 4789, VXLAN VNI 5001, inner Ethernet
  geneve.pcap      outer IPv4/UDP 6081, Geneve with one option on the
                   client's frames, protocol 0x6558 (Ethernet)
  sgt.pcap         the client's frames tagged with Cisco MetaData (EtherType
                   0x8909, SGT 16), the server's untagged: an access switch
                   tagging on ingress
  gre-key-seq.pcap IPv4 GRE with key and sequence number carrying IPv4
  gre6-teb.pcap    IPv6 GRE with key carrying Ethernet (0x6558)
  erspan1.pcap     GRE 0x88BE without sequence number (ERSPAN type I)
  erspan3.pcap     GRE 0x22EB (ERSPAN type III), the client's frames with
                   the optional platform subheader
  undecoded.pcap   plain.pcap with frames inserted that sipladder does not
                   decode: 3 with EtherType 0x88B5, 2 PPTP GRE (version 1),
                   1 ESP; and some it does not follow by design: 2 ARP,
                   a GTP-U echo request and response, LLDP, an ICMP echo

Each capture F gets F.tshark.tsv beside it (tests/captures/make_oracle.sh).
With --wrap-only, plain.pcap is not recorded again, only wrapped.
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CERTS = os.path.join(HERE, "tls")
ORACLE = os.path.join(HERE, "make_oracle.sh")

NS_A, NS_B = "slen-a", "slen-b"
A4, B4 = "10.253.7.1", "10.253.7.2"
UAC_PORT, UAS_PORT, TLS_PORT = 5062, 5060, 5061
PACE = 0.15  # before each send: the previous one is delivered and ACKed first

# Outer (tunnel) endpoints: the client side's and the server side's.
T4 = ("10.253.9.1", "10.253.9.2")
T6 = ("fd00:5e::1", "fd00:5e::2")
TMAC = ("02:00:5e:00:09:01", "02:00:5e:00:09:02")

# ---------------------------------------------------------------- SIP


def msg(first, headers, body=""):
    b = body.encode()
    text = first + "\r\n" + "".join(h + "\r\n" for h in headers)
    return (text + "Content-Length: %d\r\n\r\n" % len(b)).encode() + b


def request(method, call, cseq, to_tag=None):
    sdp = ""
    hdrs = [
        "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%s-%d-%s;rport" % (A4, UAC_PORT, call, cseq, method.lower()),
        "Max-Forwards: 70",
        "From: \"Alice\" <sip:alice@%s>;tag=al-%s" % (A4, call),
        "To: <sip:bob@%s>%s" % (B4, ";tag=" + to_tag if to_tag else ""),
        "Call-ID: encap-%s@%s" % (call, A4),
        "CSeq: %d %s" % (cseq, method),
        "Contact: <sip:alice@%s:%d>" % (A4, UAC_PORT),
        "User-Agent: sipladder-encap/1.0",
    ]
    if method == "INVITE":
        hdrs.append("Content-Type: application/sdp")
        sdp = "\r\n".join(["v=0", "o=alice 1 1 IN IP4 " + A4, "s=-", "c=IN IP4 " + A4, "t=0 0",
                           "m=audio 49170 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", ""])
    return msg("%s sip:bob@%s SIP/2.0" % (method, B4), hdrs, sdp)


def response(req, code, reason, to_tag):
    head = req.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")[1:]
    out = []
    for h in head:
        name = h.split(":", 1)[0].lower()
        if name not in ("via", "from", "to", "call-id", "cseq"):
            continue
        if name == "to" and ";tag=" not in h and code > 100:
            h += ";tag=" + to_tag
        out.append(h)
    out += ["Contact: <sip:bob@%s:%d>" % (B4, UAS_PORT), "Server: sipladder-encap/1.0"]
    return msg("SIP/2.0 %d %s" % (code, reason), out)


def uas():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((B4, UAS_PORT))
    s.settimeout(20)
    answers = {"busy": [(100, "Trying"), (180, "Ringing"), (486, "Busy Here")],
               "ok": [(100, "Trying"), (180, "Ringing"), (200, "OK")]}
    while True:
        data, peer = s.recvfrom(65535)
        first = data.split(b"\r\n", 1)[0].decode()
        call = "busy" if b"encap-busy" in data else "ok"
        if first.startswith("INVITE"):
            for code, reason in answers[call]:
                time.sleep(PACE)
                s.sendto(response(data, code, reason, "bo-" + call), peer)
        elif first.startswith("BYE"):
            time.sleep(PACE)
            s.sendto(response(data, 200, "OK", "bo-" + call), peer)
            return


def uac():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((A4, UAC_PORT))
    s.settimeout(10)
    peer = (B4, UAS_PORT)
    for call, finals in (("busy", 486), ("ok", 200)):
        time.sleep(PACE)
        s.sendto(request("INVITE", call, 1), peer)
        while True:
            data, _ = s.recvfrom(65535)
            if int(data.split(b" ", 2)[1]) >= 200:
                break
        time.sleep(PACE)
        s.sendto(request("ACK", call, 1, "bo-" + call), peer)
    time.sleep(0.5)
    s.sendto(request("BYE", "ok", 2, "bo-ok"), peer)
    s.recvfrom(65535)


# ---------------------------------------------------------------- harness


def run(*cmd, **kw):
    return subprocess.run(list(cmd), check=True, **kw)


def netns_setup():
    netns_cleanup()
    run("ip", "netns", "add", NS_A)
    run("ip", "netns", "add", NS_B)
    run("ip", "-n", NS_A, "link", "add", "slen0", "type", "veth", "peer", "name", "slen1", "netns", NS_B)
    for ns, ifc, v4, mac in ((NS_A, "slen0", A4, "02:00:0a:fd:07:01"), (NS_B, "slen1", B4, "02:00:0a:fd:07:02")):
        run("ip", "-n", ns, "link", "set", "dev", ifc, "address", mac, "gso_max_segs", "1")
        run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")
        run("ip", "-n", ns, "addr", "add", v4 + "/24", "dev", ifc)
        run("ip", "-n", ns, "link", "set", "dev", ifc, "up")
        run("ip", "-n", ns, "link", "set", "dev", "lo", "up")
    # Static neighbours: no ARP in the plain capture.
    run("ip", "-n", NS_A, "neigh", "replace", B4, "lladdr", "02:00:0a:fd:07:02", "dev", "slen0", "nud", "permanent")
    run("ip", "-n", NS_B, "neigh", "replace", A4, "lladdr", "02:00:0a:fd:07:01", "dev", "slen1", "nud", "permanent")


def netns_cleanup():
    for ns in (NS_A, NS_B):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def in_ns(ns, *args, **kw):
    return subprocess.Popen(["ip", "netns", "exec", ns] + list(args), **kw)


def wait_port(ns, port):
    for _ in range(50):
        out = subprocess.run(["ip", "netns", "exec", ns, "ss", "-ltn"], stdout=subprocess.PIPE, text=True).stdout
        if ":%d " % port in out:
            return
        time.sleep(0.1)
    raise RuntimeError("nothing listens on %d" % port)


def record_plain(path):
    tmp = tempfile.mktemp(suffix=".pcap", dir="/tmp")
    dump = in_ns(NS_B, "tcpdump", "-i", "slen1", "-n", "-U", "--immediate-mode", "-Z", "root", "-s", "262144",
                 "-w", tmp, "udp port %d or tcp port %d" % (UAS_PORT, TLS_PORT), stderr=subprocess.DEVNULL)
    procs = [dump]
    try:
        time.sleep(1.0)
        me = os.path.abspath(__file__)
        server = in_ns(NS_B, sys.executable, me, "--role", "uas")
        procs.append(server)
        time.sleep(0.3)
        if in_ns(NS_A, sys.executable, me, "--role", "uac").wait(timeout=30) != 0:
            raise RuntimeError("SIP UA failed")
        server.wait(timeout=30)
        time.sleep(0.5)
        # The server's stdin stays open so it waits for the client's move.
        tls_server = in_ns(NS_B, "sh", "-c",
                           "sleep 3 | openssl s_server -accept %s:%d -naccept 1 -quiet -tls1_2 -cert %s -key %s "
                           "-cert_chain %s" % (B4, TLS_PORT, os.path.join(CERTS, "server.crt"),
                                               os.path.join(CERTS, "server.key"), os.path.join(CERTS, "inter.crt")),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(tls_server)
        wait_port(NS_B, TLS_PORT)
        client = in_ns(NS_A, "sh", "-c",
                       "(sleep 0.5; printf 'OPTIONS\\n'; sleep 0.5) | openssl s_client -connect %s:%d -tls1_2 "
                       "-servername server.test -CAfile %s -verify_return_error"
                       % (B4, TLS_PORT, os.path.join(CERTS, "other.crt")),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(client)
        client.wait(timeout=20)
        time.sleep(0.5)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
    shutil.move(tmp, path)
    os.chmod(path, 0o644)


# ---------------------------------------------------------------- wrapping


def frames_of(path):
    from scapy.all import rdpcap
    return [(p.time, bytes(p)) for p in rdpcap(path)]


def client_side(frame):
    """The client's frames: IPv4 source A4 (inner Ethernet, no tags)."""
    return frame[12:14] == b"\x08\x00" and socket.inet_aton(A4) == frame[26:30]


def outer_eth(side):
    from scapy.all import Ether
    return Ether(src=TMAC[side], dst=TMAC[1 - side])


def outer_ip4(side, proto=None):
    from scapy.all import IP
    ip = IP(src=T4[side], dst=T4[1 - side], ttl=62, id=0)
    if proto is not None:
        ip.proto = proto
    return ip


def udp_tunnel(side, sport, dport, header, inner):
    from scapy.all import UDP, Raw
    return outer_eth(side) / outer_ip4(side) / UDP(sport=sport, dport=dport) / Raw(header + inner)


def gre_tunnel(side, header, inner, ip6=False):
    from scapy.all import IPv6, Raw
    if ip6:
        outer = IPv6(src=T6[side], dst=T6[1 - side], nh=47, hlim=62)
    else:
        outer = outer_ip4(side, 47)
    return outer_eth(side) / outer / Raw(header + inner)


def wrap_gtpu(n, frame, side):
    ip = frame[14:]
    teid = 0x1000 + side
    if side == 0:  # uplink: sequence field and a PDU session container (type 0x85)
        ext = bytes([1, 0x10, 9, 0])  # length 1 (4 bytes), UL PDU session info, QFI 9, no next
        body = struct.pack("!HBB", n, 0, 0x85) + ext + ip
        header = struct.pack("!BBHI", 0x36, 0xFF, len(body), teid)
    else:
        body = ip
        header = struct.pack("!BBHI", 0x30, 0xFF, len(body), teid)
    return udp_tunnel(side, 2152, 2152, header, body)


def wrap_vxlan(n, frame, side):
    return udp_tunnel(side, 49152 + side * 7, 4789, struct.pack("!II", 0x08000000, 5001 << 8), frame)


def wrap_geneve(n, frame, side):
    opt = struct.pack("!HBBI", 0x0104, 0x01, 1, 0xC0FFEE00) if side == 0 else b""  # class, type, len 1
    header = struct.pack("!BBHI", len(opt) // 4, 0, 0x6558, 7001 << 8) + opt
    return udp_tunnel(side, 50000 + side, 6081, header, frame)


def wrap_sgt(n, frame, side):
    from scapy.all import Raw
    if side != 0:
        return Raw(frame)
    cmd = struct.pack("!HBBHH", 0x8909, 1, 1, 0x0001, 16)  # version 1, length 1 (8 bytes), SGT option, SGT 16
    return Raw(frame[:12] + cmd + frame[12:])


def wrap_gre_key_seq(n, frame, side):
    return gre_tunnel(side, struct.pack("!HHII", 0x3000, 0x0800, 42, n), frame[14:])


def wrap_gre6_teb(n, frame, side):
    return gre_tunnel(side, struct.pack("!HHI", 0x2000, 0x6558, 0x00ABCD00), frame, ip6=True)


def wrap_erspan1(n, frame, side):
    return gre_tunnel(side, struct.pack("!HH", 0x0000, 0x88BE), frame)


def wrap_erspan3(n, frame, side):
    gre = struct.pack("!HHI", 0x1000, 0x22EB, n)
    ver_vlan = 2 << 12  # version 2 (type III), VLAN 0
    cos_session = 0x0064  # COS 0, BSO 0, T 0, session 100
    last = 0x0001 if side == 0 else 0  # FT 0 (Ethernet), O: platform subheader follows
    erspan = struct.pack("!HHIHH", ver_vlan, cos_session, n * 1000, 16, last)
    if side == 0:
        erspan += struct.pack("!II", 3 << 26, n)  # platform id 3, then its port id and timestamp
    return gre_tunnel(side, gre + erspan, frame)


def extra_frames():
    """Frames sipladder does not decode (first) or not follow by design."""
    from scapy.all import ARP, ESP, ICMP, Ether, IP, Raw, UDP
    undecoded = [Ether(src=TMAC[0], dst="ff:ff:ff:ff:ff:ff", type=0x88B5) / Raw(b"local experimental %d" % i)
                 for i in range(3)]
    pptp = struct.pack("!HHHHI", 0x3001, 0x880B, 28, 0x4000, 7) + b"\xff\x03\x00\xfd" + b"\x00" * 24  # MPPE
    undecoded += [outer_eth(0) / outer_ip4(0, 47) / Raw(pptp) for _ in range(2)]
    undecoded.append(outer_eth(0) / IP(src=T4[0], dst=T4[1]) / ESP(spi=0x100, seq=1) / Raw(b"\x00" * 32))
    design = [Ether(src=TMAC[0], dst="ff:ff:ff:ff:ff:ff") / ARP(psrc=T4[0], pdst=T4[1]),
              outer_eth(1) / ARP(op=2, psrc=T4[1], pdst=T4[0], hwsrc=TMAC[1], hwdst=TMAC[0])]
    lldp = bytes([0x02, 0x07, 0x04]) + bytes.fromhex("02005e000901") + bytes([0x04, 0x02, 0x07, 0x31, 0, 0])
    design.append(Ether(src=TMAC[0], dst="01:80:c2:00:00:0e", type=0x88CC) / Raw(lldp))
    design.append(outer_eth(0) / IP(src=T4[0], dst=T4[1]) / ICMP(id=1, seq=1))
    echo = struct.pack("!BBHIHBB", 0x32, 1, 4, 0, 1, 0, 0)
    design.append(outer_eth(0) / outer_ip4(0) / UDP(sport=2152, dport=2152) / Raw(echo))
    design.append(outer_eth(1) / outer_ip4(1) / UDP(sport=2152, dport=2152)
                  / Raw(struct.pack("!BBHIHBB", 0x32, 2, 6, 0, 1, 0, 0) + b"\x0e\x00"))
    return undecoded, design


def write(path, packets):
    from scapy.all import wrpcap
    wrpcap(path, packets, linktype=1)  # DLT_EN10MB, also for frames built as raw bytes
    finish(path)


def finish(path):
    os.chmod(path, 0o644)
    if os.path.exists(ORACLE):
        subprocess.run(["sh", ORACLE, os.path.abspath(path)], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print("%s: %d bytes" % (path, os.path.getsize(path)))


WRAPS = [
    ("gtpu", wrap_gtpu), ("vxlan", wrap_vxlan), ("geneve", wrap_geneve), ("sgt", wrap_sgt),
    ("gre-key-seq", wrap_gre_key_seq), ("gre6-teb", wrap_gre6_teb), ("erspan1", wrap_erspan1),
    ("erspan3", wrap_erspan3),
]


def wrap_all(out_dir):
    from scapy.all import Ether
    plain = frames_of(os.path.join(out_dir, "plain.pcap"))
    for name, wrap in WRAPS:
        packets = []
        for n, (ts, frame) in enumerate(plain, 1):
            p = wrap(n, frame, 0 if client_side(frame) else 1)
            p.time = ts
            packets.append(p)
        write(os.path.join(out_dir, name + ".pcap"), packets)
    undecoded, design = extra_frames()
    packets = []
    for n, (ts, frame) in enumerate(plain):
        p = Ether(frame)
        p.time = ts
        packets.append(p)
    # Spread the extra frames between the real ones, each a microsecond
    # after the frame it follows.
    for i, p in enumerate(undecoded + design):
        at = 1 + 2 * i
        p.time = packets[at - 1].time + 0.000001
        packets.insert(at, p)
    write(os.path.join(out_dir, "undecoded.pcap"), packets)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--role":
        uas() if sys.argv[2] == "uas" else uac()
        return 0
    if os.geteuid() != 0:
        print("make_encap_captures.py: must run as root (network namespaces, tcpdump)", file=sys.stderr)
        return 2
    args = [a for a in sys.argv[1:] if a != "--wrap-only"]
    out_dir = args[0] if args else os.path.join(ROOT, "testdata", "encap")
    os.makedirs(out_dir, exist_ok=True)
    if "--wrap-only" not in sys.argv:
        try:
            netns_setup()
            record_plain(os.path.join(out_dir, "plain.pcap"))
        finally:
            netns_cleanup()
        finish(os.path.join(out_dir, "plain.pcap"))
    wrap_all(out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
