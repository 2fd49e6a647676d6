/**
 * The CLI's output streams. On a terminal, progress is one line redrawn in place on stderr;
 * anything else written meanwhile (a message, "docent: cancelled", results) first clears that
 * line, so it starts on a line of its own instead of being glued onto the progress text.
 */
import type { CliIo } from './main.js';

interface Stream {
  write(text: string): unknown;
}

export function terminalIo(stdout: Stream, stderr: Stream & { isTTY?: boolean; columns?: number }): CliIo {
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
