/**
 * Streams chat completions from an OpenAI-compatible backend through the `openai` client, with
 * our own retry policy: the client's retries are off because they would also retry after
 * tokens were streamed, and could not respect our first-token deadline.
 */
import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { linkedController, sleep } from './abort.js';
import { abortReason, BackendFailure, IdleStreamError, StageTimeoutError } from './errors.js';
import { cutNote } from '../bounds.js';
import type { ChatMessage } from './prompt.js';
import type { BackendConfig, ChatBackend, StreamOptions } from './types.js';
import { errorMessage } from '../errorMessage.js';
import { monotonicMs } from '../clock.js';


export interface RetryPolicy {
  maxRetries: number;
  retryBaseMs: number;
}

/** What writes answers: an OpenAI-compatible server, or a model the front end provides (the editor's). */

export class OpenAIChatBackend implements ChatBackend {
  private readonly client: OpenAI;

  constructor(
    readonly config: BackendConfig,
    private readonly retry: RetryPolicy,
    requestTimeoutMs: number,
  ) {
    this.client = new OpenAI({
      baseURL: config.baseURL,
      // Local servers ignore the key, but the client refuses to start without one.
      apiKey: config.apiKey ?? 'no-key',
      maxRetries: 0,
      timeout: requestTimeoutMs,
      logLevel: 'off',
    });
  }

  get identity(): string[] {
    return [this.config.baseURL, this.config.model];
  }

  /**
   * Streams one answer; resolves with the full text once the backend reports completion.
   * Failures reject with BackendFailure (or StageTimeoutError / the abort reason); a failure
   * after the first token is never retried, because the caller has already shown those tokens.
   */
  async stream(messages: ChatMessage[], options: StreamOptions): Promise<string> {
    const started = monotonicMs();
    const remainingForFirstToken = () => options.firstTokenMs - (monotonicMs() - started);
    for (let attempt = 0; ; attempt++) {
      const { controller, dispose } = linkedController(options.signal);
      const firstTokenTimer = setTimeout(
        () => controller.abort(new StageTimeoutError('firstToken', options.firstTokenMs)),
        Math.max(0, remainingForFirstToken()),
      );
      let text = '';
      let finished = false;
      let chunks = 0;
      let cutShort = false;
      let idleTimer: NodeJS.Timeout | undefined;
      const resetIdleTimer = () => {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(() => controller.abort(new IdleStreamError(options.idleTokenMs)), options.idleTokenMs);
      };
      try {
        const stream = await this.client.chat.completions.create(
          // Greedy decoding: answers about documentation should be reproducible (and they are
          // cached), not sampled; OpenAI-compatible servers default to temperature 1.
          { model: this.config.model, messages, stream: true, max_tokens: options.maxTokens, temperature: 0 },
          { signal: controller.signal },
        );
        for await (const chunk of stream) {
          const choice = chunk.choices?.[0];
          const content = choice?.delta?.content;
          if (content) {
            if (!text) {
              clearTimeout(firstTokenTimer);
              options.onFirstToken?.();
            }
            resetIdleTimer();
            // Each content chunk carries at least one token, so an honest server never sends more than maxTokens.
            const tooManyTokens = ++chunks > options.maxTokens;
            if (tooManyTokens || text.length + content.length > options.maxChars) {
              // Leaving the loop closes the response: nothing more is read from the backend.
              const kept = tooManyTokens
                ? cutNote(`the backend sent more than ${options.maxTokens} tokens`)
                : content.slice(0, Math.max(0, options.maxChars - text.length)) + cutNote(`longer than ${options.maxChars} characters`);
              text += kept;
              options.onToken(kept);
              cutShort = true;
              break;
            }
            text += content;
            options.onToken(content);
          }
          if (choice?.finish_reason) finished = true;
        }
        if (cutShort) return text;
        // The client ends iteration quietly on abort; surface why it ended.
        if (controller.signal.aborted) throw abortReason(controller.signal);
        if (!finished) {
          throw new BackendFailure('truncated-stream', 'the backend stream ended before the answer was complete');
        }
        return text;
      } catch (error) {
        if (controller.signal.aborted) throw abortReason(controller.signal);
        const failure = toBackendFailure(error, text.length > 0);
        const wait = text ? undefined : this.retryDelayMs(failure, error, attempt);
        if (wait === undefined || wait > remainingForFirstToken()) throw failure;
        clearTimeout(firstTokenTimer);
        await sleep(wait, options.signal);
      } finally {
        clearTimeout(firstTokenTimer);
        clearTimeout(idleTimer);
        dispose();
      }
    }
  }

