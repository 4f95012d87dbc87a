import { expect } from 'chai';
import pino from 'pino';
import { createInvalidation } from '../../src/catalog/invalidation';

/** The invalidation's collaborators, recording what they were asked. */
function parts(stored: Map<number, string[]> | Error) {
  const calls: string[] = [];
  const opts = {
    documents: {
      invalidate: () => void calls.push('invalidate'),
      // Records which of a few cached pages (positions 1–5, 6–10, 1–50, 501–550) would go.
      drop: (keys: readonly string[], stalePage?: (key: string) => boolean) => {
        const pages = ['l1:5', 'l2:5', 'l1:50', 'l11:50'].filter((k) => stalePage?.(k));
        calls.push(`drop ${keys.join(',')}${pages.length > 0 ? ` +${pages.join(' ')}` : ''}`);
        return keys.length;
      },
    },
    reads: { changed: async () => void calls.push('replicas checked') },
    primary: {
      query: async (q: { values: unknown[] }) => {
        if (stored instanceof Error) throw stored;
        calls.push(`read keys of ${String(q.values[0])}`);
        return { rows: stored.has(Number(q.values[0])) ? [{ keys: stored.get(Number(q.values[0])) }] : [] };
      },
    },
    log: pino({ level: 'silent' }),
  };
  return { calls, onNotice: createInvalidation(opts as unknown as Parameters<typeof createInvalidation>[0]) };
}

describe('cache invalidation from catalog notices (unit)', () => {
  it('when a load is announced, then the replicas are checked first and the whole cache goes', async () => {
    const { calls, onNotice } = parts(new Map());
    await onNotice('7');
    expect(calls).to.deep.equal(['replicas checked', 'invalidate']);
  });

  it('when a change set names its keys, then exactly they go, with the pages holding a listing position it changed', async () => {
    // Each notice and the drop it makes (`l` alone, as change sets of earlier versions wrote it: every page).
    const cases: Array<[string, string]> = [
      ['8 p1,s1,l3', 'drop p1,s1 +l1:5 l1:50'],
      ['9 r2', 'drop r2'],
      ['10 p7,l7-8', 'drop p7 +l2:5 l1:50'],
      ['11 l600-1000', 'drop '],
      ['12 p9,l', 'drop p9 +l1:5 l2:5 l1:50 l11:50'],
    ];
    const { calls, onNotice } = parts(new Map());
    for (const [notice] of cases) await onNotice(notice);
    expect(calls).to.deep.equal(cases.flatMap(([, drop]) => ['replicas checked', drop]));
  });

  it('when the keys were too many for the notice, then they are read from the primary and dropped', async () => {
    const { calls, onNotice } = parts(new Map([[10, ['p3', 'l520-530']]]));
    await onNotice('10 @');
    await onNotice('11 @');
    expect(calls).to.deep.equal(['replicas checked', 'read keys of 10', 'drop p3 +l11:50', 'replicas checked', 'read keys of 11', 'drop ']);
  });

  it('when the stored keys cannot be read, then the whole cache goes (never a stale document kept)', async () => {
    const { calls, onNotice } = parts(new Error('connection refused'));
    await onNotice('12 @');
    expect(calls).to.deep.equal(['replicas checked', 'invalidate']);
  });
});
