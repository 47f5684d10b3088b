import { availableParallelism } from 'node:os'

/**
 * Sizes libuv's thread pool before anything uses it; imported first by the server's entry point.
 * The pool's work here is ES256 signing and verification, so it gets one thread per core beside
 * the event loop's: more threads only take turns on the same cores and each hand-off costs a
 * wake-up (measured in docs/performance.md). Password hashing has threads of its own
 * (crypto/passwords.ts). An operator's own UV_THREADPOOL_SIZE is kept.
 */
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(1, availableParallelism() - 1))
