import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { boundText, clampSetting, SETTING_RANGES, type NumericSetting } from '../../src/core/bounds.js';

const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, { type: string; minimum?: number; maximum?: number; default?: number }> } };
};
const numberSettings = Object.entries(manifest.contributes.configuration.properties).filter(([, schema]) => schema.type === 'number');

describe('setting ranges', () => {
  test('every numeric setting in package.json has a range here, with the same minimum, maximum and default', () => {
    assert.deepEqual(
      numberSettings.map(([name]) => name.replace(/^docent\./, '')).sort(),
      Object.keys(SETTING_RANGES).sort(),
    );
    for (const [name, schema] of numberSettings) {
      const range = SETTING_RANGES[name.replace(/^docent\./, '') as NumericSetting];
      assert.deepEqual({ min: schema.minimum, max: schema.maximum, default: schema.default }, range, name);
    }
  });

  test('a workspace value outside the schema is clamped; one that is no number gets the default', () => {
    assert.equal(clampSetting('performance.embeddingWorkers', 10_000), 16);
    assert.equal(clampSetting('performance.maxConcurrentRequests', 0), 1);
    assert.equal(clampSetting('answer.passages', -3), 1);
    assert.equal(clampSetting('answer.passages', 1e9), 50);
    assert.equal(clampSetting('index.maxFileSizeKB', Number.POSITIVE_INFINITY), 2048);
    assert.equal(clampSetting('index.maxFileSizeKB', 1e12), 65_536);
    assert.equal(clampSetting('answer.passages', '40'), 6);
    assert.equal(clampSetting('answer.passages', Number.NaN), 6);
    assert.equal(clampSetting('answer.passages', 2.6), 3);
  });
});

describe('boundText', () => {
  test('keeps short text, cuts long text with an ellipsis and never splits a surrogate pair', () => {
    assert.equal(boundText('short', 10), 'short');
    assert.equal(boundText('abcdefghij', 5), 'abcd…');
    const cut = boundText('ab😀cd', 4);
    assert.equal(cut, 'ab…');
    assert.ok(!/[\ud800-\udbff]$/.test(cut.slice(0, -1)));
  });
});
