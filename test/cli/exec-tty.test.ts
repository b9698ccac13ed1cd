// exec, attach, and -it sessions through a real pseudo-terminal (util-linux `script`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { tugBin } from '../helpers/tug-daemon.js';
import { rand, setupCli, type CliEnv, type Result } from './cli-helpers.js';

let t: CliEnv;
before(async () => {
  t = await setupCli();
});
after(async () => {
  await t?.cleanup();
});

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

interface Step {
  /** Output to wait for before typing ('' = at once). */
  waitFor: string;
  feed: string;
  /** Close the terminal's input after this step (script(1) keeps running until its input ends). */
  end?: boolean;
}

/** Runs bin/tug inside `script`, so the CLI has a terminal, typing each step's keys once its output shows. */
function inPty(args: string[], steps: Step[] = []): Promise<Result> {
  const cmd = [process.execPath, tugBin, ...args].map(shq).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: t.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let next = 0;
    const advance = (): void => {
      while (next < steps.length && out.includes(steps[next]!.waitFor)) {
        const step = steps[next++]!;
        if (step.end) child.stdin.end(step.feed);
        else child.stdin.write(step.feed);
      }
    };
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      advance();
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    // Never hang the suite: a session still open after 60 s is killed (by its own pid) and fails.
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code: code ?? -1, stdout: out, stderr: err });
    });
    advance();
  });
}

/** Runs a shell command line inside `script` (for stty before tug starts). */
function inPtyRaw(line: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    // stdin stays open: at EOF script(1) types a NUL into the terminal, and a TTY
    // session whose input ends early may lose its last output (Docker too).
    const child = spawn('script', ['-qec', line, '/dev/null'], { env: t.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code: code ?? -1, stdout: out, stderr: err });
    });
  });
}

async function sleeper(extra: string[] = []): Promise<string> {
  const name = `e-${rand()}`;
  const r = await t.tug(['run', '-d', '--name', name, '-l', t.label, ...extra, t.image, 'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.2; done']);
  assert.equal(r.code, 0, r.stderr);
  return name;
}

test('run -it gets a terminal and returns the exit code', async () => {
  const r = await inPty(['run', '-it', '--rm', '-l', t.label, t.image, 'sh', '-c', 'tty; exit 5']);
  assert.equal(r.code, 5);
  assert.match(r.stdout, /\/dev\/pts\/\d+/);
});

test('the terminal size reaches the container (and exec sessions)', async () => {
  // stty in the outer pty sets the size tug reads; the container polls until a size arrives (bounded).
  const probe = 'i=0; while [ $i -lt 100 ]; do s=$(stty size 2>/dev/null); [ -n "$s" ] && [ "$s" != "0 0" ] && break; sleep 0.1; i=$((i+1)); done; echo "size=$s"';
  const cmd = [process.execPath, tugBin, 'run', '-it', '--rm', '-l', t.label, t.image, 'sh', '-c', probe].map(shq).join(' ');
  const r = await inPtyRaw(`stty rows 31 cols 101; ${cmd}`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /size=31 101/);
  const name = await sleeper();
  const e = await inPtyRaw(`stty rows 27 cols 93; ${[process.execPath, tugBin, 'exec', '-it', name, 'sh', '-c', probe].map(shq).join(' ')}`);
  assert.match(e.stdout, /size=27 93/);
});

test('run -it takes typed input', async () => {
  const r = await inPty(['run', '-it', '--rm', '-l', t.label, t.image, 'sh', '-c', 'read line; echo "got:$line"; exit 9'], [
    { waitFor: '', feed: 'hello\r' },
  ]);
  assert.equal(r.code, 9);
  assert.match(r.stdout, /got:hello/);
});

