/** Public surface of the answer pipeline. */
export { AnswerPipeline, DEFAULT_CACHE_OPTIONS, DEFAULT_LIMITS, DEFAULT_TIMEOUTS } from './answerPipeline.js';
export { BackendFailure, BusyError, StageTimeoutError } from './errors.js';
export type { BackendFailureKind } from './errors.js';
export type * from './types.js';
