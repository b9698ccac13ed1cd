# docker-py's CommitTest shape: start a short-lived container and commit it at
# once with pause=True, so the commit meets a container that is exiting or has
# just exited. Prints one JSON object: how many commits succeeded and their errors.
import json
import sys
import docker

tag = sys.argv[1]
api = docker.APIClient(version='auto', **docker.utils.kwargs_from_env())
ok, errors = 0, []
for i in range(12):
    c = api.create_container('busybox', ['touch', '/test'])
    try:
        api.start(c)
        try:
            r = api.commit(c['Id'], repository=f'commit-exiting-{tag}', tag=str(i), pause=True)
            ok += 1 if r.get('Id', '').startswith('sha256:') else 0
        except docker.errors.APIError as e:
            errors.append(str(e.explanation))
    finally:
        api.remove_container(c, force=True)
for i in range(12):
    try:
        api.remove_image(f'commit-exiting-{tag}:{i}')
    except docker.errors.APIError:
        pass
print(json.dumps({'ok': ok, 'errors': errors}))
