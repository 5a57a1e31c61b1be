#!/bin/bash
# make_tls_captures.sh - real OpenSSL handshakes on loopback, captured with
# tcpdump, for the TLS dissector tests (tests/check_tls*.c).
#
# Run as root from anywhere:  bash tests/captures/make_tls_captures.sh
#
# Certificates live in tests/captures/tls/ and are made once: when they exist
# they are reused, so re-running changes only random handshake bytes, never a
# name, a date, a serial or a chain the tests assert.  Validity dates are fixed
# (openssl ca -startdate/-enddate) so no test depends on the day it runs.
# Traffic goes to 127.0.0.1 only.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CERTS="$ROOT/tests/captures/tls"
OUT="$ROOT/testdata/tls"
mkdir -p "$CERTS" "$OUT"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

FROM=20200101000000Z
UNTIL=20491231000000Z

# ---------------------------------------------------------------- certificates
ca_conf() { # $1 = CA dir
    cat >"$1/ca.cnf" <<EOF
[ ca ]
default_ca = this
[ this ]
dir = $1
database = $1/index.txt
new_certs_dir = $1
serial = $1/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
EOF
}

# sign NAME ISSUER SERIAL SUBJ EXTSECTION START END [selfsign]
sign() {
    local name=$1 issuer=$2 serial=$3 subj=$4 ext=$5 start=$6 end=$7
    local d="$WORK/ca-$name"
    mkdir -p "$d"; : >"$d/index.txt"; echo "$serial" >"$d/serial"; ca_conf "$d"
    openssl ecparam -name prime256v1 -genkey -noout -out "$CERTS/$name.key" 2>/dev/null
    openssl req -new -key "$CERTS/$name.key" -subj "$subj" -out "$d/req.csr"
    if [ "$issuer" = self ]; then
        openssl ca -batch -config "$d/ca.cnf" -selfsign -keyfile "$CERTS/$name.key" \
            -startdate "$start" -enddate "$end" -extfile "$WORK/ext.cnf" -extensions "$ext" \
            -notext -in "$d/req.csr" -out "$CERTS/$name.crt" 2>/dev/null
    else
        openssl ca -batch -config "$d/ca.cnf" -cert "$CERTS/$issuer.crt" -keyfile "$CERTS/$issuer.key" \
            -startdate "$start" -enddate "$end" -extfile "$WORK/ext.cnf" -extensions "$ext" \
            -notext -in "$d/req.csr" -out "$CERTS/$name.crt" 2>/dev/null
    fi
}

make_certs() {
    cat >"$WORK/ext.cnf" <<'EOF'
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_int ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_server ]
basicConstraints = CA:false
keyUsage = digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:server.test, DNS:*.sip.test, IP:127.0.0.1
[ v3_wrong ]
basicConstraints = CA:false
keyUsage = digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.test
[ v3_client ]
basicConstraints = CA:false
keyUsage = digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:client.test
EOF
    sign root self 1000 "/O=Sipladder Test/CN=Sipladder Test Root CA" v3_ca $FROM $UNTIL
    sign inter root 2000 "/O=Sipladder Test/OU=Issuing/CN=Sipladder Test Intermediate CA" v3_int $FROM $UNTIL
    sign server inter 3001 "/O=Sipladder Test/OU=SIP Edge/CN=server.test" v3_server $FROM $UNTIL
    sign client inter 3002 "/O=Sipladder Test/OU=SIP Core/CN=client.test" v3_client $FROM $UNTIL
    sign expired inter 3003 "/O=Sipladder Test/CN=server.test" v3_server 20200101000000Z 20200601000000Z
    sign wrong inter 3004 "/O=Sipladder Test/CN=wrong.test" v3_wrong $FROM $UNTIL
    sign other self 5000 "/O=Other Test/CN=Other Test Root CA" v3_ca $FROM $UNTIL
    sign stranger other 5001 "/O=Other Test/OU=Temporary Certificate/CN=stranger.test" v3_client $FROM $UNTIL
    cat "$CERTS/inter.crt" "$CERTS/root.crt" >"$CERTS/chain.pem"
}

if [ ! -f "$CERTS/stranger.crt" ]; then
    make_certs
fi

