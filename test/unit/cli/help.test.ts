import { describe, expect, it } from 'vitest';
import { quorum } from './helpers.ts';

describe('help and usage errors', () => {
  it.each(['--help', '-h', 'help'])('%s on the main command exits 0 and lists the commands', (flag) => {
    const r = quorum([flag]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: quorum <command>/);
    expect(r.stdout).toContain('serve');
    expect(r.stdout).toContain('validate');
    expect(r.stdout).toContain('--help');
  });

  it('serve --help exits 0 and explains its options without starting a server', () => {
    const r = quorum(['serve', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: quorum serve/);
    for (const opt of ['--config', '--port', '--host']) expect(r.stdout).toContain(opt);
    expect(r.stdout).not.toMatch(/listening/i);
  });

  it('validate --help exits 0 and explains usage and exit codes', () => {
    const r = quorum(['validate', '-h']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: quorum validate/);
    expect(r.stdout).toMatch(/Exit codes/);
  });

  it('an unknown command exits 2 and points at --help', () => {
    const r = quorum(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('frobnicate');
    expect(r.stderr).toContain('--help');
    expect(r.stdout).toBe('');
  });

  it.each(['validate', 'serve'])('an unknown flag on %s exits 2 with a pointer to its help', (cmd) => {
    const r = quorum([cmd, '--no-such-flag']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--no-such-flag');
    expect(r.stderr).toContain(`quorum ${cmd} --help`);
  });
});
