/**
 * A real OpenAI-compatible HTTP server on 127.0.0.1 speaking the chat-completions SSE wire
 * format, with scripted answers and injectable faults: latency, HTTP errors with Retry-After,
 * malformed chunks, mid-stream drops, truncated streams, stalls and slow first tokens.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'ok' }
  /** Replies with this HTTP status and an OpenAI-style error body. */
  | { kind: 'status'; status: number; retryAfter?: string }
  /** Streams some tokens, then a chunk that is not JSON. */
  | { kind: 'malformed'; afterTokens: number }
  /** Streams some tokens, then destroys the socket. */
  | { kind: 'drop'; afterTokens: number }
  /** Streams some tokens, then ends the response cleanly without finish_reason or [DONE]. */
  | { kind: 'truncate'; afterTokens: number }
  /** Sends headers, the role chunk and `afterTokens` tokens (default none), then nothing until the client gives up. */
  | { kind: 'stall'; afterTokens?: number }
  | { kind: 'slowFirstToken'; delayMs: number };

export interface ChatRequestBody {
  model: string;
  stream?: boolean;
  max_tokens?: number;
  messages: Array<{ role: string; content: string }>;
}

export interface RecordedRequest {
  body: ChatRequestBody;
  headers: IncomingHttpHeaders;
  fault: Fault;
  /** The client went away before the response was complete. */
  aborted: boolean;
}

export interface StubServerOptions {
  /** Delay before the response headers. */
  latencyMs?: number;
  /** Delay between streamed tokens. */
  tokenDelayMs?: number;
  respond?: (body: ChatRequestBody) => string;
  /** Served at GET /v1/models (OpenAI's list shape); absent: that route is 404 as before. */
  models?: string[];
}

/**
 * Default script: a streamed answer cites every source the prompt numbered, quoting its label
 * (e.g. "[1] ops/backups.md:1-10"); a non-streamed call (follow-up rewrite) echoes the last message.
 */
export function echoSourcesAnswer(body: ChatRequestBody): string {
  const user = body.messages.at(-1)?.content ?? '';
  if (!body.stream) return user;
  const labels = [...user.matchAll(/^\[(\d+)\] (\S+)/gm)].map((match) => `[${match[1]}] ${match[2]}`);
  if (labels.length === 0) return 'The sources do not cover this.';
  return `According to the documentation: ${labels.join('; ')}.`;
}

export class FaultInjectingOpenAIServer {
  latencyMs: number;
  tokenDelayMs: number;
  respond: (body: ChatRequestBody) => string;
  models: string[] | undefined;
  /** Used when the script is empty. */
  defaultFault: Fault = { kind: 'ok' };
  readonly requests: RecordedRequest[] = [];
  private readonly scripted: Fault[] = [];
  private readonly openResponses = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    options: StubServerOptions,
  ) {
    this.latencyMs = options.latencyMs ?? 0;
    this.tokenDelayMs = options.tokenDelayMs ?? 0;
    this.respond = options.respond ?? echoSourcesAnswer;
    this.models = options.models;
  }

  static async start(options: StubServerOptions = {}): Promise<FaultInjectingOpenAIServer> {
    const server = createServer();
    const stub = new FaultInjectingOpenAIServer(server, options);
    server.on('request', (req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (part: Buffer) => parts.push(part));
      req.on('end', () => {
        void stub.handle(Buffer.concat(parts).toString('utf8'), req.headers, req.url ?? '', res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return stub;
  }

  get baseURL(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** Faults for the next requests, in order; afterwards `defaultFault` applies. */
  script(...faults: Fault[]): void {
    this.scripted.push(...faults);
  }

  /** Streaming chat requests received (rewrite calls are non-streaming). */
  get streamRequests(): RecordedRequest[] {
    return this.requests.filter((request) => request.body.stream);
  }

  async close(): Promise<void> {
    for (const res of this.openResponses) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(raw: string, headers: IncomingHttpHeaders, url: string, res: ServerResponse): Promise<void> {
    if (url.endsWith('/models') && this.models) {
      const data = this.models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'stub' }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data }));
      return;
    }
    if (!url.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found' } }));
      return;
    }
    const body = JSON.parse(raw) as ChatRequestBody;
    const fault = this.scripted.shift() ?? this.defaultFault;
    const record: RecordedRequest = { body, headers, fault, aborted: false };
    this.requests.push(record);
    this.openResponses.add(res);
    const closed = new AbortController();
    res.on('close', () => {
      this.openResponses.delete(res);
      if (!res.writableFinished) record.aborted = true;
      closed.abort();
    });
    try {
      await pause(this.latencyMs, closed.signal);
      if (fault.kind === 'status') {
        const errorHeaders: Record<string, string> = { 'content-type': 'application/json' };
        if (fault.retryAfter !== undefined) errorHeaders['retry-after'] = fault.retryAfter;
        const type = fault.status === 429 ? 'rate_limit_exceeded' : 'server_error';
        res.writeHead(fault.status, errorHeaders).end(JSON.stringify({ error: { message: `injected HTTP ${fault.status}`, type } }));
        return;
      }
      const text = this.respond(body);
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion(body.model, text)));
        return;
      }
      await this.stream(body.model, text, fault, res, closed.signal);
    } catch {
      // The client went away mid-response; nothing left to do.
    }
  }

  private async stream(model: string, text: string, fault: Fault, res: ServerResponse, closed: AbortSignal): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const id = `chatcmpl-stub-${this.requests.length}`;
    const send = (delta: Record<string, string>, finishReason: string | null) =>
      res.write(`data: ${JSON.stringify(chunk(id, model, delta, finishReason))}\n\n`);
    send({ role: 'assistant', content: '' }, null);
    const stallAt = fault.kind === 'stall' ? (fault.afterTokens ?? 0) : -1;
    const stall = () => new Promise<void>((resolve) => closed.addEventListener('abort', () => resolve(), { once: true }));
    if (stallAt === 0) return stall();
    if (fault.kind === 'slowFirstToken') await pause(fault.delayMs, closed);
    const tokens = text.match(/\S+\s*/g) ?? [];
    for (let i = 0; i < tokens.length; i++) {
      if ((fault.kind === 'malformed' || fault.kind === 'drop' || fault.kind === 'truncate') && i === fault.afterTokens) {
        if (fault.kind === 'malformed') res.end('data: {"choices":[{"delta":{"content":\n\n');
        else if (fault.kind === 'drop') res.socket?.destroy();
        else res.end();
        return;
      }
      if (i > 0) await pause(this.tokenDelayMs, closed);
      send({ content: tokens[i]! }, null);
      if (i + 1 === stallAt) return stall();
    }
    send({}, 'stop');
    res.end('data: [DONE]\n\n');
  }
}

/** A base URL on which nothing listens: connections are refused. */
export async function refusedBaseURL(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/v1`;
}

function chunk(id: string, model: string, delta: Record<string, string>, finishReason: string | null) {
  return { id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model, choices: [{ index: 0, delta, finish_reason: finishReason }] };
}

function completion(model: string, text: string) {
  return {
    id: 'chatcmpl-stub',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new Error('closed'));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onClose = () => {
      clearTimeout(timer);
      reject(new Error('closed'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onClose);
      resolve();
    }, ms);
    signal.addEventListener('abort', onClose, { once: true });
  });
}
