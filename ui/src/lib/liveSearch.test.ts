import { describe, expect, it } from 'vitest';
import { liveSearch } from './liveSearch';

/** A search whose answers the test releases by hand, in any order. */
function manual() {
  const asked: { q: string; resolve: (r: string) => void; reject: (e: unknown) => void }[] = [];
  const run = (q: string) =>
    new Promise<string>((resolve, reject) => {
      asked.push({ q, resolve, reject });
    });
  return { asked, run };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('live search', () => {
  it('asks at once, with no debounce', () => {
    const m = manual();
    const live = liveSearch(m.run, () => {}, () => {});
    live.set('m');
    expect(m.asked.map((a) => a.q)).toEqual(['m']);
    expect(live.busy).toBe(true);
  });

  it('keeps one request in flight and asks only for the newest query next', async () => {
    const m = manual();
    const shown: string[] = [];
    const live = liveSearch(m.run, (q, r) => shown.push(`${q}:${r}`), () => {});
    live.set('m');
    live.set('ma');
    live.set('mam');
    expect(m.asked.map((a) => a.q)).toEqual(['m']);
    m.asked[0].resolve('for m');
    await tick();
    // The answer for "m" is stale (the box says "mam"): not shown.
    expect(shown).toEqual([]);
    expect(m.asked.map((a) => a.q)).toEqual(['m', 'mam']);
    m.asked[1].resolve('for mam');
    await tick();
    expect(shown).toEqual(['mam:for mam']);
    expect(live.busy).toBe(false);
  });

  it('never shows an answer older than the last keystroke, errors included', async () => {
    const m = manual();
    const shown: string[] = [];
    const errors: unknown[] = [];
    const live = liveSearch(m.run, (q) => shown.push(q), (e) => errors.push(e));
    live.set('a');
    live.cancel(); // the box was emptied
    m.asked[0].reject(new Error('late failure'));
    await tick();
    expect(shown).toEqual([]);
    expect(errors).toEqual([]);
    live.set('b');
    m.asked[1].reject(new Error('now'));
    await tick();
    expect(errors).toHaveLength(1);
  });
});

describe('live search, busy flag', () => {
  it('is not busy when the last answer is delivered', async () => {
    const m = manual();
    let busyAtResult: boolean | null = null;
    const live = liveSearch(m.run, () => (busyAtResult = live.busy), () => {});
    live.set('x');
    m.asked[0].resolve('r');
    await tick();
    expect(busyAtResult).toBe(false);
  });
});
