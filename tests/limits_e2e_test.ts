/** End-to-end tests of the limits: line cap, idle timeout, server-full, slow consumers, churn. */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { TestClient, withServer } from "./helpers.ts";

Deno.test("a line past --max-line-bytes gets ERR line-too-long before its end, and the connection stays", async () => {
  await withServer({ maxLineBytes: 4096 }, async (server) => {
    await using alice = await TestClient.login(server, "alice");
    await using bob = await TestClient.login(server, "bob");
    // A megabyte with no newline: the ERR must come while the line is still unfinished.
    const chunk = "x".repeat(16 * 1024);
    await alice.sendRaw("MSG ");
    const reply = alice.readLine();
    for (let sent = 0; sent < 1024 * 1024; sent += chunk.length) await alice.sendRaw(chunk);
    assertEquals(await reply, "ERR line-too-long");
    await alice.sendRaw("tail of the long line\nMSG after\n");
    assertEquals(await alice.sync(), []);
    assertEquals(await bob.sync(), ["MSG alice after"]);
  });
});

Deno.test("a line of exactly --max-line-bytes is accepted, one byte more is not", async () => {
  await withServer({ maxLineBytes: 64 }, async (server) => {
    await using alice = await TestClient.login(server, "alice");
    await using bob = await TestClient.login(server, "bob");
    const fits = "MSG " + "a".repeat(60);
    await alice.sendRaw(fits + "\r\n");
    await alice.send(fits + "b");
    assertEquals(await alice.sync(), ["ERR line-too-long"]);
    assertEquals(await bob.sync(), [`MSG alice ${"a".repeat(60)}`]);
  });
});

Deno.test("a connection that sends nothing is closed with ERR idle-timeout, logged in or not", async () => {
  await withServer({ idleTimeout: 0.3 }, async (server) => {
    await using anonymous = await TestClient.connect(server);
    await using sleeper = await TestClient.login(server, "sleeper");
    await using watcher = await TestClient.login(server, "watcher");
    // The watcher keeps talking, so only the others time out.
    let watching = true;
    const heard: string[] = [];
    const keepAlive = (async () => {
      while (watching) heard.push(...await watcher.sync());
    })();
    await anonymous.expect("ERR idle-timeout");
    await anonymous.expectClosed();
    await sleeper.expect("ERR idle-timeout");
    await sleeper.expectClosed();
    watching = false;
    await keepAlive;
    heard.push(...await watcher.sync());
    assertEquals(heard, ["INFO sleeper disconnected"]);
  });
});

Deno.test("bytes of an unfinished line do not count as activity", async () => {
  await withServer({ idleTimeout: 0.3 }, async (server) => {
    await using trickler = await TestClient.connect(server);
    await using timer = await TestClient.connect(server);
    await trickler.sendRaw("PI");
    // The second client's own timeout proves the first has been idle just as long.
    await timer.expect("ERR idle-timeout");
    await trickler.sendRaw("N");
    await trickler.expect("ERR idle-timeout");
    await trickler.expectClosed();
  });
});

Deno.test("the (max+1)th connection gets ERR server-full, and a closed one frees its slot", async () => {
  await withServer({ maxClients: 2 }, async (server) => {
    const alice = await TestClient.login(server, "alice");
    await using bob = await TestClient.login(server, "bob");
    await using refused = await TestClient.connect(server);
    await refused.expect("ERR server-full");
    await refused.expectClosed();
    // The refused connection took no slot: still full, still two.
    await using refusedAgain = await TestClient.connect(server);
    await refusedAgain.expect("ERR server-full");
    await alice.dispose();
    await bob.expect("INFO alice disconnected");
    await using admitted = await TestClient.login(server, "carol");
    await admitted.send("WHO");
    assertEquals(await admitted.readLines(2), ["USER bob", "USER carol"]);
  });
});

Deno.test("a client that never reads is dropped with ERR slow-consumer; the others get every line in order", async () => {
  const lines = 2500;
  const window = 50;
  await withServer({ maxQueueBytes: 256 * 1024 }, async (server) => {
    await using sender = await TestClient.login(server, "sender");
    await using reader1 = await TestClient.login(server, "reader1");
    await using reader2 = await TestClient.login(server, "reader2");
    await using sink = await TestClient.login(server, "sink");
    const padding = "p".repeat(4000);
    const readers = [reader1, reader2];
    const expected = [0, 0];
    const sinkLeft = [0, 0];
    // Readers keep up (the sender waits for them each window); the sink reads nothing.
    for (let sent = 0; sent < lines; sent += window) {
      let batch = "";
      for (let i = sent; i < sent + window; i++) batch += `MSG ${i} ${padding}\n`;
      await sender.sendRaw(batch);
      for (const [r, reader] of readers.entries()) {
        while (expected[r]! < sent + window) {
          const line = await reader.readLine();
          if (line === "INFO sink disconnected") sinkLeft[r]!++;
          else assertEquals(line, `MSG sender ${expected[r]!++} ${padding}`);
        }
      }
    }
    for (const [r, reader] of readers.entries()) {
      assertEquals(await reader.sync(), sinkLeft[r] === 0 ? ["INFO sink disconnected"] : []);
    }
    assertEquals(await sender.sync(), ["INFO sink disconnected"]);
    // Once the sink reads what the kernel held, its last line is the reason it was dropped.
    let last: string | null = null;
    let received = 0;
    for (let line = await sink.readLine(); line !== null; line = await sink.readLine()) {
      last = line;
      received++;
    }
    assertEquals(last, "ERR slow-consumer");
    assert(received < lines, `the sink got ${received} lines`);
  });
});

Deno.test("200 clients connecting and leaving fast leave no ghost in WHO", async () => {
  await withServer({}, async (server) => {
    await using observer = await TestClient.login(server, "observer");
    const departures = new Set<string>();
    const churn = async (i: number) => {
      const client = await TestClient.connect(server);
      if (i % 4 === 3) {
        await client.dispose(); // never logs in
        return;
      }
      await client.send(`LOGIN churn${i}`);
      await client.expect("OK");
      departures.add(`INFO churn${i} disconnected`);
      if (i % 4 === 0) {
        await client.send("QUIT");
        for (let line = await client.readLine(); line !== null; line = await client.readLine()) {
          assertMatch(line, /^INFO churn\d+ disconnected$/);
        }
      } else if (i % 4 === 1) {
        await client.send("PING"); // left unread: the close becomes a reset
      }
      await client.dispose();
    };
    for (let start = 0; start < 200; start += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, k) => churn(start + k)));
    }
    const seen = new Set(await observer.readLines(departures.size));
    assertEquals(seen, departures);
    await observer.send("WHO");
    assertEquals(await observer.sync(), ["USER observer"]);
  });
});

Deno.test("a WHO reply larger than --max-queue-bytes still reaches a client that reads", async () => {
  await withServer({ maxQueueBytes: 300 }, async (server) => {
    const clients: TestClient[] = [];
    try {
      for (let i = 0; i < 12; i++) {
        clients.push(await TestClient.login(server, `user-with-a-long-name-${i}`));
      }
      const asker = clients[0]!;
      await asker.send("WHO");
      const lines = await asker.readLines(12);
      assertEquals(lines, clients.map((_, i) => `USER user-with-a-long-name-${i}`));
      assertEquals(await asker.sync(), []);
    } finally {
      for (const client of clients) await client.dispose();
    }
  });
});
