/** Unit tests of /healthz, /readyz and /metrics: the handler over a fake source, without a socket. */
import { assert, assertEquals, assertMatch, assertStrictEquals } from "@std/assert";
import {
  metricsHandler,
  type MetricsSnapshot,
  type MetricsSource,
  type Readiness,
  readinessOf,
} from "../lib/metrics.ts";
import { Stats } from "../lib/stats.ts";

/** A source whose health, readiness and snapshot the test sets. */
class FakeSource implements MetricsSource {
  isHealthy = true;
  currentReadiness: Readiness = "ready";
  current: MetricsSnapshot;

  constructor(current: MetricsSnapshot) {
    this.current = current;
  }

  healthy(): boolean {
    return this.isHealthy;
  }

  readiness(): Readiness {
    return this.currentReadiness;
  }

  snapshot(): MetricsSnapshot {
    return this.current;
  }
}

/** The counters and gauges behind the documented sample scrape (one of two joined instances). */
function sampleSnapshot(): MetricsSnapshot {
  const stats = new Stats();
  Object.assign(stats.linesReceived, { login: 2, msg: 1, who: 1, dm: 1, ping: 1, ignored: 1 });
  stats.disconnects.reset = 1;
  Object.assign(stats, {
    linesDelivered: 9,
    linesTooLong: 1,
    bytesIn: 5065,
    bytesOut: 109,
    connectionsAccepted: 2,
  });
  return {
    stats,
    connections: 1,
    users: 1,
    outboxQueuedBytes: 0,
    uptimeSeconds: 1.651,
    residentBytes: 80785408,
    heapUsedBytes: 25118352,
    history: { written: 1, pending: 0, writeFailures: 0, dropped: 0, readFailures: 0 },
    cluster: { available: true, everJoined: true, remoteUsers: 1, droppedBatches: 0 },
    accountRedisErrors: 0,
  };
}

/** The sample scrape in docs/operations.md, written independently of the code. */
async function sampleScrape(): Promise<string> {
  const doc = await Deno.readTextFile(new URL("../docs/operations.md", import.meta.url));
  const fence = "```\n# HELP chat_connections ";
  assert(doc.includes(fence), "docs/operations.md has no sample scrape");
  const start = doc.indexOf(fence) + 4;
  return doc.slice(start, doc.indexOf("```", start));
}

function get(path: string, method = "GET"): Request {
  return new Request(`http://metrics.test${path}`, { method });
}

Deno.test("/metrics renders a joined server's families exactly as the sample scrape in docs/operations.md", async () => {
  const response = metricsHandler(new FakeSource(sampleSnapshot()))(get("/metrics"));
  assertEquals(response.status, 200);
  assertEquals(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  assertStrictEquals(await response.text(), await sampleScrape());
});

Deno.test("/metrics of a lone server leaves out the cluster's families; every scrape reads the source anew", async () => {
  const source = new FakeSource({
    ...sampleSnapshot(),
    cluster: undefined,
    accountRedisErrors: undefined,
  });
  const handle = metricsHandler(source);
  // The cluster's families and the shared accounts' Redis errors come last, and only with Redis.
  const lone = (await sampleScrape()).replace(/^# HELP chat_cluster_[^]*$/m, "");
  assertStrictEquals(await handle(get("/metrics")).text(), lone);
  source.current.stats.throttled = 3;
  source.current = { ...source.current, users: 0 };
  const next = await handle(get("/metrics")).text();
  assertMatch(next, /^chat_throttled_total 3$/m);
  assertMatch(next, /^chat_users 0$/m);
});

/** The handler over `source`, and a way to read its status and body at once. */
function answering(source: FakeSource) {
  const handle = metricsHandler(source);
  const answer = async (request: Request) => {
    const response = handle(request);
    return { status: response.status, body: await response.text() };
  };
  return { handle, answer };
}

Deno.test("/healthz follows the source's health; other paths are 404 and other methods 405", async () => {
  const source = new FakeSource(sampleSnapshot());
  const { handle, answer } = answering(source);
  assertEquals(await answer(get("/healthz")), { status: 200, body: "ok\n" });
  // HEAD is answered as GET; the HTTP server leaves out the body.
  assertEquals(await answer(get("/healthz", "HEAD")), { status: 200, body: "ok\n" });
  source.isHealthy = false;
  assertEquals(await answer(get("/healthz")), { status: 503, body: "shutting down\n" });
  assertEquals(await answer(get("/metrics/")), { status: 404, body: "not found\n" });
  const post = handle(get("/metrics", "POST"));
  assertEquals(post.status, 405);
  assertEquals(post.headers.get("allow"), "GET, HEAD");
  assertEquals(await post.text(), "method not allowed\n");
});

Deno.test("/readyz is 200 ready while the source is ready, else 503 with the reason", async () => {
  const source = new FakeSource(sampleSnapshot());
  const { handle, answer } = answering(source);
  assertEquals(await answer(get("/readyz")), { status: 200, body: "ready\n" });
  assertEquals(await answer(get("/readyz", "HEAD")), { status: 200, body: "ready\n" });
  for (const reason of ["cluster not joined", "cluster unavailable", "shutting down"] as const) {
    source.currentReadiness = reason;
    assertEquals(await answer(get("/readyz")), { status: 503, body: `${reason}\n` });
  }
  // Liveness is another question: an instance cut from Redis is alive, only not ready.
  source.currentReadiness = "cluster unavailable";
  assertEquals(await answer(get("/healthz")), { status: 200, body: "ok\n" });
  assertEquals(handle(get("/readyz", "POST")).status, 405);
  assertEquals(handle(get("/readyz/")).status, 404);
});

Deno.test("readiness: a lone server is ready until it stops; a clustered one only while joined", () => {
  const cluster = (available: boolean, everJoined: boolean) => ({
    available,
    everJoined,
    remoteUsers: 0,
    droppedBatches: 0,
  });
  assertEquals(readinessOf(false, undefined), "ready");
  assertEquals(readinessOf(true, undefined), "shutting down");
  assertEquals(readinessOf(false, cluster(false, false)), "cluster not joined");
  assertEquals(readinessOf(false, cluster(true, true)), "ready");
  assertEquals(readinessOf(false, cluster(false, true)), "cluster unavailable");
  // Shutting down says so first, whatever the cluster's state.
  assertEquals(readinessOf(true, cluster(true, true)), "shutting down");
  assertEquals(readinessOf(true, cluster(false, false)), "shutting down");
});
