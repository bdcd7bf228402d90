import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IngestJobPayloadSchema } from './schemas.js';
import { openIngestJob, sealIngestJob, withoutSecrets } from './sealed-ingest.js';
import { redactJobData, SecretKeyError, SecretKeyring } from './secrets.js';

const key = () => randomBytes(32).toString('base64');
const OLD = `k1:${key()}`;
const NEW = `k2:${key()}`;
const URL_WITH_SECRETS = 'https://reader:hunter2@docs.example.com/a/report.pdf?token=t0ps3cret';

const job = (extra: object = {}) => ({
  v: 1 as const,
  tenant: 'acme',
  documentId: 'report',
  source: { kind: 'url' as const, url: URL_WITH_SECRETS },
  password: 'pässwörd',
  ...extra,
});

describe('sealed ingest secrets', () => {
  it('seals the password and the URL into a v2 payload that keeps no cleartext, and opens it again', () => {
    const keyring = SecretKeyring.parse(OLD);
    const sealed = sealIngestJob(job(), keyring);
    expect(IngestJobPayloadSchema.parse(sealed)).toMatchObject({
      v: 2,
      source: { kind: 'url', url: 'https://docs.example.com/a/report.pdf' },
      sealed: { alg: 'A256GCM', kid: 'k1' },
    });
    const text = JSON.stringify(sealed);
    for (const secret of ['hunter2', 't0ps3cret', 'pässwörd', 'reader']) expect(text).not.toContain(secret);
    expect(openIngestJob(IngestJobPayloadSchema.parse(sealed), keyring)).toEqual(job());
  });

  it('writes a forced job as version 3, sealed or not, and opens it with force', () => {
    const keyring = SecretKeyring.parse(OLD);
    const sealed = IngestJobPayloadSchema.parse(sealIngestJob({ ...job(), force: true }, keyring));
    expect(sealed).toMatchObject({ v: 3, force: true, sealed: { kid: 'k1' } });
    expect(JSON.stringify(sealed)).not.toContain('pässwörd');
    expect(openIngestJob(sealed, keyring)).toEqual({ ...job(), force: true });

    const plain = {
      v: 1 as const,
      tenant: 'acme',
      documentId: 'd',
      source: { kind: 'text' as const, text: 'hi' },
    };
    const forced = IngestJobPayloadSchema.parse(sealIngestJob({ ...plain, force: true }, null));
    expect(forced).toEqual({ ...plain, v: 3, force: true });
    expect(openIngestJob(forced, null)).toEqual({ ...plain, force: true });
    // Not forced: the versions older workers read.
    expect(sealIngestJob(plain, null)).toEqual(plain);
  });

  it('writes a job with OCR settings as version 3, sealed or not, and opens it with them', () => {
    const ocr = { mode: 'force' as const, langs: ['eng', 'fra'] };
    const plain = {
      v: 1 as const,
      tenant: 'acme',
      documentId: 'scan',
      source: { kind: 'text' as const, text: 'hi' },
    };
    const open = sealIngestJob({ ...plain, ocr }, null);
    expect(IngestJobPayloadSchema.parse(open)).toEqual({ ...plain, v: 3, ocr });
    expect(openIngestJob(IngestJobPayloadSchema.parse(open), null)).toEqual({ ...plain, ocr });

    const keyring = SecretKeyring.parse(OLD);
    const sealed = IngestJobPayloadSchema.parse(sealIngestJob(job({ ocr }), keyring));
    expect(sealed).toMatchObject({ v: 3, ocr, sealed: { kid: 'k1' } });
    expect(JSON.stringify(sealed)).not.toContain('pässwörd');
    expect(openIngestJob(sealed, keyring)).toEqual(job({ ocr }));
    // Version 3 refuses OCR settings it does not know, as every payload refuses unknown fields.
    expect(IngestJobPayloadSchema.safeParse({ ...open, ocr: { mode: 'auto', dpi: 600 } }).success).toBe(
      false,
    );
  });

  it('leaves a job without secrets as version 1, and refuses secrets without a keyring', () => {
    const plain = {
      v: 1 as const,
      tenant: 'acme',
      documentId: 'd',
      source: { kind: 'text' as const, text: 'hi' },
    };
    expect(sealIngestJob(plain, null)).toEqual(plain);
    expect(sealIngestJob({ ...plain, password: '' }, null)).toEqual(plain);
    expect(() => sealIngestJob(job({ source: { kind: 'text', text: 'hi' } }), null)).toThrow(
      /QUIRE_SECRET_KEYS/,
    );
    const noPassword = job();
    delete (noPassword as { password?: string }).password;
    expect(() => sealIngestJob(noPassword, null)).toThrow(/URL with credentials/);
  });

  it('opens boxes sealed with an older key after rotation; the newest key seals', () => {
    const before = sealIngestJob(job(), SecretKeyring.parse(OLD));
    const rotated = SecretKeyring.parse(`${NEW},${OLD}`);
    expect(openIngestJob(IngestJobPayloadSchema.parse(before), rotated).password).toBe('pässwörd');
    const after = IngestJobPayloadSchema.parse(sealIngestJob(job(), rotated));
    expect(after.v === 2 && after.sealed?.kid).toBe('k2');
    // A worker that dropped the new key too early names the key it lacks.
    expect(() => openIngestJob(after, SecretKeyring.parse(OLD))).toThrow(/key "k2"/);
    expect(() => openIngestJob(after, null)).toThrow(SecretKeyError);
  });

  it("does not open a box moved into another tenant's or document's job, or one tampered with", () => {
    const keyring = SecretKeyring.parse(OLD);
    const sealed = IngestJobPayloadSchema.parse(sealIngestJob(job(), keyring));
    if (sealed.v !== 2 || !sealed.sealed) throw new Error('expected a sealed payload');
    expect(() => openIngestJob({ ...sealed, tenant: 'globex' }, keyring)).toThrow(/do not open/);
    expect(() => openIngestJob({ ...sealed, documentId: 'other' }, keyring)).toThrow(/do not open/);
    const data = Buffer.from(sealed.sealed.data, 'base64');
    data[0] = (data[0] ?? 0) ^ 1;
    const tampered = { ...sealed, sealed: { ...sealed.sealed, data: data.toString('base64') } };
    expect(() => openIngestJob(tampered, keyring)).toThrow(/do not open/);
  });

  it('checks keys without repeating them', () => {
    const bad = 'k1:c2hvcnQ=';
    expect(() => SecretKeyring.parse(bad)).toThrow(/32 bytes/);
    try {
      SecretKeyring.parse(bad);
    } catch (error) {
      expect(String(error)).not.toContain('c2hvcnQ=');
    }
    expect(() => SecretKeyring.parse(`${OLD},${OLD}`)).toThrow(/twice/);
    expect(() => SecretKeyring.parse('nokey')).toThrow(/id:base64key/);
    expect(SecretKeyring.fromSetting('  ')).toBeNull();
  });

  it('strips secrets from finished jobs and redacts them for display, v1 and v2 alike', () => {
    const v2 = sealIngestJob(job(), SecretKeyring.parse(OLD));
    expect(withoutSecrets(v2)).not.toHaveProperty('sealed');
    const v1 = withoutSecrets(job()) as { password?: string; source: { url: string } };
    expect(v1.password).toBeUndefined();
    expect(v1.source.url).toBe('https://docs.example.com/a/report.pdf');
    const shown = JSON.stringify([redactJobData(v2), redactJobData(job())]);
    for (const secret of ['hunter2', 't0ps3cret', 'pässwörd']) expect(shown).not.toContain(secret);
    expect(redactJobData({ v: 1, question: 'q' })).toEqual({ v: 1, question: 'q' });
  });
});
