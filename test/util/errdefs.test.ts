import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TugError, kindOf, notFound } from '../../src/errdefs.js';

test('kindOf keeps a TugError kind and calls everything else internal', () => {
  assert.equal(kindOf(notFound('no such image: x')), 'not-found');
  assert.equal(kindOf(new Error('boom')), 'internal');
  assert.ok(new TugError('conflict', 'x') instanceof Error);
});