  /** One short non-streamed completion (used for rewriting follow-ups); no retries. */
  async complete(messages: ChatMessage[], maxTokens: number, signal: AbortSignal): Promise<string> {
    try {
      const response = await this.client.chat.completions.create(
        { model: this.config.model, messages, stream: false, max_tokens: maxTokens, temperature: 0 },
        { signal },
      );
      return response.choices[0]?.message?.content?.trim() ?? '';
    } catch (error) {
      if (signal.aborted) throw abortReason(signal);
      throw toBackendFailure(error, false);
    }
  }

  /** Milliseconds to wait before retrying, or undefined when this failure is not retried. */
  private retryDelayMs(failure: BackendFailure, error: unknown, attempt: number): number | undefined {
    if (attempt >= this.retry.maxRetries) return undefined;
    if (failure.kind === 'rate-limited') return retryAfterMs(error) ?? this.backoffMs(attempt);
    if (failure.kind === 'server-error' || failure.kind === 'unreachable') return this.backoffMs(attempt);
    return undefined;
  }

  private backoffMs(attempt: number): number {
    // Full jitter keeps many clients from retrying in lockstep.
    return this.retry.retryBaseMs * 2 ** attempt * (0.5 + Math.random() / 2);
  }
}

function toBackendFailure(error: unknown, midStream: boolean): BackendFailure {
  if (error instanceof BackendFailure) return error;
  if (error instanceof APIUserAbortError) return new BackendFailure('unreachable', 'the backend request was aborted', { cause: error });
  if (error instanceof APIConnectionError) {
    const detail = midStream ? 'the connection to the backend dropped mid-answer' : `could not connect to the backend (${describeCause(error)})`;
    return new BackendFailure(midStream ? 'truncated-stream' : 'unreachable', detail, { cause: error });
  }
  if (error instanceof APIError) {
    if (error.status === 429) {
      const wait = retryAfterMs(error);
      const when = wait === undefined ? '' : `; it asks to retry in ${Math.ceil(wait / 1000)} s`;
      return new BackendFailure('rate-limited', `the backend is rate-limiting (HTTP 429)${when}`, { cause: error, status: 429 });
    }
    if (error.status !== undefined && error.status >= 500) {
      return new BackendFailure('server-error', `the backend failed (HTTP ${error.status})`, { cause: error, status: error.status });
    }
    if (error.status !== undefined) {
      // The client's message starts with the status again ("401 Incorrect API key"): say it once.
      const detail = error.message.replace(new RegExp(`^${error.status}\\s*`), '').trim();
      return new BackendFailure('rejected', `the backend rejected the request (HTTP ${error.status})${detail ? `: ${detail}` : ''}`, { cause: error, status: error.status });
    }
    return new BackendFailure('malformed-stream', `the backend reported an error mid-stream: ${error.message}`, { cause: error });
  }
  if (error instanceof SyntaxError) return new BackendFailure('malformed-stream', 'the backend sent a malformed stream chunk', { cause: error });
  // Undici reports a socket closed under a streaming body as a TypeError ("terminated").
  if (error instanceof TypeError) {
    return new BackendFailure(midStream ? 'truncated-stream' : 'unreachable', midStream ? 'the connection to the backend dropped mid-answer' : `the backend connection failed (${error.message})`, { cause: error });
  }
  return new BackendFailure('malformed-stream', `unexpected backend failure: ${errorMessage(error)}`, { cause: error });
}

function describeCause(error: APIConnectionError): string {
  const cause = error.cause as { code?: string; cause?: { code?: string } } | undefined;
  return cause?.code ?? cause?.cause?.code ?? error.message;
}

/** `retry-after-ms` (OpenAI's extension) or `Retry-After` in seconds or as an HTTP date. */
function retryAfterMs(error: unknown): number | undefined {
  if (!(error instanceof APIError) || !error.headers) return undefined;
  const milliseconds = Number(error.headers.get('retry-after-ms'));
  if (error.headers.get('retry-after-ms') && Number.isFinite(milliseconds)) return Math.max(0, milliseconds);
  const header = error.headers.get('retry-after');
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * A backend with its model named: a server that serves exactly one model (our local server)
 * is asked for its id at /v1/models when none is configured.
 */
export async function withServedModel(backend: BackendConfig): Promise<BackendConfig> {
  if (backend.model) return backend;
  try {
    const headers: Record<string, string> = backend.apiKey ? { Authorization: `Bearer ${backend.apiKey}` } : {};
    const response = await fetch(`${backend.baseURL.replace(/\/$/, '')}/models`, { headers, signal: AbortSignal.timeout(2000) });
    const body = (await response.json()) as { data?: { id?: string }[] };
    return { ...backend, model: body.data?.[0]?.id ?? 'default' };
  } catch {
    // Not running yet: questions degrade to extractive answers with the fix "Start local server".
    return { ...backend, model: 'default' };
  }
}
