import { describe, expect, it } from 'vitest';
import { classifyAddress, invalidAddressEntry, parseAddress, refusalReason } from './address-policy.js';

const closed = { allowPrivateNetworks: false, allowAddresses: [] };

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['169.254.10.10', 'linkLocal'],
    ['224.0.0.1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fe80::1%eth0', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:7f00:1', 'loopback'],
    ['::7f00:1', 'ipv4Compatible'],
    ['64:ff9b::7f00:1', 'nat64(loopback)'],
    ['64:ff9b::a9fe:a9fe', 'nat64(linkLocal)'],
    ['2002:7f00:1::', '6to4'],
  ])('%s is not public (%s)', (address, range) => {
    const verdict = classifyAddress(address);
    expect(verdict.range).toBe(range);
    expect(verdict.public).toBe(false);
  });

  it.each(['8.8.8.8', '93.184.215.14', '2606:4700:4700::1111', '64:ff9b::808:808'])(
    '%s is public',
    (address) => {
      expect(classifyAddress(address)).toMatchObject({ public: true, metadata: false });
    },
  );

  it.each([
    '169.254.169.254',
    '168.63.129.16',
    'fd00:ec2::254',
    '::ffff:169.254.169.254',
    '64:ff9b::a9fe:a9fe',
  ])('%s is a metadata address', (address) => {
    expect(classifyAddress(address)).toMatchObject({ public: false, metadata: true });
  });

  it('shows IPv4-mapped addresses as IPv4', () => {
    expect(classifyAddress('::ffff:127.0.0.1').address).toBe('127.0.0.1');
  });
});

describe('parseAddress', () => {
  it('accepts bracketed IPv6 and refuses names and loose IPv4 forms', () => {
    expect(parseAddress('[::1]')?.toString()).toBe('::1');
    expect(parseAddress('localhost')).toBeNull();
    expect(parseAddress('127.1')).toBeNull();
    expect(parseAddress('0x7f.0.0.1')).toBeNull();
  });
});

describe('refusalReason', () => {
  it('refuses non-public addresses by default and names the range', () => {
    expect(refusalReason('::1', closed)).toBe('::1 is a non-public address (loopback)');
    expect(refusalReason('8.8.8.8', closed)).toBeNull();
  });

  it('opens private networks but never metadata addresses', () => {
    const open = { allowPrivateNetworks: true, allowAddresses: [] };
    expect(refusalReason('127.0.0.1', open)).toBeNull();
    expect(refusalReason('fe80::1', open)).toBeNull();
    expect(refusalReason('169.254.169.254', open)).toBe('169.254.169.254 is a cloud metadata address');
    expect(refusalReason('168.63.129.16', open)).toContain('metadata');
  });

  it('allows listed addresses and ranges only', () => {
    const policy = {
      allowPrivateNetworks: false,
      allowAddresses: ['10.20.0.0/16', '127.0.0.1', 'fd12::/16'],
    };
    expect(refusalReason('10.20.3.4', policy)).toBeNull();
    expect(refusalReason('::ffff:10.20.3.4', policy)).toBeNull();
    expect(refusalReason('10.21.0.1', policy)).not.toBeNull();
    expect(refusalReason('127.0.0.1', policy)).toBeNull();
    expect(refusalReason('127.0.0.2', policy)).not.toBeNull();
    expect(refusalReason('fd12:1::5', policy)).toBeNull();
    expect(refusalReason('fd13::5', policy)).not.toBeNull();
  });

  it('keeps metadata addresses refused even when listed', () => {
    const policy = { allowPrivateNetworks: false, allowAddresses: ['169.254.0.0/16'] };
    expect(refusalReason('169.254.169.254', policy)).toContain('metadata');
    expect(refusalReason('169.254.1.1', policy)).toBeNull();
  });
});

describe('invalidAddressEntry', () => {
  it('names the first entry that is not an address or range', () => {
    expect(invalidAddressEntry(['10.0.0.0/8', '::1', 'fd00::/8'])).toBeUndefined();
    expect(invalidAddressEntry(['10.0.0.0/8', 'intranet.local'])).toBe('intranet.local');
    expect(invalidAddressEntry(['10.0.0.0/33'])).toBe('10.0.0.0/33');
  });
});
