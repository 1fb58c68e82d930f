#!/usr/bin/env bash
# Makes a throwaway certificate authority and certificates for tests and local use, with openssl.
#
#   bash tools/tls/make-certs.sh <folder> [extra server name ...]
#
# Writes into <folder> (created if missing), all PEM:
#   ca.crt / ca.key                 the CA that signs everything below
#   server.crt / server.key         server certificate for localhost, 127.0.0.1, ::1 (+ extra names)
#   client.crt / client.key         client certificate (CN scoregate-client) for mTLS
#   service.crt / service.key       a service's certificate for mTLS between services
#                                   (SCOREGATE_TLS_CERT/KEY): serves and calls, so it is valid for
#                                   both server and client authentication, same names as server
#   rogue-ca.crt, rogue-client.crt / rogue-client.key
#                                   a client certificate from ANOTHER CA, which a server must refuse
# Keys are EC P-256 and valid for 2 days: never use them for anything real.
set -euo pipefail

out="${1:?usage: make-certs.sh <folder> [extra server name ...]}"
shift
mkdir -p "$out"
cd "$out"

san="DNS:localhost,IP:127.0.0.1,IP:::1"
for name in "$@"; do
  if [[ "$name" =~ ^[0-9.]+$ || "$name" == *:* ]]; then san+=",IP:$name"; else san+=",DNS:$name"; fi
done

key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; chmod 600 "$1"; }

ca() { # ca <name> <subject>
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -sha256 -days 2 -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$1.crt" 2>/dev/null
}

leaf() { # leaf <name> <ca> <subject> <extensions>
  key "$1.key"
  openssl req -new -key "$1.key" -subj "$3" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -sha256 -days 2 \
    -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

ca ca "/CN=Scoregate throwaway CA"
leaf server ca "/CN=localhost" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san"
leaf client ca "/CN=scoregate-client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
leaf service ca "/CN=scoregate-service" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$san"
ca rogue-ca "/CN=Scoregate rogue CA"
leaf rogue-client rogue-ca "/CN=rogue-client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
rm -f ./*.srl
echo "certificates written to $(pwd)"
