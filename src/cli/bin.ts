/** Process entry point of the `docent` binary. */
import { runCli } from './main.js';
import { terminalIo } from './terminalIo.js';

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
// A reader that stops early (`docent ask … | head`) closes the pipe: stop the work and leave
// quietly, as a Unix tool does on SIGPIPE, instead of dying on an unhandled 'error' event.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  controller.abort();
  process.exit(0);
});
const io = terminalIo(process.stdout, process.stderr);
runCli(process.argv.slice(2), io, controller.signal).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    io.stderr(`docent: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
