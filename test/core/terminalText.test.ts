import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeControlCharacters, stripTerminalControls, TerminalTextStream } from '../../src/core/terminalText.js';

test('escapeControlCharacters makes ESC, BEL, CR and C1 visible and keeps tabs, newlines and Unicode', () => {
  assert.equal(escapeControlCharacters('a\u001b[2Jb'), 'a\\x1b[2Jb');
  assert.equal(escapeControlCharacters('x\u0007y\rz\u009b'), 'x\\x07y\\x0dz\\x9b');
  assert.equal(escapeControlCharacters('tab\there\nnext — ü'), 'tab\there\nnext — ü');
});

test('stripTerminalControls removes whole CSI and OSC sequences, including an OSC 8 link and a title change', () => {
  const hostile =
    'Start\u001b]0;pwned\u0007 here\u001b[2J\u001b[1;31m red\u001b[0m ' +
    '\u001b]8;;https://evil.invalid\u001b\\click\u001b]8;;\u001b\\ end\r\nline\u0000two';
  assert.equal(stripTerminalControls(hostile), 'Start here red click end\nlinetwo');
  assert.equal(stripTerminalControls('plain\ttext\n'), 'plain\ttext\n');
});

test('TerminalTextStream: split at every point, a hostile reply prints exactly what stripTerminalControls prints for the whole', () => {
  const hostile =
    'Title\u001b]0;pwned by docs\u0007 clear\u001b[2J\u001b[H and \u001b]8;;https://evil.invalid\u001b\\click\u001b]8;;\u001b\\ ' +
    '8-bit \u009b31m red \u009d0;t\u009c end\r\n';
  const whole = stripTerminalControls(hostile);
  for (let first = 0; first <= hostile.length; first++) {
    for (const second of [first, Math.min(hostile.length, first + 1), Math.min(hostile.length, first + 5)]) {
      const stream = new TerminalTextStream();
      const printed = stream.write(hostile.slice(0, first)) + stream.write(hostile.slice(first, second)) + stream.write(hostile.slice(second)) + stream.end();
      assert.equal(printed, whole, `split at ${first} and ${second}`);
    }
  }
  // One character at a time, as a slow stream sends it.
  const stream = new TerminalTextStream();
  assert.equal([...hostile].map((ch) => stream.write(ch)).join('') + stream.end(), whole);
  assert.doesNotMatch(whole, /[\u001b\u0007\u009b\u009d\r]/);
});

test('TerminalTextStream lets go of an unfinished sequence that grows past its bound, and ends one left at the end as the whole-text form does', () => {
  const stream = new TerminalTextStream();
  assert.equal(stream.write('ok \u001b]0;'), 'ok ');
  assert.equal(stream.write('x'.repeat(5000)), '');
  assert.equal(stream.write(' after'), ' after');
  assert.equal(stream.write('tail \u001b['), 'tail ');
  assert.equal(stream.end(), stripTerminalControls('\u001b['));
  assert.equal(stream.end(), '');
});
