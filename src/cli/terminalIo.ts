/**
 * The CLI's output streams. On a terminal, progress is one line redrawn in place on stderr;
 * anything else written meanwhile (a message, "docent: cancelled", results) first clears that
 * line, so it starts on a line of its own instead of being glued onto the progress text.
 */
import { fstatSync, writeSync } from 'node:fs';
import type { CliIo } from './main.js';

interface Stream {
  write(text: string): unknown;
}

type OutputStream = Stream & { isTTY?: boolean; columns?: number };
/** process.stdout or process.stderr: it takes bytes too (the rest of a partial write may end inside a character). */
type ProcessStream = OutputStream & { write(chunk: string | Uint8Array): unknown };

/**
 * Standard output or error (`fd` 1 or 2) for the CLI. A pipe, a file or a socket is written with
 * fs.writeSync on the descriptor: for a pipe, process.stdout and process.stderr are net.Sockets,
 * and loading net was ~8 ms of a cold `docent query` (BENCHMARKS.md). A character device (a
 * terminal, which knows its columns, or /dev/null) gets the process's stream (`stream`), which
 * loads net only for a terminal; so does everything after a write the descriptor could not take
 * at once (a non-blocking pipe that is full), so nothing is lost or reordered. `closed` runs when
 * the reader has gone (EPIPE), and the text is dropped.
 */
export function standardStream(fd: number, stream: () => ProcessStream, closed: () => void): OutputStream {
  if (fstatSync(fd).isCharacterDevice()) return stream();
  let fallback: ProcessStream | undefined;
  return {
    write(text: string) {
      if (fallback) return fallback.write(text);
      const bytes = Buffer.from(text);
      let written = 0;
      try {
        while (written < bytes.length) written += writeSync(fd, bytes, written);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') return closed();
        if (code !== 'EAGAIN') throw error;
        fallback = stream();
        fallback.write(bytes.subarray(written));
      }
    },
  };
}

export function terminalIo(stdout: Stream, stderr: OutputStream): CliIo {
  let showing = false;
  const clear = () => {
    if (!showing) return;
    stderr.write('\r\x1b[2K');
    showing = false;
  };
  return {
    stdout: (text) => {
      clear();
      stdout.write(text);
    },
    stderr: (text) => {
      clear();
      stderr.write(text);
    },
    progress: stderr.isTTY
      ? (line) => {
          clear();
          if (!line) return;
          stderr.write(line.slice(0, (stderr.columns || 80) - 1));
          showing = true;
        }
      : undefined,
  };
}
