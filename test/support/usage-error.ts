import { expect } from 'chai';
import { UsageError } from '../../src/cli/options';

/** The message of the UsageError `parse(argv)` throws; fails the test when it throws none or another error. */
export function usageErrorOf(parse: (argv: string[]) => unknown): (argv: string[]) => string {
  return (argv) => {
    try {
      parse(argv);
    } catch (err) {
      expect(err, argv.join(' ')).to.be.instanceOf(UsageError);
      return (err as Error).message;
    }
    throw new Error(`no usage error for ${argv.join(' ')}`);
  };
}
