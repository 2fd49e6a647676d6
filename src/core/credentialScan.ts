/**
 * Finds text that looks like a live credential rather than prose about credentials. Discovery
 * asks it about markup pages named secrets.* or credentials.*, which are kept as pages about
 * secrets (Python's library/secrets.html) unless their text holds one: a team's secrets.md with
 * real keys pasted in must not reach the index, an answer or a generation backend.
 */

export interface CredentialFinding {
  /** 1-based line of the first finding. */
  line: number;
  /** What was found, in words; never the credential itself. */
  kind: string;
}

/** Token formats with a fixed, unmistakable prefix. */
const TOKEN_PATTERNS: readonly { kind: string; pattern: RegExp }[] = [
  { kind: 'a private key block', pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[ \t]*\r?\n(?:[A-Za-z0-9-]+:[^\n]*\r?\n|[ \t]*\r?\n)*[ \t]*[A-Za-z0-9+/]{40,}/ },
  { kind: 'an AWS access key id', pattern: /\b(?:AKIA|ASIA)(?!\w*EXAMPLE)[A-Z0-9]{16}\b/ },
  { kind: 'a GitHub token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{50,})\b/ },
  { kind: 'a Slack token', pattern: /\bxox[abposr]-[0-9]{6,}-[A-Za-z0-9-]{10,}/ },
  { kind: 'a Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/ },
  { kind: 'a Stripe live key', pattern: /\b[rs]k_live_[0-9A-Za-z]{20,}\b/ },
  { kind: 'an npm token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { kind: 'an OpenAI API key', pattern: /\bsk-(?:proj-)?[A-Za-z0-9_-]{40,}(?![A-Za-z0-9_-])/ },
];

/** `password: …`, `api_key = "…"` and the like; the value is judged by isSecretLooking. */
const ASSIGNMENT = /(?:pass(?:word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret|auth)["']?[ \t]*(?::|=|=>)[ \t]*["']?([A-Za-z0-9+/_.=-]{16,})(?=["'`\s,;<]|$)/gim;

/** Placeholders a page about secrets writes in place of one. */
const PLACEHOLDER = /example|sample|dummy|placeholder|changeme|your|xxxx|\.\.\.|<|\$\{?|(.)\1{5}/i;

export function findCredential(text: string): CredentialFinding | undefined {
  let first: { index: number; kind: string } | undefined;
  for (const { kind, pattern } of TOKEN_PATTERNS) {
    const match = pattern.exec(text);
    if (match && (first === undefined || match.index < first.index)) first = { index: match.index, kind };
  }
  for (const match of text.matchAll(ASSIGNMENT)) {
    // Where the value starts, so a named token assigned to a key (`_authToken=npm_…`) keeps its name.
    const valueIndex = match.index + match[0].length - match[1].length;
    if (first !== undefined && valueIndex >= first.index) break;
    if (isSecretLooking(match[1])) {
      first = { index: valueIndex, kind: 'a password or key assigned a random-looking value' };
      break;
    }
  }
  return first && { line: lineOf(text, first.index), kind: first.kind };
}

/**
 * Random-looking: letters and digits mixed, no placeholder words, not a dotted name
 * (`secrets.token_hex`), and at least 3.5 bits of entropy per character, which English words
 * and identifiers rarely reach at this length while generated keys always do.
 */
function isSecretLooking(value: string): boolean {
  if (!/[A-Za-z]/.test(value) || !/[0-9]/.test(value) || PLACEHOLDER.test(value)) return false;
  if (/^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(value)) return false;
  return entropyBitsPerCharacter(value) >= 3.5;
}

function entropyBitsPerCharacter(value: string): number {
  const counts = new Map<string, number>();
  for (const character of value) counts.set(character, (counts.get(character) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const share = count / value.length;
    bits -= share * Math.log2(share);
  }
  return bits;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let at = text.indexOf('\n'); at >= 0 && at < index; at = text.indexOf('\n', at + 1)) line++;
  return line;
}
