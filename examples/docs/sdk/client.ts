/**
 * Lumen TypeScript SDK: the HTTP client.
 *
 * Published as `@halyard/lumen-sdk` (current version 2.7.0). This file is the
 * public surface; usage examples live in typescript.md next to it.
 *
 * Design notes:
 * - Events passed to {@link LumenClient.send} are buffered and flushed in the
 *   background, so `send` never waits for the network.
 * - Every request is signed as described in ../guides/authentication.md.
 * - Retryable failures are retried with exponential backoff and full jitter.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto'

/** One event as accepted by `POST /v1/events:batch`. */
export interface LumenEvent {
  /** Registered stream name, e.g. `checkout.completed`. */
  stream: string
  /** Event time; defaults to the moment `send` was called. */
  ts?: Date
  /** Flat attributes. Nested objects are flattened by the enricher. */
  attrs: Record<string, string | number | boolean>
  /** ID for de-duplication within 24 hours. A UUIDv4 is generated when omitted. */
  eventId?: string
}

/** Options for {@link LumenClient}. Every field falls back to an environment variable. */
export interface LumenClientOptions {
  /** API key ID (`lk_...`). Env: `LUMEN_API_KEY_ID`. */
  keyId?: string
  /** Primary secret. Env: `LUMEN_API_SECRET`. */
  secret?: string
  /** Secret to switch to when the primary is rejected. Env: `LUMEN_API_SECRET_NEXT`. */
  nextSecret?: string
  /** Default `https://ingest.lumen.halyard.internal:8443`. Env: `LUMEN_ENDPOINT`. */
  endpoint?: string
  /** Per-request timeout, default 10000 ms. Env: `LUMEN_TIMEOUT_MS`. */
  timeoutMs?: number
  /** Retries for retryable errors, default 5. Env: `LUMEN_MAX_RETRIES`. */
  maxRetries?: number
  /** Background flush period, default 1000 ms. Env: `LUMEN_FLUSH_INTERVAL_MS`. */
  flushIntervalMs?: number
  /** Events kept in memory before `send` starts dropping, default 50000. */
  maxBufferedEvents?: number
}

/** Thrown when the server keeps answering 429 after all retries. */
export class RateLimitedError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`Lumen rate limit exceeded; retry after ${retryAfterSeconds}s`)
  }
}

/** Thrown for non-retryable responses; `code` is the `LUM-xxxx` error code. */
export class LumenApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(`${code}: ${message}`)
  }
}

const MAX_BATCH_EVENTS = 500
const MAX_BATCH_BYTES = 1_048_576
const RETRYABLE_STATUS = new Set([429, 502, 503, 504])

export class LumenClient {
  private buffer: LumenEvent[] = []
  private readonly timer: NodeJS.Timeout
  private readonly opts: Required<Omit<LumenClientOptions, 'nextSecret'>> & { nextSecret?: string }

  /**
   * Creates a client and starts the background flush timer.
   *
   * Throws synchronously if no key ID or secret can be found in the options
   * or the environment. When `LUMEN_DISABLED=true` the client accepts events
   * and discards them, which keeps unit tests offline.
   */
  constructor(options: LumenClientOptions = {}) {
    const env = process.env
    this.opts = {
      keyId: options.keyId ?? env.LUMEN_API_KEY_ID ?? '',
      secret: options.secret ?? env.LUMEN_API_SECRET ?? '',
      nextSecret: options.nextSecret ?? env.LUMEN_API_SECRET_NEXT,
      endpoint: options.endpoint ?? env.LUMEN_ENDPOINT ?? 'https://ingest.lumen.halyard.internal:8443',
      timeoutMs: options.timeoutMs ?? Number(env.LUMEN_TIMEOUT_MS ?? 10_000),
      maxRetries: options.maxRetries ?? Number(env.LUMEN_MAX_RETRIES ?? 5),
      flushIntervalMs: options.flushIntervalMs ?? Number(env.LUMEN_FLUSH_INTERVAL_MS ?? 1_000),
      maxBufferedEvents: options.maxBufferedEvents ?? 50_000,
    }
    if (!this.opts.keyId || !this.opts.secret) {
      throw new Error('LumenClient: keyId and secret are required (LUMEN_API_KEY_ID / LUMEN_API_SECRET)')
    }
    this.timer = setInterval(() => void this.flush(), this.opts.flushIntervalMs)
    this.timer.unref()
  }

  /**
   * Queues one event for the next background flush and returns immediately.
   *
   * When more than `maxBufferedEvents` are waiting (the server is down or
   * rate limiting), the OLDEST events are dropped and a warning is logged
   * once per minute. Use {@link LumenClient.sendBatch} if you need to know
   * whether events were accepted.
   */
  send(event: LumenEvent): void {
    this.buffer.push({ ...event, ts: event.ts ?? new Date(), eventId: event.eventId ?? randomUUID() })
    if (this.buffer.length > this.opts.maxBufferedEvents) {
      this.buffer.splice(0, this.buffer.length - this.opts.maxBufferedEvents)
    }
  }

