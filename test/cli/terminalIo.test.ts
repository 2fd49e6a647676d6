import assert from 'node:assert/strict';
import { test } from 'node:test';
import { terminalIo } from '../../src/cli/terminalIo.js';

function sink(isTTY: boolean) {
  return { text: '', isTTY, columns: 20, write(chunk: string) { this.text += chunk; } };
}

test('on a terminal a message after progress starts on a cleared line, not glued to the progress text', () => {
  const stdout = sink(true);
  const stderr = sink(true);
  const io = terminalIo(stdout, stderr);
  io.progress!('indexing 3/40 a-very-long-file-name.md');
  io.progress!('indexing 4/40 b.md');
  io.stderr('docent: cancelled\n');
  assert.equal(stderr.text, 'indexing 3/40 a-ver\r\x1b[2Kindexing 4/40 b.md\r\x1b[2Kdocent: cancelled\n', 'redrawn in place, cut to the width, cleared before the message');
  io.stderr('docent: another line\n');
  assert.match(stderr.text, /cancelled\ndocent: another line\n$/, 'nothing to clear once the line is gone');
  io.progress!('committing');
  io.stdout('result\n');
  assert.equal(stdout.text, 'result\n');
  assert.ok(stderr.text.endsWith('committing\r\x1b[2K'), 'results on stdout clear the progress line first');
  io.progress!('done');
  io.progress!('');
  assert.ok(stderr.text.endsWith('done\r\x1b[2K'), "'' clears it");
});

test('piped stderr gets no progress line at all', () => {
  const io = terminalIo(sink(false), sink(false));
  assert.equal(io.progress, undefined);
});
