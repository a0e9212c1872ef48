#!/usr/bin/env bash
# A shell walk-through of the mcc daemon and its REST API, everything on 127.0.0.1:
# two daemons (`mcc start`, the first one the bootstrap node of the second), a tiny HTTP
# server exposed over REST on daemon A, looked up and forwarded on daemon B, and a page
# fetched through the forward. Every process it starts is killed on exit.
#
#   bash examples/curl-walkthrough.sh
#
# Needs node and curl. Uses the built CLI (dist/cli/mcc.js) when present, else the sources via tsx.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f dist/cli/mcc.js ]; then mcc=(node dist/cli/mcc.js); else mcc=(node --import tsx src/cli/mcc.ts); fi
# Only the flags below configure the daemons, not the caller's environment.
unset MCC_HOST MCC_PORT MCC_BOOTSTRAP MCC_IDENTITY MCC_EXPOSE MCC_FORWARD MCC_REST MCC_TOKEN MCC_CONFIG MCC_CONFIG_DIR
# Everything here is on 127.0.0.1: never through a proxy the caller's environment names.
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
  echo "All processes stopped."
}
trap cleanup EXIT
trap 'exit 130' INT TERM # a signal exits through the EXIT trap too

step() { printf '\n== %s\n' "$*"; }
# Prints a command as it could be typed (arguments quoted where needed), prefixed with "$ ".
show() {
  local arg words=()
  for arg in "$@"; do
    if [[ $arg =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then words+=("$arg"); else words+=("'${arg//\'/\'\\\'\'}'"); fi
  done
  printf '$ %s\n' "${words[*]}"
}
run() { show "$@"; "$@"; }

# Waits (at most 15 s) for a line matching $2 in the log $1 and prints the first match.
wait_for() {
  local log=$1 pattern=$2 line
  for _ in $(seq 150); do
    if line=$(grep -m1 -E "$pattern" "$log"); then printf '%s\n' "$line"; return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for /$pattern/ in $log:" >&2
  cat "$log" >&2
  return 1
}

step "1. start daemon A (the bootstrap node), REST on a free port"
echo "$(show MCC_CONFIG_DIR="$work/a" "${mcc[@]}" start --host 127.0.0.1 --rest 127.0.0.1:0) &"
MCC_CONFIG_DIR="$work/a" "${mcc[@]}" start --host 127.0.0.1 --rest 127.0.0.1:0 >"$work/a.log" 2>&1 &
pids+=($!)
a_udp=$(wait_for "$work/a.log" '^mcc: listening on udp ' | sed 's/^mcc: listening on udp //')
a_rest=$(wait_for "$work/a.log" '^mcc: rest on ' | sed 's/^mcc: rest on //')
echo "daemon A: udp $a_udp, rest $a_rest"

step "2. start daemon B, joining through A"
echo "$(show MCC_CONFIG_DIR="$work/b" "${mcc[@]}" start --host 127.0.0.1 --bootstrap "$a_udp" --rest 127.0.0.1:0) &"
MCC_CONFIG_DIR="$work/b" "${mcc[@]}" start --host 127.0.0.1 --bootstrap "$a_udp" --rest 127.0.0.1:0 >"$work/b.log" 2>&1 &
pids+=($!)
b_udp=$(wait_for "$work/b.log" '^mcc: listening on udp ' | sed 's/^mcc: listening on udp //')
b_rest=$(wait_for "$work/b.log" '^mcc: rest on ' | sed 's/^mcc: rest on //')
echo "daemon B: udp $b_udp, rest $b_rest"

step "3. start a tiny HTTP server next to daemon A (it knows nothing of the mesh)"
node -e "require('node:http').createServer((q, r) => r.end('hello from the web server behind daemon A (' + q.url + ')\n'))
  .listen(0, '127.0.0.1', function () { console.log('web on 127.0.0.1:' + this.address().port); })" >"$work/web.log" 2>&1 &
pids+=($!)
web_port=$(wait_for "$work/web.log" '^web on ' | sed 's/^web on 127.0.0.1://')
echo "web server on 127.0.0.1:$web_port"

step "4. register it on daemon A as the service \"web\""
run curl -sS -X POST "$a_rest/v1/services" -H 'content-type: application/json' \
  -d "{\"name\":\"web\",\"port\":$web_port,\"metadata\":{\"from\":\"curl-walkthrough\"}}"
echo

step "5. look \"web\" up on daemon B"
run curl -sS "$b_rest/v1/services/web/providers"
echo

step "6. open a forward on daemon B: a local port that reaches \"web\""
show curl -sS -X POST "$b_rest/v1/forwards" -H 'content-type: application/json' -d '{"name":"web","port":0}'
forward=$(curl -sS -X POST "$b_rest/v1/forwards" -H 'content-type: application/json' -d '{"name":"web","port":0}')
echo "$forward"
forward_port=$(printf '%s' "$forward" | sed -E 's/.*"port":([0-9]+).*/\1/')

step "7. fetch a page through the forward (B -> encrypted tunnel -> A -> web server)"
run curl -sS "http://127.0.0.1:$forward_port/hello.html"

step "8. the same from the mcc command: the daemon's status and a lookup"
run "${mcc[@]}" status --rest "$b_rest"
run "${mcc[@]}" lookup web --rest "$b_rest"

step "9. daemon B's Prometheus counters"
echo "\$ curl -s $b_rest/metrics | head"
curl -s "$b_rest/metrics" | head || true # head closes the pipe early: curl's exit 23 is expected

step "10. unregister \"web\" on A; B's lookup is empty at once"
run curl -sS -o /dev/null -w 'DELETE -> %{http_code}\n' -X DELETE "$a_rest/v1/services/web"
run curl -sS "$b_rest/v1/services/web/providers?fresh=true"
echo

step "done: stopping the daemons and the web server (the trap on EXIT)"
