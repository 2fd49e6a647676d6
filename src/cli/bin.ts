/** Process entry point of the `docent` binary. */
import { runCli } from './main.js';

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
const progress = process.stderr.isTTY
  ? (line: string) => {
      process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 80) - 1)}`);
    }
  : undefined;
const io = { stdout: (text: string) => process.stdout.write(text), stderr: (text: string) => process.stderr.write(text), progress };
runCli(process.argv.slice(2), io, controller.signal).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`docent: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
