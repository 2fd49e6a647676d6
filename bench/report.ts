/** Shared output of the benchmarks: a plain-text table on stdout and a JSON file with the machine. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function machineDescription() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
  };
}

export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

export async function writeResults(name: string, data: unknown): Promise<string> {
  const dir = path.resolve(__dirname, 'results');
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  await fs.writeFile(file, `${JSON.stringify({ bench: name, machine: machineDescription(), ...(data as object) }, null, 2)}\n`);
  return file;
}
