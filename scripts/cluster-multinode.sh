#!/usr/bin/env bash
# A three-node cluster on one machine, each node as a separate machine would
# be: its own network namespace with its own address on a bridge (tugmn0,
# 10.211.0.0/24), its own data dir and its own `tug agent`, joined to a `tug
# server` that listens on the host's address on that bridge. Pods reach each
# other across nodes through the VXLAN overlay. The example app
# (examples/web.yaml, three replicas, one per node) answers on every node's
# NodePort.
#   bash scripts/cluster-multinode.sh up     # start (idempotent: refuses if running)
#   bash scripts/cluster-multinode.sh down   # delete workloads, stop every process, remove netns/bridge/rules
# State and logs: /var/lib/tug-multinode (down --purge removes it).
set -euo pipefail
cd "$(dirname "$0")/.."
state=/var/lib/tug-multinode
bridge=tugmn0
prefix=10.211.0
port=6444
nodes=3
export KUBECONFIG="$state/server/kubeconfig"
fwd=(FORWARD -i "$bridge" -o "$bridge" -m comment --comment "tug multinode demo" -j ACCEPT)

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pid() { # SIGTERM, then wait up to 60 s, then SIGKILL
  local f=$1
  alive "$f" || { rm -f "$f"; return 0; }
  local pid
  pid=$(cat "$f")
  kill -TERM "$pid"
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  rm -f "$f"
}

up() {
  [ -d dist/src ] || npm run -s build
  if alive "$state/server.pid"; then
    echo "the multinode demo is already running (bash $0 down stops it)" >&2
    exit 1
  fi
  if ip route | grep -q "^$prefix\." && ! ip link show "$bridge" >/dev/null 2>&1; then
    echo "$prefix.0/24 is already routed on this host; edit prefix= in $0" >&2
    exit 1
  fi
  mkdir -p "$state"
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add "$bridge" type bridge
    ip addr add "$prefix.1/24" dev "$bridge"
    ip link set "$bridge" up
  fi
  iptables -w -C "${fwd[@]}" 2>/dev/null || iptables -w -I "${fwd[0]}" 1 "${fwd[@]:1}"
  echo "starting tug server on https://$prefix.1:$port (log: $state/server.log)"
  setsid nohup "$PWD/bin/tug" server --data-dir "$state/server" --port "$port" --bind "$prefix.1" --no-agent >"$state/server.log" 2>&1 </dev/null &
  echo $! >"$state/server.pid"
  for _ in $(seq 300); do [ -f "$state/server/join-command" ] && kubectl get --raw /readyz >/dev/null 2>&1 && break; sleep 0.2; done
  read -r -a join <"$state/server/join-command" # tug agent --server URL --token T --discovery-token-ca-cert-hash H
  for i in $(seq 1 "$nodes"); do
    ns="tugmn-$i"
    if ! ip netns list | grep -qw "$ns"; then
      ip netns add "$ns"
      ip link add "tugmn0h$i" type veth peer name "tugmn0n$i"
      ip link set "tugmn0n$i" netns "$ns"
      ip link set "tugmn0h$i" master "$bridge" up
      ip netns exec "$ns" ip link set lo up
      ip netns exec "$ns" ip link set "tugmn0n$i" name eth0
      ip netns exec "$ns" ip addr add "$prefix.$((10 + i))/24" dev eth0
      ip netns exec "$ns" ip link set eth0 up
    fi
    echo "starting node-$i in netns $ns at $prefix.$((10 + i)) (log: $state/node-$i.log)"
    # nsenter joins only the network namespace (ip netns exec would also remount /sys, hiding the cgroups runc needs).
    setsid nohup nsenter --net="/var/run/netns/$ns" "$PWD/bin/tug" "${join[@]:1}" --data-dir "$state/node-$i" --node-name "node-$i" >"$state/node-$i.log" 2>&1 </dev/null &
    echo $! >"$state/node-$i.pid"
  done
  for _ in $(seq 300); do
    [ "$(kubectl get nodes --no-headers 2>/dev/null | grep -c ' Ready')" = "$nodes" ] && break
    sleep 0.2
  done
  kubectl get nodes -o wide
  # The example app with one replica per node: three replicas, spread over the nodes' host names.
  node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { parseAllDocuments, stringify } from "yaml";
    const docs = parseAllDocuments(readFileSync("examples/web.yaml", "utf8")).map((d) => d.toJS());
    for (const d of docs) if (d.kind === "Deployment") {
      d.spec.replicas = 3;
      d.spec.template.spec.topologySpreadConstraints = [{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: d.spec.selector.matchLabels } }];
    }
    process.stdout.write(docs.map((d) => stringify(d)).join("---\n"));
  ' | kubectl apply -f -
  kubectl rollout status deployment/web --timeout=180s
  kubectl get pods -o wide
  for i in $(seq 1 "$nodes"); do
    for _ in $(seq 50); do curl -fsS "http://$prefix.$((10 + i)):30080/" 2>/dev/null && break; sleep 0.2; done
  done
  echo
  echo "Up: export KUBECONFIG=$KUBECONFIG; kubectl get pods -o wide"
  echo "A shell on node 1: ip netns exec tugmn-1 sh; stop everything: bash $0 down [--purge]"
}

down() {
  if alive "$state/server.pid"; then
    # Workloads first, so every agent removes its pods' containers, mounts and rules.
    kubectl delete deployments,replicasets,statefulsets,daemonsets,jobs,cronjobs,pods,services --all --all-namespaces --wait=false --grace-period=1 >/dev/null 2>&1 || true
    for _ in $(seq 300); do [ -z "$(kubectl get pods -A -o name 2>/dev/null)" ] && break; sleep 0.2; done
  fi
  for i in $(seq 1 "$nodes"); do stop_pid "$state/node-$i.pid"; done
  stop_pid "$state/server.pid"
  for i in $(seq 1 "$nodes"); do
    ip netns del "tugmn-$i" 2>/dev/null || true
    ip link del "tugmn0h$i" 2>/dev/null || true
  done
  ip link del "$bridge" 2>/dev/null || true
  while iptables -w -D "${fwd[@]}" 2>/dev/null; do :; done
  echo "multinode demo stopped"
  if [ "${1:-}" = "--purge" ]; then
    rm -rf "$state"
    echo "removed $state"
  fi
}

case "${1:-}" in
  up) up ;;
  down) shift; down "${1:-}" ;;
  *) echo "usage: $0 up | down [--purge]" >&2; exit 2 ;;
esac
