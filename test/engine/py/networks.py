# docker-py's network API against a tug daemon: client.networks.create/get/
# list/prune, container attrs NetworkSettings.Networks, connect and disconnect
# with aliases, and the low-level API's errors. Prints one JSON object.
# argv: suffix, subnet (a /24 of the test's own).
import json
import sys

import docker
from docker.types import IPAMConfig, IPAMPool

suffix, subnet = sys.argv[1], sys.argv[2]
base = subnet.rsplit('.', 1)[0]
client = docker.from_env(timeout=60)
api = client.api
out = {'api': client.api.api_version}
made_c = []
made_n = []


def err(fn):
    try:
        fn()
        return None
    except docker.errors.APIError as e:
        return [e.status_code, e.explanation]


try:
    ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=subnet, gateway=f'{base}.1', iprange=f'{base}.32/27')])
    net = client.networks.create(f'pyn-{suffix}', driver='bridge', ipam=ipam, labels={'com.docker.compose.project': f'p{suffix}', 'com.docker.compose.network': 'default'}, check_duplicate=True)
    made_n.append(net.id)
    other = client.networks.create(f'pyo-{suffix}')
    made_n.append(other.id)
    got = client.networks.get(f'pyn-{suffix}')
    out['get'] = {'id': got.id == net.id, 'name': got.name, 'ipam': got.attrs['IPAM'], 'labels': got.attrs['Labels'], 'driver': got.attrs['Driver'], 'scope': got.attrs['Scope']}
    out['list_names'] = sorted(n.name for n in client.networks.list(names=[f'pyn-{suffix}', f'pyo-{suffix}']))
    out['list_label'] = [n.name for n in client.networks.list(filters={'label': f'com.docker.compose.project=p{suffix}'})]
    out['dup'] = err(lambda: client.networks.create(f'pyn-{suffix}', check_duplicate=True))
    out['overlap'] = err(lambda: client.networks.create(f'pyx-{suffix}', ipam=IPAMConfig(pool_configs=[IPAMPool(subnet=subnet)])))
    out['missing'] = err(lambda: client.networks.get(f'nosuch-{suffix}'))

    # A container created on the network with an alias and a static address, as compose does.
    c = api.create_container('busybox', ['sleep', '300'], name=f'pyc-{suffix}',
                             host_config=api.create_host_config(network_mode=f'pyn-{suffix}'),
                             networking_config=api.create_networking_config({f'pyn-{suffix}': api.create_endpoint_config(aliases=['svc'], ipv4_address=f'{base}.5')}))
    made_c.append(c['Id'])
    ctr = client.containers.get(c['Id'])
    ctr.start()
    ctr.reload()
    ep = ctr.attrs['NetworkSettings']['Networks'][f'pyn-{suffix}']
    out['ep'] = {k: ep[k] for k in ('IPAddress', 'IPPrefixLen', 'Gateway', 'IPAMConfig', 'Aliases', 'NetworkID')}
    out['ep']['short'] = ctr.id[:12]
    out['ep']['mac'] = ep['MacAddress']
    net.reload()
    out['members'] = [x.id for x in net.containers]
    # Aliases by API version: the short id up to 1.44, exactly what was asked for from 1.45 (DNSNames has it).
    for v in ('1.44', '1.45'):
        low = docker.APIClient(version=v, **docker.utils.kwargs_from_env())
        e = low.inspect_container(c['Id'])['NetworkSettings']['Networks'][f'pyn-{suffix}']
        out[f'aliases_{v}'] = e['Aliases']
        out[f'dnsnames_{v}'] = e.get('DNSNames')

    other.connect(ctr, aliases=['second'])
    ctr.reload()
    nets = ctr.attrs['NetworkSettings']['Networks']
    out['connected'] = sorted(nets)
    out['second_aliases'] = nets[f'pyo-{suffix}']['Aliases']
    out['second_ip_set'] = bool(nets[f'pyo-{suffix}']['IPAddress'])
    out['eth1'] = ctr.exec_run(['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1']).exit_code
    out['connect_again'] = err(lambda: other.connect(ctr))
    other.disconnect(ctr, force=True)
    ctr.reload()
    out['after_disconnect'] = sorted(ctr.attrs['NetworkSettings']['Networks'])
    out['rm_busy'] = err(lambda: net.remove())
    ctr.remove(force=True)
    made_c.remove(ctr.id)
    out['prune'] = sorted(client.networks.prune(filters={'label': f'com.docker.compose.project=p{suffix}'})['NetworksDeleted'] or [])
    other.remove()
    made_n.remove(other.id)
    out['left'] = [n.name for n in client.networks.list() if n.name.endswith(suffix)]
finally:
    for cid in made_c:
        try:
            api.remove_container(cid, force=True)
        except docker.errors.APIError:
            pass
    for nid in made_n:
        try:
            api.remove_network(nid)
        except docker.errors.APIError:
            pass
print(json.dumps(out))
