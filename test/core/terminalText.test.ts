import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeControlCharacters, stripTerminalControls } from '../../src/core/terminalText.js';

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
