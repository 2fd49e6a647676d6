/**
 * What this thread has done that the CLI's launcher asks about when it decides whether to write
 * a command's code cache again (src/cli/launch.ts): a cache holds the functions the run that
 * wrote it compiled, and a run that parsed no file on this thread (one that found nothing
 * changed, or parsed in worker threads) compiled no parser. Kept on the global object: the
 * launcher and a command file each bundle their own copy of this module.
 */
const FILES_PARSED = Symbol.for('docent.filesParsedOnThisThread');

export function noteFileParsed(): void {
  (globalThis as Record<symbol, unknown>)[FILES_PARSED] = true;
}

export function filesParsedOnThisThread(): boolean {
  return (globalThis as Record<symbol, unknown>)[FILES_PARSED] === true;
}
