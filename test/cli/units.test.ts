import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ago, apiTimestamp, bytesSize, ellipsis, goTimeString, humanDuration, humanSize, parseGoDuration, ramInBytes, rfc3339NanoFixed } from '../../src/cli/render/units.js';
import { parsePortSpec, parseMount, parseRestart } from '../../src/cli/commands/container-config.js';
import { displayPorts } from '../../src/cli/commands/container-ps.js';
import { splitRepoTag } from '../../src/cli/commands/images.js';
import { statsRow } from '../../src/cli/commands/container-stats.js';

test('human durations match go-units', () => {
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1000), '1 second');
  assert.equal(humanDuration(3000), '3 seconds');
  assert.equal(humanDuration(61_000), 'About a minute');
  assert.equal(humanDuration(5 * 60_000), '5 minutes');
  assert.equal(humanDuration(3_600_000), 'About an hour');
  assert.equal(humanDuration(5 * 3_600_000), '5 hours');
  assert.equal(humanDuration(3 * 24 * 3_600_000), '3 days');
  assert.equal(humanDuration(21 * 24 * 3_600_000), '3 weeks');
  assert.equal(humanDuration(90 * 24 * 3_600_000), '3 months');
  assert.equal(humanDuration(3 * 365 * 24 * 3_600_000), '3 years');
  assert.equal(ago(1000, 1000_000 + 120_000), '2 minutes ago');
});

test('sizes match go-units (decimal for images, binary for memory)', () => {
  assert.equal(humanSize(1_984_000, 3), '1.98MB');
  assert.equal(humanSize(1_984_000), '1.984MB');
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(4096), '4.096kB');
  assert.equal(humanSize(1e9, 3), '1GB');
  assert.equal(bytesSize(316 * 1024), '316KiB');
  assert.equal(bytesSize(1.5 * 1024 ** 3), '1.5GiB');
  assert.equal(ramInBytes('64m'), 64 * 1024 * 1024);
  assert.equal(ramInBytes('1g'), 1024 ** 3);
  assert.equal(ramInBytes('100'), 100);
  assert.throws(() => ramInBytes('lots'), /invalid size/);
});

test('time values: Go durations, unix and RFC3339 timestamps', () => {
  assert.equal(parseGoDuration('1h30m'), 90 * 60_000);
  assert.equal(parseGoDuration('300ms'), 300);
  assert.equal(parseGoDuration('abc'), undefined);
  assert.equal(apiTimestamp('10m', 1_000_000_000), '999400.000000000');
  assert.equal(apiTimestamp('1700000000'), '1700000000.000000000');
  assert.equal(apiTimestamp('1700000000.5'), '1700000000.500000000');
  assert.equal(apiTimestamp('2023-11-14T22:13:20Z'), '1700000000.000000000');
  assert.throws(() => apiTimestamp('yesterday'), /failed to parse/);
  assert.equal(rfc3339NanoFixed(1700000000123456789n), '2023-11-14T22:13:20.123456789Z');
  assert.match(goTimeString(1700000000), /^2023-11-1\d \d\d:\d\d:20 [+-]\d{4} \S+$/);
});

test('ellipsis cuts to the display width', () => {
  assert.equal(ellipsis('sleep 100', 20), 'sleep 100');
  assert.equal(ellipsis('sh -c while true; do sleep 1; done', 20), 'sh -c while true; d…');
});

test('port specs, mounts and restart policies parse like docker', () => {
  assert.deepEqual(parsePortSpec('80'), [{ port: '80/tcp', hostIp: '', hostPort: '' }]);
  assert.deepEqual(parsePortSpec('127.0.0.1:8080:80/udp'), [{ port: '80/udp', hostIp: '127.0.0.1', hostPort: '8080' }]);
  assert.deepEqual(parsePortSpec('[::1]:8080:80'), [{ port: '80/tcp', hostIp: '::1', hostPort: '8080' }]);
  assert.deepEqual(
    parsePortSpec('8000-8001:80-81').map((p) => `${p.hostPort}->${p.port}`),
    ['8000->80/tcp', '8001->81/tcp'],
  );
  assert.throws(() => parsePortSpec('80/icmp'), /invalid proto/);
  assert.deepEqual(parseMount('type=bind,source=/a,target=/b,readonly'), { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true });
  assert.throws(() => parseMount('type=bind,source=/a'), /target is required/);
  assert.deepEqual(parseRestart('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.throws(() => parseRestart('sometimes'), /invalid restart policy/);
});

test('ps port column and image references', () => {
  assert.equal(
    displayPorts([
      { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { PrivatePort: 443, Type: 'tcp' },
    ]),
    '0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 443/tcp',
  );
  assert.deepEqual(splitRepoTag('localhost:5000/a/b:v1'), ['localhost:5000/a/b', 'v1']);
  assert.deepEqual(splitRepoTag('localhost:5000/a/b'), ['localhost:5000/a/b', '']);
});

test('stats numbers are computed as docker does', () => {
  const row = statsRow('c1', {
    id: 'f'.repeat(64),
    name: '/web',
    cpu_stats: { cpu_usage: { total_usage: 300 }, system_cpu_usage: 2000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 100 }, system_cpu_usage: 1000 },
    memory_stats: { usage: 2 * 1024 * 1024, limit: 8 * 1024 * 1024, stats: { inactive_file: 1024 * 1024 } },
    networks: { eth0: { rx_bytes: 1500, tx_bytes: 500 } },
    blkio_stats: { io_service_bytes_recursive: [{ op: 'read', value: 4096 }, { op: 'write', value: 0 }] },
    pids_stats: { current: 3 },
  });
  assert.deepEqual(row, {
    ID: 'ffffffffffff',
    Container: 'c1',
    Name: 'web',
    CPUPerc: '40.00%',
    MemUsage: '1MiB / 8MiB',
    MemPerc: '12.50%',
    NetIO: '1.5kB / 500B',
    BlockIO: '4.1kB / 0B',
    PIDs: '3',
  });
});
