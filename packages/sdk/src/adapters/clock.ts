/** Milliseconds since the epoch; tests inject a clock they can move. */
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }
