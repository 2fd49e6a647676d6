/**
 * Size limits on what leaves core towards a person or another process, and the ranges of the
 * numeric settings: one place, so the answer cap, the passage cap, what a chat turn keeps and the
 * settings' schema agree. The chat protocol's own cap (MAX_TEXT in src/shared/validate.ts, which
 * cannot import this module at runtime) must stay above what these let through; the tests check it.
 */

/** Characters of one answer; a backend that sends more is cut off here, with CUT_NOTE. */
export const MAX_ANSWER_CHARS = 64_000;
/** Characters of one passage as it leaves core in a citation (the prompt has its own token budget). */
export const MAX_PASSAGE_CHARS = 8_000;
/** Characters of a citation's text in a stored chat turn: a reference with a short excerpt, not the passage. */
export const STORED_EXCERPT_CHARS = 400;

/** Appended to an answer the backend kept sending past its bounds. */
export function cutNote(reason: string): string {
  return `\n\n[Answer cut: ${reason}; the rest was dropped.]`;
}

/** `text` cut to at most `maxChars` UTF-16 units (never inside a surrogate pair), '…' marking a cut. */
export function boundText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let end = Math.max(0, maxChars - 1);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

export interface SettingRange {
  min: number;
  max: number;
  default: number;
}

/**
 * The numeric `docent.*` settings, as package.json declares them. A workspace can set most of them,
 * and the editor does not enforce a schema's range, so every value is clamped here before use.
 */
export const SETTING_RANGES = {
  'localServer.port': { min: 1024, max: 65535, default: 8123 },
  'embedding.deviceId': { min: 0, max: 64, default: 0 },
  'index.maxFileSizeKB': { min: 1, max: 65_536, default: 2048 },
  'answer.passages': { min: 1, max: 50, default: 6 },
  'answer.idleTimeoutSeconds': { min: 1, max: 600, default: 30 },
  'answer.firstTokenTimeoutSeconds': { min: 1, max: 600, default: 20 },
  'cache.answerEntries': { min: 1, max: 100_000, default: 500 },
  'cache.answerTtlSeconds': { min: 1, max: 604_800, default: 3600 },
  'cache.embeddingEntries': { min: 1, max: 1_000_000, default: 2000 },
  'cache.embeddingTtlSeconds': { min: 1, max: 2_592_000, default: 86_400 },
  'performance.maxConcurrentRequests': { min: 1, max: 32, default: 2 },
  'performance.embeddingWorkers': { min: 1, max: 16, default: 1 },
} as const satisfies Record<string, SettingRange>;

export type NumericSetting = keyof typeof SETTING_RANGES;

/** An integer inside the setting's range: a value that is no finite number gets the default. */
export function clampSetting(name: NumericSetting, value: unknown): number {
  const range: SettingRange = SETTING_RANGES[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) return range.default;
  return Math.min(range.max, Math.max(range.min, Math.round(value)));
}
