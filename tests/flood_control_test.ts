/** Unit tests of flood control: the token bucket on an injected clock, and the backlog over a fake framer. */
import { assertEquals } from "@std/assert";
import { DEADLINE_MS, withDeadline } from "./helpers.ts";
import type { Framer } from "../lib/door.ts";
import {
  type FloodClient,
  FloodControl,
  type FloodOptions,
  TokenBucket,
} from "../lib/flood_control.ts";

/** A clock the test moves by hand. */
class FakeClock {
  ms = 1000;
  readonly now = (): number => this.ms;
}

Deno.test("TokenBucket lets a burst through at once, then one token per 1/rate seconds", () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ rate: 10, burst: 3, now: clock.now });
  // Three tokens: the third message is let through but leaves less than a whole token.
  assertEquals([bucket.take(), bucket.take(), bucket.take()], [true, true, false]);
  assertEquals(bucket.msUntilToken(), 100);
  clock.ms += 50;
  assertEquals(bucket.take(), false, "half a token is not enough");
  assertEquals(bucket.msUntilToken(), 150);
  clock.ms += 150;
  assertEquals(bucket.take(), false);
  clock.ms += 10_000;
  assertEquals([bucket.take(), bucket.take(), bucket.take()], [true, true, false]);
});

Deno.test("TokenBucket with rate 0 never runs out and never reads the clock", () => {
  const bucket = new TokenBucket({
    rate: 0,
    burst: 1,
    now: () => {
      throw new Error("the clock was read");
    },
  });
  for (let i = 0; i < 1000; i++) assertEquals(bucket.take(), true);
});

/** A framer over a fixed-size buffer that records what it frames and pauses when told. */
class FakeFramer implements Framer {
  paused = false;
  readonly framed: string[] = [];
  resumes = 0;
  #buffer = new Uint8Array(4);
  #resumed: (() => void) | undefined;

  space(): Uint8Array {
    return this.#buffer;
  }

  commit(count: number): void {
    this.framed.push(new TextDecoder().decode(this.#buffer.subarray(0, count)));
  }

  resume(): void {
    this.paused = false;
    this.resumes++;
    this.#resumed?.();
  }

  readonly finished = false;
  readonly keepalive = undefined;

  linger(): void {}

  farewell(): undefined {
    return undefined;
  }

  release(): void {}

  /** Resolves at the next resume. */
  nextResume(): Promise<void> {
    return new Promise((resolve) => this.#resumed = resolve);
  }
}

/** Records what flood control reports. */
class FakeClient implements FloodClient {
  readonly reports: string[] = [];
  excessFlood(): void {
    this.reports.push("excess-flood");
  }
  framingFailed(error: unknown): void {
    this.reports.push(`failed: ${error}`);
  }
}

function floodOptions(overrides: Partial<FloodOptions> = {}): FloodOptions {
  return {
    rate: 10,
    burst: 2,
    excessFloodMs: 1000,
    maxMessageBytes: 10,
    stats: { throttled: 0 },
    ...overrides,
  };
}

Deno.test("FloodControl counts each time a client runs out of tokens", () => {
  const clock = new FakeClock();
  const options = floodOptions({ now: clock.now });
  const flood = new FloodControl(options, new FakeFramer(), new FakeClient());
  assertEquals([flood.take(), flood.take(), flood.take()], [true, false, false]);
  assertEquals(options.stats.throttled, 2);
});

Deno.test("FloodControl frames held bytes through the framer's space, in order, and not while it is paused", () => {
  const framer = new FakeFramer();
  const flood = new FloodControl(floodOptions(), framer, new FakeClient());
  flood.hold(new TextEncoder().encode("abcdef"));
  flood.hold(new TextEncoder().encode("gh"));
  assertEquals(flood.heldBytes, 8);
  assertEquals(flood.take() && flood.take(), false);
  framer.paused = true; // as a framer does when its client runs out of tokens
  flood.feed();
  assertEquals(framer.framed, []);
  framer.paused = false;
  flood.feed();
  // The fake framer takes four bytes at a time.
  assertEquals(framer.framed, ["abcd", "ef", "gh"]);
  assertEquals(flood.heldBytes, 0);
  flood.stop();
});

Deno.test("FloodControl resumes a paused framer once a whole token is back", async () => {
  const framer = new FakeFramer();
  // One token every millisecond: the resume comes at once, on a real timer.
  const flood = new FloodControl(floodOptions({ rate: 1000, burst: 1 }), framer, new FakeClient());
  assertEquals(flood.take(), false);
  framer.paused = true;
  const resumed = framer.nextResume();
  flood.scheduleResume();
  flood.scheduleResume(); // a second call while one is scheduled adds no timer
  await withDeadline(resumed, DEADLINE_MS, "the resume");
  assertEquals(framer.resumes, 1);
  flood.stop();
});

Deno.test("FloodControl reports an excess flood once the backlog has stayed full for excessFloodMs", async () => {
  const clock = new FakeClock();
  const framer = new FakeFramer();
  const client = new FakeClient();
  const flood = new FloodControl(
    floodOptions({ now: clock.now, excessFloodMs: 60_000 }),
    framer,
    client,
  );
  assertEquals(flood.take() && flood.take(), false);
  framer.paused = true;
  flood.hold(new Uint8Array(64 * 1024));
  assertEquals(flood.full, true);
  const waiting = flood.roomInBacklog();
  clock.ms += 60_000;
  flood.feed();
  assertEquals(client.reports, [], "not past the limit yet");
  clock.ms += 1;
  flood.feed();
  assertEquals(client.reports, ["excess-flood"]);
  // Stopping wakes the reader still waiting for room, and clears the excess timer.
  flood.stop();
  await waiting;
});

Deno.test("FloodControl wakes a waiting reader when the backlog drains below half, and the clock starts over", async () => {
  const clock = new FakeClock();
  const framer = new FakeFramer();
  const client = new FakeClient();
  const flood = new FloodControl(floodOptions({ now: clock.now }), framer, client);
  assertEquals(flood.take() && flood.take(), false);
  framer.paused = true;
  flood.hold(new Uint8Array(64 * 1024));
  const waiting = flood.roomInBacklog();
  clock.ms += 500;
  framer.paused = false;
  flood.feed();
  await waiting;
  assertEquals(flood.heldBytes, 0);
  clock.ms += 10_000;
  flood.feed();
  assertEquals(client.reports, []);
  flood.stop();
});

Deno.test("FloodControl hands a framing fault on a timer to its client", async () => {
  const framer = new FakeFramer();
  const client = new FakeClient();
  const flood = new FloodControl(floodOptions({ rate: 1000, burst: 1 }), framer, client);
  flood.take();
  framer.paused = true;
  const resumed = framer.nextResume();
  framer.commit = () => {
    throw new Error("bad frame");
  };
  flood.hold(new Uint8Array(1));
  flood.scheduleResume();
  await withDeadline(resumed, DEADLINE_MS, "the resume");
  assertEquals(client.reports, ["failed: Error: bad frame"]);
  flood.stop();
});
