import { describe, expect, it } from 'vitest';
import { StringSink } from './__tests__/sink.js';
import { createTerminal } from './io.js';
import { LiveProgress, PlainProgress, type ProgressRow } from './progress.js';

const rows = (...states: ProgressRow['state'][]): ProgressRow[] =>
  states.map((state, i) => ({
    label: `doc-${i}.md`,
    state,
    fraction: state === 'done' ? 1 : state === 'active' ? 0.5 : 0,
    detail: state === 'failed' ? 'broken' : state,
  }));

describe('PlainProgress', () => {
  it('prints one line per job that finishes, once, in the order they finish', () => {
    const out = new StringSink(false);
    const view = new PlainProgress(createTerminal({ stdout: out, stderr: new StringSink() }));
    view.update(rows('active', 'queued'));
    expect(out.text).toBe('');
    view.update(rows('active', 'failed'));
    view.update(rows('done', 'failed'));
    view.finish(rows('done', 'failed'));
    expect(out.text).toBe('failed  doc-1.md  broken\ndone    doc-0.md  done\n');
  });
});

describe('LiveProgress', () => {
  const live = (height = 40) => {
    const out = new StringSink(true, 80, height);
    let now = 0;
    const view = new LiveProgress(
      createTerminal({ stdout: out, stderr: new StringSink(), color: false }),
      () => {
        now += 1000;
        return now;
      },
    );
    return { out, view };
  };

  it('draws a bar per job and a summary line', () => {
    const { view } = live();
    const lines = view.render(rows('done', 'active', 'queued', 'failed'));
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^✔ doc-0\.md\s+█{20} {2}done$/);
    expect(lines[1]).toMatch(/doc-1\.md\s+█{10}░{10} {2}active$/);
    expect(lines[2]).toMatch(/^· doc-2\.md\s+░{20} {2}queued$/);
    expect(lines[3]).toMatch(/^✖ doc-3\.md .* broken$/);
    expect(lines[4]).toBe('2 of 4 finished · 1 failed · 1.0 s');
  });

  it('redraws in place: the second frame moves the cursor back over the first', () => {
    const { out, view } = live();
    view.update(rows('active'));
    const first = out.text;
    expect(first).not.toContain('\u001b[2A');
    view.finish(rows('done'));
    expect(out.text.slice(first.length)).toContain('\u001b[2A\r');
    expect(out.text.endsWith('\u001b[?25h')).toBe(true);
  });

  it('shows the moving jobs first when the screen is too small for all', () => {
    // Six rows leave four lines: two jobs, the "more" line and the summary.
    const { view } = live(6);
    const lines = view.render(rows('done', 'done', 'done', 'done', 'active', 'queued'));
    expect(lines).toHaveLength(4);
    expect(lines[0]).toContain('doc-4.md');
    expect(lines[1]).toContain('doc-5.md');
    expect(lines[2]).toContain('… and 4 more');
    expect(lines[3]).toContain('4 of 6 finished');
  });

  it('never writes a line wider than the terminal', () => {
    const { view } = live();
    const long: ProgressRow[] = [
      { label: 'x'.repeat(200), state: 'failed', fraction: 0, detail: 'y'.repeat(200) },
    ];
    for (const line of view.render(long)) expect(line.length).toBeLessThanOrEqual(79);
  });
});
