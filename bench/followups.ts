/**
 * bench:followup — does the follow-up heuristic (src/core/pipeline/conversations.ts) rewrite only
 * the questions that depend on the previous turn? A hand-labelled list
 * (bench/data/followup-questions.json: standalone and dependent questions, each asked after a
 * previous question) plus, when ../shared/eval is present, every dev-set question as a
 * standalone one asked after another set's question. Goal: ≥ 95% of standalone questions left
 * untouched; dependent ones rewritten (the previous question's words joined to their own).
 * Pure computation: no index, no model.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { rewriteFollowUpHeuristically } from '../src/core/pipeline/conversations.js';
import type { Turn } from '../src/core/pipeline/types.js';
import type { EvalQuestion } from './evalMetrics.js';
import { EVAL_SET_NAMES } from './retrieval.js';
import { formatTable, writeResults } from './report.js';

const SHARED_EVAL = path.resolve(__dirname, '..', '..', 'shared', 'eval');

interface Labelled {
  previous: string;
  q: string;
  dependent: boolean;
}

interface Outcome extends Labelled {
  source: string;
  searched: string;
}

function ask(item: Labelled): string {
  const history: Turn[] = [
    { role: 'user', content: item.previous },
    { role: 'assistant', content: 'An answer citing [1].' },
  ];
  return rewriteFollowUpHeuristically(item.q, history);
}

export async function runBench(): Promise<unknown> {
  const written = (JSON.parse(await fs.readFile(path.join(__dirname, 'data', 'followup-questions.json'), 'utf8')) as { questions: Labelled[] }).questions;
  const items: { source: string; item: Labelled }[] = written.map((item) => ({ source: 'written', item }));
  if (existsSync(SHARED_EVAL)) {
    const sets = await Promise.all(EVAL_SET_NAMES.map(async (name) => JSON.parse(await fs.readFile(path.join(SHARED_EVAL, `${name}-questions.json`), 'utf8')) as EvalQuestion[]));
    // Each dev question follows a question of the next set: a new topic, never a follow-up.
    sets.forEach((questions, s) => {
      const next = sets[(s + 1) % sets.length]!;
      questions.forEach((question, i) => items.push({ source: 'dev sets', item: { previous: next[i % next.length]!.q, q: question.q, dependent: false } }));
    });
  } else {
    console.log(`bench:followup: ../shared/eval not found (${SHARED_EVAL}); the written list only`);
  }
  const outcomes: Outcome[] = items.map(({ source, item }) => ({ ...item, source, searched: ask(item) }));
  const rewritten = (o: Outcome) => o.searched !== o.q;
  const rows: string[][] = [];
  const summary: Record<string, { questions: number; rewritten: number }> = {};
  for (const [label, filter] of [
    ['standalone (written)', (o: Outcome) => !o.dependent && o.source === 'written'],
    ['standalone (dev-set questions)', (o: Outcome) => !o.dependent && o.source === 'dev sets'],
    ['standalone (all)', (o: Outcome) => !o.dependent],
    ['dependent (written)', (o: Outcome) => o.dependent],
  ] as const) {
    const group = outcomes.filter(filter);
    const count = group.filter(rewritten).length;
    summary[label] = { questions: group.length, rewritten: count };
    const untouched = group.length - count;
    rows.push([label, String(group.length), String(count), `${((100 * untouched) / Math.max(1, group.length)).toFixed(1)}%`, `${((100 * count) / Math.max(1, group.length)).toFixed(1)}%`]);
  }
  console.log(formatTable(['questions', 'count', 'rewritten', 'left untouched', 'rewritten share'], rows));
  const wrong = outcomes.filter((o) => rewritten(o) !== o.dependent);
  for (const o of wrong) console.log(`  ${o.dependent ? 'missed follow-up' : 'rewrote standalone'}: "${o.q}" → "${o.searched}"`);
  const output = { summary, wrong: wrong.map(({ q, previous, dependent, searched }) => ({ q, previous, dependent, searched })) };
  await writeResults('followup', output);
  return output;
}

if (process.argv[1]?.endsWith('followups.ts')) void runBench();
