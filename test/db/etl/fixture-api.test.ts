import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { reloadCatalog } from '../../../db/etl/reload-catalog';
import { createTestDatabase, type TestDatabase } from '../../support/postgres';
import { startCatalogService, type CatalogService } from '../support/catalog-service';
import { FIXTURE_DIR } from './fixture';

const withoutTimes = (body: string): unknown => {
  const parse = (o: Record<string, unknown>): unknown => {
    expect(o.created_at).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const { created_at: _c, updated_at: _u, ...rest } = o;
    return rest;
  };
  const value = JSON.parse(body) as Record<string, unknown> | Array<Record<string, unknown>>;
  return Array.isArray(value) ? value.map(parse) : parse(value);
};

// Not the default, so a document that missed the loaded code would show.
const CAMPUS = 'hr-nyc';

describe('API answers for the loaded defect fixture', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let tmp: string;
  let service: CatalogService;

  before(async () => {
    db = await createTestDatabase();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-etl-api-'));
    await reloadCatalog({ url: db.url, dir: FIXTURE_DIR, campus: CAMPUS, rejectsPath: path.join(tmp, 'rejects.csv') });
    service = await startCatalogService(db.url);
  });

  after(async () => {
    await service?.close();
    await db?.drop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('when listing, then the loaded products come in id order and rejected ones are absent', async () => {
    const res = await service.get('/products?page=1&count=10');
    expect(res.status).to.equal(200);
    expect((withoutTimes(res.body) as Array<{ id: number }>).map((p) => p.id)).to.deep.equal([1, 2, 3, 4, 9, 11]);
  });

  it('when loaded with --campus, then every list item and product document carries it as its second key', async () => {
    const list = JSON.parse((await service.get('/products?count=1000')).body) as Array<Record<string, unknown>>;
    const products = await Promise.all(list.map(async (p) => JSON.parse((await service.get(`/products/${String(p.id)}`)).body) as Record<string, unknown>));
    expect(list).to.have.length(6);
    for (const doc of [...list, ...products]) {
      expect(Object.keys(doc).slice(0, 3), JSON.stringify(doc)).to.deep.equal(['id', 'campus', 'name']);
      expect(doc.campus).to.equal(CAMPUS);
    }
  });

  it('when reading a product, then multi-line text, "" escapes, null and empty values come through', async () => {
    const two = await service.get('/products/2');
    expect(withoutTimes(two.body)).to.deep.equal({
      id: 2,
      campus: CAMPUS,
      name: 'Bright Future Sunglasses',
      slogan: "You've got to wear shades",
      description: "Where you're going\nyou might not need roads.\nLine three.",
      category: 'Accessories',
      default_price: '69.00',
      features: [
        { feature: 'Lenses', value: 'Ultrasheen' },
        { feature: 'UV Protection', value: null },
      ],
    });
    const three = await service.get('/products/3');
    expect(withoutTimes(three.body)).to.deep.include({
      description: 'He said "hello" to "comfort".',
      default_price: '40.50',
      features: [{ feature: 'Material', value: '"Chrome" finish' }],
    });
    const eleven = await service.get('/products/11');
    expect(withoutTimes(eleven.body)).to.deep.include({ slogan: 'null', description: '', features: [] });
  });

  it('when reading styles, then photos (one with an unterminated URL) and skus are the loaded ones, with the placeholders', async () => {
    const one = await service.get('/products/1/styles');
    expect(one.body).to.equal(
      '{"product_id":"1","results":[' +
        '{"style_id":1,"name":"Forest Green & Black","original_price":"140.00","sale_price":null,"default?":true,' +
        '"photos":[{"thumbnail_url":"https://img.example/1t.jpg","url":"https://img.example/1.jpg"},' +
        '{"thumbnail_url":"https://img.example/2t.jpg","url":"https://img.example/2.jpg"}],' +
        '"skus":{"1":{"quantity":8,"size":"XS"},"2":{"quantity":16,"size":"S"},"3":{"quantity":0,"size":"M"}}},' +
        '{"style_id":2,"name":"Desert Brown & Tan","original_price":"140.00","sale_price":"100.00","default?":false,' +
        '"photos":[{"thumbnail_url":"https://img.example/3t.jpg","url":"https://img.example/3.jpg"}],' +
        '"skus":{"4":{"quantity":4,"size":"XL"}}}]}',
    );
    const two = await service.get('/products/2/styles');
    expect(two.body).to.equal(
      '{"product_id":"2","results":[' +
        '{"style_id":3,"name":"Black Lenses & Black Frame","original_price":"69.00","sale_price":null,"default?":true,' +
        '"photos":[{"thumbnail_url":"https://img.example/5t.jpg","url":"https://img.example/5.jpg"}],' +
        '"skus":{"null":{"quantity":null,"size":null}}},' +
        '{"style_id":4,"name":"Black Lenses & Gold Frame","original_price":"69.00","sale_price":"50.50","default?":false,' +
        '"photos":[{"thumbnail_url":null,"url":null}],"skus":{"null":{"quantity":null,"size":null}}}]}',
    );
    expect((await service.get('/products/9/styles')).body).to.equal('{"product_id":"9","results":[]}');
  });

  it('when reading related, then 0, the product itself, repeats and unknown ids are left out', async () => {
    expect((await service.get('/products/1/related')).body).to.equal('[2,3]');
    expect((await service.get('/products/2/related')).body).to.equal('[1]');
    expect((await service.get('/products/4/related')).body).to.equal('[9]');
    expect((await service.get('/products/9/related')).body).to.equal('[]');
  });

  it('when a product was rejected, then each of its routes answers 404', async () => {
    for (const route of ['/products/6', '/products/6/styles', '/products/6/related', '/products/5', '/products/7']) {
      expect((await service.get(route)).status, route).to.equal(404);
    }
  });
});
