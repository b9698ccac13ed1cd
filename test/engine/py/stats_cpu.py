# docker-py's stats against a container that idles, then busy-loops: the
# non-streamed sample's CPU covers the last interval (precpu_stats filled),
# one_shot=True answers with one sample and empty precpu_stats. Prints one
# JSON object; stats-cpu.test.ts asserts on it. DOCKER_HOST points at the daemon.
import json
import sys
import time
from datetime import datetime, timezone

import docker

suffix = sys.argv[1]
client = docker.from_env(timeout=60)
IDLE_THEN_BUSY = 'while [ ! -e /tmp/go ]; do sleep 0.2; done; while :; do :; done'


def when(s):
    # RFC 3339 with up to nanoseconds (dockerd) or milliseconds; Python reads microseconds at most.
    t = datetime.fromisoformat(s[:26].rstrip('Z') if '.' in s else s.rstrip('Z'))
    return t.replace(tzinfo=timezone.utc).timestamp()


c = client.containers.run('busybox', ['sh', '-c', IDLE_THEN_BUSY], name=f'statpy-{suffix}', detach=True)
try:
    time.sleep(3)  # idle first, so the lifetime average is well below the current rate
    c.exec_run(['touch', '/tmp/go'])
    s = c.stats(stream=False)
    started = when(c.attrs['State']['StartedAt'])
    cpu, pre = s['cpu_stats'], s['precpu_stats']
    read, preread = when(s['read']), when(s['preread'])
    one = c.stats(stream=False, one_shot=True)
    print(json.dumps({
        'pre_total': pre['cpu_usage']['total_usage'],
        'pre_system': pre.get('system_cpu_usage', 0),
        'read_after_preread': read > preread,
        # fraction of one core: over the last interval, and over the whole life
        'interval_rate': (cpu['cpu_usage']['total_usage'] - pre['cpu_usage']['total_usage']) / 1e9 / max(read - preread, 1e-9),
        'lifetime_rate': cpu['cpu_usage']['total_usage'] / 1e9 / (read - started),
        'one_shot': {
            'pre_total': one['precpu_stats']['cpu_usage']['total_usage'],
            'preread': one['preread'],
            'total': one['cpu_stats']['cpu_usage']['total_usage'],
        },
    }))
finally:
    c.remove(force=True)
