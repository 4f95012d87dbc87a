import { expect } from 'chai';
import { parse } from 'pg-connection-string';
import { databaseOf, withDatabase } from '../../src/postgres/urls';

describe('connection URLs (unit)', () => {
  for (const [url, expected] of [
    ['postgres://u:p@127.0.0.1:5432/atelier', 'postgres://u:p@127.0.0.1:5432/other'],
    [
      'postgres://u:p@db.example:5432/atelier?sslmode=require&application_name=x',
      'postgres://u:p@db.example:5432/other?sslmode=require&application_name=x',
    ],
    ['postgres://u:p@/atelier?host=/run/postgresql', 'postgres://u:p@/other?host=/run/postgresql'],
    ['postgresql:///atelier?host=%2Fvar%2Frun%2Fpostgresql', 'postgresql:///other?host=%2Fvar%2Frun%2Fpostgresql'],
    ['postgres://u@localhost:5432', 'postgres://u@localhost:5432/other'],
    ['postgres://u@localhost:5432/', 'postgres://u@localhost:5432/other'],
    ['postgres://u@localhost/atelier?x=/a/b#frag', 'postgres://u@localhost/other?x=/a/b#frag'],
    ['postgres://u:p%2Fq@[::1]:5432/atelier', 'postgres://u:p%2Fq@[::1]:5432/other'],
  ] as const) {
    it(`when the URL is ${url}, then only the database changes`, () => {
      expect(withDatabase(url, 'other')).to.equal(expected);
    });
  }

  it('when the URL names a socket in its query, then pg still reads that socket, the user and the new database', () => {
    const config = parse(withDatabase('postgres://u:p@/atelier?host=/run/postgresql', 'postgres'));
    expect(config).to.include({ host: '/run/postgresql', user: 'u', password: 'p', database: 'postgres' });
  });

  for (const name of ['atelier_t123_4', 'Mixed Case', 'café', 'a+b=c&d', '100%', '%41']) {
    it(`when the name is ${JSON.stringify(name)}, then pg reads exactly that name back`, () => {
      expect(parse(withDatabase('postgres://u:p@h:1/x?sslmode=disable', name)).database).to.equal(name);
    });
  }

  for (const url of ['postgres://u:p@h:1/x?sslmode=disable', 'postgres://u:p@/x?host=/run/postgresql', 'postgresql:///x']) {
    it(`when the URL is ${url}, then databaseOf reads what pg reads, and every name withDatabase writes`, () => {
      expect(databaseOf(url)).to.equal(parse(url).database);
      for (const name of ['atelier_t123_4', 'Mixed Case', 'café', 'a+b=c&d', '100%', '%41']) expect(databaseOf(withDatabase(url, name))).to.equal(name);
    });
  }

  it('when the URL names no database, then databaseOf is empty', () => {
    expect(databaseOf('postgres://u@localhost:5432')).to.equal('');
    expect(databaseOf('postgres://u@localhost:5432/')).to.equal('');
  });

  for (const name of ['', 'a/b', 'a?b', 'a#b']) {
    it(`when the name is ${JSON.stringify(name)}, then it is refused (a URL cannot carry it to pg)`, () => {
      expect(() => withDatabase('postgres://u:p@h:1/x', name)).to.throw(/not a database name that a URL can carry/);
    });
  }

  it('when the text is not a URL, then the error does not repeat it (it may hold a password)', () => {
    expect(() => withDatabase('host=h password=secret dbname=x', 'y'))
      .to.throw(/not a connection URL/)
      .and.satisfy((e: Error) => !e.message.includes('secret'));
  });
});
