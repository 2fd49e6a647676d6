/**
 * "Start Local Server": runs `node dist/cli.js serve --model <dir> --port <p>` as a child
 * process, restarts it with exponential backoff when it crashes, gives up after a few failed
 * tries in a row (a wrong model folder would otherwise crash-loop forever), and stops it on
 * deactivate. It reports what happened with the server's own last message as the cause; the
 * extension turns those events into notifications. No vscode import (tested as plain code).
 * The server requires a key made for this editor session and handed over in the child's
 * environment (never on its command line, which other users can read), so other local
 * processes cannot use it.
 *
 * It runs for hours, so it is started with two memory settings (SERVE_NODE_FLAGS and
 * serveEnvironment, measured by bench:soak): glibc's malloc gives every thread that allocates an arena of its
 * own (up to 8 per core) and keeps their freed pages, and V8 grows each thread's young
 * generation to 16 MB semi-spaces under load; both made RSS climb for thousands of requests
 * with the JS heaps flat. Two arenas and 2 MB semi-spaces keep it level.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';

const MAX_BACKOFF_MS = 30_000;
/** A run this long counts as healthy, so the next crash starts the backoff and the tries over. */
const HEALTHY_RUN_MS = 60_000;
/** The environment variable `docent serve --api-key-env` reads the session key from. */
const KEY_VARIABLE = 'DOCENT_SESSION_KEY';
/** Node flags for the server process; V8 flags are process-wide, so they reach the decoder's worker thread too. */
export const SERVE_NODE_FLAGS = ['--max-semi-space-size=2'];
/** Failed runs in a row (never ready, or crashed soon after) before the supervisor gives up. */
export const MAX_FAILED_STARTS = 3;

export interface ServerLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface LocalServerEvents {
  /** Running or not changed (the status bar redraws). */
  stateChanged(): void;
  /** The server listens: only now can the pipeline ask it for its model id. */
  ready(): void;
  /** A server that was ready exited on its own; it is restarted in `retryInMs`. */
  crashed(cause: string, retryInMs: number): void;
  /** `attempts` runs failed in a row; nothing restarts it any more. */
  gaveUp(cause: string, attempts: number): void;
}

export class LocalServer {
  private child: ChildProcess | undefined;
  private wanted: { modelPath: string; port: number } | undefined;
  private backoffMs = 1000;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  /** The bearer key the server requires; the pipeline sends it. */
  readonly apiKey = randomBytes(32).toString('base64url');

  constructor(
    private readonly distDir: string,
    private readonly log: ServerLog,
    private readonly events: LocalServerEvents,
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Process id of the running server, if any (shown in the log; used by the restart test). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(modelPath: string, port: number): void {
    this.stop();
    this.wanted = { modelPath, port };
    this.backoffMs = 1000;
    this.failures = 0;
    this.launch();
  }

  stop(): void {
    this.wanted = undefined;
    clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = undefined;
    child?.kill();
    this.events.stateChanged();
  }

  private launch(): void {
    const wanted = this.wanted;
    if (!wanted) return;
    const startedAt = Date.now();
    const args = [...SERVE_NODE_FLAGS, path.join(this.distDir, 'cli.js'), 'serve', '--model', wanted.modelPath, '--port', String(wanted.port), '--api-key-env', KEY_VARIABLE];
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...serveEnvironment(process.env), ELECTRON_RUN_AS_NODE: '1', [KEY_VARIABLE]: this.apiKey },
    });
    this.child = child;
    this.events.stateChanged();
    let ready = false;
    /** The server's last words on stderr: `docent serve` prints why it could not start there. */
    let lastError = '';
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => this.log.info(`server: ${text.trimEnd()}`));
    }
    child.stderr?.on('data', (text: string) => {
      const line = text.split('\n').map((part) => part.trim()).filter(Boolean).at(-1);
      if (line) lastError = line.replace(/^docent serve:\s*/, '');
    });
    // `docent serve` prints this line once its socket is bound; a chunk may split it.
    let banner = '';
    const onBanner = (text: string) => {
      banner += text;
      if (!/listening on http:\/\/\S+[^\n]*\n/.test(banner)) return;
      child.stdout?.off('data', onBanner);
      ready = true;
      if (this.child === child) this.events.ready();
    };
    child.stdout?.on('data', onBanner);
    child.on('error', (error) => {
      lastError = error.message;
      this.log.warn(`local server could not start: ${error.message}`);
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.events.stateChanged();
      if (!this.wanted) return;
      if (Date.now() - startedAt > HEALTHY_RUN_MS) {
        this.backoffMs = 1000;
        this.failures = 0;
      }
      this.failures++;
      const cause = lastError || `it exited with ${signal ? `signal ${signal}` : `code ${code ?? 'none'}`}`;
      if (this.failures >= MAX_FAILED_STARTS) {
        this.log.warn(`local server exited (code ${code ?? 'none'}, signal ${signal ?? 'none'}); ${this.failures} failed runs in a row, not restarting: ${cause}`);
        this.wanted = undefined;
        this.events.gaveUp(cause, this.failures);
        return;
      }
      this.log.warn(`local server exited (code ${code ?? 'none'}, signal ${signal ?? 'none'}); restarting in ${this.backoffMs / 1000} s`);
      if (ready) this.events.crashed(cause, this.backoffMs);
      this.restartTimer = setTimeout(() => this.launch(), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    });
  }
}

/** The server's environment: `env` with at most two malloc arenas, unless `env` already sets MALLOC_ARENA_MAX. */
export function serveEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { MALLOC_ARENA_MAX: '2', ...env };
}
