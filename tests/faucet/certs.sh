#!/usr/bin/env bash
# Makes a throw-away CA and two certificates signed by it for faucetconfrpc's mutual TLS:
#   DIR/ca.crt, DIR/server.{crt,key} (SAN localhost, 127.0.0.1), DIR/client.{crt,key}
# Usage: certs.sh DIR
set -euo pipefail
D=$1
mkdir -p "$D"
cd "$D"
command -v openssl >/dev/null || { echo "certs: openssl missing" >&2; exit 2; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=trident-test-ca" -keyout ca.key -out ca.crt 2>/dev/null
for who in server client; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=$who" -keyout "$who.key" -out "$who.csr" 2>/dev/null
  if [ "$who" = server ]; then
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$who.ext"
  else
    printf 'subjectAltName=DNS:client\nextendedKeyUsage=clientAuth\n' > "$who.ext"
  fi
  openssl x509 -req -in "$who.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile "$who.ext" -out "$who.crt" 2>/dev/null
  rm -f "$who.csr" "$who.ext"
done
