import { expect } from 'chai';
import fc from 'fast-check';
import { listChanges } from '../../../db/etl/list-rebuild';

/** A listing entry: its id and a version of its bytes. */
type Entry = { id: number; v: number };

/** The inputs list-rebuild's statement answers for a change from `before` to `after` (both in id order). */
function answered(before: Entry[], after: Entry[]) {
  const old = new Map(before.map((e, i) => [e.id, { e, pos: i + 1 }]));
  const now = new Map(after.map((e) => [e.id, e]));
  // Position before the set: entries of the old list up to the id.
  const upTo = (id: number): number => before.filter((e) => e.id <= id).length;
  const ids = [...new Set([...old.keys(), ...now.keys()])].sort((a, b) => a - b);
  const inPlace: number[] = [];
  const moveAt: number[] = [];
  const move: number[] = [];
  for (const id of ids) {
    const was = old.get(id);
    const is = now.get(id);
    if (was && is && was.e.v !== is.v) inPlace.push(was.pos);
    if (!was !== !is) {
      moveAt.push(upTo(id));
      move.push(is ? 1 : -1);
    }
  }
  return { in_place: inPlace, move_at: moveAt, move, entries: before.length };
}

/** Positions whose entry differs, by comparing the two lists. */
function differing(before: Entry[], after: Entry[]): number[] {
  const out: number[] = [];
  for (let p = 0; p < Math.max(before.length, after.length); p++) {
    const a = before[p];
    const b = after[p];
    if (a?.id !== b?.id || a?.v !== b?.v) out.push(p + 1);
  }
  return out;
}

const positions = (ranges: Array<{ from: number; to: number }>): number[] =>
  ranges.flatMap((r) => Array.from({ length: r.to - r.from + 1 }, (_, i) => r.from + i));

describe('listing positions a change set changed (unit)', () => {
  it('when a product is removed and one added further on, then only the positions between them changed', () => {
    // Ids 1–20 but 13; remove 10, add 13: positions 10–12 move, 13 on are as they were.
    const before = Array.from({ length: 20 }, (_, i) => i + 1)
      .filter((id) => id !== 13)
      .map((id) => ({ id, v: 0 }));
    const after = [...before.filter((e) => e.id !== 10), { id: 13, v: 0 }].sort((a, b) => a.id - b.id);
    expect(listChanges(answered(before, after))).to.deep.equal([{ from: 10, to: 12 }]);
  });

  it('when any change set is applied, then the ranges are exactly the positions whose entries differ, merged', () => {
    const change = fc.record({ keep: fc.boolean(), bump: fc.boolean() });
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 40 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 60 }), change), { maxLength: 40 }),
        (ids, changes) => {
          const before = [...ids].sort((a, b) => a - b).map((id) => ({ id, v: 0 }));
          const next = new Map(before.map((e) => [e.id, e]));
          for (const [id, { keep, bump }] of changes) {
            if (!keep) next.delete(id);
            else next.set(id, { id, v: (next.get(id)?.v ?? 0) + (bump ? 1 : 0) });
          }
          const after = [...next.values()].sort((a, b) => a.id - b.id);
          const ranges = listChanges(answered(before, after));
          expect(positions(ranges)).to.deep.equal(differing(before, after));
          // Merged: no two ranges touch.
          for (let i = 1; i < ranges.length; i++) expect(ranges[i]!.from).to.be.greaterThan(ranges[i - 1]!.to + 1);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
