/**
 * An exclusive lock shared by every context that uses one storage namespace: the tabs of a
 * browser, the processes on one folder, the controllers in one process. The SDK takes it around
 * each change of the enrollment record that depends on what the record held (rotating the refresh
 * token, counting a wrong password), so that two contexts never rotate the same refresh token:
 * the server takes a second rotation for a replay and revokes the whole token family.
 *
 * Implementations scope `name` to their namespace. `withLock` waits for the lock (for a bounded
 * time), runs `work` holding it, releases it however `work` ends, and settles as `work` did; if
 * the lock cannot be had, it rejects without running `work`.
 */
export interface Lock {
  withLock<T>(name: string, work: () => Promise<T>): Promise<T>
}
