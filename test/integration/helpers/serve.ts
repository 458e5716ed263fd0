/** Runs the real `quorum serve` as a child process, as an operator would, and waits for its URL. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function spawnServe(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'src/cli/main.ts'), 'serve', '--port', '0', ...args], {
    cwd: options.cwd,
    env: options.env,
  });
  let out = '';
  const append = (d: Buffer) => {
    out += d;
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`quorum serve did not start:\n${out}`));
    }, options.timeoutMs ?? 20_000);
    // A configuration it refuses ends it at once: say so now rather than at the timeout.
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`quorum serve exited with code ${code} before listening:\n${out}`));
    });
    child.stdout!.on('data', () => {
      const match = /Quorum listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        ok(match[1]!);
      }
    });
  });
  return {
    url,
    child,
    output: () => out,
    stop: (signal = 'SIGTERM') =>
      new Promise((done) => {
        if (child.exitCode !== null) return done(child.exitCode);
        child.once('exit', (code) => done(code));
        child.kill(signal);
      }),
  };
}
