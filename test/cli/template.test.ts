import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate } from '../../src/cli/render/template.js';
import { renderRows } from '../../src/cli/render/rows.js';
import { tabwrite } from '../../src/cli/render/tabwriter.js';

const data = {
  Id: 'abc',
  State: { Status: 'running', Pid: 42, Running: true },
  Config: { Env: ['A=1', 'B=2'], Labels: { 'com.x': 'y', a: 'b' }, Cmd: null },
  Mounts: [{ Source: '/s', Destination: '/d' }],
  Name: '/web<1>',
};

const run = (t: string, d: unknown = data): string => compileTemplate(t).execute(d);

test('fields, nested fields and Go value printing', () => {
  assert.equal(run('{{.State.Status}} {{.State.Pid}} {{.State.Running}}'), 'running 42 true');
  assert.equal(run('{{.Config.Env}}'), '[A=1 B=2]');
  assert.equal(run('{{.Config.Labels}}'), 'map[a:b com.x:y]');
  assert.equal(run('{{.Config.Cmd}}'), '<nil>');
  assert.equal(run('{{.Nope}}'), '<no value>');
});

test('json sorts keys and escapes HTML like Go', () => {
  assert.equal(run('{{json .State}}'), '{"Pid":42,"Running":true,"Status":"running"}');
  assert.equal(run('{{json .Name}}'), '"/web\\u003c1\\u003e"');
});

test('functions: index, join, len, upper, printf, pipelines', () => {
  assert.equal(run('{{index .Config.Labels "com.x"}}'), 'y');
  assert.equal(run('{{join .Config.Env ","}}'), 'A=1,B=2');
  assert.equal(run('{{len .Mounts}}'), '1');
  assert.equal(run('{{.State.Status | upper}}'), 'RUNNING');
  assert.equal(run('{{printf "%s-%d" .Id .State.Pid}}'), 'abc-42');
  assert.equal(run('{{lower (index .Config.Env 0)}}'), 'a=1');
});

test('if/else, with, range with variables, trim markers', () => {
  assert.equal(run('{{if .State.Running}}up{{else}}down{{end}}'), 'up');
  assert.equal(run('{{if eq .State.Status "exited"}}x{{else if .State.Running}}r{{end}}'), 'r');
  assert.equal(run('{{with .State}}{{.Pid}}{{end}}'), '42');
  assert.equal(run('{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}'), '/s:/d ');
  assert.equal(run('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}'), 'a=b;com.x=y;');
  assert.equal(run('a  {{- .Id -}}  b'), 'aabcb');
  assert.equal(run('{{range .Config.Cmd}}x{{else}}empty{{end}}'), 'empty');
});

test('bad templates fail with a clear error', () => {
  assert.throws(() => compileTemplate('{{.A'), /unclosed action/);
  assert.throws(() => compileTemplate('{{if .A}}x'), /unexpected EOF/);
  assert.throws(() => run('{{nosuchfn .Id}}'), /function "nosuchfn" not defined/);
});

test('tabwriter pads like docker (min width 10, padding 3), last cell unpadded', () => {
  assert.equal(tabwrite('A\tBB\tC\nlonger-cell\tx\ty\n'), 'A             BB        C\nlonger-cell   x         y\n');
});

test('table formats get a header row; plain formats do not; \\t escapes become tabs', () => {
  const rows = [{ ID: '1', Name: 'a' }];
  assert.equal(renderRows('table {{.ID}}\\t{{.Name}}', '', { ID: 'ID', Name: 'NAME' }, rows), 'ID        NAME\n1         a\n');
  assert.equal(renderRows('{{.ID}}:{{.Name}}', '', { ID: 'ID', Name: 'NAME' }, rows), '1:a\n');
  assert.equal(renderRows('json', '', {}, rows), '{"ID":"1","Name":"a"}\n');
});
