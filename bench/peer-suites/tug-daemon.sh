# Sourced by the peer-suite runners: start a tug daemon of the runner's own
# (own root, socket, bridge and subnet, --ephemeral so it removes its
# containers and network when stopped) and stop it by the PID it started.
# Needs: REPO (the tug checkout, built) and WORK (the run's scratch dir).

tug_daemon_start() {
  local rand
  rand=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
  TUG_SOCK="$WORK/tug.sock"
  TUG_BRIDGE="tugp${rand}"
  # 10.200-249.x.0/24: private, and the same range the project's tests draw from.
  TUG_SUBNET="10.$((200 + 0x${rand:0:2} % 50)).$((0x${rand:2:2})).0/24"
  node "$REPO/bin/tug" daemon --root "$WORK/tug-root" --socket "$TUG_SOCK" \
    --bridge "$TUG_BRIDGE" --subnet "$TUG_SUBNET" --ephemeral >"$WORK/tug-daemon.log" 2>&1 &
  TUG_PID=$!
  for _ in $(seq 1 900); do
    if curl -fs --unix-socket "$TUG_SOCK" http://d/_ping >/dev/null 2>&1; then
      echo "tug daemon pid $TUG_PID on unix://$TUG_SOCK (bridge $TUG_BRIDGE, $TUG_SUBNET)"
      return 0
    fi
    if ! kill -0 "$TUG_PID" 2>/dev/null; then
      echo "tug daemon exited at start-up; see $WORK/tug-daemon.log" >&2
      tail -20 "$WORK/tug-daemon.log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "tug daemon did not answer /_ping in 90 s" >&2
  return 1
}

tug_daemon_stop() {
  [ -n "${TUG_PID:-}" ] || return 0
  if kill -0 "$TUG_PID" 2>/dev/null; then
    kill -TERM "$TUG_PID" 2>/dev/null || true
    for _ in $(seq 1 600); do kill -0 "$TUG_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$TUG_PID" 2>/dev/null && kill -KILL "$TUG_PID" 2>/dev/null
  fi
  wait "$TUG_PID" 2>/dev/null || true
  TUG_PID=
}
