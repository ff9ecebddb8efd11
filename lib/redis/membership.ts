/**
 * Where a Redis cluster member stands with the other instances: away,
 * joining, joined, or closed for good. Its own module so that
 * `redis_cluster.ts` keeps only what it does in each.
 *
 * @module
 */

/** Where this instance stands with the others. */
export type Membership =
  /** Not joined: before the first join, or since Redis went away. Only local users are served. */
  | { readonly kind: "away" }
  /**
   * A join under way since `startedAt`. `again`: something asked for a join
   * meanwhile, so one more is tried if this one fails.
   */
  | { readonly kind: "joining"; readonly startedAt: number; again: boolean }
  /** Joined: lines and presence flow both ways. */
  | { readonly kind: "joined" }
  /** Left for good (shutdown). */
  | { readonly kind: "closed" };

/** A join under way. */
export type Joining = Extract<Membership, { kind: "joining" }>;

/** Not joined. */
export const AWAY: Membership = { kind: "away" };
/** Joined. */
export const JOINED: Membership = { kind: "joined" };
/** Left for good. */
export const CLOSED: Membership = { kind: "closed" };
