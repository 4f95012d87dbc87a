import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { applyChanges } from '../../../../db/etl/apply-changes';
import { reloadCatalog } from '../../../../db/etl/reload-catalog';
import { DOCUMENTS_STATEMENT, PAGE_STATEMENT } from '../../../../src/catalog/documents';
import { stalePages } from '../../../../src/catalog/listing-pages';
import { parseListChange, type ListChange } from '../../../../src/postgres/catalog-notice';
import { foldOverlays, refreshDocuments } from '../../../../src/postgres/live-catalog';
import { createTestDatabase, type TestDatabase } from '../../../support/postgres';
import { catalogTables, emptyCatalog, merge, writeExport, type Catalog, type ChangeSet, type Row } from './model';

// Deterministic pseudo-random numbers (mulberry32), so a failure reproduces.
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['Camo Onesie', 'Bright "Future" Sunglasses', 'Morning, Joggers', 'Ünïcode ☃ Slacks', 'Heir Force Ones'];

/** 240 product ids with gaps (every 13th missing: room for additions in the middle), and their children. */
function baseCatalog(): Catalog {
  const rnd = random(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const c = emptyCatalog();
  let feature = 1;
  let style = 1;
  let photo = 1;
  let sku = 1;
  let related = 1;
  for (let id = 1; id <= 240; id++) {
    if (id % 13 === 0) continue;
    c.product.set(id, {
      id,
      name: `${pick(NAMES)} ${id}`,
      slogan: id % 7 === 0 ? 'Two\nlines' : `Slogan ${id}`,
      description: `Description of ${id}, "quoted"`,
      category: pick(['Jackets', 'Pants', 'Shoes']),
      default_price: `${10 + (id % 90)}.${id % 2 ? '5' : '00'}`,
    });
    for (let i = Math.floor(rnd() * 3); i > 0; i--) {
      c.features.set(feature, {
        id: feature,
        product_id: id,
        feature: pick(['Fabric', 'Sole', 'Lenses']),
        value: rnd() < 0.2 ? null : `v${feature}`,
      });
      feature++;
    }
    for (let s = 1 + Math.floor(rnd() * 3); s > 0; s--) {
      c.styles.set(style, {
        id: style,
        productId: id,
        name: `Style ${style}`,
        sale_price: rnd() < 0.5 ? null : `${5 + (style % 40)}`,
        original_price: `${50 + (style % 60)}`,
        default_style: s === 1 ? 1 : 0,
      });
      for (let p = Math.floor(rnd() * 4); p > 0; p--) {
        c.photos.set(photo, {
          id: photo,
          styleId: style,
          url: `https://img/${photo}.jpg`,
          thumbnail_url: `https://img/t${photo}.jpg`,
        });
        photo++;
      }
      for (let k = Math.floor(rnd() * 5); k > 0; k--) {
        c.skus.set(sku, {
          id: sku,
          styleId: style,
          size: pick(['XS', 'S', 'M', '7.5']),
          quantity: Math.floor(rnd() * 30),
        });
        sku++;
      }
      style++;
    }
    // Related ids include gaps (13, 26, …: not products until a change set adds them), the product itself and repeats.
    for (let r = Math.floor(rnd() * 5); r > 0; r--) {
      c.related.set(related, {
        id: related,
        current_product_id: id,
        related_product_id: pick([13, 26, id, 1 + Math.floor(rnd() * 260)]),
      });
      related++;
    }
  }
  return c;
}

const ofProduct = (c: Catalog, table: 'styles', product: number): Row[] =>
  [...c[table].values()].filter((r) => r.productId === product);

/** The first change set: updates, additions, removals, moves; plus the defects written as raw lines. */
function firstChanges(base: Catalog): {
  changes: ChangeSet;
  defects: Record<string, string[]>;
  deletionDefects: string[];
} {
  const p = (id: number, patch: Row): Row => ({ ...base.product.get(id)!, ...patch });
  const styleOf30 = ofProduct(base, 'styles', 30)[0]!;
  const styleOf31 = ofProduct(base, 'styles', 31)[0]!;
  const styleOf20 = ofProduct(base, 'styles', 20)[0]!;
  const styleOf10 = ofProduct(base, 'styles', 10)[0]!;
  // Quantities of 100 skus, none of a style this change set removes.
  const removed = new Set([Number(styleOf20.id), ...ofProduct(base, 'styles', 10).map((s) => Number(s.id))]);
  const skus = [...base.skus.values()]
    .filter((k) => !removed.has(Number(k.styleId)))
    .slice(0, 100)
    .map((k) => ({ ...k, quantity: Number(k.quantity) + 1 }));
  const firstPhoto = [...base.photos.values()][0]!;
  const aFeature = [...base.features.values()][3]!;
  const aRelated = [...base.related.values()][5]!;
  const droppedRelated = [...base.related.values()][9]!;
  const changes: ChangeSet = {
    rows: {
      product: [
        p(5, { default_price: '1.99' }),
        p(6, { default_price: '2000.00' }),
        p(7, { name: 'Renamed "again", ☃' }),
        p(8, {}), // identical: nothing changes
        {
          id: 13,
          name: 'Gap filler',
          slogan: 'new',
          description: 'added in the middle',
          category: 'Hats',
          default_price: '13.00',
        },
        {
          id: 26,
          name: 'Second gap',
          slogan: 'new',
          description: 'added, removed later',
          category: 'Hats',
          default_price: '26.00',
        },
        {
          id: 500,
          name: 'At the end',
          slogan: 'new',
          description: 'added last',
          category: 'Hats',
          default_price: '500.00',
        },
      ],
      styles: [
        { ...styleOf30, sale_price: '1.00' },
        { ...styleOf31, productId: 32 },
        { id: 9001, productId: 13, name: 'New style', sale_price: null, original_price: '13', default_style: 1 },
      ],
      photos: [{ id: 70001, styleId: 9001, url: 'https://img/new.jpg', thumbnail_url: 'https://img/tnew.jpg' }],
      skus: [...skus, { id: 80001, styleId: 9001, size: 'L', quantity: 3 }],
      features: [{ id: 60001, product_id: 13, feature: 'Brim', value: 'wide' }],
      related: [
        { id: 50001, current_product_id: 40, related_product_id: 13 },
        { ...droppedRelated, related_product_id: 0 },
      ],
    },
    deletions: [
      ['product', 10],
      ['styles', Number(styleOf20.id)],
      ['photos', Number(firstPhoto.id)],
      ['features', Number(aFeature.id)],
      ['related', Number(aRelated.id)],
    ],
  };
  const defects = {
    product: ['50,"Bad price","s","d","c",12.3.4', '51,"Too few fields"', '5,"Duplicate of 5","s","d","c",1.00'],
    styles: [`9002,10,"Style of a removed product",null,10,1`, '9003,99999,"Unknown product",null,10,1'],
    photos: [`70002,${styleOf10.id},"https://img/x.jpg","https://img/tx.jpg"`],
    skus: ['80002,9001,"M",-1'],
  };
  const deletionDefects = ['product,99999', 'nosuch,1', 'styles,abc', `features,${aFeature.id}`];
  return { changes, defects, deletionDefects };
}

function secondChanges(after: Catalog): ChangeSet {
  return {
    rows: {
      product: [
        { ...after.product.get(5)!, default_price: '3.49' },
        { id: 1000, name: 'Beyond', slogan: 's', description: 'd', category: 'Hats', default_price: '10.00' },
      ],
    },
    deletions: [
      ['product', 26],
      ['product', 2],
    ],
  };
}

/** The documents whose bytes differ, and the pages, apart. */
function changed(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): { documents: string[]; pages: string[] } {
  const differ = [...new Set([...before.keys(), ...after.keys()])].filter((key) => before.get(key) !== after.get(key));
  return {
    documents: differ.filter((k) => !k.startsWith('l')).sort(),
    pages: differ.filter((k) => k.startsWith('l')).sort(),
  };
}

/** What a change set's keys drop, given every key served before: its documents, and the pages holding a position it names. */
function dropped(
  keys: readonly string[],
  served: ReadonlyMap<string, string>,
): { documents: string[]; pages: string[] } {
  const positions = keys.filter((k) => k.startsWith('l')).map(parseListChange);
  expect(positions, 'no change set drops every page').to.not.include('all');
  const stale = stalePages(positions as ListChange[]);
  return {
    documents: keys.filter((k) => !k.startsWith('l')).sort(),
    pages: [...served.keys()].filter((k) => k.startsWith('l') && stale(k)).sort(),
  };
}

// Timestamps come from each load's clock: compared apart (see the tests below).
const withoutTimes = (body: string): string =>
  body.replace(/"created_at":"[^"]*","updated_at":"[^"]*"/g, '"created_at":0,"updated_at":0');

/** Every document the service can serve: three kinds for ids 0…1001, and all pages of three sizes. */
async function everyDocument(url: string): Promise<Map<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const ids = Array.from({ length: 1002 }, (_, i) => i);
    const out = new Map<string, string>();
    const { rows } = await client.query<[string, string]>({
      text: DOCUMENTS_STATEMENT,
      values: [ids, ids, ids],
      rowMode: 'array',
    });
    for (const [key, body] of rows) {
      expect(out.has(key), `${key} answered twice`).to.equal(false);
      out.set(key, body);
    }
    for (const count of [1, 7, 50]) {
      for (let page = 1; page <= Math.ceil(260 / count) + 1; page++) {
        const r = await client.query<[string]>({
          text: PAGE_STATEMENT,
          values: [(page - 1) * count, page * count],
          rowMode: 'array',
        });
        out.set(`l${page}:${count}`, r.rows[0]![0]);
      }
    }
    return out;
  } finally {
    await client.end();
  }
}

