import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, type GatewayConfig, type LoadOptions, loadConfig } from '../../../src/config/index.ts';

/** A scratch directory for config files; call `cleanup()` in afterAll. */
export function scratchDir(prefix = 'quorum-config-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  return {
    dir,
    /** Writes `text` to a fresh file in the scratch directory and returns its path. */
    write(text: string, name = `config-${++n}.yaml`): string {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Loads a config file with an explicit (usually empty) environment. */
export function load(
  path: string,
  env: NodeJS.ProcessEnv = {},
  extra: Partial<LoadOptions> = {},
): GatewayConfig {
  return loadConfig({ path, env, ...extra });
}

/** Runs the loader expecting a ConfigError and returns its problem lines. */
export function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw new Error(`expected a ConfigError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a ConfigError, but the configuration loaded');
}

/** The problem lines that start with `path: ` (the path exactly, not a longer one). */
export function at(problems: string[], path: string): string[] {
  return problems.filter((p) => p.startsWith(`${path}: `));
}
