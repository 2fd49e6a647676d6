import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import * as path from 'node:path';
import { standardStream, terminalIo } from '../../src/cli/terminalIo.js';
import { makeTempDir } from '../support/tempDocs.js';

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

test('standardStream writes a pipe through its descriptor and hands the rest to the process stream once a non-blocking pipe is full, losing nothing', async () => {
  const dir = await makeTempDir('standard-stream');
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  // A reader first (opening a FIFO to write without one fails), then a non-blocking writer: a full pipe answers EAGAIN.
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  try {
    const handedOver: Buffer[] = [];
    let fellBack = 0;
    const stream = standardStream(
      writer,
      () => {
        fellBack++;
        return { write: (chunk: string | Uint8Array) => handedOver.push(Buffer.from(chunk)) };
      },
      () => assert.fail('the reader is there'),
    );
    // Multi-byte characters, so a partial write can end inside one: the rest must go on as bytes.
    const text = Array.from({ length: 4000 }, (_, i) => `line ${i} ünïcödé ✓\n`).join('');
    stream.write(text.slice(0, 1000));
    assert.equal(fellBack, 0, 'a pipe with room takes the write on its descriptor');
    stream.write(text.slice(1000));
    stream.write('after\n');
    assert.equal(fellBack, 1, 'a write the full pipe could not take falls back once, and everything after it follows');
    const piped: Buffer[] = [];
    for (let chunk = Buffer.alloc(65536), got: number; (got = readNonBlocking(reader, chunk)) > 0; ) piped.push(Buffer.from(chunk.subarray(0, got)));
    assert.ok(piped.length > 0 && handedOver.length > 0);
    assert.equal(Buffer.concat([...piped, ...handedOver]).toString(), `${text}after\n`, 'in order, every byte once');
  } finally {
    closeSync(writer);
    closeSync(reader);
  }
});

test('standardStream gives a character device (a terminal, /dev/null) the process stream, and a closed pipe calls closed', async () => {
  const devNull = openSync('/dev/null', 'w');
  try {
    const own = { write: () => true, isTTY: false };
    assert.equal(standardStream(devNull, () => own, () => undefined), own);
  } finally {
    closeSync(devNull);
  }
  const dir = await makeTempDir('standard-stream-closed');
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  closeSync(reader);
  let closed = 0;
  try {
    const stream = standardStream(writer, () => assert.fail('EPIPE is not a full pipe'), () => closed++);
    stream.write('nobody reads this\n');
    assert.equal(closed, 1);
  } finally {
    closeSync(writer);
  }
});

/** Bytes read from a non-blocking descriptor, 0 once it has none now. */
function readNonBlocking(fd: number, into: Buffer): number {
  try {
    return readSync(fd, into);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
    throw error;
  }
}
