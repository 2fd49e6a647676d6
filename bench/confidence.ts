/**
 * bench:confidence — does the "nothing in your docs answers this" floor fire when it should?
 * For the five dev sets (../shared/eval) and a set of off-topic and gibberish questions
 * (bench/data/off-topic-questions.json, asked of every corpus), the share of questions whose
 * best hit's confidence is below CONFIDENCE_FLOOR. Goal: ≥ 90% of off-topic flagged, ≤ 3% of
 * dev questions. Keyword-only indexes (the confidence reads words, not vectors).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CONFIDENCE_FLOOR } from '../src/core/search/confidence.js';
import { Workspace } from '../src/core/workspace/workspace.js';
import { EVAL_CORPORA } from './citations.js';
import type { EvalQuestion } from './evalMetrics.js';
import { formatTable, writeResults } from './report.js';

const ROOT = path.resolve(__dirname, '..');
const SHARED_EVAL = path.resolve(ROOT, '..', 'shared', 'eval');

interface Row {
  set: string;
  questions: number;
  flagged: number;
  /** Confidence of each question's best hit, in question order. */
  best: number[];
}

async function bestConfidences(root: string, questions: string[]): Promise<number[]> {
  const storeDir = await fs.mkdtemp(path.join(tmpdir(), 'docent-confidence-'));
  try {
    const workspace = await Workspace.open({
      folders: [{ name: path.basename(root), root, storeDir }],
      createStores: true,
      embedder: 'none',
      indexing: { exclude: ['.done'], defaultExcludes: false },
    });
    await workspace.index();
    const best: number[] = [];
    for (const q of questions) best.push(Math.max(0, ...(await workspace.search(q, { k: 8 })).map((hit) => hit.confidence ?? 0)));
    await workspace.close();
    return best;
  } finally {
    await fs.rm(storeDir, { recursive: true, force: true });
  }
}

export async function runBench(): Promise<unknown> {
  if (!existsSync(SHARED_EVAL)) {
    console.log(`bench:confidence skipped: ../shared/eval not found beside the project (${SHARED_EVAL})`);
    return { skipped: 'no ../shared/eval' };
  }
  const offTopic = JSON.parse(await fs.readFile(path.join(__dirname, 'data', 'off-topic-questions.json'), 'utf8')) as string[];
  const dev: Row[] = [];
  const off: Row = { set: 'off-topic + gibberish (each corpus)', questions: 0, flagged: 0, best: [] };
  for (const corpus of EVAL_CORPORA) {
    const dest = path.join(ROOT, '.cache', `${corpus}-docs`);
    if (!existsSync(path.join(dest, '.done'))) execFileSync('bash', [path.join(SHARED_EVAL, `get-${corpus}-docs.sh`), dest], { stdio: ['ignore', 'ignore', 'inherit'] });
    const questions = JSON.parse(await fs.readFile(path.join(SHARED_EVAL, `${corpus}-questions.json`), 'utf8')) as EvalQuestion[];
    // `small` is answered per workspace: the folder named by the first segment of rel.
    const groups = new Map<string, EvalQuestion[]>();
    for (const q of questions) {
      const folder = corpus === 'small' ? path.join(dest, q.rel[0]!.split('/')[0]!) : dest;
      groups.set(folder, [...(groups.get(folder) ?? []), q]);
    }
    const row: Row = { set: corpus, questions: 0, flagged: 0, best: [] };
    for (const [folder, group] of groups) {
      const best = await bestConfidences(folder, [...group.map((q) => q.q), ...offTopic]);
      const devBest = best.slice(0, group.length);
      const offBest = best.slice(group.length);
      row.best.push(...devBest);
      row.questions += group.length;
      row.flagged += devBest.filter((c) => c < CONFIDENCE_FLOOR).length;
      off.best.push(...offBest);
      off.questions += offBest.length;
      off.flagged += offBest.filter((c) => c < CONFIDENCE_FLOOR).length;
    }
    dev.push(row);
  }
  const allDev: Row = { set: 'all dev sets', questions: 0, flagged: 0, best: [] };
  for (const row of dev) {
    allDev.questions += row.questions;
    allDev.flagged += row.flagged;
  }
  const rows = [...dev, allDev, off].map((r) => [r.set, String(r.questions), String(r.flagged), `${((100 * r.flagged) / r.questions).toFixed(1)}%`]);
  console.log(`confidence floor ${CONFIDENCE_FLOOR} (best hit of 8, keyword-only index)\n${formatTable(['questions', 'count', 'flagged "not found"', 'share flagged'], rows)}`);
  const output = { floor: CONFIDENCE_FLOOR, dev, allDev: { questions: allDev.questions, flagged: allDev.flagged }, offTopic: off };
  await writeResults('confidence', output);
  return output;
}

if (process.argv[1]?.endsWith('confidence.ts')) void runBench();
