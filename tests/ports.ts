/**
 * A loopback port for a program that cannot listen on port 0 and say which
 * port it got (`redis-server`, `haproxy`), or for a port where nothing must
 * answer. Binding port 0, closing, and handing the number on is a race: until
 * the child binds it, the kernel may give that port to any outgoing
 * connection's local end or to another port-0 listener, and a connection to a
 * free ephemeral port can even meet itself (a TCP simultaneous open). A port
 * below the kernel's ephemeral range is never handed out that way, so one
 * checked free stays free unless a program asks for it by number.
 *
 * @module
 */

/** Where the kernel's ephemeral range starts when it cannot be read. */
const LINUX_DEFAULT_EPHEMERAL_LOW = 32768;
/** The lowest port handed out, above the usual fixed ports of local services. */
const LOWEST = 10000;

/** The first port of the kernel's ephemeral range. */
function ephemeralLow(): number {
  try {
    const range = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range");
    const low = Number(range.trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 1024 ? low : LINUX_DEFAULT_EPHEMERAL_LOW;
  } catch {
    return LINUX_DEFAULT_EPHEMERAL_LOW;
  }
}

/** Ports this process has handed out: never twice. */
const given = new Set<number>();

/** True when nothing listens on `port` on 127.0.0.1 now. */
function isFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) return false;
    throw error;
  }
}

/**
 * A port on 127.0.0.1 below the ephemeral range, free when chosen, and not
 * handed out before by this process; chosen at random so that test runs
 * side by side on one machine rarely try the same one.
 */
export function freeFixedPort(): number {
  const high = ephemeralLow();
  const low = high - 1 > LOWEST ? LOWEST : 1024;
  for (let tries = 0; tries < 1000; tries++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (given.has(port) || !isFree(port)) continue;
    given.add(port);
    return port;
  }
  throw new Error(`Cannot find a free port in ${low}-${high - 1}`);
}
