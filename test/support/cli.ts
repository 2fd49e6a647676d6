/** Runs the built `docent` binary (dist/cli.js) as a user would, capturing its exit code and output. */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

export const CLI_PATH = path.resolve(__dirname, '../../dist/cli.js');

const run = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runDocent(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI_PATH, ...args], { env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
