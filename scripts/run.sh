#!/usr/bin/env bash
# make run: the issuer on its embedded default. `cfissuer serve --dev` keeps
# a dev signing key and a dev API key under the state folder (made once,
# reused on later runs; the API key's path is printed, never the key), serves
# the API for examples/behaviors.json, runs the local edge in front of the
# sample content, and prints three curl commands to try. Logs go to stdout.
#
# Overrides: CFISSUER_STATE (default .cfissuer), CFISSUER_LISTEN (default
# 127.0.0.1:8080), CFISSUER_EDGE (default 127.0.0.1:8081),
# CFISSUER_EDGE_TOMORROW (default 127.0.0.1:8082, the edge a day ahead),
# CFISSUER_BEHAVIORS (default examples/behaviors.json).
set -euo pipefail
cd "$(dirname "$0")/.."
exec ./bin/cfissuer serve --dev \
  --state "${CFISSUER_STATE:-.cfissuer}" \
  --listen "${CFISSUER_LISTEN:-127.0.0.1:8080}" \
  --edge "${CFISSUER_EDGE:-127.0.0.1:8081}" \
  --edge-tomorrow "${CFISSUER_EDGE_TOMORROW:-127.0.0.1:8082}" \
  --behaviors "${CFISSUER_BEHAVIORS:-examples/behaviors.json}"
