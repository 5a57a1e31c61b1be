#!/usr/bin/python3
"""Expressway diagnostic logs made from the SIP the test captures hold.

Each scenario takes a capture of testdata/scenarios/ (the Expressway-E is
10.252.2.2 inside, 10.252.3.1 outside; the Expressway-C 10.252.2.1; the far
end 10.252.4.2) and writes what the boxes would have logged during it
(Maintenance > Diagnostics > Diagnostic logging), in the formats of
Expressway X8-X14 quoted by the product's field guides (the seeds):

  2016-10-13T12:58:40.636+09:00 vcse tvcs: UTCTime="2016-10-13 03:58:40,636" Module="network.sip" Level="DEBUG":  Action="Received" Local-ip=... Src-ip=... Msg-Hash="..."
  SIPMSG:
  |INVITE sip:... SIP/2.0
  ...
  |

with the INFO summary line before each DEBUG one, Events (Call Attempted,
Search Attempted, Search Completed, Call Rejected), network.dns,
network.tcp, developer.ssl and TLS Negotiation Error lines where the
scenario has them.  The same Call-IDs, addresses and times as the capture:
the E's clock is the capture's (tcpdump ran on it), its syslog prefix in
+09:00; the C's log (its peer) is written with a clock 1.250 s ahead and a
-04:00 prefix.  Long header lines of the E's log are wrapped at 78 columns
(a mail client or viewer did it), and some entries' metadata runs over two
lines, as in the seeds.  Deterministic: running it again writes the same
bytes (gzip with mtime 0).

Usage: make_expressway_logs.py [OUT_DIR]   (default testdata/logs)
"""
import gzip
import hashlib
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from scapy.all import IP, TCP, UDP, rdpcap  # python3-scapy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCEN = os.path.join(ROOT, "testdata", "scenarios")

E_ADDRS = {"10.252.2.2", "10.252.3.1"}
C_ADDRS = {"10.252.2.1"}
C_SKEW = 1.250  # the C's clock runs ahead of the capture's


def sip_messages(pcap):
    """Every SIP message of the capture: (time, src, sport, dst, dport, proto, bytes)."""
    out = []
    streams = {}
    for p in rdpcap(pcap):
        if IP not in p:
            continue
        ip = p[IP]
        t = float(p.time)
        if UDP in p:
            data = bytes(p[UDP].payload)
            if data[:4] in (b"SIP/",) or re.match(rb"^[A-Z]+ \S+ SIP/2\.0\r\n", data):
                out.append((t, ip.src, p[UDP].sport, ip.dst, p[UDP].dport, "UDP", data))
            continue
        if TCP not in p:
            continue
        data = bytes(p[TCP].payload)
        if not data:
            continue
        key = (ip.src, p[TCP].sport, ip.dst, p[TCP].dport)
        seq = p[TCP].seq
        st = streams.setdefault(key, {"buf": b"", "next": None})
        if st["next"] is not None and seq != st["next"]:
            continue  # a retransmission: the bytes were taken already
        st["next"] = seq + len(data)
        st["buf"] += data
        while True:
            buf = st["buf"]
            if not (buf.startswith(b"SIP/2.0") or re.match(rb"^[A-Z]+ \S+ SIP/2\.0\r\n", buf)):
                st["buf"] = b""
                break
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            m = re.search(rb"\r\n(?:Content-Length|l)\s*:\s*(\d+)", buf[:end], re.I)
            total = end + 4 + (int(m.group(1)) if m else 0)
            if len(buf) < total:
                break
            out.append((t, key[0], key[1], key[2], key[3], "TCP", buf[:total]))
            st["buf"] = buf[total:]
    out.sort(key=lambda m: m[0])
    return out


