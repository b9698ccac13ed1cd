#!/usr/bin/env bash
# Quick start: install what is missing, start the tug engine on its embedded
# defaults (/var/lib/tug, /run/tug/tug.sock), and run a real workload: a web
# server in a container, published on 127.0.0.1:8080, answered with curl.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

sock=/run/tug/tug.sock
if ! curl -fsS --unix-socket "$sock" http://tug/_ping >/dev/null 2>&1; then
  mkdir -p /var/log
  echo "starting tug daemon (log: /var/log/tug-daemon.log)"
  setsid nohup "$PWD/bin/tug" daemon >/var/log/tug-daemon.log 2>&1 </dev/null &
  for _ in $(seq 100); do
    curl -fsS --unix-socket "$sock" http://tug/_ping >/dev/null 2>&1 && break
    sleep 0.1
  done
fi

tug="$PWD/bin/tug"
"$tug" rm -f hello-web >/dev/null 2>&1 || true
"$tug" run -d --name hello-web -p 127.0.0.1:8080:80 busybox \
  sh -c 'mkdir -p /www && echo "hello from a tug container ($(hostname))" > /www/index.html && exec httpd -f -p 80 -h /www'
for _ in $(seq 50); do curl -fsS http://127.0.0.1:8080/ 2>/dev/null && break; sleep 0.1; done
"$tug" ps
echo
echo "tug is up. Try: $tug run --rm -it busybox sh      (stop the demo: $tug rm -f hello-web)"
echo "The docker CLI works too: DOCKER_HOST=unix://$sock docker ps"
