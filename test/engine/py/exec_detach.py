# docker-py against a tug daemon: detaching from an exec with its detach keys
# (the default ctrl-p ctrl-q, keys given to exec_create, keys from the client's
# config file, which docker-py sends as `detachKeys`) closes the client's
# connection at once while the exec's process goes on; bad keys are refused
# at create. Prints one JSON object; the node test asserts on it. argv: suffix.
import json
import socket
import sys
import time

import docker

suffix = sys.argv[1]
client = docker.from_env(timeout=60)
api = client.api
out = {}


def ctrl(ch):
    return bytes([ord(ch) - ord('a') + 1])


def detach_with(keys, sent, config_keys=None):
    """Starts a tty `cat` exec, types `sent`, and says what the connection did."""
    if config_keys is not None:
        api._general_configs['detachKeys'] = config_keys
    try:
        exec_id = api.exec_create(cid, 'cat', stdin=True, tty=True, stdout=True, detach_keys=keys)['Id']
    finally:
        api._general_configs.pop('detachKeys', None)
    sock = api.exec_start(exec_id, tty=True, socket=True)
    raw = sock._sock
    raw.settimeout(20)
    raw.sendall(b'hello\n')
    echoed = b''
    while b'hello\r\n' not in echoed:
        chunk = raw.recv(4096)
        if not chunk:
            break
        echoed += chunk
    for b in sent:
        raw.sendall(b)
        time.sleep(0.2)
    # What cat still echoes may come first; then the connection must end.
    closed = False
    try:
        while raw.recv(4096):
            pass
        closed = True
    except socket.timeout:
        pass
    sock.close()
    info = api.exec_inspect(exec_id)
    return {'closed': closed, 'echoed': b'hello' in echoed, 'still_running': info['Running'], 'detach_keys': info['DetachKeys']}


c = client.containers.run('busybox', 'sleep 600', detach=True, name=f'execdetach-{suffix}')
cid = c.id
try:
    out['default'] = detach_with(None, [ctrl('p'), ctrl('q')])
    out['given'] = detach_with('ctrl-x,y', [ctrl('x'), b'y'])
    out['config_file'] = detach_with(None, [ctrl('p')], config_keys='ctrl-p')
    # A key that only starts the sequence is passed on: the exec still answers.
    out['partial_passes'] = detach_with('ctrl-x,y', [ctrl('x'), b'z', ctrl('x'), b'y'])
    try:
        api.exec_create(cid, 'cat', stdin=True, detach_keys='ctrl-xx')
        out['bad_keys'] = None
    except docker.errors.APIError as e:
        out['bad_keys'] = {'status': e.status_code, 'explanation': e.explanation}
    c.reload()
    out['container_running'] = c.status == 'running'
finally:
    c.remove(force=True)
print(json.dumps(out))