def stamp(t, tz_hours):
    """The syslog prefix (local time, offset) and UTCTime of capture time t."""
    ms = int(round(t * 1000))
    utc = datetime.fromtimestamp(ms // 1000, timezone.utc) + timedelta(milliseconds=ms % 1000)
    local = utc.astimezone(timezone(timedelta(hours=tz_hours)))
    prefix = local.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d" % (ms % 1000) + local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]
    return prefix, utc.strftime("%Y-%m-%d %H:%M:%S,") + "%03d" % (ms % 1000)


def header(msg, name):
    m = re.search(rb"\r\n" + name.encode() + rb"\s*:\s*([^\r\n]*)", msg, re.I)
    return m.group(1).decode("latin-1") if m else ""


def tag_of(v):
    m = re.search(r";tag=([^;>\s]+)", v)
    return m.group(1) if m else ""


def msg_hash(msg):
    return str(int.from_bytes(hashlib.sha1(msg).digest()[:8], "big"))


def wrap(line, width=78):
    """Cut a long header line at `width`, never where the rest would look like a header."""
    out = []
    while len(line) > width + 10:
        cut = width
        while cut < len(line) - 1 and re.match(r"^[A-Za-z0-9.!%*_+`'~-]+\s*:", line[cut:]):
            cut += 1
        out.append(line[:cut])
        line = line[cut:]
    out.append(line)
    return out


class Log:
    def __init__(self, host, tz_hours, skew, wrap_lines):
        self.host, self.tz, self.skew, self.wrap = host, tz_hours, skew, wrap_lines
        self.lines = []

    def entry(self, t, text, split_meta=False):
        prefix, utc = stamp(t + self.skew, self.tz)
        head = "%s %s tvcs: " % (prefix, self.host)
        if text.startswith("Event="):
            line = head + text + ' Level="1" UTCTime="%s"' % utc
        else:
            line = head + 'UTCTime="%s" ' % utc + text
        if split_meta and self.wrap:
            # the metadata broken after UTCTime, as a viewer shows it
            cut = line.index(" Module=")
            self.lines += [line[:cut], line[cut + 1:]]
        else:
            self.lines.append(line)

    def sip(self, t, local, lport, remote, rport, sent, msg):
        first = msg.split(b"\r\n", 1)[0].decode("latin-1")
        cseq = header(msg, "CSeq")
        callid = header(msg, "Call-ID")
        ftag, ttag = tag_of(header(msg, "From")), tag_of(header(msg, "To"))
        h = msg_hash(msg)
        peer = ('Dst-ip="%s" Dst-port="%d"' if sent else 'Src-ip="%s" Src-port="%d"') % (remote, rport)
        base = 'Module="network.sip" Level="%%s": Action="%s" Local-ip="%s" Local-port="%d" %s' % (
            "Sent" if sent else "Received", local, lport, peer)
        if first.startswith("SIP/2.0"):
            code = first.split()[1]
            what = "Sending Response" if sent else "Receive Response"
            det = "%s Code=%s, Method=%s, CSeq=%s, To=%s, Call-ID=%s, From-Tag=%s, To-Tag=%s, Msg-Hash=%s" % (
                what, code, cseq.split()[-1], cseq.split()[0], header(msg, "To").strip("<>").split(">")[0], callid,
                ftag, ttag, h)
        else:
            what = "Sending Request" if sent else "Receive Request"
            det = "%s Method=%s, CSeq=%s, Request-URI=%s, Call-ID=%s, From-Tag=%s, To-Tag=%s, Msg-Hash=%s" % (
                what, first.split()[0], cseq.split()[0], first.split()[1], callid, ftag, ttag, h)
        self.entry(t, base % "INFO" + ' Detail="%s"' % det)
        self.entry(t, base % "DEBUG" + ' Msg-Hash="%s"' % h, split_meta=True)
        self.lines.append("SIPMSG:")
        text = msg.decode("latin-1")
        head, _, body = text.partition("\r\n\r\n")
        hl = head.split("\r\n")
        out = []
        for i, ln in enumerate(hl):
            out += wrap(ln) if self.wrap and i > 0 else [ln]
        out[0] = "|" + out[0]
        out.append("")
        if body:
            out += body.split("\r\n")
            if out[-1] == "":
                out.pop()
        out.append("|")
        self.lines += out

    def write(self, path):
        data = ("\n".join(self.lines) + "\n").encode("latin-1")
        if path.endswith(".gz"):
            with open(path, "wb") as f:
                with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as g:
                    g.write(data)
        else:
            with open(path, "wb") as f:
                f.write(data)


def log_sip(log, msgs, own):
    """The messages a box with addresses `own` sent or received."""
    for t, src, sport, dst, dport, proto, msg in msgs:
        if src in own:
            log.sip(t, src, sport, dst, dport, True, msg)
        elif dst in own:
            log.sip(t, dst, dport, src, sport, False, msg)


def call_events(log, t, msg, src, sport, code=None, detail=None, search=None):
    """Call Attempted, Search Attempted/Completed, and Call Rejected of an INVITE."""
    callid = header(msg, "Call-ID")
    serial = "%s-%s" % (hashlib.md5(callid.encode()).hexdigest()[:8], "4049-a97f-a429eeb6028f")
    tag = "%s-0de5-4570-a21b-26737dd6674d" % hashlib.md5(b"tag" + callid.encode()).hexdigest()[:8]
    src_alias = header(msg, "From").split("<")[-1].split(">")[0]
    dst_alias = msg.split(b" ", 2)[1].decode("latin-1")
    common = ('Service="SIP" Src-ip="%s" Src-port="%d" Src-alias-type="SIP" Src-alias="%s" Dst-alias-type="SIP" '
              'Dst-alias="%s" Call-serial-number="%s" Tag="%s"') % (src, sport, src_alias, dst_alias, serial, tag)
    log.entry(t, 'Event="Call Attempted" %s Protocol="TCP" Auth="NO"' % common)
    salias = ('Service="SIP" Src-alias-type="SIP" Src-alias="%s" Dst-alias-type="SIP" Dst-alias="%s" '
              'Call-serial-number="%s" Tag="%s"') % (src_alias, dst_alias, serial, tag)
    log.entry(t, 'Event="Search Attempted" %s Detail="searchtype:INVITE"' % salias)
    if search:
        log.entry(t, 'Event="Search Completed" Reason="Not Found" %s Detail="%s"' % (salias, search))
    if code:
        log.entry(t, 'Event="Call Rejected" %s Detail="%s" Protocol="TCP" Response-code="%d"' % (common, detail, code))


def first(msgs, pred):
    return next(m for m in msgs if pred(m))


def is_req(m, method):
    return m[6].startswith(method.encode() + b" ")


def is_resp(m, code):
    return m[6].startswith(b"SIP/2.0 %d " % code)


def scenario_policy(out):
    """403 Policy Response from the E: its search found nothing (policy)."""
    msgs = sip_messages(os.path.join(SCEN, "sip.policy_reject.pcap"))
    e = Log("vcse", 9, 0.0, True)
    inv = first(msgs, lambda m: is_req(m, "INVITE"))
    rej = first(msgs, lambda m: is_resp(m, 403))
    for m in msgs:
        if m is rej:
            call_events(e, m[0] - 0.001, inv[6], inv[1], inv[2], 403, "Forbidden",
                        "found:false, searchtype:INVITE, Info:Policy Response")
        log_sip(e, [m], E_ADDRS)
    e.write(os.path.join(out, "policy-reject-exp-e.log"))
    c = Log("vcsc", -4, C_SKEW, False)
    log_sip(c, msgs, C_ADDRS)
    c.write(os.path.join(out, "policy-reject-exp-c.log"))
    # the capture without the 403 (frame 6): the log says Sent, the wire lacks it
    subprocess.run(["tshark", "-r", os.path.join(SCEN, "sip.policy_reject.pcap"), "-Y", "frame.number != 6",
                    "-F", "pcap", "-w", os.path.join(out, "policy-reject-no-403.pcap")],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def scenario_404(out):
    """A far end's 404 relayed by the E to the C: both boxes log the C-E hop."""
    msgs = sip_messages(os.path.join(SCEN, "sip.response.404.pcap"))
    e = Log("vcse", 9, 0.0, True)
    log_sip(e, msgs, E_ADDRS)
    e.write(os.path.join(out, "response-404-exp-e.log.gz"))
    c = Log("vcsc", -4, C_SKEW, False)
    log_sip(c, msgs, C_ADDRS)
    c.write(os.path.join(out, "response-404-exp-c.log"))


def scenario_srv(out):
    """The E's SRV lookup of the far domain fails: it answers 404."""
    msgs = sip_messages(os.path.join(SCEN, "dns.srv_failed.pcap"))
    e = Log("vcse", 9, 0.0, True)
    inv = first(msgs, lambda m: is_req(m, "INVITE"))
    rej = first(msgs, lambda m: is_resp(m, 404))
    for m in msgs:
        if m is rej:
            t = inv[0] + 0.101
            e.entry(t, 'Module="network.dns" Level="DEBUG":  Detail="Sending DNS query" '
                       'Name="_sips._tcp.example.com" Type="SRV (IPv4 and IPv6)"')
            e.entry(t + 0.101, 'Module="network.dns" Level="DEBUG":  Detail="Could not resolve hostname"')
            call_events(e, m[0] - 0.001, inv[6], inv[1], inv[2], 404, "Not Found",
                        "found:false, searchtype:INVITE, Info:Not Found")
        log_sip(e, [m], E_ADDRS)
    e.write(os.path.join(out, "srv-failed-exp-e.log"))


def tls_failure(log, t, local, lport, remote, rport, reason, detail, cn):
    log.entry(t, 'Module="developer.ssl" Level="ERROR" CodeLocation="ppcmains/ssl/ttssl/ttssl_openssl.cpp(68)" '
                 'Method="::TTSSLErrorOutput" Thread="0x7ff080b4e700": TTSSL_continueHandshake: Failed to establish '
                 'SSL connection iResult="0" error="1" bServer="false" '
                 "localAddress=\"['IPv4''TCP''%s:%d']\" remoteAddress=\"['IPv4''TCP''%s:%d']\" "
                 'ssl_error_reason="%s"' % (local, lport, remote, rport, reason))
    log.entry(t, 'Event="Outbound TLS Negotiation Error" Service="SIP" Src-ip="%s" Src-port="%d" Dst-ip="%s" '
                 'Dst-port="%d" Detail="%s" Protocol="TLS" Common-name="%s"' % (local, lport, remote, rport, detail, cn))
    log.entry(t, 'Module="network.tcp" Level="DEBUG":  Src-ip="%s" Src-port="%d" Dst-ip="%s" Dst-port="%d" '
                 'Detail="TCP Connection Closed" Reason="Got EOF on socket"' % (local, lport, remote, rport))


def scenario_tls(out):
    """The far end refuses the E's client certificate (its alert in the capture);
    a second outbound attempt, not captured, gets 'certificate unknown'."""
    pkts = rdpcap(os.path.join(SCEN, "tls.alert.unknown_ca-server.pcap"))
    alert_t = float(pkts[8].time)  # frame 9: the server's fatal alert
    e = Log("vcse", 9, 0.0, True)
    tls_failure(e, alert_t, "10.252.3.1", 40000, "10.252.4.2", 5062,
                "error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca", "tlsv1 alert unknown ca",
                "far.test")
    e.write(os.path.join(out, "tls-unknown-ca-exp-e.log"))
    u = Log("vcse", 9, 0.0, True)
    tls_failure(u, alert_t + 30.0, "10.252.3.1", 25001, "10.252.4.2", 5065,
                "error:14094416:SSL routines:ssl3_read_bytes:sslv3 alert certificate unknown",
                "sslv3 alert certificate unknown", "sip.webex.com")
    u.write(os.path.join(out, "tls-cert-unknown-exp-e.log"))


def scenario_tls_inbound(out):
    """Webex (here the far end) connects to the E's 5062 and refuses the E's
    certificate: only the Inbound TLS Negotiation Error and the TCP close are
    logged (no developer.ssl line), as in the hybrid call service guide."""
    pkts = rdpcap(os.path.join(SCEN, "tls.alert.unknown_ca-server.pcap"))
    t = float(pkts[0].time) + 60.0
    e = Log("vcse", 9, 0.0, True)
    e.entry(t, 'Event="Inbound TLS Negotiation Error" Service="SIP" Src-ip="10.252.4.2" Src-port="40001" '
               'Dst-ip="10.252.3.1" Dst-port="5062" Detail="sslv3 alert certificate unknown" Protocol="TLS"')
    e.entry(t, 'Module="network.tcp" Level="DEBUG": Src-ip="10.252.4.2" Src-port="40001" Dst-ip="10.252.3.1" '
               'Dst-port="5062" Detail="TCP Connection Closed" Reason="Got EOF on socket"')
    e.write(os.path.join(out, "tls-inbound-cert-unknown-exp-e.log"))


def scenario_408(out):
    """The far end stops answering a re-INVITE: the E rejects it upstream with 408."""
    msgs = sip_messages(os.path.join(SCEN, "sip.refresh_lost.pcap"))
    e = Log("vcse", 9, 0.0, True)
    reinv = [m for m in msgs if is_req(m, "INVITE")][1]
    rej = first(msgs, lambda m: is_resp(m, 408))
    seen_out = set()
    for m in msgs:
        if m is rej:
            call_events(e, m[0] - 0.001, reinv[6], reinv[1], reinv[2], 408, "Request Timeout")
        # the E logs a request it sends once, not the transaction layer's retransmissions
        if m[1] in E_ADDRS and m[5] == "UDP" and not m[6].startswith(b"SIP/"):
            k = (header(m[6], "CSeq"), header(m[6], "Call-ID"))
            if k in seen_out:
                continue
            seen_out.add(k)
        log_sip(e, [m], E_ADDRS)
    e.write(os.path.join(out, "call-rejected-408-exp-e.log"))


def scenario_tls_leg(out):
    """An OPTIONS the E sent inside the TLS session of healthy-tls12-mutual.pcap
    (frame 11, Application Data): the capture has only its ciphertext."""
    pkts = rdpcap(os.path.join(SCEN, "healthy-tls12-mutual.pcap"))
    t = float(pkts[10].time)
    msg = (b"OPTIONS sip:far.test:5062;transport=tls SIP/2.0\r\n"
           b"Via: SIP/2.0/TLS 10.252.3.1:40000;branch=z9hG4bK7e1c0d9a51b3f2;rport\r\n"
           b"Call-ID: 5c3f0e1a9d7b4e21@10.252.3.1\r\n"
           b"CSeq: 27 OPTIONS\r\n"
           b"From: <sip:vcse.example.com>;tag=a1b2c3d4\r\n"
           b"To: <sip:far.test>\r\n"
           b"Max-Forwards: 70\r\n"
           b"User-Agent: TANDBERG/4352 (X14.0.2)\r\n"
           b"Content-Length: 0\r\n\r\n")
    e = Log("vcse", 9, 0.0, True)
    e.sip(t, "10.252.3.1", 40000, "10.252.4.2", 5062, True, msg)
    e.write(os.path.join(out, "tls-leg-exp-e.log"))


def bundle(out):
    """A diagnostic bundle as the Expressway downloads it (tar.gz: the log and
    the tcpdump of the same minutes), with hostile members a reader must not
    follow: a path out of the archive, an absolute path, a symlink, a FIFO."""
    import io
    import tarfile

    def add(tar, name, data, mode=0o644):
        ti = tarfile.TarInfo(name)
        ti.size, ti.mtime, ti.mode = len(data), 0, mode
        tar.addfile(ti, io.BytesIO(data))

    log = open(os.path.join(out, "srv-failed-exp-e.log"), "rb").read()
    pcap = open(os.path.join(SCEN, "dns.srv_failed.pcap"), "rb").read()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        d = tarfile.TarInfo("diagnostic_logs")
        d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 0
        tar.addfile(d)
        add(tar, "diagnostic_logs/loggingsnapshot_vcse_2026-11-21_06-48.txt", log)
        add(tar, "diagnostic_logs/vcse_tcpdump_2026-11-21_06-48.pcap", pcap)
        add(tar, "diagnostic_logs/../../../../tmp/sipladder-escaped.txt", b"must not be written\n")
        add(tar, "/tmp/sipladder-absolute.txt", b"must not be written\n")
        ln = tarfile.TarInfo("diagnostic_logs/link-to-passwd")
        ln.type, ln.linkname, ln.mtime = tarfile.SYMTYPE, "/etc/passwd", 0
        tar.addfile(ln)
        ff = tarfile.TarInfo("diagnostic_logs/fifo")
        ff.type, ff.mtime = tarfile.FIFOTYPE, 0
        tar.addfile(ff)
        add(tar, "diagnostic_logs/README.txt", b"not a log, not a capture\n")
    with open(os.path.join(out, "bundle-srv-failed.tar.gz"), "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as g:
            g.write(buf.getvalue())


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "testdata", "logs")
    os.makedirs(out, exist_ok=True)
    scenario_policy(out)
    scenario_404(out)
    scenario_srv(out)
    scenario_tls(out)
    scenario_408(out)
    scenario_tls_inbound(out)
    scenario_tls_leg(out)
    bundle(out)


if __name__ == "__main__":
    main()
