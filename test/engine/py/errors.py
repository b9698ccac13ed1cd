# docker-py against a tug daemon: the error types and HTTP statuses clients
# branch on. Prints one JSON object {case: {type, status, message}}.
import json
import sys

import docker

suffix = sys.argv[1]
client = docker.from_env(timeout=60)
api = client.api
out = {}


def record(case, fn):
    try:
        fn()
        out[case] = {'type': None, 'status': None, 'message': ''}
    except docker.errors.APIError as e:
        out[case] = {'type': type(e).__name__, 'status': e.status_code, 'message': str(e.explanation)}


record('unknown_image', lambda: client.containers.create(f'nosuchimage-{suffix}:v9'))
record('unknown_container', lambda: client.containers.get(f'nosuch-{suffix}'))
record('unknown_image_get', lambda: client.images.get(f'nosuchimage-{suffix}'))
record('unknown_volume', lambda: client.volumes.get(f'nosuchvol-{suffix}'))
name = f't2dup-{suffix}'
first = client.containers.create('busybox', ['true'], name=name)
record('name_conflict', lambda: client.containers.create('busybox', ['true'], name=name))
first.remove()
record('bad_name', lambda: client.containers.create('busybox', ['true'], name='bad/name!'))
record('bad_memory', lambda: api.create_container('busybox', ['true'], host_config=api.create_host_config(mem_limit='1k')))
record('bad_restart', lambda: api.create_container('busybox', ['true'], host_config={'RestartPolicy': {'Name': 'sometimes'}}))
print(json.dumps(out))
