/**
 * IRC users in the same chat as TCP and WebSocket users: messages, DMs,
 * logins and departures in every direction, escaped nicks, `/me`,
 * formatting, and lines longer than IRC's 512 bytes.
 */
import { assert, assertEquals } from "@std/assert";
import { TestClient, withServer } from "./helpers.ts";
import { IrcClient } from "./irc_client.ts";
import { WsClient } from "./ws_client.ts";

const encoder = new TextEncoder();

Deno.test("IRC, TCP and WebSocket users chat in every direction: MSG, DM, logins as JOIN, departures as QUIT", async () => {
  await withServer({ ircPort: 0, webPort: 0 }, async (server) => {
    const webPort = server.webAddr!.port;
    await using tom = await TestClient.login(server, "tom");
    await tom.send("WATCH");
    await using wendy = await WsClient.login(webPort, "wendy");
    await using ivy = await IrcClient.register(server, "ivy");
    assertEquals(await tom.sync(), ["INFO wendy connected", "INFO ivy connected"]);

    // Each sender's lines are in before the next one speaks: its own PING comes back after them.
    await tom.send("MSG from tcp");
    assertEquals(await tom.sync(), []);
    await wendy.send("MSG from web");
    assertEquals(await wendy.sync(), ["MSG tom from tcp"]);
    await ivy.send("PRIVMSG #chat :from irc");
    assertEquals(await ivy.sync(), [
      ":tom!tom@chat PRIVMSG #chat :from tcp",
      ":wendy!wendy@chat PRIVMSG #chat :from web",
    ]);
    assertEquals(await tom.sync(), ["MSG wendy from web", "MSG ivy from irc"]);
    assertEquals(await wendy.sync(), ["MSG ivy from irc"]);

    await tom.send("DM ivy tcp to irc");
    assertEquals(await tom.sync(), []);
    await wendy.send("DM ivy web to irc");
    assertEquals(await wendy.sync(), []);
    await ivy.send("PRIVMSG tom :irc to tcp");
    await ivy.send("PRIVMSG wendy :irc to web");
    assertEquals(await ivy.sync(), [
      ":tom!tom@chat PRIVMSG ivy :tcp to irc",
      ":wendy!wendy@chat PRIVMSG ivy :web to irc",
    ]);
    assertEquals(await tom.sync(), ["DM ivy irc to tcp"]);
    assertEquals(await wendy.sync(), ["DM ivy irc to web"]);

    // Logins on every door are JOINs; an IRC user's at its registration, not its JOIN.
    await using tina = await TestClient.login(server, "tina");
    await using _wes = await WsClient.login(webPort, "wes");
    await using iris = await IrcClient.register(server, "iris", { join: false });
    assertEquals(await ivy.sync(), [
      ":tina!tina@chat JOIN #chat",
      ":wes!wes@chat JOIN #chat",
      ":iris!iris@chat JOIN #chat",
    ]);
    assertEquals(await tom.sync(), [
      "INFO tina connected",
      "INFO wes connected",
      "INFO iris connected",
    ]);

    // Departures on every door are QUITs for IRC, INFO for the others.
    await tom.send("QUIT");
    await tom.expectClosed();
    await tina.expect("INFO tom disconnected");
    // Read first: a socket closed with bytes unread is reset, not closed (a departure in other words).
    await wendy.expect("INFO tom disconnected");
    wendy.close();
    await tina.expect("INFO wendy disconnected");
    await iris.send("QUIT");
    await iris.expect("ERROR :Closing link: Quit");
    await tina.expect("INFO iris disconnected");
    assertEquals(await ivy.sync(), [
      ":tom!tom@chat QUIT :Quit",
      ":wendy!wendy@chat QUIT :Remote host closed the connection",
      ":iris!iris@chat QUIT :Quit",
    ]);
    await ivy.send("QUIT");
    await tina.expect("INFO ivy disconnected");
  });
});

Deno.test("IRC shows names that are no nicks escaped, and reaches them by DM", async () => {
  await withServer({ ircPort: 0 }, async (server) => {
    await using ivy = await IrcClient.register(server, "ivy");
    const users: [string, string][] = [
      ["#x", "|23|x"],
      ["a:b", "a|3a|b"],
      ["9lives", "|39|lives"],
      ["-dash", "|2d|dash"],
      ["Zoë", "Zo|eb|"],
      ["a|b", "a|7c|b"],
      ["日本", "|65e5||672c|"],
    ];
    const clients: TestClient[] = [];
    try {
      for (const [name, nick] of users) {
        const client = await TestClient.login(server, name);
        clients.push(client);
        await ivy.expect(`:${nick}!${nick}@chat JOIN #chat`);
        await client.send(`MSG hello from ${name}`);
        await ivy.expect(`:${nick}!${nick}@chat PRIVMSG #chat :hello from ${name}`);
        await ivy.send(`PRIVMSG ${nick} :hi ${name}`);
        await client.expect(`DM ivy hi ${name}`);
        await client.send("DM ivy back");
        await ivy.expect(`:${nick}!${nick}@chat PRIVMSG ivy :back`);
      }
      await ivy.send("NAMES #chat");
      await ivy.expect(`:chat 353 ivy = #chat :ivy ${users.map(([, nick]) => nick).join(" ")}`);
      await ivy.expect(":chat 366 ivy #chat :End of /NAMES list.");
      // ASCII case aside, in the escape too.
      await ivy.send("PRIVMSG ZO|EB| :shouting");
      assertEquals(await ivy.sync(), []);
      assertEquals((await clients[4]!.sync()).at(-1), "DM ivy shouting");
    } finally {
      for (const client of clients) await client.dispose();
    }
  });
});

