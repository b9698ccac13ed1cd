# What docker-py's suite asks that tug answers as a dockerd node outside any
# swarm does: leave_swarm(force=True) goes through (503 is accepted), and
# HostConfig.VolumeDriver is kept as given. Prints one JSON object.
import json
import docker

client = docker.from_env(version='auto')
out = {'left': client.api.leave_swarm(force=True)}
try:
    client.api.leave_swarm(force=False)
    out['leave_unforced'] = 'ok'
except docker.errors.APIError as e:
    out['leave_unforced'] = [e.status_code, str(e.explanation)]
c = client.containers.create('busybox', 'true', volume_driver='foo')
try:
    out['volume_driver'] = c.attrs['HostConfig']['VolumeDriver']
finally:
    c.remove(force=True)
print(json.dumps(out))
