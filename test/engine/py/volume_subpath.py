# docker-py against a tug daemon: volume mounts with VolumeOptions.Subpath
# (API 1.45), as docker-py's test_create_with_subpath_volume_mount uses them:
# the directory mounted, shown in inspect, refused when it leaves the volume
# (by its spelling at create, by a symlink at start), and docker cp through
# it. Prints one JSON object; the node test asserts on it. argv: suffix.
import io
import json
import sys
import tarfile

import docker
from docker.types import Mount

suffix = sys.argv[1]
client = docker.from_env(timeout=60)
api = client.api
out = {}
vol = f'subpath-{suffix}'
made = []


def api_error(fn):
    try:
        fn()
        return None
    except docker.errors.APIError as e:
        return {'status': e.status_code, 'explanation': e.explanation}


def subpath_mount(subpath, read_only=False):
    # docker.types.Mount takes subpath= only in newer SDKs; the field is the same.
    m = Mount('/mnt', vol, type='volume', read_only=read_only)
    m['VolumeOptions'] = {'Subpath': subpath}
    return m


def run_with(subpath, cmd, read_only=True):
    c = client.containers.create('busybox', cmd, mounts=[subpath_mount(subpath, read_only)])
    made.append(c)
    c.start()
    c.wait()
    return c, c.logs().decode().strip()


client.volumes.create(vol)
try:
    setup = client.containers.run('busybox', ['sh', '-c', 'mkdir -p /v/sub/dir && echo hello > /v/sub/dir/f.txt && echo top > /v/top.txt'
                                             ' && ln -s /sub /v/abs-link && ln -s /etc /v/host-etc'],
                                  volumes={vol: {'bind': '/v'}}, remove=True)
    c, out['listing'] = run_with('sub/dir', ['sh', '-c', 'ls /mnt; cat /mnt/f.txt'])
    info = api.inspect_container(c.id)
    out['host_config_mount'] = info['HostConfig']['Mounts']
    out['mount_point'] = {k: info['Mounts'][0][k] for k in ('Type', 'Name', 'Destination', 'RW')}
    # docker cp from the stopped container reads through the subpath.
    stream, _ = c.get_archive('/mnt/f.txt')
    with tarfile.open(fileobj=io.BytesIO(b''.join(stream))) as tf:
        out['cp_get'] = tf.extractfile('f.txt').read().decode()
    # A symlink in the volume is followed inside it: /sub is the volume's sub.
    _, out['abs_link'] = run_with('abs-link/dir', ['cat', '/mnt/f.txt'])
    # ... so /etc is the volume's (missing) etc, never the host's.
    bad = client.containers.create('busybox', ['ls', '/mnt'], mounts=[subpath_mount('host-etc')])
    made.append(bad)
    out['host_etc'] = api_error(bad.start)
    missing = client.containers.create('busybox', ['ls', '/mnt'], mounts=[subpath_mount('nope')])
    made.append(missing)
    out['missing'] = api_error(missing.start)
    out['dot_dot'] = api_error(lambda: client.containers.create('busybox', 'true', mounts=[subpath_mount('sub/../../x')]))
    out['absolute'] = api_error(lambda: client.containers.create('busybox', 'true', mounts=[subpath_mount('/sub')]))
finally:
    for c in made:
        c.remove(force=True)
    client.volumes.get(vol).remove()
print(json.dumps(out))
