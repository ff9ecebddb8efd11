/** End-to-end tests of every protocol row, over real TCP on 127.0.0.1. */
import { assert, assertEquals } from "@std/assert";
import { TestClient, withServer } from "./helpers.ts";

Deno.test("LOGIN answers OK, and a second LOGIN gets ERR already-logged-in", async () => {
  await withServer({}, async (server) => {
    await using alice = await TestClient.connect(server);
    await alice.send("LOGIN alice");
    await alice.expect("OK");
    await alice.send("LOGIN alice2");
    await alice.expect("ERR already-logged-in");
  });
});

Deno.test("LOGIN refuses a name taken regardless of case and Unicode composition", async () => {
  await withServer({}, async (server) => {
    await using first = await TestClient.login(server, "Zo\u00e9");
    await using second = await TestClient.connect(server);
    await second.send("LOGIN zo\u00e9");
    await second.expect("ERR username-taken");
    await second.send("LOGIN ZOE\u0301"); // decomposed é
    await second.expect("ERR username-taken");
    await second.send("LOGIN zoey");
    await second.expect("OK");
    assertEquals(await first.sync(), []);
  });
});

Deno.test("LOGIN refuses the services' names, NickServ and ChanServ, in any case, as taken", async () => {
  await withServer({}, async (server) => {
    await using client = await TestClient.connect(server);
    for (const name of ["NickServ", "nickserv", "CHANSERV", "ChanServ"]) {
      await client.send(`LOGIN ${name}`);
      await client.expect("ERR username-taken");
    }
    await client.send("LOGIN NickServ2");
    await client.expect("OK");
  });
});

Deno.test("LOGIN refuses invalid names and leaves the connection open for another try", async () => {
  await withServer({}, async (server) => {
    await using client = await TestClient.connect(server);
    for (
      const bad of [
        "LOGIN",
        "LOGIN ",
        "LOGIN    ",
        "LOGIN two words",
        "LOGIN tab\tname",
        "LOGIN zero\u200bwidth",
        "LOGIN bidi\u202eoverride",
        "LOGIN bell\u0007",
        "LOGIN c1\u0085next",
        `LOGIN ${"x".repeat(33)}`,
      ]
    ) {
      await client.send(bad);
      await client.expect("ERR invalid-username");
    }
    await client.send(`LOGIN ${"\u{1F600}".repeat(32)}`);
    await client.expect("OK");
  });
});

Deno.test("LOGIN trims the name and shows it as typed", async () => {
  await withServer({}, async (server) => {
    await using client = await TestClient.connect(server);
    await client.send("LOGIN   MixedCase  ");
    await client.expect("OK");
    await client.send("WHO");
    await client.expect("USER MixedCase");
  });
});

Deno.test("MSG reaches every other logged-in client, not the sender, text kept as sent", async () => {
  await withServer({}, async (server) => {
    await using alice = await TestClient.login(server, "alice");
    await using bob = await TestClient.login(server, "bob");
    await using carol = await TestClient.login(server, "carol");
    await using lurker = await TestClient.connect(server);
    await alice.send("MSG  hello,  world \tend ");
    await bob.expect("MSG alice  hello,  world \tend ");
    await carol.expect("MSG alice  hello,  world \tend ");
    assertEquals(await alice.sync(), []);
    assertEquals(await lurker.sync(), []);
  });
});

Deno.test("MSG and DM with empty or blank text are ignored", async () => {
  await withServer({}, async (server) => {
    await using alice = await TestClient.login(server, "alice");
    await using bob = await TestClient.login(server, "bob");
    for (const line of ["MSG", "MSG ", "MSG    ", "DM bob", "DM bob ", "DM bob   ", "DM nobody"]) {
      await alice.send(line);
    }
    assertEquals(await alice.sync(), []);
    assertEquals(await bob.sync(), []);
  });
});