# ---------------------------------------------------------------- captures
# With arguments, only the named captures are made (e.g. tls12-bytewise).
ONLY=("$@")
want() {
    [ ${#ONLY[@]} -eq 0 ] && return 0
    local n; for n in "${ONLY[@]}"; do [ "$n" = "$1" ] && return 0; done
    return 1
}
S="$CERTS"
WAITPORT() { # wait until something listens on 127.0.0.1:$1
    for _ in $(seq 50); do
        if ss -ltn "sport = :$1" | grep -q LISTEN; then return 0; fi
        sleep 0.1
    done
    echo "nothing listens on $1" >&2; return 1
}

# capture NAME PORT SERVER_ARGS -- CLIENT_ARGS
capture() {
    local name=$1 port=$2; shift 2
    local sargs=() cargs=()
    while [ "$1" != -- ]; do sargs+=("$1"); shift; done; shift
    cargs=("$@")
    tcpdump -i lo -U -s 0 -w "$OUT/$name.pcap" "tcp port $port" 2>/dev/null &
    local tpid=$!; PIDS+=("$tpid")
    sleep 1
    # The server's stdin stays open 3 s so that it reads the client's data
    # instead of closing at once on end of input.
    sleep 3 | openssl s_server -accept "127.0.0.1:$port" -naccept 1 -quiet "${sargs[@]}" \
        >"$WORK/$name.server" 2>&1 &
    local spid=$!; PIDS+=("$spid")
    WAITPORT "$port"
    (sleep 0.5; printf 'hello\n'; sleep 0.5) |
        openssl s_client -connect "127.0.0.1:$port" "${cargs[@]}" >"$WORK/$name.client" 2>&1 || true
    sleep 0.5
    kill "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    sleep 0.5
    kill "$tpid"; wait "$tpid" 2>/dev/null || true
    echo "$name: $(stat -c %s "$OUT/$name.pcap") bytes"
}

# 1. TLS 1.2 mutual: server sends leaf + intermediate + root, asks for a
#    client certificate (CA list from -CAfile), client sends leaf + intermediate.
want tls12-mutual && capture tls12-mutual 5062 -tls1_2 -cert "$S/server.crt" -key "$S/server.key" -cert_chain "$S/chain.pem" \
    -Verify 2 -CAfile "$S/root.crt" -alpn sip -- \
    -tls1_2 -servername server.test -alpn sip,h2 -cert "$S/client.crt" -key "$S/client.key" \
    -cert_chain "$S/inter.crt" -CAfile "$S/root.crt" -verify_return_error

# 2. The client does not know the server's root: fatal unknown_ca from client.
want tls12-unknown-ca && capture tls12-unknown-ca 5061 -tls1_2 -cert "$S/server.crt" -key "$S/server.key" -cert_chain "$S/inter.crt" -- \
    -tls1_2 -servername server.test -CAfile "$S/other.crt" -verify_return_error

# 3. The server rejects a client certificate from another CA.
want tls12-client-rejected && capture tls12-client-rejected 5062 -tls1_2 -cert "$S/server.crt" -key "$S/server.key" -cert_chain "$S/inter.crt" \
    -Verify 2 -verify_return_error -CAfile "$S/root.crt" -- \
    -tls1_2 -servername server.test -cert "$S/stranger.crt" -key "$S/stranger.key" -CAfile "$S/root.crt"

# 4. Expired server certificate (2020-01-01 .. 2020-06-01): certificate_expired.
want tls12-expired && capture tls12-expired 5061 -tls1_2 -cert "$S/expired.crt" -key "$S/expired.key" -cert_chain "$S/inter.crt" -- \
    -tls1_2 -servername server.test -CAfile "$S/root.crt" -verify_return_error

# 5. Hostname mismatch: the server presents wrong.test, the client wants server.test.
want tls12-name-mismatch && capture tls12-name-mismatch 5061 -tls1_2 -cert "$S/wrong.crt" -key "$S/wrong.key" -cert_chain "$S/inter.crt" -- \
    -tls1_2 -servername server.test -verify_hostname server.test -CAfile "$S/root.crt" -verify_return_error

# 6. TLS 1.3: everything after ServerHello is encrypted.
want tls13 && capture tls13 5061 -tls1_3 -cert "$S/server.crt" -key "$S/server.key" -cert_chain "$S/inter.crt" -- \
    -tls1_3 -servername server.test -CAfile "$S/root.crt" -verify_return_error

# 7. Records split byte by byte: a relay forwards the first bytes of each
#    direction one per send (TCP_NODELAY).  Both legs are captured: client ->
#    relay carries the server's bytes one per segment, relay -> server the
#    client's.  Only the first SPLIT bytes of each direction are split, to keep
#    the pcap small; that covers the ClientHello, the ServerHello and the start
#    of the Certificate.
if want tls12-bytewise; then
cat >"$WORK/relay.py" <<'EOF'
import socket, sys, threading, time
listen_port, target_port, split = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", listen_port)); ls.listen(1)
a, _ = ls.accept()
b = socket.create_connection(("127.0.0.1", target_port))
for s in (a, b):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def pump(src, dst):
    sent = 0
    while True:
        data = src.recv(65536)
        if not data:
            try: dst.shutdown(socket.SHUT_WR)
            except OSError: pass
            return
        for i in range(len(data)):
            if sent >= split:
                dst.sendall(data[i:]); sent += len(data) - i; break
            dst.sendall(data[i:i+1]); sent += 1
            time.sleep(0.0005)
t = threading.Thread(target=pump, args=(b, a)); t.start()
pump(a, b); t.join()
EOF
tcpdump -i lo -U -s 0 -w "$OUT/tls12-bytewise.pcap" "tcp port 15061 or tcp port 15062" 2>/dev/null &
TPID=$!; PIDS+=("$TPID"); sleep 1
sleep 4 | openssl s_server -accept 127.0.0.1:15062 -naccept 1 -quiet -tls1_2 -cert "$S/server.crt" -key "$S/server.key" \
    >"$WORK/bytewise.server" 2>&1 &
SPID=$!; PIDS+=("$SPID")
WAITPORT 15062
python3 "$WORK/relay.py" 15061 15062 300 &
RPID=$!; PIDS+=("$RPID")
WAITPORT 15061
(sleep 1; printf 'hello\n'; sleep 1) |
    openssl s_client -connect 127.0.0.1:15061 -tls1_2 -servername server.test -CAfile "$S/root.crt" \
        -cipher ECDHE-ECDSA-AES128-GCM-SHA256 >"$WORK/bytewise.client" 2>&1 || true
sleep 0.5
kill "$SPID" "$RPID" 2>/dev/null || true
sleep 0.5
kill "$TPID"; wait "$TPID" 2>/dev/null || true
echo "tls12-bytewise: $(stat -c %s "$OUT/tls12-bytewise.pcap") bytes"

fi
