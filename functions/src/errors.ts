/** Domain errors that services throw and the HTTP layer maps to 400 / 404 / 409 / 502 / 503. */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

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

/** The server cannot do this as configured (a platform's OAuth app is missing): 503. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
}

/** A platform failed a step the request needed (the code exchange, the account listing): 502. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
}
