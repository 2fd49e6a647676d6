/**
 * OpenAI-compatible HTTP front end of the generation engine (node:http, no framework):
 * /v1/chat/completions and /v1/completions (SSE streaming or not), /v1/embeddings, /v1/models,
 * /health and /metrics. Every failure is answered with an OpenAI-style error body; nothing a
 * client sends can throw out of a handler. Beyond OpenAI's parameters, completions accept
 * `top_k` and `ignore_eos` (as vLLM does).
 *
 * A page in a browser can reach 127.0.0.1, so the server answers only requests whose Host is
 * the address it is bound to (DNS rebinding) and whose Origin, when a browser sends one, is that
 * same address (CSRF); a POST must say it is JSON, which a cross-site form or `no-cors` fetch cannot.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describeDevice } from '../core/onnx/session.js';
import type { Embedder } from '../core/types.js';
import { GenerationRejectedError, type GenerationEngine, type GenerationResult } from './engine.js';
import type { SamplingParams } from './sampling.js';
import { ChatTemplateError, type ChatMessage } from './textCodec.js';
import { errorMessage } from '../core/errorMessage.js';

export interface GenerationServerOptions {
  engine: GenerationEngine;
  /** Serves /v1/embeddings; without it that route answers 404. */
  embedder?: Embedder;
  /** When set, /v1/* requires `Authorization: Bearer <apiKey>`. /health and /metrics stay open. */
  apiKey?: string;
  /** Largest accepted request body; larger ones get 413. */
  maxBodyBytes?: number;
  /** Completion length when a request sets no max_tokens. */
  defaultMaxTokens?: number;
  /**
   * Host header values accepted besides the bound address and `localhost` at its port: names a
   * proxy forwards (`docent serve --allow-host`). A name without a port matches it bare (what a
   * proxy on 80/443 sends) and at the bound port; `name:port` matches only that.
   */
  allowedHosts?: string[];
  /** Origins accepted besides the server's own (`http://127.0.0.1:<port>`, `http://localhost:<port>`). */
  allowedOrigins?: string[];
  /** Open connections at once; more are closed on arrival. */
  maxConnections?: number;
  /** close() cancels what still runs after this long and closes every connection. */
  drainTimeoutMs?: number;
}

export const DEFAULT_MAX_CONNECTIONS = 256;
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const invalid = (message: string, param: string | null = null, code: string | null = null) => new ApiError(400, message, 'invalid_request_error', param, code);

interface CompletionJob {
  promptIds: number[];
  maxTokens: number;
  sampling: SamplingParams;
  stop: string[];
  ignoreEos: boolean;
  stream: boolean;
  includeUsage: boolean;
}

export class GenerationServer {
  readonly http: Server;
  private readonly engine: GenerationEngine;
  private readonly embedder?: Embedder;
  private readonly apiKeyDigest?: Buffer;
  private readonly maxBodyBytes: number;
  private readonly drainTimeoutMs: number;
  private readonly allowedHostNames: string[];
  private readonly extraOrigins: Set<string>;
  /** Filled in by listen(): the Host values and origins that name this server. */
  private ownHosts = new Set<string>();
  private ownOrigins = new Set<string>();
  /** Cancels every running completion when the drain deadline passes. */
  private readonly running = new Set<AbortController>();
  private readonly defaultMaxTokens: number;
  private readonly created = Math.floor(Date.now() / 1000);
  private draining = false;
  private inFlight = 0;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(options: GenerationServerOptions) {
    this.engine = options.engine;
    this.embedder = options.embedder;
    this.apiKeyDigest = options.apiKey ? keyDigest(options.apiKey) : undefined;
    this.maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
    this.defaultMaxTokens = options.defaultMaxTokens ?? 256;
    this.drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    this.allowedHostNames = (options.allowedHosts ?? []).map((host) => host.toLowerCase());
    this.extraOrigins = new Set((options.allowedOrigins ?? []).map((origin) => origin.toLowerCase().replace(/\/+$/, '')));
    this.http = createServer((req, res) => void this.handle(req, res));
    this.http.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  }

