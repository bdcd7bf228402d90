import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';

describe('parse sandbox metrics', () => {
  it('counts parses by outcome, kills by reason, restarts, and records peak RSS', async () => {
    const metrics = createMetrics({ service: 'test', defaultMetrics: false });
    metrics.parseFinished({ kind: 'pdf', outcome: 'ok', peakRssBytes: 100 * 2 ** 20, seconds: 0.2 });
    metrics.parseFinished({
      kind: 'docx',
      outcome: 'killed',
      code: 'parse_out_of_memory',
      killReason: 'memory',
      peakRssBytes: 260 * 2 ** 20,
      seconds: 3,
    });
    metrics.sandboxChildExited('memory');
    metrics.sandboxChildExited('recycled');
    metrics.sandboxChildExited('idle');
    const text = await metrics.registry.metrics();
    expect(text).toContain('quire_parses_total{kind="pdf",outcome="ok",code="",service="test"} 1');
    expect(text).toContain(
      'quire_parses_total{kind="docx",outcome="killed",code="parse_out_of_memory",service="test"} 1',
    );
    expect(text).toContain('quire_parses_killed_total{kind="docx",reason="memory",service="test"} 1');
    expect(text).toContain('quire_sandbox_restarts_total{reason="memory",service="test"} 1');
    expect(text).toContain('quire_sandbox_restarts_total{reason="recycled",service="test"} 1');
    expect(text).not.toContain('reason="idle"');
    expect(text).toMatch(/quire_parse_peak_rss_bytes_count\{[^}]*kind="docx"[^}]*\} 1/);
    expect(text).toMatch(/quire_parse_peak_rss_bytes_bucket\{[^}]*le="268435456"[^}]*kind="docx"[^}]*\} 0/);
  });
});
