#!/usr/bin/env bash
# make run: the signing core on its embedded default. Generates a dev key
# (once, under .cache/dev), then signs an example for each behavior of
# examples/behaviors.json with bin/cfissuer.
set -euo pipefail
cd "$(dirname "$0")/.."
dev=.cache/dev
if [ ! -f "$dev/private.pem" ]; then
  ./bin/cfissuer keygen --type rsa --out "$dev" >/dev/null
  echo "generated a dev key in $dev (never use it in production)"
fi
key=(--key-file "$dev/private.pem" --key-id KDEVELOPMENT)
origin=$(python3 -c 'import json;print(json.load(open("examples/behaviors.json"))["viewer_origin"])')
echo "ebook download (signed URL, canned, SHA1):"
./bin/cfissuer sign url "$origin/ebooks/intro.pdf" "${key[@]}" --ttl 1h
echo
echo "course cookies (custom policy, wildcard, SHA256):"
./bin/cfissuer sign cookies "$origin/courses/go-101/*" "${key[@]}" --ttl 15m --hash sha256