  /** Binds 127.0.0.1 unless told otherwise; port 0 picks a free port. */
  listen(port = 8123, host = '127.0.0.1'): Promise<{ url: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        const address = this.http.address() as AddressInfo;
        const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        const names = [shownHost, 'localhost', ...(isLoopback(address.address) ? ['127.0.0.1', '[::1]'] : []), ...wildcardAddresses(address.address)];
        const allowed = this.allowedHostNames.flatMap((name) => (hasPort(name) ? [name] : [name, `${name}:${address.port}`]));
        this.ownHosts = new Set([...names.map((name) => `${name}:${address.port}`.toLowerCase()), ...allowed]);
        // A page the proxy serves under an allowed name is this server's own origin, over either scheme.
        this.ownOrigins = new Set([...[...this.ownHosts].map((host) => `http://${host}`), ...allowed.flatMap((host) => [`http://${host}`, `https://${host}`])]);
        resolve({ url: `http://${shownHost}:${address.port}`, port: address.port });
      });
    });
  }

  /**
   * Graceful stop: refuses new requests (503), lets every in-flight request finish, then closes
   * the listener and the idle keep-alive connections. What still runs after the drain deadline
   * is cancelled and its connection closed, so a stuck client cannot hold the process.
   */
  async close(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    const deadline = setTimeout(() => {
      for (const cancel of this.running) cancel.abort();
      this.http.closeAllConnections();
    }, this.drainTimeoutMs);
    try {
      await this.engine.drain();
      if (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    } finally {
      clearTimeout(deadline);
    }
    this.http.closeIdleConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    try {
      await this.route(req, res);
    } catch (error) {
      this.sendError(res, error);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
    const method = req.method ?? 'GET';
    if (this.draining) {
      res.setHeader('Connection', 'close');
      throw new ApiError(503, 'the server is shutting down', 'server_error', null, 'server_shutting_down');
    }
    this.checkHostAndOrigin(req);
    if (path === '/health' && method === 'GET') return this.sendJson(res, 200, this.health());
    if (path === '/metrics' && method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(this.engine.metrics.render(this.engine.gauges()));
      return;
    }
    if (!path.startsWith('/v1/')) throw new ApiError(404, `no route for ${method} ${path || '/'}`, 'invalid_request_error', null, 'unknown_url');
    this.authorize(req);

    const routes: Record<string, [string, (body: unknown) => Promise<void> | void]> = {
      '/v1/models': ['GET', () => this.sendJson(res, 200, this.models())],
      '/v1/chat/completions': ['POST', (body) => this.complete(res, this.chatJob(body), 'chat')],
      '/v1/completions': ['POST', (body) => this.complete(res, this.textJob(body), 'text')],
      '/v1/embeddings': ['POST', (body) => this.embeddings(res, body)],
    };
    const route = routes[path];
    if (!route) throw new ApiError(404, `no route for ${method} ${path}`, 'invalid_request_error', null, 'unknown_url');
    if (route[0] !== method) {
      res.setHeader('Allow', route[0]);
      throw new ApiError(405, `${path} accepts ${route[0]}, not ${method}`, 'invalid_request_error', null, 'method_not_allowed');
    }
    await route[1](method === 'POST' ? await this.readJson(req) : undefined);
  }

  private checkHostAndOrigin(req: IncomingMessage): void {
    const host = (req.headers.host ?? '').toLowerCase();
    if (!this.ownHosts.has(host)) {
      throw new ApiError(403, `Host ${JSON.stringify(req.headers.host ?? '')} is not this server's address (DNS rebinding is refused); use ${[...this.ownHosts][0] ?? '127.0.0.1'}`, 'invalid_request_error', null, 'host_not_allowed');
    }
    const origin = req.headers.origin?.toLowerCase();
    if (origin !== undefined && !this.ownOrigins.has(origin) && !this.extraOrigins.has(origin)) {
      throw new ApiError(403, `Origin ${JSON.stringify(req.headers.origin)} may not call this server (cross-site requests are refused)`, 'invalid_request_error', null, 'origin_not_allowed');
    }
  }

  private authorize(req: IncomingMessage): void {
    if (!this.apiKeyDigest) return;
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    // Digests have one length, so the comparison takes the same time whatever the key sent.
    if (!match || !timingSafeEqual(keyDigest(match[1]!.trim()), this.apiKeyDigest)) {
      throw new ApiError(401, match ? 'Incorrect API key provided.' : 'Missing bearer API key in the Authorization header.', 'invalid_request_error', null, 'invalid_api_key');
    }
  }

  private readJson(req: IncomingMessage): Promise<unknown> {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (contentType !== 'application/json') {
      return Promise.reject(new ApiError(415, `Content-Type must be application/json, not ${JSON.stringify(req.headers['content-type'] ?? '')}`, 'invalid_request_error', null, 'unsupported_media_type', { Connection: 'close' }));
    }
    const tooLarge = () => new ApiError(413, `request body exceeds ${this.maxBodyBytes} bytes`, 'invalid_request_error', null, 'request_too_large', { Connection: 'close' });
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.maxBodyBytes) return Promise.reject(tooLarge());
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.maxBodyBytes) {
          req.removeAllListeners('data');
          req.resume(); // discard the rest instead of buffering it
          reject(tooLarge());
        } else chunks.push(chunk);
      });
      req.on('error', reject);
      // A connection closed before the body ended (the drain deadline, a client gone) settles it.
      req.on('close', () => {
        if (!req.complete) reject(new ApiError(400, 'the connection closed before the request body ended', 'invalid_request_error', null, 'incomplete_body'));
      });
      req.on('end', () => {
        if (size > this.maxBodyBytes) return;
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (error) {
          reject(invalid(`request body is not valid JSON: ${errorMessage(error)}`, null, 'invalid_json'));
        }
      });
    });
  }

  private health(): object {
    const gauges = this.engine.gauges();
    return {
      status: 'ok',
      model: this.engine.modelId,
      device: describeDevice(this.engine.device),
      embedding_model: this.embedder?.id ?? null,
      queue_depth: gauges.queueDepth,
      active_sequences: gauges.activeSequences,
    };
  }

  private models(): object {
    const ids = [this.engine.modelId, ...(this.embedder ? [this.embedder.id] : [])];
    return { object: 'list', data: ids.map((id) => ({ id, object: 'model', created: this.created, owned_by: 'docent' })) };
  }

  private chatJob(body: unknown): CompletionJob {
    const request = this.requestObject(body);
    if (!Array.isArray(request.messages) || request.messages.length === 0) throw invalid('messages must be a non-empty array', 'messages');
    const messages: ChatMessage[] = request.messages.map((message: unknown, i: number) => chatMessage(message, i));
    let prompt: string;
    try {
      prompt = this.engine.codec.renderChat(messages);
    } catch (error) {
      if (error instanceof ChatTemplateError) throw invalid(error.message, 'messages');
      throw error;
    }
    return this.job(request, this.engine.codec.encode(prompt, false), 'max_completion_tokens');
  }

  private textJob(body: unknown): CompletionJob {
    const request = this.requestObject(body);
    let prompt = request.prompt;
    if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') prompt = prompt[0];
    if (typeof prompt !== 'string') throw invalid('prompt must be a string (one prompt per request)', 'prompt');
    return this.job(request, this.engine.codec.encode(prompt, true), 'max_tokens');
  }

  private requestObject(body: unknown): Record<string, any> {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('request body must be a JSON object');
    const request = body as Record<string, any>;
    if (typeof request.model !== 'string') throw invalid('model is required', 'model');
    if (request.model !== this.engine.modelId) {
      throw new ApiError(404, `The model '${request.model}' does not exist; this server serves '${this.engine.modelId}'.`, 'invalid_request_error', 'model', 'model_not_found');
    }
    return request;
  }

  private job(request: Record<string, any>, promptIds: number[], maxTokensAlias: string): CompletionJob {
    const n = request.n ?? 1;
    if (n !== 1) throw invalid('only n = 1 is supported', 'n');
    const maxTokens = optionalNumber(request, 'max_tokens', 1, Infinity, true) ?? optionalNumber(request, maxTokensAlias, 1, Infinity, true);
    const temperature = optionalNumber(request, 'temperature', 0, 2) ?? 1;
    const topP = optionalNumber(request, 'top_p', 0, 1) ?? 1;
    const topK = optionalNumber(request, 'top_k', 0, Infinity, true) ?? 0;
    const seed = optionalNumber(request, 'seed', -Infinity, Infinity, true);
    const stop = request.stop ?? [];
    const stops = typeof stop === 'string' ? [stop] : stop;
    if (!Array.isArray(stops) || stops.length > 4 || stops.some((s: unknown) => typeof s !== 'string' || s === '')) {
      throw invalid('stop must be a non-empty string or an array of up to 4 non-empty strings', 'stop');
    }
    if (request.stream !== undefined && typeof request.stream !== 'boolean') throw invalid('stream must be a boolean', 'stream');
    return {
      promptIds,
      maxTokens: maxTokens ?? this.defaultMaxTokens,
      sampling: { temperature, topP, topK, seed },
      stop: stops,
      ignoreEos: request.ignore_eos === true,
      stream: request.stream === true,
      includeUsage: request.stream_options?.include_usage === true,
    };
  }

  private async complete(res: ServerResponse, job: CompletionJob, kind: 'chat' | 'text'): Promise<void> {
    const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const model = this.engine.modelId;
    const object = kind === 'chat' ? (job.stream ? 'chat.completion.chunk' : 'chat.completion') : 'text_completion';
    const cancel = new AbortController();
    this.running.add(cancel);
    // A client that goes away cancels its sequence; the engine frees the slot at the next step.
    res.on('close', () => {
      this.running.delete(cancel);
      if (!res.writableFinished) cancel.abort();
    });

    // Chat streams open with the role, carry content deltas, and close with an empty delta.
    const choice = (delta: Record<string, string>, text: string, finishReason: string | null) =>
      kind === 'chat' ? { index: 0, delta, logprobs: null, finish_reason: finishReason } : { index: 0, text, logprobs: null, finish_reason: finishReason };
    const send = (payload: unknown) => res.write(`data: ${JSON.stringify(payload)}\n\n`);

    let resultPromise: Promise<GenerationResult>;
    try {
      resultPromise = this.engine.submit({
        promptIds: job.promptIds,
        maxTokens: job.maxTokens,
        sampling: job.sampling,
        stop: job.stop,
        ignoreEos: job.ignoreEos,
        signal: cancel.signal,
        onText: job.stream ? (delta) => send({ id, object, created, model, choices: [choice({ content: delta }, delta, null)] }) : undefined,
      });
    } catch (error) {
      throw rejection(error);
    }

    if (!job.stream) {
      const result = await resultPromise;
      if (result.finishReason === 'cancelled') return;
      const finishReason = result.finishReason;
      const body =
        kind === 'chat'
          ? { index: 0, message: { role: 'assistant', content: result.text, refusal: null }, logprobs: null, finish_reason: finishReason }
          : { index: 0, text: result.text, logprobs: null, finish_reason: finishReason };
      return this.sendJson(res, 200, { id, object, created, model, choices: [body], usage: usage(result) });
    }

    // Headers go out only now, after submit() could still refuse with 429/400; the engine emits
    // text from its own step loop, never synchronously inside submit().
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    if (kind === 'chat') send({ id, object, created, model, choices: [choice({ role: 'assistant', content: '' }, '', null)] });
    try {
      const result = await resultPromise;
      if (result.finishReason === 'cancelled') return;
      send({ id, object, created, model, choices: [choice({}, '', result.finishReason)] });
      if (job.includeUsage) send({ id, object, created, model, choices: [], usage: usage(result) });
      res.write('data: [DONE]\n\n');
    } catch (error) {
      send({ error: errorBody(new ApiError(500, `generation failed: ${errorMessage(error)}`, 'server_error')) });
    }
    res.end();
  }

  private async embeddings(res: ServerResponse, body: unknown): Promise<void> {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('request body must be a JSON object');
    const request = body as Record<string, any>;
    if (!this.embedder) throw new ApiError(404, 'no embedding model is loaded on this server', 'invalid_request_error', 'model', 'model_not_found');
    if (request.model !== this.embedder.id) {
      throw new ApiError(404, `The model '${String(request.model)}' does not exist; embeddings are served by '${this.embedder.id}'.`, 'invalid_request_error', 'model', 'model_not_found');
    }
    const inputs: unknown[] = typeof request.input === 'string' ? [request.input] : Array.isArray(request.input) ? request.input : [];
    if (inputs.length === 0 || inputs.some((t) => typeof t !== 'string')) throw invalid('input must be a string or a non-empty array of strings (token arrays are not supported)', 'input');
    const format = request.encoding_format ?? 'float';
    if (format !== 'float' && format !== 'base64') throw invalid("encoding_format must be 'float' or 'base64'", 'encoding_format');
    const texts = inputs as string[];
    const vectors = await this.embedder.embed(texts);
    // The stand-in embedders have no tokenizer; usage counts whitespace-separated words.
    const tokens = texts.reduce((sum, text) => sum + (text.match(/\S+/g)?.length ?? 0), 0);
    this.sendJson(res, 200, {
      object: 'list',
      model: this.embedder.id,
      data: vectors.map((vector, index) => ({
        object: 'embedding',
        index,
        embedding: format === 'base64' ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64') : Array.from(vector),
      })),
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  private sendJson(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  }

  private sendError(res: ServerResponse, error: unknown): void {
    const apiError = error instanceof ApiError ? error : new ApiError(500, `internal error: ${errorMessage(error)}`, 'server_error');
    if (res.headersSent) {
      res.end();
      return;
    }
    for (const [name, value] of Object.entries(apiError.headers)) res.setHeader(name, value);
    this.sendJson(res, apiError.status, errorBody(apiError));
  }
}

function keyDigest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/**
 * Bound to every interface (0.0.0.0 or ::), "the bound address" is each address this machine has:
 * a client on the LAN or on loopback names one of them. DNS names still need allowedHosts.
 */
function wildcardAddresses(address: string): string[] {
  if (address !== '0.0.0.0' && address !== '::') return [];
  return Object.values(networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .filter((entry) => address === '::' || entry.family === 'IPv4')
    .map((entry) => (entry.family === 'IPv6' ? `[${entry.address}]` : entry.address));
}

function hasPort(host: string): boolean {
  return /:\d+$/.test(host) && !host.endsWith(']');
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address === '::ffff:127.0.0.1';
}

function errorBody(error: ApiError): object {
  return { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
}

function rejection(error: unknown): unknown {
  if (!(error instanceof GenerationRejectedError)) return error;
  switch (error.reason) {
    case 'queue_full':
      return new ApiError(429, error.message, 'rate_limit_error', null, 'rate_limit_exceeded', { 'Retry-After': String(error.retryAfterSeconds ?? 1) });
    case 'draining':
      return new ApiError(503, error.message, 'server_error', null, 'server_shutting_down');
    case 'context_length_exceeded':
      return invalid(error.message, 'messages', 'context_length_exceeded');
    case 'empty_prompt':
      return invalid(error.message, 'prompt');
  }
}

function usage(result: GenerationResult): object {
  return { prompt_tokens: result.promptTokens, completion_tokens: result.completionTokens, total_tokens: result.promptTokens + result.completionTokens };
}

function chatMessage(value: unknown, index: number): ChatMessage {
  const param = `messages[${index}]`;
  if (!value || typeof value !== 'object') throw invalid(`${param} must be an object`, param);
  const { role, content } = value as { role?: unknown; content?: unknown };
  if (typeof role !== 'string') throw invalid(`${param}.role must be a string`, `${param}.role`);
  if (typeof content === 'string') return { role, content };
  if (content === null || content === undefined) return { role, content: '' };
  // Content parts: only text parts can be given to a text model.
  if (Array.isArray(content) && content.every((part) => part?.type === 'text' && typeof part.text === 'string')) {
    return { role, content: content.map((part: { text: string }) => part.text).join('') };
  }
  throw invalid(`${param}.content must be a string or an array of text parts`, `${param}.content`);
}

function optionalNumber(request: Record<string, unknown>, name: string, min: number, max: number, integer = false): number | undefined {
  const value = request[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    const range = max === Infinity ? `>= ${min}` : `between ${min} and ${max}`;
    throw invalid(`${name} must be ${integer ? 'an integer' : 'a number'}${min === -Infinity ? '' : ` ${range}`}`, name);
  }
  return value;
}
