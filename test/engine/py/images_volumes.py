# docker-py against a tug daemon: images (list/get/tag/save/load/import/remove)
# and volumes (create/list/get/remove/prune). Prints one JSON object.
import io
import json
import sys
import tarfile

import docker

suffix = sys.argv[1]
client = docker.from_env(timeout=120)
out = {}

bb = client.images.get('busybox')
out['busybox'] = {'id': bb.id, 'tags': bb.tags}
repo = f't2img-{suffix}'
out['tag'] = bb.tag(repo, 'v1')
out['tagged_tags'] = sorted(client.images.get(f'{repo}:v1').tags)
out['list_has_tag'] = any(f'{repo}:v1' in i.tags for i in client.images.list())
out['list_filtered'] = [t for i in client.images.list(name=repo) for t in i.tags]

# save -> bytes of a docker-archive; load it back under the same id
data = b''.join(client.images.get(f'{repo}:v1').save(named=f'{repo}:v1'))
with tarfile.open(fileobj=io.BytesIO(data)) as tf:
    names = tf.getnames()
out['save_has_manifest'] = 'manifest.json' in names
client.images.remove(f'{repo}:v1')
out['after_remove'] = any(f'{repo}:v1' in i.tags for i in client.images.list())
try:
    client.images.get(f'{repo}:v1')
    out['get_removed'] = 'found'
except docker.errors.ImageNotFound as e:
    out['get_removed'] = e.status_code
loaded = client.images.load(data)
out['loaded'] = [{'id': i.id, 'tags': i.tags} for i in loaded]

# import_image from a tarball of a one-file rootfs
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w') as tf:
    content = b'imported\n'
    ti = tarfile.TarInfo('hello.txt')
    ti.size = len(content)
    tf.addfile(ti, io.BytesIO(content))
res = client.api.import_image(src=buf.getvalue(), repository=f't2imp-{suffix}', tag='latest')
out['import_status'] = str(res)[:300]
imp = client.images.get(f't2imp-{suffix}:latest')
out['imported_tags'] = imp.tags
out['imported_layers'] = len(imp.attrs['RootFS']['Layers'])
client.images.remove(f't2imp-{suffix}:latest')
client.images.remove(f'{repo}:v1')

# volumes
v = client.volumes.create(name=f't2vol-{suffix}', labels={'t2': suffix})
out['vol_create'] = {'name': v.name, 'driver': v.attrs['Driver'], 'mountpoint_set': bool(v.attrs['Mountpoint'])}
out['vol_list'] = [x.name for x in client.volumes.list(filters={'label': f't2={suffix}'})]
out['vol_get'] = client.volumes.get(f't2vol-{suffix}').attrs['Labels']
# a volume in use cannot be removed; a container writes into it first
c = client.containers.run('busybox', ['sh', '-c', 'echo data > /v/f'], volumes={f't2vol-{suffix}': {'bind': '/v', 'mode': 'rw'}}, detach=True)
c.wait(timeout=60)
try:
    client.volumes.get(f't2vol-{suffix}').remove()
    out['vol_in_use_remove'] = 'removed'
except docker.errors.APIError as e:
    out['vol_in_use_remove'] = e.status_code
out['vol_content'] = client.containers.run('busybox', ['cat', '/v/f'], volumes={f't2vol-{suffix}': {'bind': '/v', 'mode': 'ro'}}, remove=True).decode()
c.remove()
client.volumes.get(f't2vol-{suffix}').remove()
try:
    client.volumes.get(f't2vol-{suffix}')
    out['vol_after_remove'] = 'found'
except docker.errors.NotFound as e:
    out['vol_after_remove'] = e.status_code
client.volumes.create(name=f't2unused-{suffix}')
pr = client.volumes.prune(filters={'all': 'true'})
out['vol_prune'] = pr.get('VolumesDeleted') or []
out['vol_left'] = [x.name for x in client.volumes.list()]
print(json.dumps(out))
