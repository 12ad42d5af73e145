/** Domain errors that services throw and the HTTP layer maps to 400 / 404 / 409 / 503. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export class ConflictError extends Error {
  override readonly name = 'ConflictError';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Input that parses but cannot be accepted with this configuration (400 naming the field). */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

/** The server's own settings forbid the operation (503, with the settings named). */
export class MisconfiguredError extends Error {
  override readonly name = 'MisconfiguredError';
}
