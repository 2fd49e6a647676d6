/**
 * When V8 optimizes: a function is compiled by TurboFan once it has used up its interrupt budget
 * (bytecodes run, roughly). The flag is process-wide, worker threads included.
 *
 * A short command (`docent query`, an index run of a few changed files, ~0.1 s) sets it 8× V8's
 * default: in 0.1 s TurboFan compiled ~25 functions on a background thread, most finished too late
 * to pay back, and the larger budget cut such a process's CPU by a sixth to a third. A run long
 * enough for parse workers sets it to 4× instead: at 8× its hot code stayed in the slower tiers
 * longer (a full index of corpus-100 spent 0.5–3% more CPU than at 1×), and at 1× TurboFan, an
 * eighth of that run's CPU, compiled the big parser functions before their rarer branches had run
 * and compiled them again after each deopt; at 4× the run took 5.6% less CPU and wall than at 1×
 * (12 of 14 alternating pairs faster, BENCHMARKS.md, 2026-12-07).
 */
import { setFlagsFromString } from 'node:v8';

/** V8's default (Node 20's V8 11.3: `node --v8-options`). */
const DEFAULT_INTERRUPT_BUDGET = 67_584;
const SHORT_RUN_INTERRUPT_BUDGET = 8 * DEFAULT_INTERRUPT_BUDGET;
const LONG_RUN_INTERRUPT_BUDGET = 4 * DEFAULT_INTERRUPT_BUDGET;

/** For a process that will likely finish in a fraction of a second. */
export function tierForShortRun(): void {
  setInterruptBudget(SHORT_RUN_INTERRUPT_BUDGET);
}

/** For work that will run for seconds. */
export function tierForLongRun(): void {
  setInterruptBudget(LONG_RUN_INTERRUPT_BUDGET);
}

// Set every time, never remembered: the launcher (dist/cli.js) and a command file each bundle their own copy of this module.
function setInterruptBudget(value: number): void {
  setFlagsFromString(`--interrupt-budget=${value}`);
}
