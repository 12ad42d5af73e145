import { randomBytes } from 'node:crypto';

/** 43 characters from [A-Za-z0-9_-]: 256 bits, and valid in an HTTP header as it is. */
export function generateCronKey(): string {
  return randomBytes(32).toString('base64url');
}
