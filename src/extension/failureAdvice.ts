/**
 * What the chat says, and offers, when an answer degraded or failed: one sentence on what to do
 * and the fixes that can help with this very failure (Set API key only for 401/403, Start local
 * server only when nothing listens locally). No vscode import, so it is tested as plain code.
 */
import type { DegradedCause } from '../core/pipeline/types.js';
import type { BackendInfo, FixAction } from '../shared/chatProtocol.js';

export interface Advice {
  /** A sentence that follows the pipeline's own reason. */
  hint: string;
  actions: FixAction[];
}

export interface AdviceContext {
  backend: BackendInfo['kind'];
  /** The configured model name (remote), for "model not found". */
  model?: string;
  firstTokenTimeoutSeconds: number;
  localPort?: number;
}

export function adviceFor(cause: DegradedCause | undefined, context: AdviceContext): Advice {
  const local = context.backend === 'local';
  switch (cause?.kind) {
    case 'unreachable':
      return local
        ? { hint: `Nothing answers on 127.0.0.1:${context.localPort ?? '?'}: start the local server.`, actions: ['startLocalServer', 'retry'] }
        : { hint: 'Check the endpoint URL and that the server is running.', actions: ['configureEndpoint', 'retry'] };
    case 'timeout':
      return {
        hint: `The model sent nothing within ${context.firstTokenTimeoutSeconds} s; a slow model needs a longer first-token timeout.`,
        actions: ['retry', 'openTimeoutSetting'],
      };
    case 'rejected':
      if (cause.status === 401 || cause.status === 403) return { hint: 'The endpoint refused the API key.', actions: ['setApiKey', 'retry'] };
      if (cause.status === 404) {
        const model = context.model ? `"${context.model}"` : 'the configured model';
        return { hint: `The endpoint does not serve ${model}: pick one of its models.`, actions: ['configureBackend', 'retry'] };
      }
      return { hint: 'The endpoint refused the request; check the backend settings.', actions: ['configureEndpoint', 'retry'] };
    case 'rate-limited':
      return { hint: 'The endpoint is rate-limiting; retry in a moment.', actions: ['retry'] };
    case 'server-error':
      return { hint: local ? "The local server failed; its log is in Docent's output." : 'The endpoint had an internal error; retry, or check its logs.', actions: local ? ['retry', 'showLog'] : ['retry'] };
    case 'circuit-open':
      return { hint: 'Docent pauses asking the backend after repeated failures and tries again shortly.', actions: ['retry'] };
    case 'malformed-stream':
    case 'truncated-stream':
      return { hint: 'The answer stream broke off; retry.', actions: ['retry'] };
    default:
      return { hint: '', actions: local ? ['startLocalServer', 'retry'] : context.backend === 'none' ? ['configureBackend'] : ['configureEndpoint', 'retry'] };
  }
}
