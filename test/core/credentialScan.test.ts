import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findCredential } from '../../src/core/credentialScan.js';

// Fakes shaped like each format (prefix, alphabet, length), built here so no file holds one whole.
const fakes: readonly [kind: string, text: string][] = [
  ['a private key block', `-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\n${'MIIEowIBAAKCAQEAx7'.repeat(4)}\n-----END RSA PRIVATE KEY-----`],
  ['an AWS access key id', `aws_access_key_id = AKIA${'Q7RZ2KXW'.repeat(2)}`],
  ['a GitHub token', `export GH=${'ghp_'}${'a1B2c3D4e5F6'.repeat(3)}`],
  ['a Slack token', `xoxb-${'123456789012'}-${'AbCdEfGhIjKlMn'}`],
  ['a Google API key', `key=AIza${'Sy9x-Lm_Q2'.repeat(3)}abcde`],
  ['a Stripe live key', `sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'}`],
  ['an npm token', `//registry.npmjs.org/:_authToken=npm_${'Ab12Cd34Ef56'.repeat(3)}`],
  ['an OpenAI API key', `OPENAI=sk-proj-${'Xy7Qw2Er9Ty4Ui1Op6As3Df'.repeat(2)}`],
  ['a password or key assigned a random-looking value', 'db:\n  host: db.internal\n  password: "Tr9kQ2mZx7Lp4Wv8"\n'],
];

describe('findCredential', () => {
  for (const [kind, text] of fakes) {
    it(`finds ${kind} and names its line`, () => {
      const finding = findCredential(`# Notes\n\n${text}\n`);
      assert.equal(finding?.kind, kind);
      assert.equal(finding?.line, kind.startsWith('a password') ? 5 : 3);
    });
  }

  it('reports the earliest finding when a page holds several', () => {
    const text = `password = "Tr9kQ2mZx7Lp4Wv8"\n\nAKIA${'Q7RZ2KXW'.repeat(2)}\n`;
    assert.deepEqual(findCredential(text), { line: 1, kind: 'a password or key assigned a random-looking value' });
  });

  it('passes pages that explain secrets: placeholders, documented examples, code that makes them, truncated keys', () => {
    const prose = [
      'The secrets module generates tokens: `token = secrets.token_hex(16)` or `secrets.token_urlsafe()`.',
      'Set password: <your-password> and api_key = "${API_KEY}"; never commit token: xxxxxxxxxxxxxxxxxxxx.',
      'AWS documents the key id AKIAIOSFODNN7EXAMPLE and the secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY.',
      'A key file starts with -----BEGIN RSA PRIVATE KEY----- and then base64 lines ...',
      '-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----',
      'The password: correcthorsebatterystaple is long but is words; passwords = 1234567890123456 is digits.',
      'Tokens look like ghp_ followed by 36 characters; Slack bot tokens start with xoxb-.',
    ].join('\n\n');
    assert.equal(findCredential(prose), undefined);
  });
});
