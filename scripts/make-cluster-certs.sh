#!/usr/bin/env bash
# Makes a cluster CA and one certificate per member for mutual TLS on the
# cluster links (cluster.tls in the node config).
#
# Usage: scripts/make-cluster-certs.sh [--force] [--rsa] [--days N] OUT_DIR NAME...
#
#   OUT_DIR/ca.pem, OUT_DIR/ca.key     the CA (kept if present, unless --force)
#   OUT_DIR/NAME.pem, OUT_DIR/NAME.key per member: CN=NAME, subjectAltName
#                                      DNS:NAME, usable as TLS client and
#                                      server, signed by the CA
#
# Keys are EC P-256 (--rsa: RSA 2048); certificates are valid for --days
# (default 365). Idempotent: an existing NAME.pem that the current CA
# verifies and that names NAME is kept; --force makes everything anew.
# A certificate from a *different* CA (to test that it is refused): run the
# script again with another OUT_DIR, e.g. `make-cluster-certs.sh /tmp/other b`.
# Needs only the openssl command-line tool. Keys are written mode 0600.
set -euo pipefail

usage() {
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

force=0
key_type=ec
days=365
while [[ $# -gt 0 ]]; do
  case "$1" in
    --force) force=1; shift ;;
    --rsa) key_type=rsa; shift ;;
    --days) [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || usage; days="$2"; shift 2 ;;
    -h|--help) usage ;;
    --) shift; break ;;
    -*) echo "make-cluster-certs.sh: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[[ $# -ge 2 ]] || usage
out="$1"
shift
for name in "$@"; do
  # The name becomes a file name and a DNS SAN: letters, digits, '_', '-', '.'.
  if [[ ! "$name" =~ ^[A-Za-z0-9_.-]+$ || "$name" == ca || "$name" == .* ]]; then
    echo "make-cluster-certs.sh: invalid member name '$name'" >&2
    exit 2
  fi
done

command -v openssl >/dev/null || { echo "make-cluster-certs.sh: openssl not found" >&2; exit 1; }
mkdir -p "$out"
umask 077
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

new_key() {  # new_key FILE
  if [[ "$key_type" == rsa ]]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
  else
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  fi
}

if [[ "$force" == 1 || ! -s "$out/ca.pem" || ! -s "$out/ca.key" ]]; then
  new_key "$tmp/ca.key"
  openssl req -x509 -new -key "$tmp/ca.key" -sha256 -days "$days" -subj "/CN=opea-cluster-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$tmp/ca.pem"
  mv "$tmp/ca.key" "$out/ca.key"
  mv "$tmp/ca.pem" "$out/ca.pem"
  chmod 0644 "$out/ca.pem"
  force=1  # every member certificate must come from the new CA
  echo "created $out/ca.pem"
fi

for name in "$@"; do
  pem="$out/$name.pem"
  key="$out/$name.key"
  if [[ "$force" == 0 && -s "$pem" && -s "$key" ]] &&
     openssl verify -CAfile "$out/ca.pem" "$pem" >/dev/null 2>&1 &&
     openssl x509 -in "$pem" -noout -subject -nameopt multiline 2>/dev/null |
       grep -qx "    commonName *= *$name"; then
    echo "kept $pem"
    continue
  fi
  new_key "$tmp/$name.key"
  openssl req -new -key "$tmp/$name.key" -subj "/CN=$name" -out "$tmp/$name.csr"
  cat >"$tmp/$name.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:$name
EOF
  openssl x509 -req -in "$tmp/$name.csr" -CA "$out/ca.pem" -CAkey "$out/ca.key" -CAcreateserial \
    -CAserial "$tmp/ca.srl" -sha256 -days "$days" -extfile "$tmp/$name.ext" -out "$tmp/$name.pem" 2>/dev/null
  mv "$tmp/$name.key" "$key"
  mv "$tmp/$name.pem" "$pem"
  chmod 0644 "$pem"
  echo "created $pem"
done
