// Every command the CLI lists loads and answers --help. The CLI loads each
// command's module only when that command runs (start-up stays fast), so a
// broken import or a wrong export name would otherwise show up only when
// someone runs that one command. The list is read from the CLI's own usage
// texts, so a command added later is covered without touching this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTug } from './cli-helpers.js';

// No daemon: --help must answer without one.
const env = { ...process.env, TUG_HOST: 'unix:///nonexistent/tug-help-test.sock' };

function section(usage: string, title: string): string[] {
  const m = new RegExp(`\\n${title}:\\n((?:  .*\\n?)+)`).exec(usage);
  assert.ok(m, `no "${title}:" section in:\n${usage}`);
  return m[1]!.split(/\s+/).filter((w) => /^[a-z]/.test(w) && !/[A-Z]/.test(w[0]!));
}

test('every command, management subcommand and service loads and prints its help', async () => {
  const top = await runTug(env, ['--help']);
  assert.equal(top.code, 0, top.stderr);
  const commands = section(top.stdout, 'Commands');
  const services = section(top.stdout, 'Services');
  // The first word of each management command's line.
  const groups = /\nManagement Commands:\n((?:  .*\n)+)/.exec(top.stdout)![1]!.split('\n').map((l) => l.trim().split(/\s+/)[0]!).filter(Boolean);
  assert.ok(commands.includes('run') && commands.includes('version'), commands.join(' '));
  assert.ok(services.includes('daemon') && services.includes('registry'), services.join(' '));
  assert.ok(groups.includes('container') && groups.includes('image'), groups.join(' '));

  const argvs: string[][] = [...commands.map((c) => [c]), ...services.map((s) => [s])];
  for (const g of groups) {
    if (g === 'compose') continue; // a command too, listed above
    const listing = await runTug(env, [g]);
    assert.equal(listing.code, 0, `tug ${g}: ${listing.stderr}`);
    const subs = /\nCommands:\n((?:  .*\n?)+)/.exec(listing.stderr)?.[1]?.split(/\s+/).filter(Boolean) ?? [];
    assert.ok(subs.length > 0, `tug ${g} lists no subcommands: ${listing.stderr}`);
    for (const s of subs) argvs.push([g, s]);
  }

  const failed: string[] = [];
  for (const argv of argvs) {
    const r = await runTug(env, [...argv, '--help']);
    if (r.code !== 0 || !/usage/i.test(r.stdout + r.stderr)) failed.push(`tug ${argv.join(' ')} --help: exit ${r.code}\n${r.stdout}${r.stderr}`);
  }
  assert.deepEqual(failed, [], failed.join('\n---\n'));
  assert.ok(argvs.length > 60, `only ${argvs.length} commands checked`);
});
