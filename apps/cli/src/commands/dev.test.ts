import { describe, expect, it } from 'vitest';
import { gatewayAddress } from './dev.js';

describe('gatewayAddress', () => {
  it("reads the address from the gateway's ready line, JSON or pretty", () => {
    expect(gatewayAddress('{"address":"http://127.0.0.1:43121","msg":"gateway ready"}')).toBe(
      'http://127.0.0.1:43121',
    );
    expect(gatewayAddress('    address: "http://[::1]:8080"')).toBe('http://[::1]:8080');
    expect(gatewayAddress('gateway ready')).toBeNull();
  });
});
