#!/bin/bash
# make_tls_view_captures.sh - TLS 1.2 handshakes with the messages the `tls`
# view must list besides the usual ones: CertificateStatus (OCSP stapling),
# NewSessionTicket, and an abbreviated (resumed) handshake in which the
# server's ChangeCipherSpec and Finished come before the client's.
#
# Run as root from anywhere:  bash tests/captures/make_tls_view_captures.sh
#
# Real OpenSSL s_server/s_client in a network namespace of its own (sltv-*),
# on that namespace's loopback; tcpdump captures there.  The certificates
# are those of make_tls_captures.sh (tests/captures/tls/); the OCSP responses
# are made here with `openssl ocsp`, signed by the issuing CA, so their
# thisUpdate is the day the script runs.
#
# testdata/tls/tls12-ocsp-ticket.pcap:
#   conn 1 (port 5061): full handshake, client asks for status (-status): the
#       server staples a "good" OCSP response (CertificateStatus) and sends a
#       NewSessionTicket before its ChangeCipherSpec.
#   conn 2 (port 5061): the client resumes with that ticket: ServerHello,
#       NewSessionTicket, server CCS + Finished, then the client's.
#   conn 3 (port 5062): the stapled response says the certificate is revoked.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
S="$ROOT/tests/captures/tls"
OUT="$ROOT/testdata/tls"
NS=sltv-view
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

[ -f "$S/server.crt" ] || { echo "run make_tls_captures.sh first (certificates)" >&2; exit 1; }

# ---------------------------------------------------------------- OCSP responses
# index.txt: status, expiry, revocation time, serial (hex), file, subject.
ocsp_response() { # $1 = V or R, $2 = output DER
    local rev=""
    [ "$1" = R ] && rev="200301000000Z"
    printf '%s\t491231000000Z\t%s\t3001\tunknown\t/O=Sipladder Test/OU=SIP Edge/CN=server.test\n' "$1" "$rev" \
        >"$WORK/index.txt"
    openssl ocsp -issuer "$S/inter.crt" -cert "$S/server.crt" -no_nonce -reqout "$WORK/req.der" >/dev/null
    openssl ocsp -index "$WORK/index.txt" -rsigner "$S/inter.crt" -rkey "$S/inter.key" -CA "$S/inter.crt" \
        -reqin "$WORK/req.der" -respout "$2" -ndays 3650 >/dev/null
}
ocsp_response V "$WORK/good.der"
ocsp_response R "$WORK/revoked.der"

# ---------------------------------------------------------------- namespace
ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
ip -n "$NS" link set lo up
IN() { ip netns exec "$NS" "$@"; }

WAITPORT() { # wait until something listens on 127.0.0.1:$1 in the namespace
    for _ in $(seq 50); do
        if IN ss -ltn "sport = :$1" | grep -q LISTEN; then return 0; fi
        sleep 0.1
    done
    echo "nothing listens on $1" >&2; return 1
}

# server PORT NACCEPT STATUS_FILE: s_server in the background, stdin open 8 s.
server() {
    sleep 8 | IN openssl s_server -accept "127.0.0.1:$1" -naccept "$2" -quiet -tls1_2 \
        -cert "$S/server.crt" -key "$S/server.key" -cert_chain "$S/inter.crt" -status_file "$3" \
        >"$WORK/server-$1.log" 2>&1 &
    PIDS+=($!)
    WAITPORT "$1"
}

# client PORT ARGS...: one connection that sends one line and closes.
client() {
    local port=$1; shift
    (sleep 0.3; printf 'hello\n'; sleep 0.3) |
        IN openssl s_client -connect "127.0.0.1:$port" -tls1_2 -servername server.test -status \
            -CAfile "$S/root.crt" "$@" >>"$WORK/client.log" 2>&1 || true
}

NAME=tls12-ocsp-ticket
IN tcpdump -i lo -U -s 0 -w "$OUT/$NAME.pcap" "tcp port 5061 or tcp port 5062" 2>/dev/null &
TPID=$!; PIDS+=("$TPID")
sleep 1
server 5061 2 "$WORK/good.der"
server 5062 1 "$WORK/revoked.der"
client 5061 -sess_out "$WORK/session.pem"
client 5061 -sess_in "$WORK/session.pem"
client 5062
sleep 1
grep -E "^(OCSP Response Status|    Cert Status|Reused|New)" "$WORK/client.log" || true
kill "$TPID"; wait "$TPID" 2>/dev/null || true
echo "$NAME: $(stat -c %s "$OUT/$NAME.pcap") bytes"
