/**
 * How often the Redis cluster refreshes liveness, and how long everything
 * lasts: one place, since the bounds the protocol promises follow from them.
 *
 * @module
 */

/** How often liveness is refreshed and how long it lasts. */
export interface ClusterTiming {
  /** Between heartbeats (and sweeps for dead instances). */
  readonly heartbeatMs: number;
  /** How long an instance outlives its last heartbeat, before others give it up for dead. */
  readonly instanceTtlMs: number;
  /**
   * How long a name outlives its instance's last heartbeat. Longer than the
   * instance's own ttl, so that the others announce its users gone (and free
   * their names) before anyone can take a name by its expiry.
   */
  readonly nameTtlMs: number;
  /** Longest a `LOGIN` waits for Redis before `ERR cluster-unavailable`. */
  readonly loginWaitMs: number;
  /**
   * How long a heartbeat, a join or a probe on the subscription may go
   * unanswered before both connections are replaced (checked every heartbeat).
   */
  readonly staleMs: number;
}

/**
 * The defaults: a dead instance's users are announced gone, and their names
 * freed, at most `instanceTtlMs + heartbeatMs` (6 s) after its last heartbeat
 * while any other instance runs; names expire by themselves after 7 s.
 */
export const CLUSTER_TIMING: ClusterTiming = {
  heartbeatMs: 1000,
  instanceTtlMs: 5000,
  nameTtlMs: 7000,
  loginWaitMs: 3000,
  staleMs: 2000,
};
