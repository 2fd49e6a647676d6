/** Process entry point of the `docent` binary. */
import { runCli } from './main.js';
import { standardStream, terminalIo } from './terminalIo.js';

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
// A reader that stops early (`docent ask … | head`) closes the pipe: stop the work and leave
// quietly, as a Unix tool does on SIGPIPE, instead of dying on an unhandled 'error' event.
const readerGone = () => {
  controller.abort();
  process.exit(0);
};
const stdout = standardStream(
  1,
  () =>
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      readerGone();
    }),
  readerGone,
);
// Nobody reads what stderr would say any more: it is dropped.
const stderr = standardStream(2, () => process.stderr, () => undefined);
const io = terminalIo(stdout, stderr);
runCli(process.argv.slice(2), io, controller.signal).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    io.stderr(`docent: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
