import { stopTestServer } from './postgres';

/** Mocha root hooks: the shared test PostgreSQL is stopped once, after every file ran. */
export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopTestServer();
  },
};
