// The Dockerfile parser, variable substitution and .dockerignore matching.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from '../../src/builder/dockerfile-parser.js';
import { processWord, processWords } from '../../src/builder/shell-words.js';
import { isIgnored, parseDockerignore } from '../../src/builder/dockerignore.js';
import { buildStageGraph, neededStages } from '../../src/builder/stage-graph.js';
import { TugError } from '../../src/errdefs.js';

test('instructions keep their line numbers across continuations, comments and blank lines', () => {
  const p = parseDockerfile(['FROM busybox', '', '# a comment', 'RUN echo a \\', '  # inside', '    && echo b', 'CMD ["sh"]'].join('\n'));
  assert.deepEqual(p.instructions.map((i) => [i.cmd, i.line]), [['FROM', 1], ['RUN', 4], ['CMD', 7]]);
  assert.equal(p.instructions[1]!.rest, 'echo a     && echo b');
  assert.deepEqual(p.instructions[2]!.json, ['sh']);
});

test('unknown instructions and unterminated heredocs name the line', () => {
  assert.throws(() => parseDockerfile('FROM busybox\nRUN true\nFROB x\n', 'Dockerfile'), (e: unknown) => e instanceof TugError && e.kind === 'invalid' && /Dockerfile:3: unknown instruction: FROB/.test(e.message));
  assert.throws(() => parseDockerfile('FROM busybox\nRUN <<EOF\necho hi\n'), /Dockerfile:2: heredoc <<EOF is not terminated/);
});

test('the escape directive switches the continuation character', () => {
  const p = parseDockerfile('# escape=`\nFROM busybox\nRUN echo c:\\path `\n  more\n');
  assert.equal(p.escape, '`');
  assert.equal(p.instructions[1]!.rest, 'echo c:\\path   more');
  assert.throws(() => parseDockerfile('# escape=x\nFROM busybox\n'), /invalid escape token/);
});

test('heredocs and flags are parsed', () => {
  const p = parseDockerfile("FROM busybox\nRUN --mount=type=cache,target=/c --network=none <<EOF\necho one\necho two\nEOF\nCOPY <<'CONF' /etc/app.conf\nkey=$v\nCONF\n");
  const run = p.instructions[1]!;
  assert.deepEqual(run.flags.get('mount'), ['type=cache,target=/c']);
  assert.deepEqual(run.flags.get('network'), ['none']);
  assert.equal(run.heredocs[0]!.content, 'echo one\necho two\n');
  const copy = p.instructions[2]!;
  assert.equal(copy.line, 6);
  assert.equal(copy.heredocs[0]!.expand, false);
  assert.equal(copy.heredocs[0]!.content, 'key=$v\n');
});

test('variable substitution: defaults, alternatives, quotes and escapes', () => {
  const vars = new Map([['A', 'x'], ['EMPTY', '']]);
  assert.equal(processWord('${A:-d}', vars), 'x');
  assert.equal(processWord('${B:-d}', vars), 'd');
  assert.equal(processWord('${EMPTY:-d}', vars), 'd');
  assert.equal(processWord('${EMPTY-d}', vars), '');
  assert.equal(processWord('${A:+alt}', vars), 'alt');
  assert.equal(processWord('${B:+alt}', vars), '');
  assert.equal(processWord("'$A'", vars), '$A');
  assert.equal(processWord('"$A y"', vars), 'x y');
  assert.equal(processWord('\\$A', vars), '$A');
  assert.deepEqual(processWords('a "b c" ${A}d', vars), ['a', 'b c', 'xd']);
  assert.throws(() => processWord('${A', vars), /missing '}'/);
});

test('.dockerignore: **, ! exceptions, last match wins, directories cover their content', () => {
  const rules = parseDockerignore('# comment\n*.log\n!keep.log\n**/node_modules\nsecret/\ndocs/**/*.md\n!docs/README.md\n');
  assert.equal(isIgnored(rules, 'a.log'), true);
  assert.equal(isIgnored(rules, 'keep.log'), false);
  assert.equal(isIgnored(rules, 'sub/a.log'), false); // '*' does not cross '/'
  assert.equal(isIgnored(rules, 'x/y/node_modules/z.js'), true);
  assert.equal(isIgnored(rules, 'node_modules'), true);
  assert.equal(isIgnored(rules, 'secret/key'), true);
  assert.equal(isIgnored(rules, 'docs/a/b/c.md'), true);
  assert.equal(isIgnored(rules, 'docs/README.md'), false);
  assert.equal(isIgnored(rules, 'src/main.c'), false);
});

test('stage graph: only what the target needs, missing targets and stages are errors', () => {
  const p = parseDockerfile('ARG V=1\nFROM busybox AS a\nFROM busybox AS b\nCOPY --from=a /x /x\nFROM busybox AS c\nFROM b\n');
  const g = buildStageGraph(p.instructions, new Map([['V', '1']]), '\\', 'Dockerfile');
  assert.deepEqual(neededStages(g, undefined, 'Dockerfile').map((s) => s.name ?? s.index), ['a', 'b', 3]);
  assert.deepEqual(neededStages(g, 'c', 'Dockerfile').map((s) => s.name), ['c']);
  assert.throws(() => neededStages(g, 'nope', 'Dockerfile'), /target stage "nope" could not be found/);
  const bad = parseDockerfile('FROM busybox\nCOPY --from=later /x /x\nFROM busybox AS later\n');
  assert.throws(() => buildStageGraph(bad.instructions, new Map(), '\\', 'Dockerfile'), /Dockerfile:2: COPY --from=later refers to a stage that is not defined before this one/);
  assert.throws(() => buildStageGraph(parseDockerfile('RUN true\n').instructions, new Map(), '\\', 'Dockerfile'), /Dockerfile:1: no build stage/);
});
