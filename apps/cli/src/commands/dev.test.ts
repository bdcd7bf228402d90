import { describe, expect, it } from 'vitest';
import { checkoutPrefix, gatewayAddress, reachableUrl, sharedPrefixWarning } from './dev.js';

describe('gatewayAddress', () => {
  it("reads the address from the gateway's ready line, JSON or pretty", () => {
    expect(gatewayAddress('{"address":"http://127.0.0.1:43121","msg":"gateway ready"}')).toBe(
      'http://127.0.0.1:43121',
    );
    expect(gatewayAddress('    address: "http://[::1]:8080"')).toBe('http://[::1]:8080');
    expect(gatewayAddress('[12:00:00] INFO (gateway/1): gateway ready at http://127.0.0.1:8080')).toBe(
      'http://127.0.0.1:8080',
    );
    expect(gatewayAddress('gateway ready')).toBeNull();
  });
});

describe('reachableUrl', () => {
  it('reaches an any-address gateway on loopback, and names the port it was given', () => {
    expect(reachableUrl(null, '127.0.0.1', 8080)).toBe('http://127.0.0.1:8080');
    expect(reachableUrl(null, '0.0.0.0', 9090)).toBe('http://127.0.0.1:9090');
    expect(reachableUrl(null, '::', 8080)).toBe('http://[::1]:8080');
    expect(reachableUrl('http://0.0.0.0:41234', '0.0.0.0', 0)).toBe('http://127.0.0.1:41234');
  });
});

describe('shared queue prefix', () => {
  it("suggests a prefix of the checkout's own, stable and Redis Cluster friendly", () => {
    const prefix = checkoutPrefix('/home/alice/src/quire');
    expect(prefix).toMatch(/^\{quire-quire-[0-9a-f]{6}\}$/);
    expect(checkoutPrefix('/home/alice/src/quire')).toBe(prefix);
    expect(checkoutPrefix('/home/bob/src/quire')).not.toBe(prefix);
    expect(checkoutPrefix('/tmp/my checkout!')).toMatch(/^\{quire-mycheckout-[0-9a-f]{6}\}$/);
  });

  it('says how many workers share the prefix and how to pick another', () => {
    const text = sharedPrefixWarning(2, '{quire}', '/work/a');
    expect(text).toMatch(/^2 workers already consume queue prefix \{quire\}/);
    expect(text).toContain(`QUIRE_QUEUE_PREFIX='${checkoutPrefix('/work/a')}'`);
    expect(sharedPrefixWarning(1, '{quire}', '/work/a')).toMatch(/^1 worker already consumes/);
  });
});
