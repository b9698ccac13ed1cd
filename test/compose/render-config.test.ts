import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, load } from './fixture.js';
import { renderConfig } from '../../src/compose/model/render-config.js';

test('renderConfig prints the normalised project as docker compose config does', async () => {
  const dir = await fixture({
    'compose.yaml': [
      'services:',
      '  web:',
      '    build: .',
      '    ports: ["8000:5000"]',
      '    environment: [B=2, A=1]',
      '    depends_on: [redis]',
      '    volumes: [".:/code", "data:/data"]',
      '    stop_grace_period: 1m30s',
      '    shm_size: 64m',
      '  redis:',
      '    image: redis:alpine',
      '    profiles: [cache, x]',
      '    healthcheck:',
      '      test: redis-cli ping',
      '      interval: 10s',
      '      retries: 3',
      'volumes:',
      '  data:',
      '',
    ].join('\n'),
  });
  const p = await load(dir, { profiles: ['cache'] });
  assert.equal(
    renderConfig(p),
    [
      'name: proj',
      'services:',
      '  redis:',
      '    profiles:',
      '      - cache',
      '      - x',
      '    healthcheck:',
      '      test:',
      '        - CMD-SHELL',
      '        - redis-cli ping',
      '      interval: 10s',
      '      retries: 3',
      '    image: redis:alpine',
      '    networks:',
      '      default: null',
      '  web:',
      '    build:',
      `      context: ${dir}`,
      '      dockerfile: Dockerfile',
      '    depends_on:',
      '      redis:',
      '        condition: service_started',
      '        required: true',
      '    environment:',
      '      A: "1"',
      '      B: "2"',
      '    networks:',
      '      default: null',
      '    ports:',
      '      - mode: ingress',
      '        target: 5000',
      '        published: "8000"',
      '        protocol: tcp',
      '    shm_size: "67108864"',
      '    stop_grace_period: 1m30s',
      '    volumes:',
      '      - type: bind',
      `        source: ${dir}`,
      '        target: /code',
      '        bind:',
      '          create_host_path: true',
      '      - type: volume',
      '        source: data',
      '        target: /data',
      '        volume: {}',
      'networks:',
      '  default:',
      '    name: proj_default',
      'volumes:',
      '  data:',
      '    name: proj_data',
      '',
    ].join('\n'),
  );
});

test('what renderConfig prints loads back to the same project', async () => {
  const dir = await fixture({
    'compose.yaml': [
      'name: round',
      'services:',
      '  app:',
      '    build:',
      '      context: ./app',
      '      args: {V: "1"}',
      '      target: prod',
      '    command: sh -c "echo hi"',
      '    entrypoint: []',
      '    environment: {A: "1", UNSET_HERE: null}',
      '    ports: ["127.0.0.1:8000-8001:80-81/udp", "9000"]',
      '    volumes:',
      '      - ./src:/src:ro',
      '      - /anon',
      '      - type: tmpfs',
      '        target: /t',
      '        tmpfs: {size: 1m}',
      '    networks:',
      '      front:',
      '        aliases: [a1]',
      '      back:',
      '    depends_on:',
      '      db: {condition: service_healthy, restart: true}',
      '    healthcheck: {disable: true}',
      '    ulimits: {nofile: {soft: 1, hard: 2}, nproc: 5}',
      '    deploy:',
      '      replicas: 2',
      '      resources: {limits: {memory: 1g, cpus: "1.5"}}',
      '      restart_policy: {condition: on-failure, delay: 2s}',
      '    logging: {driver: json-file, options: {max-size: 1m}}',
      '    secrets: [{source: s, target: t, mode: 0400}]',
      '    configs: [c]',
      '    extra_hosts: ["h:1.2.3.4"]',
      '    labels: [x=y]',
      '    mem_limit: 512m',
      '    restart: always',
      '  db:',
      '    image: postgres',
      '    healthcheck:',
      '      test: ["CMD", "pg_isready"]',
      '      start_period: 1s',
      'networks:',
      '  front: {driver: bridge, ipam: {config: [{subnet: 10.9.0.0/24}]}}',
      '  back: {internal: true, labels: {k: v}}',
      'volumes:',
      '  v: {external: true}',
      'secrets:',
      '  s: {file: ./s.txt}',
      'configs:',
      '  c: {content: hello}',
      '',
    ].join('\n'),
  });
  const first = await load(dir);
  const text = renderConfig(first);
  const again = await load(dir, { files: ['-'], stdin: text });
  assert.deepEqual(again.services, first.services);
  assert.deepEqual(again.networks, first.networks);
  assert.deepEqual(again.volumes, first.volumes);
  assert.deepEqual(again.secrets, first.secrets);
  assert.deepEqual(again.configs, first.configs);
  assert.equal(again.name, 'round');
  assert.equal(renderConfig(again), text);
});

test('renderConfig as JSON is the same document', async () => {
  const dir = await fixture({ 'compose.yaml': 'services:\n  web:\n    image: busybox\n    ports: ["80"]\n' });
  const p = await load(dir);
  const doc = JSON.parse(renderConfig(p, 'json')) as Record<string, any>;
  assert.equal(doc.name, 'proj');
  assert.deepEqual(doc.services.web, { image: 'busybox', networks: { default: null }, ports: [{ mode: 'ingress', target: 80, protocol: 'tcp' }] });
  assert.deepEqual(doc.networks, { default: { name: 'proj_default' } });
});
