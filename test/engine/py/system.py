# docker-py against a tug daemon: info, version, df, events. Prints one JSON object.
import json
import sys
import time

import docker

suffix = sys.argv[1]
client = docker.from_env(timeout=60)
out = {}
info = client.info()
out['info'] = {k: info.get(k) for k in ('Containers', 'Images', 'Driver', 'OperatingSystem', 'NCPU', 'MemTotal', 'CgroupVersion', 'SecurityOptions', 'ServerVersion')}
ver = client.version()
out['version'] = {k: ver.get(k) for k in ('ApiVersion', 'MinAPIVersion', 'Os', 'Arch', 'Version')}
out['ping'] = client.ping()

start = time.time()
c = client.containers.run('busybox', ['true'], name=f't2ev-{suffix}', detach=True)
c.wait(timeout=60)
c.remove()
until = time.time() + 1
time.sleep(1.1)
evs = list(client.events(since=start - 1, until=until, decode=True, filters={'container': f't2ev-{suffix}'}))
out['events'] = [e.get('Action') for e in evs if e.get('Type') == 'container']
out['event_name'] = sorted({e.get('Actor', {}).get('Attributes', {}).get('name') for e in evs})

df = client.df()
out['df'] = {'keys': sorted(df.keys()), 'images': len(df.get('Images') or []), 'layers_size_type': type(df.get('LayersSize')).__name__}
print(json.dumps(out))
