#!/usr/bin/env bash
# Stops the quick-start cluster of scripts/cluster-up.sh: deletes the workloads
# (so the node agent removes their containers, mounts, netns and rules), then
# stops the server by the PID cluster-up recorded; the agent removes the pod
# bridge when no container is left. --purge also deletes the cluster's state.
set -euo pipefail
cd "$(dirname "$0")/.."
data=/var/lib/tug-cluster
export KUBECONFIG="$data/kubeconfig"
pidfile="$data/server.pid"
if [ ! -f "$pidfile" ] || ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "no tug server from scripts/cluster-up.sh is running ($pidfile)" >&2
else
  pid=$(cat "$pidfile")
  # Everything that owns pods, and the pods themselves, in every namespace.
  kubectl delete deployments,replicasets,statefulsets,daemonsets,jobs,cronjobs,pods --all --all-namespaces --wait=false >/dev/null
  for _ in $(seq 300); do
    [ -z "$(DOCKER_HOST="unix://$data/engine.sock" docker ps -aq 2>/dev/null)" ] && break
    sleep 0.2
  done
  kill -TERM "$pid"
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  rm -f "$pidfile"
  echo "tug server stopped"
fi
if [ "${1:-}" = "--purge" ]; then
  rm -rf "$data"
  echo "removed $data"
fi
