#!/usr/bin/env bash
# docker-py's own integration suite (tests/integration of docker/docker-py)
# against a tug daemon of this script's own, and, when DOCKERD_HOST names a
# running dockerd, the same files against it; then passed/total for each, tug's
# passes as a share of Docker's, and tug's failures grouped by cause.
#
# Usage (as root, after `npm run build`):
#   bash bench/peer-suites/docker-py.sh /path/to/docker-py [pytest args...]
#   DOCKERD_HOST=unix:///run/docker.sock bash bench/peer-suites/docker-py.sh /path/to/docker-py
# Without a path it clones $DOCKER_PY_GIT (no default: the suite is not copied
# into this repository). Needs python3 with pytest and docker (the SDK's deps).
# The dockerd is only used, never started, stopped or reconfigured; the images
# the suite expects are loaded into it from tug's (same bytes on both engines).
# Env: PEER_OUT (where results go, default a new /tmp/peer-docker-py.*),
#      PEER_TEST_TIMEOUT (seconds per test, default 180; needs pytest-timeout),
#      PEER_RUN_TIMEOUT (seconds per engine run, default 3600).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$REPO/bench/peer-suites"
SRC=${1:-}
[ $# -gt 0 ] && shift
WORK=${PEER_OUT:-$(mktemp -d /tmp/peer-docker-py.XXXXXX)}
mkdir -p "$WORK"
if [ -z "$SRC" ]; then
  [ -n "${DOCKER_PY_GIT:-}" ] || { echo "usage: $0 /path/to/docker-py (or set DOCKER_PY_GIT to clone)" >&2; exit 2; }
  SRC="$WORK/docker-py"
  git clone -q --depth 1 "$DOCKER_PY_GIT" "$SRC"
fi
SRC=$(cd "$SRC" && pwd)
[ -f "$SRC/tests/integration/base.py" ] || { echo "$SRC is not a docker-py checkout" >&2; exit 2; }
[ -f "$REPO/dist/src/engine-api/daemon-main.js" ] || { echo "build tug first: npm run build" >&2; exit 2; }

FILES=(api_container_test api_exec_test api_image_test api_volume_test api_build_test api_network_test
  api_healthcheck_test api_client_test models_containers_test models_images_test models_volumes_test
  models_networks_test errors_test regression_test client_test)
TESTS=()
for f in "${FILES[@]}"; do TESTS+=("tests/integration/$f.py"); done

# paramiko (imported by the suite's helpers), websocket-client (the attach
# over websocket test) and pytest-timeout (bounds a hung test) from Debian when
# python3 lacks them (see pyextra.sh).
# shellcheck source=bench/peer-suites/pyextra.sh
source "$HERE/pyextra.sh"
PYEXTRA="$WORK/pyextra"
MISSING=$(py_link_missing "$PYEXTRA" bcrypt nacl paramiko websocket pytest_timeout)
case " $MISSING " in *" paramiko "*|*" nacl "*|*" bcrypt "*)
  echo "python3 cannot import paramiko (the suite's tests/helpers.py needs it): apt-get install python3-paramiko" >&2; exit 2;;
esac
TIMEOUT_ARGS=(-p pytest_timeout --timeout="${PEER_TEST_TIMEOUT:-180}")
case " $MISSING " in *" pytest_timeout "*)
  echo "pytest-timeout not found (apt-get install python3-pytest-timeout): tests run without a per-test bound" >&2
  TIMEOUT_ARGS=();;
esac

# shellcheck source=bench/peer-suites/tug-daemon.sh
source "$HERE/tug-daemon.sh"
trap tug_daemon_stop EXIT
tug_daemon_start
TUG_HOST="unix://$TUG_SOCK"

# The suite's images, from tug's built-in busybox (asking for it builds it):
# TEST_IMG alpine:3.10, plain "alpine" in the models tests and Dockerfiles,
# busybox:buildroot in the build tests. hello-world is only pulled, which needs
# a registry on both engines.
DOCKER_HOST=$TUG_HOST docker image inspect busybox:latest >/dev/null
for tag in alpine:3.10 alpine:latest busybox:buildroot; do DOCKER_HOST=$TUG_HOST docker tag busybox:latest "$tag"; done
DOCKER_HOST=$TUG_HOST docker save -o "$WORK/images.tar" busybox:latest alpine:3.10 alpine:latest busybox:buildroot
echo "images: busybox:latest alpine:3.10 alpine:latest busybox:buildroot = $(DOCKER_HOST=$TUG_HOST docker image inspect -f '{{.Id}}' busybox:latest)"

run_suite() { # engine-name docker-host
  local name=$1 host=$2 rc=0
  shift 2
  echo "== docker-py integration on $name ($host), $(date -u +%FT%TZ)"
  (cd "$SRC" && DOCKER_HOST=$host PYTHONPATH="$PYEXTRA${PYTHONPATH:+:$PYTHONPATH}" \
    timeout -k 30 "${PEER_RUN_TIMEOUT:-3600}" python3 -m pytest -q -p no:cacheprovider "${TIMEOUT_ARGS[@]}" \
      --junitxml="$WORK/$name.xml" "$@" "${TESTS[@]}" >"$WORK/$name.log" 2>&1) || rc=$?
  echo "   exit $rc; $(tail -1 "$WORK/$name.log")"
}

SUMMARY_ARGS=(--tug "$WORK/tug.xml")
if [ -n "${DOCKERD_HOST:-}" ]; then
  DOCKER_HOST=$DOCKERD_HOST docker load -q -i "$WORK/images.tar"
  run_suite dockerd "$DOCKERD_HOST" "$@"
  SUMMARY_ARGS+=(--docker "$WORK/dockerd.xml")
fi
run_suite tug "$TUG_HOST" "$@"
tug_daemon_stop
python3 "$HERE/summarize.py" "${SUMMARY_ARGS[@]}" --network-files api_network_test,models_networks_test | tee "$WORK/summary.txt"
echo "results: $WORK (junit XML, pytest logs, summary.txt)"
