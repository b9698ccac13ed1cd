# docker-py's own host_config options against a tug daemon, as its integration
# suite sets them: mem_swappiness, isolation, cpu_rt_*, device_cgroup_rules,
# uts_mode, cgroupns. Prints one JSON object.
import json
import sys

import docker

suffix = sys.argv[1]
api = docker.from_env(timeout=60).api
out = {}
made = []


def create(name, cmd, **hc):
    c = api.create_container('busybox', cmd, name=f'{name}-{suffix}', host_config=api.create_host_config(**hc))
    made.append(c['Id'])
    return c['Id']


def err(fn):
    try:
        fn()
        return None
    except docker.errors.APIError as e:
        return [e.status_code, e.explanation]


try:
    cid = create('swap', ['cat', '/sys/fs/cgroup/memory/memory.swappiness'], mem_swappiness=40)
    api.start(cid)
    api.wait(cid)
    out['swappiness'] = {'inspect': api.inspect_container(cid)['HostConfig'].get('MemorySwappiness'), 'cgroup': api.logs(cid).decode().strip()}
    plain = create('plain', ['true'])
    hc = api.inspect_container(plain)['HostConfig']
    out['defaults'] = {k: hc.get(k, 'absent') for k in ('MemorySwappiness', 'UTSMode', 'CgroupnsMode', 'Isolation', 'DeviceCgroupRules', 'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'Links', 'VolumesFrom')}
    out['isolation'] = api.inspect_container(create('iso', ['echo'], isolation='default'))['HostConfig'].get('Isolation')
    out['isolation_bad'] = err(lambda: create('isobad', ['echo'], isolation='hyperv'))
    rt = create('rt', ['true'], cpu_rt_period=1000, cpu_rt_runtime=500)
    hc = api.inspect_container(rt)['HostConfig']
    out['rt'] = [hc.get('CpuRealtimePeriod'), hc.get('CpuRealtimeRuntime')]
    # The daemon's cgroup has no real-time budget to hand out, so runc's write fails, as under dockerd.
    out['rt_start'] = err(lambda: api.start(rt))
    st = api.inspect_container(rt)['State']
    out['rt_state'] = [st['Status'], st['ExitCode']]
    out['rt_bad'] = err(lambda: create('rtbad', ['true'], cpu_rt_period=500, cpu_rt_runtime=1000))
    out['swappiness_bad'] = err(lambda: create('swapbad', ['true'], mem_swappiness=101))
    out['rule'] = api.inspect_container(create('rule', ['true'], device_cgroup_rules=['c 7:128 rwm']))['HostConfig'].get('DeviceCgroupRules')
    out['rule_bad'] = err(lambda: create('rulebad', ['true'], device_cgroup_rules=['x 1:2 r']))
    out['uts'] = api.inspect_container(create('uts', ['echo'], uts_mode='host'))['HostConfig'].get('UTSMode')
    out['cgroupns'] = api.inspect_container(create('cgns', ['true'], cgroupns='private'))['HostConfig'].get('CgroupnsMode')
    out['names_left'] = sorted(c['Names'][0] for c in api.containers(all=True) if suffix in c['Names'][0] and 'bad' in c['Names'][0])
finally:
    for c in made:
        api.remove_container(c, force=True)
print(json.dumps(out))