  /**
   * Sends events now and resolves once the server has accepted all of them.
   *
   * The events are split into requests of at most 500 events and 1 MiB of
   * serialized JSON, so every request fits `ingest.maxBatchEvents` and
   * `ingest.maxBatchBytes`. Requests are sent one after another, in order.
   *
   * Retries: 429, 502, 503, 504 and network errors are retried up to
   * `maxRetries` times with exponential backoff (200 ms base, 10 s cap, full
   * jitter). A `Retry-After` header overrides the computed delay when longer.
   * Because every event carries an `eventId`, retries never create duplicates.
   *
   * If the server answers 401 with `LUM-4011` or `LUM-4014` and `nextSecret`
   * is configured, the client switches to `nextSecret` permanently and retries
   * once; this is what makes key rotation seamless (see
   * ../runbooks/rotate-signing-keys.md).
   *
   * A `207` response does not reject: the returned array lists the indexes
   * (into `events`) and codes of rejected events.
   *
   * @throws RateLimitedError when still rate limited after all retries.
   * @throws LumenApiError for any other non-retryable error, e.g. `LUM-4030`.
   */
  async sendBatch(events: LumenEvent[]): Promise<Array<{ index: number; code: string }>> {
    const rejected: Array<{ index: number; code: string }> = []
    let offset = 0
    const withIds = events.map((e) => ({ ...e, eventId: e.eventId ?? randomUUID() }))
    for (const chunk of splitBatch(withIds)) {
      const wire = chunk.map((e) => ({ stream: e.stream, ts: (e.ts ?? new Date()).toISOString(), attrs: e.attrs, event_id: e.eventId }))
      const result = await this.postWithRetry('/v1/events:batch', { events: wire })
      for (const r of result.rejected ?? []) rejected.push({ index: offset + r.index, code: r.code })
      offset += chunk.length
    }
    return rejected
  }

  /**
   * Sends everything currently buffered. Called by the timer, by
   * {@link LumenClient.close}, and safe to call yourself, e.g. at the end of
   * a serverless handler. Failures are logged, not thrown; the events stay
   * in the buffer for the next attempt.
   */
  async flush(): Promise<void> {
    const pending = this.buffer
    this.buffer = []
    if (pending.length === 0) return
    try {
      await this.sendBatch(pending)
    } catch (err) {
      this.buffer = pending.concat(this.buffer)
      console.warn(`lumen: flush failed, ${pending.length} events kept: ${(err as Error).message}`)
    }
  }

  /**
   * Stops the timer and flushes remaining events, waiting at most
   * `timeoutMs`. Always call this before the process exits; events still in
   * the buffer afterwards are lost.
   */
  async close(): Promise<void> {
    clearInterval(this.timer)
    await Promise.race([this.flush(), new Promise((r) => setTimeout(r, this.opts.timeoutMs))])
  }

  private async postWithRetry(path: string, body: unknown): Promise<{ rejected?: Array<{ index: number; code: string }> }> {
    const payload = Buffer.from(JSON.stringify(body))
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(this.opts.endpoint + path, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Lumen-Key-Id': this.opts.keyId,
          'Lumen-Signature': signRequest(this.opts.secret, 'POST', path, payload),
        },
        body: payload,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      })
      if (res.status === 202 || res.status === 207) return res.json() as Promise<{ rejected?: Array<{ index: number; code: string }> }>
      const retryAfter = Number(res.headers.get('Retry-After') ?? 0)
      if (!RETRYABLE_STATUS.has(res.status) || attempt >= this.opts.maxRetries) {
        if (res.status === 429) throw new RateLimitedError(retryAfter)
        const err = (await res.json()) as { error: { code: string; message: string } }
        if (res.status === 401 && this.opts.nextSecret && ['LUM-4011', 'LUM-4014'].includes(err.error.code)) {
          this.opts.secret = this.opts.nextSecret
          this.opts.nextSecret = undefined
          continue
        }
        throw new LumenApiError(res.status, err.error.code, err.error.message)
      }
      const backoff = Math.random() * Math.min(10_000, 200 * 2 ** attempt)
      await new Promise((r) => setTimeout(r, Math.max(backoff, retryAfter * 1000)))
    }
  }
}

/**
 * Computes the `Lumen-Signature` header value for a request.
 *
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t\nMETHOD\npath\nsha256(body)">`.
 * Exported for callers that build requests themselves; it is byte-for-byte
 * compatible with `sign_request` in signing.py.
 */
export function signRequest(secret: string, method: string, path: string, body: Buffer, now = new Date()): string {
  const t = Math.floor(now.getTime() / 1000)
  const bodyHash = createHash('sha256').update(body).digest('hex')
  const mac = createHmac('sha256', secret).update(`${t}\n${method.toUpperCase()}\n${path}\n${bodyHash}`).digest('hex')
  return `t=${t},v1=${mac}`
}

/** Splits events into chunks that respect the server's batch limits. */
function* splitBatch(events: LumenEvent[]): Generator<LumenEvent[]> {
  let chunk: LumenEvent[] = []
  let bytes = 0
  for (const e of events) {
    const size = Buffer.byteLength(JSON.stringify(e))
    if (chunk.length === MAX_BATCH_EVENTS || (chunk.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      yield chunk
      chunk = []
      bytes = 0
    }
    chunk.push(e)
    bytes += size
  }
  if (chunk.length > 0) yield chunk
}