Deno.test("WHO lists every logged-in user, the asker included, in login order", async () => {
  await withServer({}, async (server) => {
    await using _carol = await TestClient.login(server, "carol");
    await using alice = await TestClient.login(server, "alice");
    await using anonymous = await TestClient.connect(server);
    await using bob = await TestClient.login(server, "bob");
    await alice.send("WHO");
    assertEquals(await alice.readLines(3), ["USER carol", "USER alice", "USER bob"]);
    await bob.send("WHO ");
    assertEquals(await bob.readLines(3), ["USER carol", "USER alice", "USER bob"]);
    assertEquals(await anonymous.sync(), []);
  });
});

Deno.test("WHO is one block that no broadcast interleaves", async () => {
  await withServer({}, async (server) => {
    const clients: TestClient[] = [];
    try {
      for (let i = 0; i < 30; i++) clients.push(await TestClient.login(server, `user${i}`));
      const [asker, talker] = [clients[0]!, clients[1]!];
      // The talker's messages and the WHO race inside the hub; the block must stay whole.
      const chatter = Array.from({ length: 50 }, (_, i) => `MSG line${i}`).join("\n") + "\n";
      await Promise.all([talker.sendRaw(chatter), asker.send("WHO")]);
      // Once the talker has its PONG, all 50 messages are in the asker's queue.
      await talker.sync();
      const lines = await asker.sync();
      const first = lines.indexOf("USER user0");
      assert(first >= 0, "WHO reply missing");
      const block = lines.slice(first, first + 30);
      assertEquals(block, Array.from({ length: 30 }, (_, i) => `USER user${i}`));
      assertEquals(lines.filter((l) => l.startsWith("MSG user1 ")).length, 50);
    } finally {
      for (const client of clients) await client.dispose();
    }
  });
});

Deno.test("DM reaches the named user whatever the case, and oneself", async () => {
  await withServer({}, async (server) => {
    await using naman = await TestClient.login(server, "Naman");
    await using bob = await TestClient.login(server, "bob");
    await using carol = await TestClient.login(server, "carol");
    await bob.send("DM naman hi  there ");
    await naman.expect("DM bob hi  there ");
    await bob.send("DM BOB note to self");
    await bob.expect("DM bob note to self");
    assertEquals(await carol.sync(), []);
  });
});

Deno.test("DM to a missing user gets ERR user-not-found", async () => {
  await withServer({}, async (server) => {
    await using alice = await TestClient.login(server, "alice");
    await alice.send("DM ghost hello");
    await alice.expect("ERR user-not-found");
  });
});

Deno.test("PING gets PONG before and after login, whatever follows it", async () => {
  await withServer({}, async (server) => {
    await using client = await TestClient.connect(server);
    await client.send("PING");
    await client.expect("PONG");
    await client.send("PING extra words");
    await client.expect("PONG");
    await client.send("LOGIN pinger");
    await client.expect("OK");
    await client.send("PING");
    await client.expect("PONG");
  });
});

Deno.test("MSG, WHO and DM before login get ERR login-required, even malformed", async () => {
  await withServer({}, async (server) => {
    await using client = await TestClient.connect(server);
    for (const line of ["MSG hi", "MSG", "WHO", "DM someone hi", "DM"]) {
      await client.send(line);
      await client.expect("ERR login-required");
    }
  });
});

Deno.test("unknown commands, wrong case and empty lines are ignored silently", async () => {
  await withServer({}, async (server) => {
    await using client = await TestClient.login(server, "alice");
    for (const line of ["", "   ", "msg hi", "Who", "HELLO world", "PINGPONG", "\tPING", " PING"]) {
      await client.send(line);
    }
    assertEquals(await client.sync(), []);
  });
});

Deno.test("replies come back in the order the commands were sent", async () => {
  await withServer({}, async (server) => {
    await using client = await TestClient.connect(server);
    await client.sendRaw("PING\nWHO\nLOGIN a\nLOGIN b\nDM nobody x\nWHO\nPING\n");
    assertEquals(await client.readLines(7), [
      "PONG",
      "ERR login-required",
      "OK",
      "ERR already-logged-in",
      "ERR user-not-found",
      "USER a",
      "PONG",
    ]);
  });
});

