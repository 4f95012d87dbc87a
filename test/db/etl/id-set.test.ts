import { expect } from 'chai';
import fc from 'fast-check';
import { IdSet } from '../../../db/etl/id-set';

// Ids of every range IdSet treats apart: small, those a catalog has (skus reach 11M), and past its bitset (2^27).
const anId = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 12_000_000 }), fc.integer({ min: 2 ** 27 - 2, max: 2 ** 31 - 1 }));
const anOp = fc.tuple(fc.constantFrom('add', 'delete', 'has'), anId);

describe('IdSet (the ETL\'s set of ids)', () => {
  it('when any sequence of adds, deletes and lookups runs, then it answers as a Set would, before and after it turns into a bitset', () => {
    fc.assert(
      fc.property(fc.array(anOp, { maxLength: 200 }), fc.integer({ min: 0, max: 6000 }), (ops, bulk) => {
        const ids = new IdSet();
        const model = new Set<number>();
        // Enough distinct ids up front to cross the sparse limit in some runs.
        for (let i = 0; i < bulk; i++) {
          const id = (i * 7919) % 1_000_003;
          expect(ids.add(id)).to.equal(!model.has(id));
          model.add(id);
        }
        for (const [op, id] of ops) {
          if (op === 'add') {
            expect(ids.add(id), `add ${id}`).to.equal(!model.has(id));
            model.add(id);
          } else if (op === 'delete') {
            ids.delete(id);
            model.delete(id);
          }
          expect(ids.has(id), `has ${id}`).to.equal(model.has(id));
        }
        for (const id of model) expect(ids.has(id)).to.equal(true);
      }),
      { numRuns: 60 },
    );
  });

  it('when ids span the catalog and beyond the bitset, then each is held once and removable', () => {
    const ids = new IdSet();
    const many = Array.from({ length: 10_000 }, (_, i) => i * 1131);
    for (const id of many) expect(ids.add(id)).to.equal(true);
    for (const id of [0, 11_306_000, 2 ** 27, 2 ** 31 - 1]) ids.add(id);
    expect(ids.add(2 ** 31 - 1)).to.equal(false);
    expect(ids.add(many[9_999]!)).to.equal(false);
    expect(ids.has(1130)).to.equal(false);
    ids.delete(2 ** 27);
    ids.delete(1131);
    expect([ids.has(2 ** 27), ids.has(1131), ids.has(2262), ids.has(11_306_000)]).to.deep.equal([false, false, true, true]);
  });
});
