/**
 * When a token should be replaced: `skew` before it expires, but never in the first half of its
 * life, so a token that lives less than twice the skew is still used for a while.
 * All values in milliseconds.
 */
export function renewalTime(receivedAt: number, expiresAt: number, skew: number): number {
  return Math.max(expiresAt - skew, receivedAt + (expiresAt - receivedAt) / 2)
}