Deno.test("IRC /me both ways: CTCP ACTION is /me for others, and /me is ACTION for IRC", async () => {
  await withServer({ ircPort: 0 }, async (server) => {
    await using tom = await TestClient.login(server, "tom");
    await using ivy = await IrcClient.register(server, "ivy");
    await using iris = await IrcClient.register(server, "iris");
    await ivy.expect(":iris!iris@chat JOIN #chat");
    await ivy.send("PRIVMSG #chat :\x01ACTION waves\x01");
    await ivy.send("PRIVMSG tom :\x01ACTION winks\x01");
    assertEquals(await ivy.sync(), []);
    await tom.send("MSG /me nods");
    await tom.send("DM ivy /me smiles");
    assertEquals(await tom.sync(), ["MSG ivy /me waves", "DM ivy /me winks"]);
    assertEquals(await iris.sync(), [
      ":ivy!ivy@chat PRIVMSG #chat :\x01ACTION waves\x01",
      ":tom!tom@chat PRIVMSG #chat :\x01ACTION nods\x01",
    ]);
    assertEquals(await ivy.sync(), [
      ":tom!tom@chat PRIVMSG #chat :\x01ACTION nods\x01",
      ":tom!tom@chat PRIVMSG ivy :\x01ACTION smiles\x01",
    ]);
  });
});

Deno.test("IRC formatting is stripped on the way in; other CTCP is dropped, not relayed", async () => {
  await withServer({ ircPort: 0 }, async (server) => {
    await using tom = await TestClient.login(server, "tom");
    await using ivy = await IrcClient.register(server, "ivy");
    await using iris = await IrcClient.register(server, "iris");
    await ivy.expect(":iris!iris@chat JOIN #chat");
    await ivy.send("PRIVMSG #chat :\x02bold\x02 \x0304,12red\x03 \x1ditalic\x1d\x0f \x07bell");
    await ivy.send("PRIVMSG #chat :\x01VERSION\x01");
    await ivy.send("NOTICE tom :\x01VERSION irssi\x01");
    await ivy.send("PRIVMSG #chat :\x02\x02");
    assertEquals(await tom.sync(), ["MSG ivy bold red italic \uFFFDbell"]);
    assertEquals(await iris.sync(), [
      ":ivy!ivy@chat PRIVMSG #chat :bold red italic \uFFFDbell",
    ]);
    assertEquals(await ivy.sync(), []);
  });
});

Deno.test("IRC a line past 512 bytes gets 417 and the connection stays; 512 bytes with its end fit", async () => {
  await withServer({ ircPort: 0 }, async (server) => {
    await using tom = await TestClient.login(server, "tom");
    await using ivy = await IrcClient.register(server, "ivy");
    await ivy.sendRaw(`PRIVMSG #chat :${"x".repeat(10 * 1024)}\r\n`);
    assertEquals(await ivy.sync(), [":chat 417 ivy :Input line was too long"]);
    const head = "PRIVMSG #chat :";
    await ivy.send(head + "a".repeat(510 - head.length));
    await ivy.send(head + "b".repeat(511 - head.length));
    assertEquals(await ivy.sync(), [":chat 417 ivy :Input line was too long"]);
    assertEquals(await tom.sync(), [`MSG ivy ${"a".repeat(510 - head.length)}`]);
    await ivy.send("PRIVMSG #chat :still here");
    await tom.expect("MSG ivy still here");
  });
});

Deno.test("IRC a relayed 4 KB message arrives cut to 512 bytes on a UTF-8 boundary, an ACTION closed", async () => {
  await withServer({ ircPort: 0 }, async (server) => {
    await using tom = await TestClient.login(server, "tom");
    await using ivy = await IrcClient.register(server, "ivy");
    const text = "aé€😀".repeat(400);
    assert(encoder.encode(text).length >= 4000);
    await tom.send(`MSG ${text}`);
    await tom.send(`DM ivy ${text}`);
    await tom.send(`MSG /me ${text}`);
    const expected: [string, string][] = [
      [":tom!tom@chat PRIVMSG #chat :", text],
      [":tom!tom@chat PRIVMSG ivy :", text],
      [":tom!tom@chat PRIVMSG #chat :", `\x01ACTION ${text}`],
    ];
    for (const [head, body] of expected) {
      // The client checks every line: \r\n, valid UTF-8, at most 512 bytes.
      const line = (await ivy.readLine())!;
      assert(line.startsWith(head + body.slice(0, 10)), line);
      assert(
        (head + body).startsWith(line.endsWith("\x01") ? line.slice(0, -1) : line),
        "a prefix of the whole",
      );
      assert(ivy.lastLineBytes >= 509, `${ivy.lastLineBytes} bytes: cut no shorter than needed`);
      if (body.startsWith("\x01")) assert(line.endsWith("\x01"));
    }
  });
});