describe('Change sets against a full load of the merged export (the oracle)', function () {
  this.timeout(120_000);
  let tmp: string;
  let live: TestDatabase;
  let oracle: TestDatabase;
  const base = baseCatalog();
  const first = firstChanges(base);
  const afterFirst = merge(base, first.changes);
  const second = secondChanges(afterFirst);
  const merged = merge(afterFirst, second);

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-changes-'));
    writeExport(path.join(tmp, 'base'), catalogTables(base));
    writeExport(path.join(tmp, 'merged'), catalogTables(merged));
    const one = first.changes;
    writeExport(
      path.join(tmp, 'one'),
      Object.fromEntries(Object.entries(one.rows).map(([t, rows]) => [t, [...rows, ...(first.defects[t] ?? [])]])),
      [...one.deletions.map(([t, id]) => `${t},${id}`), ...first.deletionDefects],
    );
    writeExport(
      path.join(tmp, 'two'),
      second.rows,
      second.deletions.map(([t, id]) => `${t},${id}`),
    );
    [live, oracle] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    await reloadCatalog({ url: live.url, dir: path.join(tmp, 'base'), rejectsPath: path.join(tmp, 'r-base.csv') });
    await reloadCatalog({
      url: oracle.url,
      dir: path.join(tmp, 'merged'),
      rejectsPath: path.join(tmp, 'r-merged.csv'),
    });
  });

  after(async () => {
    await Promise.all([live?.drop(), oracle?.drop()]);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('when two change sets are applied, then every document and page is the bytes of a full load of the merged export', async () => {
    const before = await everyDocument(live.url);
    const one = await applyChanges({
      url: live.url,
      dir: path.join(tmp, 'one'),
      rejectsPath: path.join(tmp, 'r-one.csv'),
    });
    // Rejects: every defect line, with its reason; the summary reconciles per file.
    const rejects = fs.readFileSync(path.join(tmp, 'r-one.csv'), 'utf8');
    for (const reason of [
      'default_price is not a price',
      'wrong field count',
      'duplicate id 5',
      'unknown productId 10',
      'unknown productId 99999',
      'unknown styleId',
      'quantity is not a non-negative integer',
      'no product row with id 99999 to delete',
      'file is not one of',
      'id is not a non-negative integer',
      'duplicate deletion of features',
    ]) {
      expect(rejects).to.include(reason);
    }
    const counts = Object.fromEntries(one.files.map((f) => [f.file, f]));
    expect(counts['product.csv']).to.deep.equal({ file: 'product.csv', read: 10, loaded: 7, rejected: 3, dropped: 0 });
    expect(counts['related.csv']).to.deep.equal({ file: 'related.csv', read: 2, loaded: 1, rejected: 0, dropped: 1 });
    expect(counts['deletions.csv']).to.deep.equal({
      file: 'deletions.csv',
      read: 9,
      loaded: 5,
      rejected: 4,
      dropped: 0,
    });
    // Only what changed: the identical product 8 and untouched 100 keep their documents.
    expect(one.keys).to.include.members(['p5', 'p6', 'p7', 'p13', 's13', 'r13', 'p10', 's10', 'r10', 'r40']);
    expect(one.keys).to.not.include.members(['p8', 'p100', 's100', 'r100']);

    // Exactly those: every document and page whose bytes changed, no other.
    const between = await everyDocument(live.url);
    expect(dropped(one.keys, before)).to.deep.equal(changed(before, between));

    const two = await applyChanges({
      url: live.url,
      dir: path.join(tmp, 'two'),
      rejectsPath: path.join(tmp, 'r-two.csv'),
    });
    expect(two.version).to.equal(one.version + 1);

    const [got, want] = await Promise.all([everyDocument(live.url), everyDocument(oracle.url)]);
    expect(dropped(two.keys, between)).to.deep.equal(changed(between, got));
    expect([...got.keys()].sort()).to.deep.equal([...want.keys()].sort());
    for (const [key, body] of want) expect(withoutTimes(got.get(key)!), key).to.equal(withoutTimes(body));
    // Timestamps: an untouched product keeps its bytes exactly; a changed one is updated after its creation.
    expect(got.get('p100')).to.equal(before.get('p100'));
    const p5 = JSON.parse(got.get('p5')!) as { created_at: string; updated_at: string };
    expect(Date.parse(p5.updated_at)).to.be.greaterThan(Date.parse(p5.created_at));
  });

  it('when the views are refreshed, then the overlays fold into them and the bytes stay those of the merged export', async () => {
    const client = new pg.Client({ connectionString: live.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      await refreshDocuments(client, { concurrently: true });
      expect(await foldOverlays(client)).to.be.greaterThan(0);
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
    const [got, want] = await Promise.all([everyDocument(live.url), everyDocument(oracle.url)]);
    for (const [key, body] of want) expect(withoutTimes(got.get(key)!), key).to.equal(withoutTimes(body));
  });
});
