/** gRPC status codes the Admin SDK reports on `error.code`. */
export const GRPC = { NOT_FOUND: 5, ALREADY_EXISTS: 6, FAILED_PRECONDITION: 9, ABORTED: 10 } as const;

export function hasCode(error: unknown, code: number): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/**
 * A write whose precondition no longer held: the document changed since it was read
 * (FAILED_PRECONDITION) or is gone (NOT_FOUND). Every fenced write in the code base treats
 * both as "someone else won".
 */
export function isFenceConflict(error: unknown): boolean {
  return hasCode(error, GRPC.FAILED_PRECONDITION) || hasCode(error, GRPC.NOT_FOUND);
}
