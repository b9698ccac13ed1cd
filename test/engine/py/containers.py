# docker-py against a tug daemon: container life, exec, attach, archives,
# stats, top, prune and low-level create with host_config. Prints one JSON
# object; the node test asserts on it. DOCKER_HOST points at the daemon.
import io
import json
import sys
import tarfile
import time

import docker

suffix = sys.argv[1]
client = docker.from_env(timeout=60)
api = client.api
out = {}


def name(n):
    return f't2{n}-{suffix}'


# containers.run, not detached: returns stdout bytes; a non-zero exit raises.
out['run_fg'] = client.containers.run('busybox', ['sh', '-c', 'echo to-out; echo to-err >&2'], name=name('fg'), remove=True).decode()
try:
    client.containers.run('busybox', ['sh', '-c', 'echo boom >&2; exit 3'], name=name('fail'), remove=True)
    out['run_fail'] = None
except docker.errors.ContainerError as e:
    out['run_fail'] = {'exit_status': e.exit_status, 'stderr': (e.stderr or b'').decode()}

# detached run, wait() for the status, logs split by stream, remove.
c = client.containers.run('busybox', ['sh', '-c', 'echo o1; echo e1 >&2; exit 7'], name=name('det'), detach=True)
out['wait'] = c.wait(timeout=60)
out['logs_out'] = c.logs(stdout=True, stderr=False).decode()
out['logs_err'] = c.logs(stdout=False, stderr=True).decode()
out['attach_logs'] = c.attach(stream=False, logs=True).decode()
out['attach_logs_stdout'] = c.attach(stream=False, logs=True, stderr=False).decode()
c.reload()
out['det_status'] = c.status
c.remove()
out['det_gone'] = name('det') not in [x.name for x in client.containers.list(all=True)]

# a long-running one for exec, attach, archives, stats, top.
svc = client.containers.run('busybox', ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.2; done'], name=name('svc'), detach=True)
r = svc.exec_run(['sh', '-c', 'echo eo; echo ee >&2; exit 4'])
out['exec'] = {'exit_code': r.exit_code, 'output': r.output.decode()}
r = svc.exec_run(['sh', '-c', 'echo eo; echo ee >&2'], demux=True)
out['exec_demux'] = {'exit_code': r.exit_code, 'stdout': (r.output[0] or b'').decode(), 'stderr': (r.output[1] or b'').decode()}

# put_archive / get_archive
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w') as tf:
    data = b'hello archive\n'
    ti = tarfile.TarInfo('greeting.txt')
    ti.size = len(data)
    tf.addfile(ti, io.BytesIO(data))
out['put_archive'] = svc.put_archive('/tmp', buf.getvalue())
out['cat_put'] = svc.exec_run(['cat', '/tmp/greeting.txt']).output.decode()
stream, stat = svc.get_archive('/tmp/greeting.txt')
raw = b''.join(stream)
with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
    member = tf.getmembers()[0]
    out['get_archive'] = {'name': member.name, 'stat_name': stat['name'], 'size': stat['size'], 'content': tf.extractfile(member).read().decode()}

# docker diff: the file put_archive added, and none of runc's mount stubs
out['diff'] = svc.diff()

# stats(stream=False) and top
st = svc.stats(stream=False)
out['stats'] = {'has_memory': 'usage' in st.get('memory_stats', {}), 'cpu_total': st.get('cpu_stats', {}).get('cpu_usage', {}).get('total_usage', 0), 'pids': st.get('pids_stats', {}).get('current', 0)}
top = svc.top()
out['top'] = {'titles': top['Titles'], 'cmds': [p[-1] for p in top['Processes']]}

# attach socket: a container with stdin open echoes what we send.
cat = api.create_container('busybox', ['cat'], stdin_open=True, name=name('cat'))
cat_id = cat['Id']
sock = api.attach_socket(cat_id, params={'stdin': 1, 'stdout': 1, 'stream': 1})
api.start(cat_id)
raw_sock = sock._sock
raw_sock.sendall(b'ping-through-attach\n')
got = b''
deadline = time.time() + 30
raw_sock.settimeout(30)
while b'ping-through-attach' not in got and time.time() < deadline:
    chunk = raw_sock.recv(4096)
    if not chunk:
        break
    got += chunk
out['attach'] = got.decode(errors='replace')
raw_sock.close()
api.kill(cat_id)
api.remove_container(cat_id, force=True)

svc.stop(timeout=5)
svc.reload()
out['svc_after_stop'] = {'status': svc.status, 'exit': svc.attrs['State']['ExitCode']}

# low-level create with host_config
hc = api.create_host_config(port_bindings={80: ('127.0.0.1', None)}, binds={'/tmp': {'bind': '/hosttmp', 'mode': 'ro'}}, mem_limit='64m', restart_policy={'Name': 'on-failure', 'MaximumRetryCount': 3})
lc = api.create_container('busybox', ['sleep', '30'], ports=[80], host_config=hc, name=name('hc'))
info = api.inspect_container(lc['Id'])
out['host_config'] = {
    'memory': info['HostConfig']['Memory'],
    'restart': info['HostConfig']['RestartPolicy'],
    'binds': info['HostConfig']['Binds'],
    'ports': info['HostConfig']['PortBindings'],
}
api.start(lc['Id'])
info = api.inspect_container(lc['Id'])
out['host_port'] = (info['NetworkSettings']['Ports'].get('80/tcp') or [{}])[0].get('HostPort')
out['mounts'] = [m['Destination'] for m in info['Mounts']]
api.remove_container(lc['Id'], force=True)

# containers.prune removes stopped ones only
pr = client.containers.prune()
out['prune_deleted'] = pr.get('ContainersDeleted') or []
out['svc_id'] = svc.id
out['after_prune'] = sorted(x.name for x in client.containers.list(all=True))
print(json.dumps(out))
