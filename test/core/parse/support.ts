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

/** Sections without their per-line source spans, for comparing the rest exactly. */
export function withoutSourceLines(sections: Section[]): Omit<Section, 'sourceLines'>[] {
  return sections.map(({ sourceLines: _sourceLines, ...rest }) => rest);
}

/**
 * Every word of every section's text must occur in the source lines the section claims, and
 * every word of each text line in the lines recorded for it, so a wrong line range (or text
 * leaking from elsewhere) fails.
 */
export function assertTextWithinLines(content: string, doc: ParsedDocument): void {
  const lineCount = content.split(/\r?\n/).length;
  for (const section of doc.sections) {
    assert.ok(section.startLine >= 1 && section.startLine <= section.endLine && section.endLine <= lineCount, `bad range ${section.startLine}-${section.endLine}`);
    const source = sourceOf(content, section);
    for (const word of section.text.match(/[A-Za-z0-9_]{3,}/g) ?? []) {
      assert.ok(source.includes(word), `"${word}" of ${JSON.stringify(section.headingPath)} is not in lines ${section.startLine}-${section.endLine}`);
    }
    const textLines = section.text.split('\n');
    assert.equal(section.sourceLines.length, textLines.length, `one span per text line in ${JSON.stringify(section.headingPath)}`);
    textLines.forEach((line, i) => {
      const span = section.sourceLines[i]!;
      const lineSource = content.split(/\r?\n/).slice(span.first - 1, span.last).join('\n');
      for (const word of line.match(/[A-Za-z0-9_]{3,}/g) ?? []) {
        assert.ok(lineSource.includes(word), `"${word}" of text line ${i} is not in its lines ${span.first}-${span.last}`);
      }
    });
  }
}
