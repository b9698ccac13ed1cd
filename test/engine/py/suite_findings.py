# docker-py against a tug daemon: the Docker behaviours docker-py's own
# integration suite found missing (kill waits for a SIGKILL'd container to
# die, cp through a stopped container's volume and bind mounts, commit's
# image fields, Env entries without '=', LogConfig kept and checked). Prints
# one JSON object; the node test asserts on it. argv: suffix, a scratch dir.
import io
import json
import os
import sys
import tarfile

import docker

suffix, scratch = sys.argv[1], sys.argv[2]
client = docker.from_env(timeout=60)
api = client.api
out = {}


def name(n):
    return f'f11{n}-{suffix}'


def api_error(fn):
    try:
        fn()
        return None
    except docker.errors.APIError as e:
        return {'status': e.status_code, 'explanation': e.explanation}


def tar_of(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as tf:
        for n, data in files.items():
            ti = tarfile.TarInfo(n)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def untar(stream):
    with tarfile.open(fileobj=io.BytesIO(b''.join(stream))) as tf:
        return {m.name: (tf.extractfile(m).read().decode() if m.isfile() else None) for m in tf.getmembers()}


# kill (SIGKILL) returns once the container is dead: inspect and list right after see it stopped.
states = []
for i in range(5):
    c = api.create_container('busybox', ['sleep', '9999'], name=name(f'kill{i}'))
    api.start(c['Id'])
    api.kill(c['Id'])
    st = api.inspect_container(c['Id'])['State']
    states.append({'running': st['Running'], 'exit': st['ExitCode']})
out['kill_states'] = states
out['kill_running_listed'] = [x['Names'][0] for x in api.containers(filters={'name': name('kill')})]
for i in range(5):
    api.remove_container(name(f'kill{i}'))

# docker cp through volume and bind mounts of a stopped container (and one never started).
bind_dir = os.path.join(scratch, 'bind')
os.makedirs(bind_dir)
with open(os.path.join(bind_dir, 'host.txt'), 'w') as f:
    f.write('from host\n')
c = api.create_container('busybox', ['sh', '-c', 'echo inside > /vol1/in.txt'], name=name('cp'), volumes=['/vol1', '/bnd'],
                         host_config=api.create_host_config(binds={bind_dir: {'bind': '/bnd', 'mode': 'rw'}}))
cid = c['Id']
out['cp_put_created'] = api.put_archive(cid, '/vol1', tar_of({'put.txt': b'put before start\n'}))
api.start(cid)
api.wait(cid)
out['cp_get_vol_stopped'] = untar(api.get_archive(cid, '/vol1')[0])
out['cp_get_file_stopped'] = untar(api.get_archive(cid, '/vol1/in.txt')[0])
out['cp_stat_bind_stopped'] = api.get_archive(cid, '/bnd/host.txt')[1]['name']
out['cp_put_bind_stopped'] = api.put_archive(cid, '/bnd/', tar_of({'into-bind.txt': b'x\n'}))
out['cp_bind_host_files'] = sorted(os.listdir(bind_dir))
api.remove_container(cid, v=True)
ro_dir = os.path.join(scratch, 'ro')
os.makedirs(ro_dir)
c = api.create_container('busybox', ['true'], name=name('cpro'), volumes=['/ro'],
                         host_config=api.create_host_config(binds={ro_dir: {'bind': '/ro', 'mode': 'ro'}}))
out['cp_put_readonly'] = api_error(lambda: api.put_archive(c['Id'], '/ro', tar_of({'no.txt': b'no\n'})))
out['cp_readonly_host_files'] = sorted(os.listdir(ro_dir))
api.remove_container(c['Id'])

# commit: the Id, and the image's Container, ContainerConfig and Parent as dockerd gives them.
c = api.create_container('busybox', ['touch', '/test'], name=name('commit'))
api.start(c['Id'])
api.wait(c['Id'])
res = api.commit(c['Id'])
img = api.inspect_image(res['Id'])
out['commit'] = {
    'id': res['Id'],
    'container': img['Container'],
    'container_config_image': img['ContainerConfig'].get('Image'),
    'parent': img['Parent'],
    'busybox': api.inspect_image('busybox')['Id'],
    'container_id': c['Id'],
}
api.remove_container(c['Id'])
api.remove_image(res['Id'])

# Env: 'FOO' without '=' is kept in Config.Env as sent and unsets FOO for the process (PATH stays the image's).
c = api.create_container('busybox', ['env'], name=name('env'), environment=['FOO', 'BAR=1'])
api.start(c['Id'])
api.wait(c['Id'])
out['env_config'] = api.inspect_container(c['Id'])['Config']['Env']
out['env_process'] = sorted(l for l in api.logs(c['Id']).decode().splitlines() if not l.startswith('HOSTNAME='))
c2 = api.create_container('busybox', ['sleep', '60'], name=name('envx'), environment=['KEEP=1', 'DROP=1'])
api.start(c2['Id'])
ex = api.exec_create(c2['Id'], ['env'], environment=['DROP'])
out['exec_env'] = sorted(l for l in api.exec_start(ex['Id']).decode().splitlines() if l.startswith(('KEEP', 'DROP')))
# an exec created with tty=True runs on a terminal (\r\n, stderr merged) even when
# exec_start leaves Tty false: then its output comes in stdout frames.
ex = api.exec_create(c2['Id'], ['sh', '-c', 'echo out; echo err >&2'], tty=True)
demuxed = api.exec_start(ex['Id'], demux=True)
out['exec_tty_demux'] = [x.decode() if x is not None else None for x in demuxed]
ex = api.exec_create(c2['Id'], ['sh', '-c', 'echo out; echo err >&2'], tty=True)
out['exec_tty_raw'] = api.exec_start(ex['Id'], tty=True).decode()
api.remove_container(c2['Id'], force=True)
api.remove_container(c['Id'])


# LogConfig: kept as given, the default driver for '', an unknown driver or option refused.
def log_config_of(**kw):
    c = api.create_container('busybox', ['true'], host_config=api.create_host_config(log_config=docker.types.LogConfig(**kw)))
    try:
        return api.inspect_container(c['Id'])['HostConfig']['LogConfig']
    finally:
        api.remove_container(c['Id'])


out['log_json_opts'] = log_config_of(type='json-file', config={'max-file': '100', 'max-size': '10m'})
out['log_default_type'] = log_config_of(type='', config={'max-file': '100'})
out['log_no_config'] = log_config_of(type='json-file', config=None)
out['log_unknown_driver'] = api_error(lambda: log_config_of(type='asdf', config={}))
out['log_unknown_opt'] = api_error(lambda: log_config_of(type='json-file', config={'no-such-opt': '1'}))
# container prune counts the space the removed containers wrote.
# Filtered by a label of its own: run against a shared daemon, it must not prune others' containers.
c = api.create_container('busybox', ['sh', '-c', 'echo hello > /data.txt'], name=name('prune'), labels={'f11-prune': suffix})
api.start(c['Id'])
api.wait(c['Id'])
res = api.prune_containers(filters={'label': f'never-set-{suffix}'})
out['prune_other_label'] = res['ContainersDeleted']
res = api.prune_containers(filters={'label': f'f11-prune={suffix}'})
out['prune'] = {'deleted': c['Id'] in (res['ContainersDeleted'] or []), 'reclaimed': res['SpaceReclaimed']}

# a container between runs of its restart policy is not removed without force.
c = api.create_container('busybox', ['true'], name=name('always'), host_config=api.create_host_config(restart_policy={'Name': 'always'}))
api.start(c['Id'])
api.wait(c['Id'])
out['remove_restarting'] = api_error(lambda: api.remove_container(c['Id']))
api.remove_container(c['Id'], force=True)
out['left'] = sorted(x['Names'][0] for x in api.containers(all=True, filters={'name': f'f11'}) if x['Names'][0].endswith(suffix))
print(json.dumps(out))
