#!/bin/bash
# make_tcp_captures.sh - record the small test captures in testdata/tcp/ from
# real kernel TCP/UDP stacks talking inside two network namespaces.
#
# Run as root:  sudo tests/captures/make_tcp_captures.sh [OUTDIR]
#
# Topology (exists only while the script runs; removed by a trap even when a
# step fails):
#
#   slcap-a [veth-a 10.250.1.1/24 fd00:5c::1/64] <==veth==> [veth-b 10.250.1.2/24 fd00:5c::2/64] slcap-b
#            [veth-a.100 10.250.100.1/24]   (802.1Q VLAN 100)   [veth-b.100 10.250.100.2/24]
#
# Both veth ends have MTU 1280 so that a 3000-byte UDP datagram is fragmented.
# No traffic leaves the namespaces.  Real programs (python3 sockets) talk while
# tcpdump -w records; the kernel decides every SYN, retransmission, FIN and RST.
#
# Each capture F gets F.tshark.tsv beside it, written by the corpus oracle
# script (tests/captures/make_oracle.sh) so the
# test captures are read the same way as the shared corpus.
#
# Needs: iproute2, iptables, tcpdump, tshark, python3 (all Debian 12 packages).
# Re-running is safe: leftovers of an earlier run are removed first, and every
# capture is rewritten (timestamps and ports differ from run to run, so the
# golden expected outputs must be regenerated after re-recording).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${1:-$ROOT/testdata/tcp}
ORACLE=$(cd "$(dirname "$0")" && pwd)/make_oracle.sh
PY=${PYTHON:-python3}

NS_A=slcap-a
NS_B=slcap-b
A4=10.250.1.1
B4=10.250.1.2
A6=fd00:5c::1
B6=fd00:5c::2
MAC_A=02:5c:00:00:00:0a
MAC_B=02:5c:00:00:00:0b
MAC_VA=02:5c:00:00:01:0a
MAC_VB=02:5c:00:00:01:0b
AV=10.250.100.1
BV=10.250.100.2

if [ "$(id -u)" -ne 0 ]; then
    echo "make_tcp_captures.sh: must run as root (network namespaces, tcpdump)" >&2
    exit 2
fi
for tool in ip iptables tcpdump tshark "$PY"; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/slcap.XXXXXX)
TCPDUMP_PID=
RELAY_PID=

