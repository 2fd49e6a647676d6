/**
 * Chat backends whose model runs in the extension host (the editor's models, vscode.lm): the
 * pipeline streams from them as from any backend while the prompt and the tokens travel over
 * IPC. One router for every backend made, so replies reach the request that is waiting for them.
 */
import { abortReason, BackendFailure, IdleStreamError, StageTimeoutError } from '../../core/pipeline/errors.js';
import type { ChatMessage } from '../../core/pipeline/prompt.js';
import type { ChatBackend, StreamOptions } from '../../core/pipeline/types.js';
import type { CoreProcessToHost, GenerateReply } from './protocol.js';

/** A rewrite of a follow-up is short: it waits this long for a token at most, and keeps this many characters. */
const COMPLETE_TOKEN_MS = 30_000;
const COMPLETE_MAX_CHARS = 2000;

interface Pending {
  token(text: string): void;
  settle(reply: Extract<GenerateReply, { type: 'generated' }>): void;
}

export class HostModels {
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly send: (message: CoreProcessToHost) => void) {}

  backend(modelId: string): ChatBackend {
    return {
      identity: ['editor', modelId],
      stream: (messages, options) => this.stream(modelId, messages, options),
      complete: async (messages, maxTokens, signal) =>
        (await this.stream(modelId, messages, { signal, maxTokens, firstTokenMs: COMPLETE_TOKEN_MS, idleTokenMs: COMPLETE_TOKEN_MS, maxChars: COMPLETE_MAX_CHARS, onToken: () => undefined })).trim(),
    };
  }

  receive(reply: GenerateReply): void {
    const pending = this.pending.get(reply.id);
    if (reply.type === 'generateToken') pending?.token(reply.text);
    else pending?.settle(reply);
  }

  private stream(modelId: string, messages: ChatMessage[], options: StreamOptions): Promise<string> {
    const id = String(this.nextId++);
    return new Promise<string>((resolve, reject) => {
      let text = '';
      let idle: NodeJS.Timeout | undefined;
      const end = () => {
        clearTimeout(firstToken);
        clearTimeout(idle);
        options.signal.removeEventListener('abort', aborted);
        this.pending.delete(id);
      };
      const stop = (error: Error) => {
        end();
        this.send({ type: 'cancelGenerate', id });
        reject(error);
      };
      const aborted = () => stop(abortReason(options.signal));
      const firstToken = setTimeout(() => stop(new StageTimeoutError('firstToken', options.firstTokenMs)), options.firstTokenMs);
      if (options.signal.aborted) return aborted();
      options.signal.addEventListener('abort', aborted, { once: true });
      this.pending.set(id, {
        token: (token) => {
          if (!text) {
            clearTimeout(firstToken);
            options.onFirstToken?.();
          }
          clearTimeout(idle);
          idle = setTimeout(() => stop(new IdleStreamError(options.idleTokenMs)), options.idleTokenMs);
          // Past the character budget the model is stopped and the answer keeps what fits.
          const kept = token.slice(0, Math.max(0, options.maxChars - text.length));
          text += kept;
          if (kept) options.onToken(kept);
          if (kept.length < token.length) {
            end();
            this.send({ type: 'cancelGenerate', id });
            resolve(text);
          }
        },
        settle: (reply) => {
          end();
          if (reply.failure) reject(new BackendFailure(reply.failure.kind, reply.failure.message));
          else resolve(text);
        },
      });
      this.send({ type: 'generate', id, modelId, messages, maxTokens: options.maxTokens });
    });
  }
}
