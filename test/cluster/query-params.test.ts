// Boolean query parameters as kube-apiserver converts them (apimachinery's
// Convert_Slice_string_To_bool): the spellings each client sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queryBool } from '../../src/kube/api/query-params.js';

test('absent, "0" and any casing of "false" are false; every other value is true', () => {
  const q = (s: string) => new URLSearchParams(s);
  assert.equal(queryBool(q(''), 'watch'), false);
  for (const v of ['0', 'false', 'False', 'FALSE', 'fAlSe']) assert.equal(queryBool(q(`watch=${v}`), 'watch'), false, v);
  for (const v of ['1', 't', 'T', 'true', 'True', 'TRUE', 'yes', '']) assert.equal(queryBool(q(`watch=${v}`), 'watch'), true, v);
  assert.equal(queryBool(q('watch=False&watch=true'), 'watch'), false, 'the first value decides');
});
