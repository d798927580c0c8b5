/** Both clocks the server reads, injected so tests can pause and step them. */
export interface Clock {
  /** Epoch ms: what is stored and shown; may step. */
  wall(): number;
  /** Monotonic ms (arbitrary origin): what durations are measured on; never steps. */
  mono(): number;
}

export const systemClock: Clock = { wall: () => Date.now(), mono: () => performance.now() };
