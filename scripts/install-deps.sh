#!/usr/bin/env bash
# Installs what tug needs on Debian 12 when it is missing, then builds it.
# Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian tools tug drives (see README "Dependencies" for what each is for);
# docker-compose (1.29.2, with python3-docker) is what the compose tests drive.
need_pkgs=()
check() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' || need_pkgs+=("$1"); }
# chromium: the browser the dashboard tests drive (playwright-core, never a downloaded browser).
for p in runc conmon busybox-static containernetworking-plugins iptables iproute2 \
         attr tar skopeo etcd-server etcd-client \
         docker-registry docker-compose socat curl g++ gcc libc6-dev make python3 tini mmdebstrap openssl prometheus chromium; do
  check "$p"
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# npm packages, then the TypeScript build (bin/tug runs the compiled JS).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install` honours package-lock.json as `npm ci` would; `npm ci` itself
  # refuses this lock because node-unix-socket names prebuilt packages for other
  # platforms that the registry does not serve (they are optional and skipped).
  npm install --no-audit --no-fund --loglevel=error
fi
npm run -s build
