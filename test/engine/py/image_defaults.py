# docker-py against a tug daemon: an image's USER, CMD, ENTRYPOINT and the other
# Config fields apply to containers it makes (docker-py sends null, or "" for
# user='', for everything not given). Prints one JSON object for the node test.
# argv: suffix, the named-USER image, the numeric-USER image, the full image.
import json
import sys

import docker

suffix, named, numeric, full = sys.argv[1:5]
client = docker.from_env(timeout=60)
api = client.api
out = {}


def run(image, command=None, **kw):
    return client.containers.run(image, command, remove=True, **kw).decode()


out['uid_named'] = run(named, ['id', '-u'])
out['uid_named_empty_user'] = run(named, ['id', '-u'], user='')
out['uid_numeric'] = run(numeric, ['sh', '-c', 'echo $(id -u) $(id -g)'])
out['uid_override'] = run(named, ['id', '-u'], user='0')
out['default_cmd'] = run(full)
out['entrypoint_no_cmd'] = run(full, entrypoint='/bin/echo')
out['entrypoint_reset'] = run(full, ['echo', 'hi'], entrypoint='')
# entrypoint='' goes out as "Entrypoint": [] (shlex-split): dockerd then keeps the image's CMD, not its ENTRYPOINT.
e = client.containers.create(full, entrypoint='', name=f'pyempty-{suffix}')
cfg = api.inspect_container(e.id)['Config']
out['empty_entrypoint'] = {'Entrypoint': cfg['Entrypoint'], 'Cmd': cfg['Cmd']}
e.remove(v=True)

c = client.containers.create(full, environment={'SHARED': 'user'}, labels={'org.example.shared': 'user'},
                             ports={'7000/tcp': None}, volumes=['/extra'], name=f'pyfull-{suffix}')
out['config'] = api.inspect_container(c.id)['Config']
c.remove(v=True)

low = api.create_container(named, name=f'pylow-{suffix}')
out['low_level_user'] = api.inspect_container(low['Id'])['Config']['User']
api.remove_container(low['Id'])

print(json.dumps(out))
