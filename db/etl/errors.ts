/** A failure with a message meant for the operator as is (no stack trace needed). */
export class EtlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EtlError';
  }
}

/** An input file that cannot be loaded at all: missing, unreadable, or with the wrong header. */
export class BadFileError extends EtlError {
  constructor(message: string) {
    super(message);
    this.name = 'BadFileError';
  }
}
