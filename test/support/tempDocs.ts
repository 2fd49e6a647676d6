/** Small documentation folders written into temp dirs for tests. */
import { promises as fs, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const madeDirs: string[] = [];

/** Removed when the test process exits (every suite run used to leave all of them in /tmp);
 *  DOCENT_KEEP_TEMP=1 keeps them for a post-mortem. */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), `docent-${prefix}-`));
  if (madeDirs.push(dir) === 1 && process.env.DOCENT_KEEP_TEMP !== '1') process.once('exit', removeMadeDirs);
  return dir;
}

function removeMadeDirs(): void {
  for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
}

export async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [relative, content] of Object.entries(files)) {
    const target = path.join(root, relative);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, content);
  }
}

const TOPICS = ['replication', 'backups', 'indexing', 'vacuum', 'logging', 'tracing', 'quotas', 'billing', 'alerts', 'routing'];

/** `count` Markdown pages with distinct, searchable vocabulary: page-N.md about TOPICS[N % 10]. */
export function generatedPages(count: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const topic = TOPICS[i % TOPICS.length]!;
    files[`section-${i % 7}/page-${i}.md`] =
      `# Page ${i}: ${topic}\n\nThis page explains ${topic} for service number${i}.\n\n` +
      `## Configure ${topic}\n\nSet \`${topic}.limit${i}\` in the config file.\n\n\`\`\`bash\n# enable ${topic}\nlumenctl enable ${topic} --id ${i}\n\`\`\`\n\n` +
      `## Troubleshooting\n\nIf ${topic} fails with error E${1000 + i}, restart the worker.\n`;
  }
  return files;
}