cleanup() {
    if [ -n "$RELAY_PID" ]; then
        kill "$RELAY_PID" 2>/dev/null || true
    fi
    if [ -n "$TCPDUMP_PID" ]; then
        kill -INT "$TCPDUMP_PID" 2>/dev/null || true
        wait "$TCPDUMP_PID" 2>/dev/null || true
    fi
    # Killing the namespaces' processes we started: only python peers that
    # may still run inside our own namespaces, found by namespace, not name.
    for ns in "$NS_A" "$NS_B"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill "$pid" 2>/dev/null || true
        done
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The peer program: one python file, one sub-command per role.
cat > "$WORK/peer.py" <<'PYEOF'
import socket, struct, sys, time

def ready(path):
    with open(path, "w") as f:
        f.write("ready\n")

def listener(family, host, port, path):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(1)
    ready(path)
    s.settimeout(20)
    c, _ = s.accept()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.close()
    return c

def client(family, host, port, timeout=10):
    c = socket.socket(family, socket.SOCK_STREAM)
    c.settimeout(timeout)
    c.connect((host, port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c

def fam(name):
    return socket.AF_INET6 if name == "6" else socket.AF_INET

# Request/response: every client chunk is answered; after the client's FIN the
# server sends a last line and closes (FIN both ways, server closes second).
def serve_exchange(f, host, port, path):
    c = listener(fam(f), host, int(port), path)
    n = 0
    while True:
        data = c.recv(4096)
        if not data:
            break
        n += 1
        c.sendall(b"reply %d to %d bytes\n" % (n, len(data)))
    c.sendall(b"bye\n")
    c.close()

def talk_exchange(f, host, port, chunks="4"):
    c = client(fam(f), host, int(port))
    for i in range(int(chunks)):
        c.sendall((b"request %d " % (i + 1)) + b"x" * (100 * (i + 1)) + b"\n")
        c.recv(4096)
        time.sleep(0.05)
    c.shutdown(socket.SHUT_WR)
    while c.recv(4096):
        pass
    c.close()

def talk_refused(host, port):
    try:
        client(socket.AF_INET, host, int(port))
    except ConnectionRefusedError:
        print("refused as expected")
        return
    sys.exit("connect to a closed port succeeded")

def talk_timeout(host, port, secs):
    try:
        client(socket.AF_INET, host, int(port), float(secs))
    except (socket.timeout, TimeoutError):
        print("gave up after %s s as expected" % secs)
        return
    sys.exit("connect through the DROP rule succeeded")

# The server answers two chunks, reads the third and aborts the connection
# (SO_LINGER 0 close: a RST instead of a FIN) while the client waits.
def serve_reset(f, host, port, path):
    c = listener(fam(f), host, int(port), path)
    for i in range(2):
        data = c.recv(4096)
        c.sendall(b"ack %d for %d bytes\n" % (i + 1, len(data)))
    c.recv(4096)
    time.sleep(0.05)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()

def talk_reset(f, host, port):
    c = client(fam(f), host, int(port))
    for i in range(3):
        c.sendall(b"chunk %d " % (i + 1) + b"y" * 200 + b"\n")
        if i < 2:
            c.recv(4096)
        time.sleep(0.05)
    try:
        data = c.recv(4096)
        sys.exit("expected a reset, got %r" % data)
    except ConnectionResetError:
        print("reset as expected")
    c.close()

def serve_udp(f, host, port, path, count):
    s = socket.socket(fam(f), socket.SOCK_DGRAM)
    s.bind((host, int(port)))
    ready(path)
    s.settimeout(20)
    for _ in range(int(count)):
        data, peer = s.recvfrom(65535)
        s.sendto(b"got %d bytes\n" % len(data), peer)
    s.close()

def talk_udp(f, host, port, count, size):
    s = socket.socket(fam(f), socket.SOCK_DGRAM)
    s.settimeout(10)
    for i in range(int(count)):
        s.sendto(b"d" * int(size), (host, int(port)))
        s.recvfrom(65535)
        time.sleep(0.05)
    s.close()

# A two-port 802.1Q "switch" in user space (this kernel may lack 8021q and
# act_vlan): frames from tap-a get VLAN tag VID pushed and go out on the trunk
# veth trunk-a; frames arriving on trunk-b lose the tag and go into tap-b; and
# the reverse.  tcpdump on trunk-b therefore sees real tagged frames on a wire.
def vlan_relay(vid, path):
    import ctypes, fcntl, os, select
    libc = ctypes.CDLL(None, use_errno=True)
    def enter(ns):
        fd = os.open("/var/run/netns/" + ns, os.O_RDONLY)
        if libc.setns(fd, 0x40000000) != 0:
            sys.exit("setns %s failed" % ns)
        os.close(fd)
    def tap(name):
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH22x", name.encode(), 0x0002 | 0x1000))
        return fd
    def trunk(name):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        s.bind((name, 0))
        return s
    enter("slcap-a")
    tap_a, trunk_a = tap("tap-a"), trunk("trunk-a")
    enter("slcap-b")
    tap_b, trunk_b = tap("tap-b"), trunk("trunk-b")
    tag = struct.pack("!HH", 0x8100, int(vid))
    def push(frame):
        return frame[:12] + tag + frame[12:]
    def pop(frame):
        return frame[:12] + frame[16:] if frame[12:14] == b"\x81\x00" else frame
    ready(path)
    while True:
        r, _, _ = select.select([tap_a, tap_b, trunk_a, trunk_b], [], [])
        for src in r:
            if src == tap_a:
                trunk_a.send(push(os.read(tap_a, 65536)))
            elif src == tap_b:
                trunk_b.send(push(os.read(tap_b, 65536)))
            else:
                data, addr = src.recvfrom(65536)
                if addr[2] == socket.PACKET_OUTGOING:
                    continue
                os.write(tap_b if src == trunk_b else tap_a, pop(data))

cmd = sys.argv[1]
args = sys.argv[2:]
{
    "serve-exchange": serve_exchange, "talk-exchange": talk_exchange,
    "talk-refused": talk_refused, "talk-timeout": talk_timeout,
    "serve-reset": serve_reset, "talk-reset": talk_reset,
    "serve-udp": serve_udp, "talk-udp": talk_udp, "vlan-relay": vlan_relay,
}[cmd](*args)
PYEOF

in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

setup_netns() {
    for ns in "$NS_A" "$NS_B"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    ip netns add "$NS_A"
    ip netns add "$NS_B"
    ip link add veth-a netns "$NS_A" address "$MAC_A" mtu 1280 type veth \
        peer name veth-b netns "$NS_B" address "$MAC_B" mtu 1280
    for ns in "$NS_A" "$NS_B"; do
        # no router solicitations or DAD probes: only our traffic on the wire
        ip netns exec "$ns" sh -c 'for f in /proc/sys/net/ipv6/conf/*/accept_ra /proc/sys/net/ipv6/conf/*/dad_transmits; do echo 0 > "$f"; done'
        ip netns exec "$ns" ip link set lo up
    done
    # Linux >= 6.x retries the first SYNs at linear 1 s intervals
    # (tcp_syn_linear_timeouts); turn that off in the client namespace so the
    # capture shows the classic 1 s, 2 s, 4 s backoff that older hosts show.
    if [ -e /proc/sys/net/ipv4/tcp_syn_linear_timeouts ]; then
        in_a sh -c 'echo 0 > /proc/sys/net/ipv4/tcp_syn_linear_timeouts'
    fi
    in_a ip addr add "$A4/24" dev veth-a
    in_b ip addr add "$B4/24" dev veth-b
    in_a ip -6 addr add "$A6/64" dev veth-a nodad
    in_b ip -6 addr add "$B6/64" dev veth-b nodad
    in_a ip link set veth-a up
    in_b ip link set veth-b up
    # Static neighbours: no ARP / neighbour discovery in the files.
    in_a ip neigh replace "$B4" lladdr "$MAC_B" dev veth-a nud permanent
    in_b ip neigh replace "$A4" lladdr "$MAC_A" dev veth-b nud permanent
    in_a ip -6 neigh replace "$B6" lladdr "$MAC_B" dev veth-a nud permanent
    in_b ip -6 neigh replace "$A6" lladdr "$MAC_A" dev veth-b nud permanent
}

# start_capture NS IFACE FILE FILTER...: tcpdump in NS, returns once it listens.
start_capture() {
    local ns=$1 ifc=$2 file=$3
    shift 3
    rm -f "$file"
    ip netns exec "$ns" tcpdump -i "$ifc" -n -U --immediate-mode -Z root -s 262144 -w "$file" "$@" \
        2> "$WORK/tcpdump.log" &
    TCPDUMP_PID=$!
    local i
    for i in $(seq 100); do
        grep -q 'listening on' "$WORK/tcpdump.log" && return 0
        sleep 0.05
    done
    cat "$WORK/tcpdump.log" >&2
    return 1
}

stop_capture() {
    sleep 0.3
    kill -INT "$TCPDUMP_PID"
    wait "$TCPDUMP_PID" || true
    TCPDUMP_PID=
    grep -E 'packets (captured|dropped)' "$WORK/tcpdump.log" | tr '\n' ' ' >&2
    echo >&2
}

# start_server NS ARGS...: a peer server in NS; returns once it is bound.
start_server() {
    local ns=$1
    shift
    rm -f "$WORK/ready"
    ip netns exec "$ns" "$PY" "$WORK/peer.py" "$@" &
    SERVER_PID=$!
    local i
    for i in $(seq 100); do
        [ -e "$WORK/ready" ] && return 0
        sleep 0.05
    done
    echo "server did not start: $*" >&2
    return 1
}

peer() { local ns=$1; shift; ip netns exec "$ns" "$PY" "$WORK/peer.py" "$@"; }

cap_normal() {
    local f=$OUT/normal-exchange.pcap
    start_capture "$NS_B" veth-b "$f" tcp port 5000
    start_server "$NS_B" serve-exchange 4 "$B4" 5000 "$WORK/ready"
    peer "$NS_A" talk-exchange 4 "$B4" 5000 4
    wait "$SERVER_PID"
    stop_capture
}

cap_refused() {
    local f=$OUT/refused-closed-port.pcap
    start_capture "$NS_B" veth-b "$f" tcp port 5001
    peer "$NS_A" talk-refused "$B4" 5001
    stop_capture
}

cap_syn_dropped() {
    local f=$OUT/syn-dropped-iptables.pcap
    in_b iptables -A INPUT -p tcp --dport 5002 --syn -j DROP
    # A listener exists: without the rule the connect would succeed.
    start_server "$NS_B" serve-exchange 4 "$B4" 5002 "$WORK/ready"
    start_capture "$NS_B" veth-b "$f" tcp port 5002
    peer "$NS_A" talk-timeout "$B4" 5002 4
    stop_capture
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    in_b iptables -D INPUT -p tcp --dport 5002 --syn -j DROP
}

cap_reset() {
    local f=$OUT/reset-mid-stream.pcap
    start_capture "$NS_B" veth-b "$f" tcp port 5003
    start_server "$NS_B" serve-reset 4 "$B4" 5003 "$WORK/ready"
    peer "$NS_A" talk-reset 4 "$B4" 5003
    wait "$SERVER_PID"
    stop_capture
}

cap_any_sll2() {
    local f=$OUT/any-interface-sll2.pcap
    start_capture "$NS_B" any "$f" '(tcp port 5004) or (udp port 5005)'
    start_server "$NS_B" serve-exchange 4 "$B4" 5004 "$WORK/ready"
    peer "$NS_A" talk-exchange 4 "$B4" 5004 2
    wait "$SERVER_PID"
    start_server "$NS_B" serve-udp 4 "$B4" 5005 "$WORK/ready" 2
    peer "$NS_A" talk-udp 4 "$B4" 5005 2 64
    wait "$SERVER_PID"
    stop_capture
}

cap_ipv6() {
    local f=$OUT/ipv6-exchange.pcap
    start_capture "$NS_B" veth-b "$f" ip6 and tcp port 5006
    start_server "$NS_B" serve-exchange 6 "$B6" 5006 "$WORK/ready"
    peer "$NS_A" talk-exchange 6 "$B6" 5006 2
    wait "$SERVER_PID"
    stop_capture
}

# One 3000-byte datagram over MTU 1280: three fragments, one small answer.
cap_frag4() {
    local f=$OUT/ipv4-fragments.pcap
    start_capture "$NS_B" veth-b "$f" ip and not icmp
    start_server "$NS_B" serve-udp 4 "$B4" 5007 "$WORK/ready" 1
    peer "$NS_A" talk-udp 4 "$B4" 5007 1 3000
    wait "$SERVER_PID"
    stop_capture
}

cap_frag6() {
    local f=$OUT/ipv6-fragments.pcap
    start_capture "$NS_B" veth-b "$f" ip6 and not icmp6
    start_server "$NS_B" serve-udp 6 "$B6" 5008 "$WORK/ready" 1
    peer "$NS_A" talk-udp 6 "$B6" 5008 1 3000
    wait "$SERVER_PID"
    stop_capture
}

# A TCP exchange between tap-a and tap-b through the user-space VLAN relay,
# captured on the trunk: every frame carries an 802.1Q tag with VLAN id 100.
# (No "ip link add ... type vlan": CONFIG_VLAN_8021Q is absent from some
# kernels, the one this was first recorded on included.)
cap_vlan() {
    local f=$OUT/vlan-8021q.pcap
    in_a ip tuntap add dev tap-a mode tap
    in_b ip tuntap add dev tap-b mode tap
    ip link add trunk-a netns "$NS_A" mtu 1300 type veth peer name trunk-b netns "$NS_B" mtu 1300
    in_a ip link set tap-a address "$MAC_VA" mtu 1280 up
    in_b ip link set tap-b address "$MAC_VB" mtu 1280 up
    in_a ip addr add "$AV/24" dev tap-a
    in_b ip addr add "$BV/24" dev tap-b
    in_a ip neigh replace "$BV" lladdr "$MAC_VB" dev tap-a nud permanent
    in_b ip neigh replace "$AV" lladdr "$MAC_VA" dev tap-b nud permanent
    in_a ip link set trunk-a up
    in_b ip link set trunk-b up
    rm -f "$WORK/ready"
    "$PY" "$WORK/peer.py" vlan-relay 100 "$WORK/ready" &
    RELAY_PID=$!
    local i
    for i in $(seq 100); do [ -e "$WORK/ready" ] && break; sleep 0.05; done
    [ -e "$WORK/ready" ]
    start_capture "$NS_B" trunk-b "$f" vlan 100 and tcp port 5009
    start_server "$NS_B" serve-exchange 4 "$BV" 5009 "$WORK/ready"
    peer "$NS_A" talk-exchange 4 "$BV" 5009 2
    wait "$SERVER_PID"
    stop_capture
    kill "$RELAY_PID"
    wait "$RELAY_PID" 2>/dev/null || true
    RELAY_PID=
}

mkdir -p "$OUT"
setup_netns
# SLCAP_STEPS="cap_vlan cap_reset" re-records only those captures.
for step in ${SLCAP_STEPS:-cap_normal cap_refused cap_syn_dropped cap_reset \
            cap_any_sll2 cap_ipv6 cap_frag4 cap_frag6 cap_vlan}; do
    echo "== $step" >&2
    "$step"
done

# tshark's reading beside each capture, with the corpus oracle's command.
files=()
for f in "$OUT"/*.pcap; do files+=("$f"); done
if [ -r "$ORACLE" ]; then
    sh "$ORACLE" "${files[@]}"
else
    echo "note: $ORACLE not found; no .tshark.tsv written" >&2
fi
capinfos -t -E -c -s "${files[@]}" 2>/dev/null || true
