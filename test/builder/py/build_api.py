# docker-py's build and load calls against a tug daemon (DOCKER_HOST): each
# case mirrors one of docker-py's own integration tests and prints what the
# TypeScript test asserts on, as one JSON object.
import io, json, os, sys, tarfile, tempfile
import docker

suffix = sys.argv[1]
api = docker.APIClient(base_url=os.environ['DOCKER_HOST'], version='auto', timeout=240)
client = docker.DockerClient(base_url=os.environ['DOCKER_HOST'], version='auto', timeout=240)
out = {}
images = []


def run(img, cmd):
    c = api.create_container(img, cmd)
    api.start(c)
    api.wait(c)
    logs = api.logs(c).decode()
    api.remove_container(c)
    return logs


def write(base, files):
    for rel, text in files.items():
        p = os.path.join(base, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, 'w') as f:
            f.write(text)


def tar_of(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as t:
        for rel, text in files.items():
            if rel.endswith('/'):
                info = tarfile.TarInfo(rel.rstrip('/'))
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                t.addfile(info)
                continue
            data = text.encode()
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


# A Dockerfile outside the context: docker-py sends it as .dockerfile.<random> with a
# .dockerignore that names it (test_build_out_of_context_dockerfile).
base = tempfile.mkdtemp()
write(base, {'file.txt': 'hello world', '.dockerignore': '.dockerignore\n'})
df_dir = tempfile.mkdtemp()
write(df_dir, {'Dockerfile': 'FROM busybox\nCOPY . /src\nWORKDIR /src\n'})
tag = f'ooc-{suffix}'
lines = list(api.build(path=base, dockerfile=os.path.join(df_dir, 'Dockerfile'), tag=tag, decode=True))
images.append(tag)
out['ooc_last'] = lines[-1]
out['ooc_ls'] = sorted(run(tag, 'ls -a').split())

# A step's stderr is in the stream, painted as Docker paints it; a failed RUN's exit code is
# errorDetail.code (test_build_stderr_data, test_build_with_network_mode).
script = io.BytesIO(b'FROM busybox\nRUN sh -c ">&2 echo \'Ancient Temple\'"\nRUN sh -c "echo out; >&2 echo err; exit 3"\n')
out['stderr'] = [c for c in api.build(fileobj=script, decode=True, nocache=True)]

# cache_from: only the named images serve as cache (test_build_with_cache_from).
script = io.BytesIO(b'FROM busybox\nENV FOO=bar\nRUN touch baz\nRUN touch bax\n')
b1, b2 = f'cf1-{suffix}', f'cf2-{suffix}'
list(api.build(fileobj=script, tag=b1))
images.append(b1)
hits = []
for source in ([b1], ['nosuchtag']):
    stream = api.build(fileobj=script, tag=b2, cache_from=source, decode=True)
    hits.append(sum('Using cache' in c.get('stream', '') for c in stream))
    api.remove_image(b2)
out['cache_from_hits'] = hits

# extra_hosts reach the RUN steps' /etc/hosts (test_build_with_extra_hosts).
tag = f'hosts-{suffix}'
script = io.BytesIO(b'FROM busybox\nRUN ping -c1 hello.world.test\nRUN cp /etc/hosts /hosts-file\n')
errs = [c for c in api.build(fileobj=script, tag=tag, extra_hosts={'hello.world.test': '127.0.0.1', 'extrahost.local.test': '127.0.0.2'}, decode=True) if 'errorDetail' in c]
images.append(tag)
out['hosts_errors'] = errs
out['hosts'] = run(tag, 'cat /hosts-file') if not errs else ''

# .dockerignore as docker-py's test_build_with_dockerignore writes it (client-side filtering too).
base = tempfile.mkdtemp()
write(base, {
    'Dockerfile': 'FROM busybox\nADD . /test\n',
    '.dockerignore': '\n'.join(['ignored', 'Dockerfile', '.dockerignore', ' ignored-with-spaces ',
                                '!ignored/subdir/excepted-file', '! ignored/subdir/excepted-with-spaces  ', '#*']),
    'not-ignored': 'x', '#file.txt': 'x', 'ignored-with-spaces': 'x', 'ignored/subdir/file': 'x',
    'ignored/subdir/excepted-file': 'x', 'ignored/subdir/excepted-with-spaces': 'x',
})
tag = f'ign-{suffix}'
list(api.build(path=base, tag=tag))
images.append(tag)
out['ignore_client'] = sorted(run(tag, 'find /test -type f').split('\n')[:-1])

# The same rules applied by the daemon alone, as tug build relies on (it sends the whole
# context; dockerd leaves this filtering to its clients): a ready-made context tar that still
# holds everything, with a name with spaces, '!' inside an ignored dir and '**/tmp'. What is
# left must be what Docker's client would have sent: no ignored dir left empty.
ctx = tar_of({
    'Dockerfile': 'FROM busybox\nCOPY . /test\n',
    '.dockerignore': '\n'.join(['ignored', 'Dockerfile', '.dockerignore', ' with space ', '!ignored/sub/kept file', '**/tmp']),
    'keep me': 'x', 'with space': 'x', 'ignored/sub/gone': 'x', 'ignored/sub/kept file': 'x',
    'a/tmp/': '', 'a/tmp/x': 'x', 'tmp/': '', 'b/': '',
})
tag = f'ign2-{suffix}'
errs = [c for c in api.build(fileobj=ctx, custom_context=True, tag=tag, decode=True) if 'errorDetail' in c]
images.append(tag)
out['ignore_server_errors'] = errs
out['ignore_server'] = sorted(run(tag, 'find /test').split('\n')[:-1]) if not errs else []

# images/load of a non-tar: a 200 with the error in the stream, dockerd's words (test_load_error).
try:
    client.images.load(b'abc')
    out['load_error'] = None
except docker.errors.ImageLoadError as e:
    out['load_error'] = str(e)
except docker.errors.APIError as e:
    out['load_error'] = f'APIError {e.status_code}: {e.explanation}'

# An empty Dockerfile is refused with an HTTP error before any stream (regression test 443).
try:
    list(api.build(fileobj=io.BytesIO(), tag='a/b/c'))
    out['empty_dockerfile'] = None
except docker.errors.APIError as e:
    out['empty_dockerfile'] = [e.status_code, e.explanation]

for img in images:
    try:
        api.remove_image(img, force=True)
    except docker.errors.APIError:
        pass
print(json.dumps(out))
