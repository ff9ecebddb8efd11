/** Unit tests of /healthz and /metrics: the handler over a fake source, without a socket. */
import { metricsHandler, type MetricsSnapshot, type MetricsSource } from "../lib/metrics.ts";
import { Stats } from "../lib/stats.ts";
import { assert } from "./helpers.ts";

/** A source whose health and snapshot the test sets. */
class FakeSource implements MetricsSource {
  isHealthy = true;
  current: MetricsSnapshot;

  constructor(current: MetricsSnapshot) {
    this.current = current;
  }

  healthy(): boolean {
    return this.isHealthy;
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
    cluster: { available: true, remoteUsers: 1, droppedBatches: 0 },
  };
}

/** The sample scrape in docs/operations.md, written independently of the code. */
async function sampleScrape(): Promise<string> {
  const doc = await Deno.readTextFile(new URL("../docs/operations.md", import.meta.url));
  const fence = "```\n# HELP chat_connections ";
  assert.ok(doc.includes(fence), "docs/operations.md has no sample scrape");
  const start = doc.indexOf(fence) + 4;
  return doc.slice(start, doc.indexOf("```", start));
}

function get(path: string, method = "GET"): Request {
  return new Request(`http://metrics.test${path}`, { method });
}

Deno.test("/metrics renders a joined server's families exactly as the sample scrape in docs/operations.md", async () => {
  const response = metricsHandler(new FakeSource(sampleSnapshot()))(get("/metrics"));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  assert.equal(await response.text(), await sampleScrape());
});

Deno.test("/metrics of a lone server leaves out the cluster's families; every scrape reads the source anew", async () => {
  const source = new FakeSource({ ...sampleSnapshot(), cluster: undefined });
  const handle = metricsHandler(source);
  const lone = (await sampleScrape()).replace(/^# HELP chat_cluster_[^]*$/m, "");
  assert.equal(await handle(get("/metrics")).text(), lone);
  source.current.stats.throttled = 3;
  source.current = { ...source.current, users: 0 };
  const next = await handle(get("/metrics")).text();
  assert.match(next, /^chat_throttled_total 3$/m);
  assert.match(next, /^chat_users 0$/m);
});

Deno.test("/healthz follows the source's health; other paths are 404 and other methods 405", async () => {
  const source = new FakeSource(sampleSnapshot());
  const handle = metricsHandler(source);
  const answer = async (request: Request) => {
    const response = handle(request);
    return { status: response.status, body: await response.text() };
  };
  assert.deepEqual(await answer(get("/healthz")), { status: 200, body: "ok\n" });
  // HEAD is answered as GET; the HTTP server leaves out the body.
  assert.deepEqual(await answer(get("/healthz", "HEAD")), { status: 200, body: "ok\n" });
  source.isHealthy = false;
  assert.deepEqual(await answer(get("/healthz")), { status: 503, body: "shutting down\n" });
  assert.deepEqual(await answer(get("/metrics/")), { status: 404, body: "not found\n" });
  const post = handle(get("/metrics", "POST"));
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  assert.equal(await post.text(), "method not allowed\n");
});