test('ctrl-p ctrl-q detaches and leaves the container running', async () => {
  const name = `detach-${rand()}`;
  const r = await inPty(['run', '-it', '--name', name, '-l', t.label, t.image, 'sh', '-c', 'echo ready; exec cat'], [
    { waitFor: 'ready', feed: '\x10\x11', end: true },
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const st = await t.tug(['inspect', '-f', '{{.State.Running}}', name]);
  assert.equal(st.stdout, 'true\n');
  await t.tug(['rm', '-f', name]);
});

test('custom --detach-keys detach; a broken-off prefix is passed through', async () => {
  const name = `detach2-${rand()}`;
  // ctrl-a x: the ctrl-a is not followed by ctrl-b, so "\x01x" reaches cat; then ctrl-a ctrl-b detaches.
  const r = await inPty(['run', '-it', '--detach-keys', 'ctrl-a,ctrl-b', '--name', name, '-l', t.label, t.image, 'sh', '-c', 'echo ready; exec cat -v'], [
    { waitFor: 'ready', feed: '\x01x\r' },
    { waitFor: '^Ax', feed: '\x01\x02', end: true },
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\^Ax/);
  assert.equal((await t.tug(['inspect', '-f', '{{.State.Running}}', name])).stdout, 'true\n');
  await t.tug(['rm', '-f', name]);
});

test('exec: exit code, env, workdir, user, stdin and detach', async () => {
  const name = await sleeper();
  const r = await t.tug(['exec', '-e', 'X=42', '-w', '/tmp', '-u', 'nobody', name, 'sh', '-c', 'echo $X $(pwd) $(id -un); echo err >&2; exit 4']);
  assert.equal(r.code, 4);
  assert.equal(r.stdout, '42 /tmp nobody\n');
  assert.equal(r.stderr, 'err\n');
  const i = await t.tug(['exec', '-i', name, 'sh', '-c', 'cat | tr a-z A-Z'], 'shout\n');
  assert.equal(i.stdout, 'SHOUT\n');
  const d = await t.tug(['exec', '-d', name, 'sh', '-c', 'echo detached > /tmp/d']);
  assert.equal(d.code, 0, d.stderr);
  assert.equal(d.stdout, '');
  let seen = '';
  for (let k = 0; k < 50 && seen !== 'detached\n'; k++) seen = (await t.tug(['exec', name, 'cat', '/tmp/d'])).stdout;
  assert.equal(seen, 'detached\n');
});

test('exec of a missing command fails with 126/127 and the runtime message', async () => {
  const name = await sleeper();
  const r = await t.tug(['exec', name, 'no-such-cmd']);
  assert.ok(r.code === 126 || r.code === 127, String(r.code));
  assert.match(r.stdout + r.stderr, /no-such-cmd/);
  const stopped = `s-${rand()}`;
  await t.tug(['create', '--name', stopped, '-l', t.label, t.image, 'true']);
  const e = await t.tug(['exec', stopped, 'true']);
  assert.equal(e.code, 1);
  assert.match(e.stderr, /^Error response from daemon: .*is not running/);
});

test('exec -it through a terminal', async () => {
  const name = await sleeper();
  const r = await inPty(['exec', '-it', name, 'sh', '-c', 'tty; exit 3']);
  assert.equal(r.code, 3);
  assert.match(r.stdout, /\/dev\/pts\/\d+/);
});

/** Starts bin/tug and resolves `seen` once stdout contains `text`; the caller keeps stdin open. */
function spawnTug(args: string[], text: string) {
  const child = spawn(process.execPath, [tugBin, ...args], { env: t.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let markSeen!: () => void;
  const seen = new Promise<void>((r) => (markSeen = r));
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.includes(text)) markSeen();
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<Result>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(guard);
      markSeen();
      resolve({ code: code ?? -1, stdout: out, stderr: err });
    }),
  );
  return { child, seen, done };
}

test('attach joins stdin and stdout and returns the exit code', async () => {
  const name = `att-${rand()}`;
  const r = await t.tug(['run', '-d', '-i', '--name', name, '-l', t.label, t.image, 'sh', '-c', 'echo ready; read x; echo "got $x"; exit 6']);
  assert.equal(r.code, 0, r.stderr);
  // Keep stdin open until the answer arrives: closing it early lets the daemon end the stream first.
  const a = spawnTug(['attach', name], 'got hi');
  a.child.stdin.write('hi\n');
  await a.seen;
  const res = await a.done;
  a.child.stdin.destroy();
  assert.match(res.stdout, /got hi\n/);
  assert.equal(res.code, 6);
  const again = await t.tug(['attach', name]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /You cannot attach to a stopped container/);
});

test('attach --no-stdin follows output until the container stops', async () => {
  const name = `att2-${rand()}`;
  const r = await t.tug(['run', '-d', '--name', name, '-l', t.label, t.image, 'sh', '-c', 'trap "exit 7" TERM; while true; do echo tick; sleep 0.2; done']);
  assert.equal(r.code, 0, r.stderr);
  const a = spawnTug(['attach', '--no-stdin', name], 'tick');
  await a.seen;
  assert.equal((await t.tug(['stop', name])).code, 0);
  const res = await a.done;
  assert.match(res.stdout, /^(tick\n)+$/);
  assert.equal(res.code, 7);
});
