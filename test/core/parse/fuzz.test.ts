/**
 * Every parser and the chunker against generated hostile inputs: each case must finish in under
 * a second, keep its output proportional to its input, and keep every line range inside the file.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chunkDocument } from '../../../src/core/chunker.js';
import { parseDocument } from '../../../src/core/parse/parseDocument.js';
import { pathologicalInputs, randomInputs } from '../../support/hostileInputs.js';

const FORMATS = ['md', 'mdx', 'html', 'adoc', 'rst', 'txt', 'ts', 'py'] as const;
const MAX_MS = 1_000;
/** Runs one format's cases alone; FUZZ_FORMAT=md narrows a run while investigating. */
const ONLY = process.env.FUZZ_FORMAT;

function check(extension: string, name: string, text: string): void {
  // CPU time, not wall time: the suite shares its machine, and a busy neighbour is not a slow parser.
  const started = process.cpuUsage();
  const doc = parseDocument(`fuzz/case.${extension}`, text);
  const chunks = chunkDocument(doc);
  const used = process.cpuUsage(started);
  const ms = (used.user + used.system) / 1000;
  assert.ok(ms < MAX_MS, `${extension}: ${name} took ${ms.toFixed(0)} ms`);
  const lines = text.split(/\r\n|\r|\n/).length;
  let output = 0;
  for (const section of doc.sections) {
    output += section.text.length;
    assert.ok(section.startLine >= 1 && section.startLine <= section.endLine && section.endLine <= lines, `${extension}: ${name}: section lines ${section.startLine}-${section.endLine} of ${lines}`);
  }
  assert.ok(output <= 2 * text.length + 1_000, `${extension}: ${name}: ${output} characters of sections from ${text.length}`);
  for (const chunk of chunks) assert.ok(chunk.startLine >= 1 && chunk.endLine <= lines, `${extension}: ${name}: chunk lines ${chunk.startLine}-${chunk.endLine} of ${lines}`);
}

describe('parsers and chunker under hostile input', () => {
  for (const extension of FORMATS.filter((format) => ONLY === undefined || format === ONLY)) {
    test(`${extension}: pathological nesting, emphasis, tables and attributes`, () => {
      for (const { name, text } of pathologicalInputs()) check(extension, name, text);
    });
    test(`${extension}: random bytes`, () => {
      for (const { name, text } of randomInputs(0x5eed + extension.length, 25)) check(extension, name, text);
    });
  }
});
