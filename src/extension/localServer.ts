/**
 * "Start Local Server": runs `node dist/cli.js serve --model <dir> --port <p>` as a child
 * process, restarts it with exponential backoff when it crashes, stops it on deactivate.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

const MAX_BACKOFF_MS = 30_000;
/** A run this long counts as healthy, so the next crash starts the backoff over. */
const HEALTHY_RUN_MS = 60_000;

export interface ServerLog {
  info(message: string): void;
  warn(message: string): void;
}

export class LocalServer {
  private child: ChildProcess | undefined;
  private wanted: { modelPath: string; port: number } | undefined;
  private backoffMs = 1000;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly distDir: string,
    private readonly log: ServerLog,
    private readonly onStateChange: () => void,
    /** The server listens: only now can the pipeline ask it for its model id. */
    private readonly onReady: () => void,
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
    this.launch();
  }

  stop(): void {
    this.wanted = undefined;
    clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = undefined;
    child?.kill();
    this.onStateChange();
  }

  private launch(): void {
    const wanted = this.wanted;
    if (!wanted) return;
    const startedAt = Date.now();
    const child = spawn(process.execPath, [path.join(this.distDir, 'cli.js'), 'serve', '--model', wanted.modelPath, '--port', String(wanted.port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    this.child = child;
    this.onStateChange();
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => this.log.info(`server: ${text.trimEnd()}`));
    }
    // `docent serve` prints this line once its socket is bound; a chunk may split it.
    let banner = '';
    const onBanner = (text: string) => {
      banner += text;
      if (!/listening on http:\/\/\S+\n/.test(banner)) return;
      child.stdout?.off('data', onBanner);
      if (this.child === child) this.onReady();
    };
    child.stdout?.on('data', onBanner);
    child.on('error', (error) => this.log.warn(`local server could not start: ${error.message}`));
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.onStateChange();
      if (!this.wanted) return;
      if (Date.now() - startedAt > HEALTHY_RUN_MS) this.backoffMs = 1000;
      this.log.warn(`local server exited (code ${code ?? 'none'}, signal ${signal ?? 'none'}); restarting in ${this.backoffMs / 1000} s`);
      this.restartTimer = setTimeout(() => this.launch(), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    });
  }
}
