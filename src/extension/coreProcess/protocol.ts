/**
 * Messages between the extension host and the core process (dist/coreProcess.js), which runs
 * src/core through its workspace facade: indexing, retrieval and answering never touch the
 * extension host's event loop, and onnxruntime / hnswlib are never loaded into it. Both ends are
 * our own code, shipped in one VSIX, so the shapes are typed rather than validated; they are
 * core's own types, imported for their shape only (nothing of src/core runs in the host).
 */
import type { BackendFailureKind } from '../../core/pipeline/errors.js';
import type { ChatMessage } from '../../core/pipeline/prompt.js';
import type { AnswerMode, AnswerRequest, DegradedCause, LocatedCitation, MetricsSnapshot, PartialIndex, Stage } from '../../core/pipeline/types.js';
import type { IndexState, IndexTotals } from '../../core/workspace/indexState.js';
import type { WorkspaceOptions } from '../../core/workspace/options.js';

/** A question as the chat sends it; the rest of AnswerRequest stays in the core process. */
export type AskParams = Pick<AnswerRequest, 'question' | 'history' | 'selection' | 'searchQuery'>;

export type AskFailureReason = 'aborted' | 'busy' | 'error';

/** The editor's model at work for the core process (hostModels.ts): its tokens, then how it ended. */
export type GenerateReply =
  | { type: 'generateToken'; id: string; text: string }
  | { type: 'generated'; id: string; failure?: { kind: BackendFailureKind; message: string } };

/** A request to run the editor's model (`modelId` '' : the first it offers). */
export interface GenerateRequest {
  modelId: string;
  messages: ChatMessage[];
  maxTokens: number;
}

export type HostToCoreProcess =
  | GenerateReply
  | { type: 'configure'; options: WorkspaceOptions }
  | { type: 'index'; folders?: string[] }
  /** Only these paths of the folder changed (the file watcher's events): no walk of the folder. */
  | { type: 'indexChanged'; folder: string; paths: string[] }
  | { type: 'pauseIndex' }
  | { type: 'resumeIndex' }
  | { type: 'cancelIndex' }
  /** `editorModel`: answer with this editor model instead of the configured backend. */
  | { type: 'ask'; id: string; params: AskParams; editorModel?: string }
  | { type: 'cancelAsk'; id: string }
  | { type: 'search'; id: string; query: string; k: number }
  | { type: 'metrics'; id: string }
  | { type: 'clearCache' }
  | { type: 'examples'; id: string }
  | { type: 'pullModel'; id: string; repoId: string; cacheDir: string }
  | { type: 'cancelPull'; id: string };

export type CoreProcessToHost =
  | { type: 'indexState'; state: IndexState }
  | { type: 'stage'; id: string; stage: Stage }
  /** What retrieval found, as soon as it exists (before the backend is asked). */
  | { type: 'passages'; id: string; citations: LocatedCitation[] }
  /** The answer is made while the index does not cover the workspace. */
  | { type: 'partialIndex'; id: string; partial: PartialIndex }
  | { type: 'token'; id: string; text: string }
  | { type: 'sources'; id: string; citations: LocatedCitation[] }
  | { type: 'answered'; id: string; mode: AnswerMode; degradedReason?: string; degradedCause?: DegradedCause; searchedQuery?: string; suggestions?: string[] }
  | { type: 'askFailed'; id: string; message: string; reason: AskFailureReason }
  | { type: 'searched'; id: string; passages?: LocatedCitation[]; error?: string }
  | { type: 'metrics'; id: string; metrics: MetricsSnapshot | null; totals: IndexTotals }
  | { type: 'examples'; id: string; questions: string[] }
  | { type: 'pullProgress'; id: string; message: string }
  | { type: 'pulled'; id: string; folder?: string; error?: string; cancelled?: boolean }
  | ({ type: 'generate'; id: string } & GenerateRequest)
  | { type: 'cancelGenerate'; id: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };
