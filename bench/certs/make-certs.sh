#!/bin/sh
# make-certs.sh - made once; the DER files are committed so bench/gen is
# deterministic.  A root CA signs an intermediate which signs two leaves
# (the Expressway-E server and a neighbour client for mutual TLS on 5062).
# bench/gen sends leaf + intermediate (a 2-certificate chain).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
days=9000
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/root.key" -out "$tmp/root.pem" \
  -days $days -subj "/O=Sipladder Bench/OU=Root/CN=Sipladder Bench Root CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$tmp/int.key" -out "$tmp/int.csr" \
  -subj "/O=Sipladder Bench/OU=Issuing/CN=Sipladder Bench Issuing CA" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' > "$tmp/int.ext"
openssl x509 -req -in "$tmp/int.csr" -CA "$tmp/root.pem" -CAkey "$tmp/root.key" -set_serial 0x1001 \
  -days $days -extfile "$tmp/int.ext" -out "$tmp/int.pem" 2>/dev/null
leaf() { # name cn san eku
  openssl req -newkey rsa:2048 -nodes -keyout "$tmp/$1.key" -out "$tmp/$1.csr" \
    -subj "/O=Sipladder Bench/OU=Collaboration Edge/CN=$2" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\nsubjectAltName=%s\n' "$4" "$3" > "$tmp/$1.ext"
  openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/int.pem" -CAkey "$tmp/int.key" -set_serial "$5" \
    -days $days -extfile "$tmp/$1.ext" -out "$tmp/$1.pem" 2>/dev/null
  openssl x509 -in "$tmp/$1.pem" -outform DER -out "$1.der"
}
leaf server expe.example.com "DNS:expe.example.com,DNS:example.com,DNS:*.edge.example.com" serverAuth,clientAuth 0x2001
leaf client sbc.partner.example.net "DNS:sbc.partner.example.net" serverAuth,clientAuth 0x2002
openssl x509 -in "$tmp/int.pem" -outform DER -out intermediate.der
openssl x509 -in "$tmp/root.pem" -outform DER -out root.der
openssl x509 -in "$tmp/root.pem" -out root.pem
