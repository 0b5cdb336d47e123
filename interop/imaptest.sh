#!/usr/bin/env bash
# Runs Dovecot's imaptest against a plaintext copy of the healthy scenario
# (issue 15): its compliance scripts, then its stress mode (10 clients for
# 20 s). Fails when a test group fails or stress prints an "Error:" line.
# Usage: interop/imaptest.sh IMAPFAULT_BIN IMAPTEST_BIN IMAPTEST_TESTS_DIR
# (make compliance passes them). Output: OUT_DIR (default a temporary
# folder) keeps the full logs.
set -euo pipefail
bin=$1 imaptest=$2 tests=$3
command -v python3 >/dev/null || { echo "compliance: python3 reads serve's ready file: apt-get install python3" >&2; exit 1; }
out=${OUT_DIR:-$(mktemp -d)}
mkdir -p "$out"
pid=
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

# The copy differs from healthy only in transport: imaptest speaks
# plaintext IMAP (it has no STARTTLS of its own here).
sed -e 's/^tls = "starttls"/tls = "none"/' -e '/^certificate = /d' -e 's/^name = "healthy"/name = "healthy-plaintext"/' \
	scenarios/library/healthy.toml >"$out/healthy-plaintext.toml"
rm -rf "$out/messages" && cp -r scenarios/library/messages "$out/messages"

"$bin" serve --scenario "$out/healthy-plaintext.toml" --ready-file "$out/ready.json" >"$out/serve.out" 2>"$out/serve.err" &
pid=$!
# serve writes the ready file (one JSON object) once it listens.
for _ in $(seq 100); do
	[ -s "$out/ready.json" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if [ ! -s "$out/ready.json" ]; then
	echo "compliance: the server did not start: $(cat "$out/serve.err")" >&2
	exit 1
fi
read -r addr user pass < <(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(r["address"], r["users"][0]["name"], r["users"][0]["password"])' "$out/ready.json")
host=${addr%:*} port=${addr##*:}

echo "compliance: imaptest scripts against $addr (logs in $out)"
"$imaptest" host="$host" port="$port" user="$user" pass="$pass" test="$tests" >"$out/scripts.txt" 2>&1 || true
grep -E '^(\*\*\*| - failed|[0-9]+ test groups|base protocol|extensions)' "$out/scripts.txt" || true
failed=$(sed -n 's/^[0-9]* test groups: \([0-9]*\) failed.*/\1/p' "$out/scripts.txt")

echo "compliance: imaptest stress, 10 clients for 20 s"
"$imaptest" host="$host" port="$port" user="$user" pass="$pass" mbox="$tests/default.mbox" clients=10 secs=20 >"$out/stress.txt" 2>&1 || true
errors=$(grep -c '^Error:' "$out/stress.txt" || true)
grep '^Error:' "$out/stress.txt" | head -20 || true
tail -4 "$out/stress.txt"

echo "compliance: failed test groups: ${failed:-unknown}; stress Error: lines: $errors"
[ "$failed" = 0 ] && [ "$errors" = 0 ]
