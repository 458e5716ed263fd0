/**
 * Who counts as "this machine": `Host` names an open gateway answers to (DNS rebinding defence) and the
 * peer addresses /metrics answers without a key.
 */
import { describe, expect, it } from 'vitest';
import { isAllowedHost, isLoopbackAddress, isLoopbackHost } from '../../../src/server/loopback.ts';

describe('isLoopbackAddress (the /metrics peer rule)', () => {
  it.each(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1'])('%s is local', (a) => {
    expect(isLoopbackAddress(a)).toBe(true);
  });
  it.each([
    '10.0.0.5',
    '192.168.1.2',
    '::ffff:10.0.0.1',
    'fe80::1',
    '128.0.0.1',
    '1127.0.0.1',
    '',
    undefined,
  ])('%s is not', (a) => {
    expect(isLoopbackAddress(a)).toBe(false);
  });
});

describe('isLoopbackHost', () => {
  it.each([
    'localhost',
    'LOCALHOST:8080',
    'localhost.',
    'app.localhost:3000',
    '127.0.0.1:8080',
    '127.9.9.9',
    '[::1]:8080',
    '[::1]',
  ])('%s is loopback', (h) => {
    expect(isLoopbackHost(h)).toBe(true);
  });
  it.each([
    'evil.example',
    'localhost.evil.example',
    '127.0.0.1.evil.example',
    'mylocalhost',
    '0.0.0.0:8080',
    '[::2]',
  ])('%s is not', (h) => {
    expect(isLoopbackHost(h)).toBe(false);
  });
});

describe('isAllowedHost', () => {
  it('refuses a value naming more than one host, whichever comes first', () => {
    expect(isAllowedHost('localhost:8080, evil.example', [])).toBe(false);
    expect(isAllowedHost('127.0.0.1, localhost', [])).toBe(false);
    expect(isAllowedHost('gateway.lan, gateway.lan', ['gateway.lan'])).toBe(false);
    expect(isAllowedHost('localhost:8080', [])).toBe(true);
  });

  it('matches a configured name on any port, a name:port on that port only', () => {
    const allowed = ['gateway.lan', 'box.lan:9000'];
    expect(isAllowedHost('gateway.lan:8080', allowed)).toBe(true);
    expect(isAllowedHost('Gateway.LAN', allowed)).toBe(true);
    expect(isAllowedHost('box.lan:9000', allowed)).toBe(true);
    expect(isAllowedHost('box.lan:9001', allowed)).toBe(false);
    expect(isAllowedHost('sub.gateway.lan', allowed)).toBe(false);
    expect(isAllowedHost('localhost:1', [])).toBe(true);
  });
});
