import { expect } from 'chai';
import { createBatcher } from '../../src/catalog/batch';

/**
 * A reader whose reads finish only when released. Keys starting with `x` do not exist; keys
 * starting with `e` fail on their own.
 */
function gatedReader() {
  const reads: Array<{ keys: string[]; finish: (err?: Error) => void }> = [];
  const answer = (key: string): [string, string | Error] => [key, key.startsWith('e') ? new Error(`broken ${key}`) : key];
  const read = (keys: string[]): Promise<Map<string, string | Error>> =>
    new Promise((resolve, reject) => {
      reads.push({
        keys,
        finish: (err) => (err ? reject(err) : resolve(new Map(keys.filter((k) => !k.startsWith('x')).map(answer)))),
      });
    });
  return { read, reads };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('batcher (unit)', () => {
  it('when keys are asked in one turn, then one read carries them all and each caller gets its own answer', async () => {
    const { read, reads } = gatedReader();
    const load = createBatcher({ read, maxBatch: 10, maxConcurrent: 4 });
    const answers = Promise.all(['a', 'b', 'xmissing', 'a'].map(load));
    await turn();
    expect(reads.map((r) => r.keys)).to.deep.equal([['a', 'b', 'xmissing']]);
    reads[0]!.finish();
    expect((await answers).map((b) => b?.toString())).to.deep.equal(['a', 'b', undefined, 'a']);
  });

  it('when more keys than maxBatch are asked, then they are split into reads of at most maxBatch', async () => {
    const { read, reads } = gatedReader();
    const load = createBatcher({ read, maxBatch: 3, maxConcurrent: 4 });
    const answers = Promise.all(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((k) => load(`k${k}`)));
    await turn();
    expect(reads.map((r) => r.keys)).to.deep.equal([['ka', 'kb', 'kc'], ['kd', 'ke', 'kf'], ['kg']]);
    for (const r of reads) r.finish();
    expect((await answers).map(String)).to.deep.equal(['ka', 'kb', 'kc', 'kd', 'ke', 'kf', 'kg']);
  });

  it('when maxConcurrent reads are in flight, then later keys wait and leave together as one read when one finishes', async () => {
    const { read, reads } = gatedReader();
    const load = createBatcher({ read, maxBatch: 10, maxConcurrent: 1 });
    const first = load('a');
    await turn();
    const later = Promise.all(['b', 'c'].map(load));
    await turn();
    const late = load('d');
    await turn();
    expect(reads.map((r) => r.keys)).to.deep.equal([['a']]);
    reads[0]!.finish();
    await first;
    await turn();
    expect(reads.map((r) => r.keys)).to.deep.equal([['a'], ['b', 'c', 'd']]);
    reads[1]!.finish();
    expect((await later).map(String)).to.deep.equal(['b', 'c']);
    expect(String(await late)).to.equal('d');
  });

  it('when a read fails, then every caller of that batch gets the error and the next keys are read again', async () => {
    const { read, reads } = gatedReader();
    const load = createBatcher({ read, maxBatch: 10, maxConcurrent: 1 });
    const failed = Promise.allSettled(['a', 'b'].map(load));
    await turn();
    reads[0]!.finish(new Error('connection lost'));
    const outcomes = await failed;
    expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'ok'))).to.deep.equal(['connection lost', 'connection lost']);
    const retried = load('a');
    await turn();
    reads[1]!.finish();
    expect(String(await retried)).to.equal('a');
  });

  it('when one key of a batch is answered with an error, then only its callers get it', async () => {
    const { read, reads } = gatedReader();
    const load = createBatcher({ read, maxBatch: 10, maxConcurrent: 1 });
    const outcomes = Promise.allSettled(['a', 'ebad', 'ebad', 'b'].map(load));
    await turn();
    reads[0]!.finish();
    expect((await outcomes).map((o) => (o.status === 'rejected' ? (o.reason as Error).message : String(o.value)))).to.deep.equal([
      'a',
      'broken ebad',
      'broken ebad',
      'b',
    ]);
  });
});