Deno.test("QUIT closes the connection and the others get INFO <name> disconnected", async () => {
  await withServer({}, async (server) => {
    await using alice = await TestClient.login(server, "alice");
    await using bob = await TestClient.login(server, "bob");
    await alice.send("QUIT");
    await alice.expectClosed();
    await bob.expect("INFO alice disconnected");
    await bob.send("WHO");
    await bob.expect("USER bob");
    assertEquals(await bob.sync(), []);
  });
});

Deno.test("QUIT before login closes without any INFO", async () => {
  await withServer({}, async (server) => {
    await using bob = await TestClient.login(server, "bob");
    await using anonymous = await TestClient.connect(server);
    await anonymous.send("QUIT");
    await anonymous.expectClosed();
    assertEquals(await bob.sync(), []);
  });
});

Deno.test("a client that hangs up or resets is announced with INFO and its name freed", async () => {
  await withServer({}, async (server) => {
    await using bob = await TestClient.login(server, "bob");
    const alice = await TestClient.login(server, "alice");
    await alice.dispose();
    await bob.expect("INFO alice disconnected");
    const carol = await TestClient.login(server, "carol");
    // Closing with unread input (the PONG) makes the kernel send RST rather than FIN.
    await carol.send("PING");
    await bob.sync();
    await carol.dispose();
    await bob.expect("INFO carol disconnected");
    await using again = await TestClient.login(server, "alice");
    await again.send("WHO");
    assertEquals(await again.readLines(2), ["USER bob", "USER alice"]);
  });
});

Deno.test("CRLF line ends work and the server answers with LF", async () => {
  await withServer({}, async (server) => {
    await using alice = await TestClient.connect(server);
    await using bob = await TestClient.login(server, "bob");
    await alice.sendRaw("LOGIN alice\r\nMSG hi\r\nPING\r\n");
    await alice.expect("OK");
    await alice.expect("PONG");
    await bob.expect("MSG alice hi");
  });
});

Deno.test("control characters in text become U+FFFD; TAB is kept", async () => {
  await withServer({}, async (server) => {
    await using alice = await TestClient.login(server, "alice");
    await using bob = await TestClient.login(server, "bob");
    await alice.sendRaw("MSG a\x1b[31mred\x07\tb\rc\x7f\u0085\u009b\r\n");
    await bob.expect("MSG alice a\uFFFD[31mred\uFFFD\tb\uFFFDc\uFFFD\uFFFD\uFFFD");
    await alice.sendRaw("DM bob x\x00y\r\r\n");
    await bob.expect("DM alice x\uFFFDy\uFFFD");
  });
});

Deno.test("invalid UTF-8 is decoded as U+FFFD and never closes the connection", async () => {
  await withServer({}, async (server) => {
    await using alice = await TestClient.login(server, "alice");
    await using bob = await TestClient.login(server, "bob");
    await alice.sendRaw(
      new Uint8Array([...new TextEncoder().encode("MSG a"), 0xff, 0xc3, 0x62, 10]),
    );
    await bob.expect("MSG alice a\uFFFD\uFFFDb");
    await alice.send("PING");
    await alice.expect("PONG");
  });
});

Deno.test("a line split across many writes is put back together", async () => {
  await withServer({}, async (server) => {
    await using alice = await TestClient.login(server, "alice");
    await using bob = await TestClient.login(server, "bob");
    alice.conn.setNoDelay(true);
    const bytes = new TextEncoder().encode("MSG h\u00e9llo w\u00f6rld\r\n");
    for (let i = 0; i < bytes.length; i++) await alice.sendRaw(bytes.subarray(i, i + 1));
    await bob.expect("MSG alice h\u00e9llo w\u00f6rld");
  });
});
