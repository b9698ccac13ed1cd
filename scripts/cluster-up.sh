#!/usr/bin/env bash
# Cluster quick start: a single-node cluster (API server on SQLite, scheduler,
# controllers, node agent, service proxy, DNS) in one command, then an example
# Deployment + NodePort Service answering on 127.0.0.1:30080.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

data=/var/lib/tug-cluster
port=6443
export KUBECONFIG="$data/kubeconfig"
if ! { [ -f "$KUBECONFIG" ] && kubectl get --raw /readyz >/dev/null 2>&1; }; then
  mkdir -p "$data" /var/log
  echo "starting tug server (log: /var/log/tug-server.log)"
  setsid nohup "$PWD/bin/tug" server --data-dir "$data" --port "$port" >/var/log/tug-server.log 2>&1 </dev/null &
  echo $! >"$data/server.pid"   # scripts/cluster-down.sh stops this PID
  for _ in $(seq 300); do
    [ -f "$KUBECONFIG" ] && kubectl get --raw /readyz >/dev/null 2>&1 && break
    sleep 0.2
  done
fi
for _ in $(seq 150); do
  kubectl get nodes 2>/dev/null | grep -q ' Ready' && break
  sleep 0.2
done
kubectl get nodes -o wide
kubectl apply -f examples/web.yaml
kubectl rollout status deployment/web --timeout=180s
kubectl get pods,svc -o wide
for _ in $(seq 50); do curl -fsS http://127.0.0.1:30080/ 2>/dev/null && break; sleep 0.2; done
echo
echo "The cluster is up: export KUBECONFIG=$KUBECONFIG; kubectl get all"
echo "Stop it with: bash scripts/cluster-down.sh [--purge]"
