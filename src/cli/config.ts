/**
 * The configuration as `quorum serve` would load it (--config, else QUORUM_CONFIG, else
 * config/quorum.yaml when present), for commands that only need part of it (`quorum keys` reads its
 * static keys and teams).
 */
import { ConfigError, type GatewayConfig, loadConfig } from '../config/index.ts';

export type CliConfig = { ok: true; config: GatewayConfig } | { ok: false; problems: string[] };

const UNSET = /^(.*?): environment variable ([A-Za-z_][A-Za-z0-9_]*) is not set/;

/**
 * Loads the configuration. A shell that manages keys rarely holds the gateway's provider secrets:
 * variables the file names but this environment lacks are filled with a placeholder (never used, never
 * printed) as long as none of them is where a key's team or name is read from.
 */
export function loadCliConfig(flag: string | undefined): CliConfig {
  const options = flag !== undefined ? { path: flag } : {};
  try {
    return { ok: true, config: loadConfig(options) };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const unset = e.problems.map((p) => UNSET.exec(p));
    const needed = unset.some((m) => !m || /^(keys\[\d+\]\.(team|name)|teams)/.test(m[1]!));
    if (needed) return { ok: false, problems: e.problems };
    const env = { ...process.env };
    for (const m of unset) env[m![2]!] = `unset-in-this-shell:${m![2]}`;
    try {
      return { ok: true, config: loadConfig({ ...options, env }) };
    } catch (again) {
      if (again instanceof ConfigError) return { ok: false, problems: e.problems };
      throw again;
    }
  }
}
