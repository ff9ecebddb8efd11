/** Flood control: a client over its rate is slowed, not kicked, and slows nobody else. */
import { assert, assertEquals, assertMatch, assertStrictEquals } from "@std/assert";
import { startServer, TestClient } from "./helpers.ts";

Deno.test("a flooder is held to its rate while others chat past it; every flooder line arrives, in order", async () => {
  const lines = 2000;
  // 2,000 lines at 1,000 a second take about two seconds to let through.
  const server = startServer({ rate: 1000, burst: 50 });
  try {
    await using flooder = await TestClient.login(server, "flooder");
    await using observer = await TestClient.login(server, "observer");
    await using pinger = await TestClient.login(server, "pinger");
    let flood = "";
    for (let i = 0; i < lines; i++) flood += `MSG f${i}\n`;
    await flooder.sendRaw(flood);

    // The pinger hears the flood too; its PONG must come long before the flood's end.
    const heardBeforePong = await pinger.sync();
    assert(heardBeforePong.length < lines, "PONG came only after the whole flood");
    heardBeforePong.forEach((line, i) => assertEquals(line, `MSG flooder f${i}`));
    await pinger.send("MSG hello");
    let next = 0;
    while (true) {
      const line = await observer.readLine();
      if (line === "MSG pinger hello") break;
      assertEquals(line, `MSG flooder f${next++}`);
    }
    assert(next < lines, "the pinger's line came only after the whole flood");

    while (next < lines) assertEquals(await observer.readLine(), `MSG flooder f${next++}`);
    // The flooder was slowed, not dropped: its own PING is answered after its backlog.
    assertEquals(await flooder.sync(10_000), ["MSG pinger hello"]);
    // The pinger got the whole flood too, in order, around its own line.
    const pingerRest = await pinger.sync(10_000);
    assertStrictEquals(heardBeforePong.length + pingerRest.length, lines);
  } finally {
    await server.shutdown();
  }
});

Deno.test("with --rate 0 nobody is held back", async () => {
  const server = startServer({ rate: 0, burst: 1, metricsPort: 0 });
  try {
    await using sender = await TestClient.login(server, "sender");
    await using reader = await TestClient.login(server, "reader");
    let burst = "";
    for (let i = 0; i < 500; i++) burst += `MSG m${i}\n`;
    await sender.sendRaw(burst);
    assertEquals(await sender.sync(), []);
    const got = await reader.readLines(500);
    assertEquals(got, Array.from({ length: 500 }, (_, i) => `MSG sender m${i}`));
    const response = await fetch(`http://127.0.0.1:${server.metricsAddr!.port}/metrics`);
    assertMatch(await response.text(), /^chat_throttled_total 0$/m);
  } finally {
    await server.shutdown();
  }
});

Deno.test("a flooder that hangs up while held back leaves at once; its held-back lines are dropped", async () => {
  const server = startServer({ rate: 10, burst: 5, maxClients: 3 });
  try {
    await using observer = await TestClient.login(server, "observer");
    for (const hangUp of ["close", "half-close"] as const) {
      const ghost = await TestClient.login(server, "ghost");
      await ghost.sendRaw("MSG spam\n".repeat(400)); // forty seconds' worth at 10 a second
      if (hangUp === "close") await ghost.dispose();
      else await ghost.conn.closeWrite();
      let spam = 0;
      for (
        let line = await observer.readLine();
        line !== "INFO ghost disconnected";
        line = await observer.readLine()
      ) {
        assertEquals(line, "MSG ghost spam");
        spam++;
      }
      assert(
        spam < 400,
        `${hangUp}: all ${spam} held-back lines were sent before the departure`,
      );
      await ghost.dispose();
      // The name and the slot are free again, and no more spam comes.
      await using again = await TestClient.login(server, "ghost");
      assertEquals(await observer.sync(), []);
      await again.dispose();
      assertEquals(await observer.readLine(), "INFO ghost disconnected");
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("a flooder whose backlog stays full is dropped with ERR excess-flood; everyone hears it left", async () => {
  const server = startServer({ rate: 50, burst: 1 }, { excessFloodMs: 200 });
  try {
    await using observer = await TestClient.login(server, "observer");
    await using flooder = await TestClient.login(server, "flooder");
    // Far more than the 64 KiB backlog, sent without waiting; the writes block once the kernel is full.
    const writing = flooder.sendRaw("MSG x\n".repeat(200_000)).catch(() => {});
    assertEquals(await flooder.lastLineBeforeClose(), "ERR excess-flood");
    const heard = await observer.sync();
    assertEquals(heard.at(-1), "INFO flooder disconnected");
    assert(heard.slice(0, -1).every((line) => line === "MSG flooder x"));
    await flooder.dispose();
    await writing;
  } finally {
    await server.shutdown();
  }
});

Deno.test("excess flood is caught on time even when --rate refills are far apart", async () => {
  // One token every 20 s: without its own timer, the check would wait for the next refill.
  const server = startServer({ rate: 0.05, burst: 1 }, { excessFloodMs: 300 });
  try {
    await using flooder = await TestClient.login(server, "slowpoke");
    const writing = flooder.sendRaw("MSG x\n".repeat(100_000)).catch(() => {});
    assertEquals(await flooder.lastLineBeforeClose(), "ERR excess-flood");
    await flooder.dispose();
    await writing;
  } finally {
    await server.shutdown();
  }
});
