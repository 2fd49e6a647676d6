/**
 * The chat protocol's validators (src/shared/chatProtocol.ts: what the extension accepts from the
 * webview and the webview from the extension) against generated hostile messages: every field
 * of every message type set to random text, 100k-deep nesting, huge strings and arrays and odd
 * numbers. Each check answers true or false, never throws, and takes under a second of CPU; what
 * is over a bound or leaves the workspace is refused.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isHostToWebview, isWebviewToHost } from '../../src/shared/chatProtocol.js';
import { randomInputs } from '../support/hostileInputs.js';

const MAX_MS = 1_000;
const DEPTH = 100_000;
const HOST_TYPES = ['init', 'index', 'backend', 'turnStarted', 'progress', 'passages', 'delta', 'sources', 'done', 'stopped', 'failed', 'focusInput', 'bogus'];
const WEBVIEW_TYPES = ['ready', 'newChat', 'history', 'ask', 'stop', 'retry', 'openCitation', 'copy', 'insert', 'fix', 'bogus'];
const FIELDS = ['id', 'text', 'question', 'turns', 'turn', 'citations', 'index', 'backend', 'examples', 'title', 'step', 'mode', 'actions', 'action', 'error', 'folder', 'path', 'startLine', 'endLine', 'replaces'];

function nested(makeLevel: (inner: unknown) => unknown): unknown {
  let value: unknown = 'deep';
  for (let i = 0; i < DEPTH; i++) value = makeLevel(value);
  return value;
}

function hostileValues(): Array<[string, unknown]> {
  const citation = { n: 1, folder: 'docs', path: 'a.md', startLine: 1, endLine: 2, text: 'x' };
  return [
    ...randomInputs(0xfa22, 12, 5_000).map(({ name, text }): [string, unknown] => [name, text]),
    ['100k nested arrays', nested((inner) => [inner])],
    ['100k nested objects', nested((inner) => ({ type: 'ask', question: inner }))],
    ['1 MB string', 'x'.repeat(1_000_000)],
    ['100k-item array', new Array(DEPTH).fill(citation)],
    ['500 citations with 200k-character texts', new Array(500).fill({ ...citation, text: 'y'.repeat(200_000) })],
    ['__proto__ key', JSON.parse('{"__proto__": {"type": "ask"}, "type": "ask"}')],
    ...[NaN, Infinity, -1, 0, 1.5, 1e308, -0].map((n): [string, unknown] => [`number ${n}`, n]),
    ['null', null],
    ['path escaping the folder', '../../etc/passwd'],
    ['absolute path', '/etc/passwd'],
    ['windows drive path', 'C:\\Windows\\win.ini'],
  ];
}

function timed(label: string, check: () => boolean): boolean {
  const started = process.cpuUsage();
  const result = check();
  const used = process.cpuUsage(started);
  const ms = (used.user + used.system) / 1000;
  assert.equal(typeof result, 'boolean', label);
  assert.ok(ms < MAX_MS, `${label} took ${ms.toFixed(0)} ms`);
  return result;
}

describe('chat protocol validators under hostile messages', () => {
  test('every field of every message type, set to each hostile value, is checked in bounded time without throwing', () => {
    const values = hostileValues();
    for (const [validator, types] of [[isHostToWebview, HOST_TYPES], [isWebviewToHost, WEBVIEW_TYPES]] as const) {
      for (const type of types) {
        for (const field of FIELDS) {
          for (const [name, value] of values) timed(`${validator.name} ${type}.${field} = ${name}`, () => validator({ type, [field]: value }));
        }
      }
      for (const [name, value] of values) timed(`${validator.name}(${name})`, () => validator(value));
    }
  });

  test('what is over a bound or points outside the workspace is refused', () => {
    const open = (path: unknown, startLine: unknown = 1, endLine: unknown = 2) => isWebviewToHost({ type: 'openCitation', folder: 'docs', path, startLine, endLine });
    assert.equal(open('guide/a.md'), true);
    for (const path of ['../../etc/passwd', 'a/../../b', '/etc/passwd', '\\\\server\\share', 'C:\\x', 'a\0b', '', 'x'.repeat(5_000), nested((inner) => [inner])]) {
      assert.equal(open(path), false, `path ${typeof path === 'string' ? path.slice(0, 40) : 'nested arrays'}`);
    }
    for (const [start, end] of [[0, 1], [2, 1], [1.5, 2], [NaN, 2], [1, Infinity], [1, 10_000_001]]) assert.equal(open('a.md', start, end), false, `lines ${start}-${end}`);
    assert.equal(isWebviewToHost({ type: 'ask', question: 'q'.repeat(8_001) }), false);
    assert.equal(isWebviewToHost({ type: 'ask', question: '   ' }), false);
    assert.equal(isWebviewToHost({ type: 'copy', text: 'c'.repeat(200_001) }), false);
    assert.equal(isHostToWebview({ type: 'delta', id: 't1', text: 'd'.repeat(200_001) }), false);
    assert.equal(isHostToWebview({ type: 'delta', id: 't1', text: 'ok' }), true);
    assert.equal(isHostToWebview({ type: 'passages', id: 't1', citations: new Array(501).fill({ n: 1, folder: 'docs', path: 'a.md', startLine: 1, endLine: 1, text: 'x' }) }), false);
  });
});
