import assert from 'node:assert/strict';
import type { ParsedDocument, Section } from '../../../src/core/types.js';

/** 1-based number of the first line equal to `exact` at or after line `after` + 1. */
export function lineOf(lines: string[], exact: string, after = 0): number {
  const index = lines.indexOf(exact, after);
  assert.notEqual(index, -1, `fixture has no line ${JSON.stringify(exact)}`);
  return index + 1;
}

/** The original lines a section claims, joined with '\n'. */
export function sourceOf(content: string, section: Section): string {
  return content.split(/\r?\n/).slice(section.startLine - 1, section.endLine).join('\n');
}

/** The section whose heading path is exactly `path`. */
export function sectionAt(doc: ParsedDocument, ...path: string[]): Section {
  const found = doc.sections.find((s) => s.headingPath.join('\u0000') === path.join('\u0000'));
  assert.ok(found, `no section at ${JSON.stringify(path)}; have ${JSON.stringify(doc.sections.map((s) => s.headingPath))}`);
  return found;
}

/**
 * Every word of every section's text must occur in the source lines the section claims,
 * so a wrong line range (or text leaking from elsewhere) fails.
 */
export function assertTextWithinLines(content: string, doc: ParsedDocument): void {
  const lineCount = content.split(/\r?\n/).length;
  for (const section of doc.sections) {
    assert.ok(section.startLine >= 1 && section.startLine <= section.endLine && section.endLine <= lineCount, `bad range ${section.startLine}-${section.endLine}`);
    const source = sourceOf(content, section);
    for (const word of section.text.match(/[A-Za-z0-9_]{3,}/g) ?? []) {
      assert.ok(source.includes(word), `"${word}" of ${JSON.stringify(section.headingPath)} is not in lines ${section.startLine}-${section.endLine}`);
    }
  }
}
