/** The IRC door over real sockets: registration, and every command an IRC client sends. */
import { assertEquals } from "@std/assert";
import { TestClient, withServer } from "./helpers.ts";
import {
  CAPABILITIES,
  IrcClient,
  ISUPPORT,
  welcomeLines,
  withClockedServer,
} from "./irc_client.ts";
import { WsClient } from "./ws_client.ts";

const IRC = { ircPort: 0 } as const;

Deno.test("IRC registration without CAP: NICK and USER get 001 to 005 and 422", async () => {
  await withServer(IRC, async (server) => {
    await using irc = await IrcClient.connect(server);
    await irc.send("NICK bob");
    // Nothing before USER: registration needs both.
    assertEquals(await irc.sync(), []);
    await irc.send("USER bob 0 * :Bob B");
    await irc.expectLines(welcomeLines("bob"));
    assertEquals(await irc.sync(), []);
  });
});

Deno.test("IRC 005 says CASEMAPPING=ascii, CHANTYPES=#, PREFIX, NICKLEN, CHANNELLEN and NETWORK", () => {
  const tokens = new Map(ISUPPORT.split(" ").map((token) => token.split("=") as [string, string]));
  assertEquals(tokens.get("CASEMAPPING"), "ascii");
  assertEquals(tokens.get("CHANTYPES"), "#");
  assertEquals(tokens.get("PREFIX"), "(ov)@+");
  assertEquals(tokens.get("NICKLEN"), "256");
  assertEquals(tokens.get("CHANNELLEN"), "50");
  assertEquals(tokens.get("NETWORK"), "chat");
});

Deno.test("IRC registration with CAP: LS 302 lists the capabilities, an unknown REQ is NAKed, and registration waits for CAP END", async () => {
  await withServer(IRC, async (server) => {
    await using irc = await IrcClient.connect(server);
    await irc.send("CAP LS 302");
    await irc.send("NICK carol");
    await irc.send("USER carol 0 * :Carol");
    // A PING may come during registration; the welcome must not, until CAP END.
    assertEquals(await irc.sync(), [`:chat CAP * LS :${CAPABILITIES}`]);
    await irc.send("CAP REQ :multi-prefix sasl");
    await irc.send("CAP LIST");
    await irc.send("CAP BOGUS");
    await irc.send("CAP");
    assertEquals(await irc.sync(), [
      ":chat CAP * NAK :multi-prefix sasl",
      ":chat CAP * LIST :",
      ":chat 410 * BOGUS :Invalid CAP command",
      ":chat 461 * CAP :Not enough parameters",
    ]);
    await irc.send("CAP END");
    await irc.expectLines(welcomeLines("carol"));
    // After registration CAP answers name the nick.
    await irc.send("CAP LS");
    await irc.send("CAP REQ :sasl");
    assertEquals(await irc.sync(), [
      `:chat CAP carol LS :${CAPABILITIES}`,
      ":chat CAP carol NAK :sasl",
    ]);
  });
});

Deno.test("IRC PASS is ignored; a CAP END with no CAP before it changes nothing", async () => {
  await withServer(IRC, async (server) => {
    await using irc = await IrcClient.connect(server);
    await irc.send("PASS secret");
    await irc.send("CAP END");
    await irc.send("NICK dave");
    await irc.send("USER dave 0 * :Dave");
    await irc.expectLines(welcomeLines("dave"));
  });
});

Deno.test("IRC NICK and USER without parameters: 431 and 461; USER again: 462", async () => {
  await withServer(IRC, async (server) => {
    await using irc = await IrcClient.connect(server);
    await irc.send("NICK");
    await irc.send("NICK :");
    await irc.send("USER onlyone");
    await irc.send("USER a b c");
    assertEquals(await irc.sync(), [
      ":chat 431 * :No nickname given",
      ":chat 431 * :No nickname given",
      ":chat 461 * USER :Not enough parameters",
      ":chat 461 * USER :Not enough parameters",
    ]);
    await irc.send("NICK erin");
    await irc.send("USER erin 0 * :Erin");
    await irc.expectLines(welcomeLines("erin"));
    await irc.send("USER erin 0 * :Again");
    assertEquals(await irc.sync(), [":chat 462 erin :You may not reregister"]);
  });
});

Deno.test("IRC before registration: 451 for every other command, silence for NOTICE", async () => {
  await withServer(IRC, async (server) => {
    await using irc = await IrcClient.connect(server);
    for (const line of ["JOIN #chat", "PRIVMSG #chat :hi", "WHO", "NAMES", "MODE #chat", "FOO"]) {
      await irc.send(line);
    }
    await irc.send("NOTICE #chat :hi");
    assertEquals(await irc.sync(), Array(6).fill(":chat 451 * :You have not registered"));
  });
});

Deno.test("IRC NICK of an invalid nick or name gets 432, and the client may try again", async () => {
  await withServer(IRC, async (server) => {
    await using irc = await IrcClient.connect(server);
    const invalid = ["#x", "9lives", "-dash", "a:b", "Zoë", "|61|", "|20|x", "a".repeat(33)];
    for (const nick of invalid) await irc.send(`NICK ${nick}`);
    await irc.send("NICK " + "x".repeat(300));
    assertEquals(await irc.sync(), [
      ...invalid.map((nick) => `:chat 432 * ${nick.slice(0, 64)} :Erroneous nickname`),
      `:chat 432 * ${"x".repeat(64)} :Erroneous nickname`,
    ]);
    await irc.send("NICK Zo|eb|");
    await irc.send("USER z 0 * :Z");
    await irc.expectLines(welcomeLines("Zo|eb|"));
  });
});

Deno.test("IRC 433 for a name held on any door, ASCII case and escapes aside; then another nick registers", async () => {
  await withServer({ ...IRC, webPort: 0 }, async (server) => {
    await using _tcp = await TestClient.login(server, "Alice");
    await using _web = await WsClient.login(server.webAddr!.port, "web");
    await using _zoe = await TestClient.login(server, "Zoë");
    await using irc = await IrcClient.connect(server);
    await irc.send("USER x 0 * :X");
    for (const nick of ["ALICE", "Web", "ZO|CB|", "zo|EB|"]) {
      await irc.send(`NICK ${nick}`);
      // Numerics go to * while the client has no nick of its own.
      await irc.send("MODE #chat");
    }
    assertEquals(
      await irc.sync(),
      ["ALICE", "Web", "ZO|cb|", "zo|eb|"].flatMap((nick) => [
        `:chat 433 * ${nick} :Nickname is already in use`,
        ":chat 451 * :You have not registered",
      ]),
    );
    await irc.send("NICK alice2");
    await irc.expectLines(welcomeLines("alice2"));
    await irc.send("MODE #chat");
    assertEquals(await irc.sync(), [":chat 324 alice2 #chat +nt"]);
  });
});

Deno.test("IRC 433 for the services' names: nobody is NickServ or ChanServ on any door", async () => {
  await withServer({ ...IRC, webPort: 0 }, async (server) => {
    await using irc = await IrcClient.connect(server);
    await irc.send("USER x 0 * :X");
    for (const nick of ["NickServ", "chanserv"]) await irc.send(`NICK ${nick}`);
    assertEquals(await irc.sync(), [
      ":chat 433 * NickServ :Nickname is already in use",
      ":chat 433 * chanserv :Nickname is already in use",
    ]);
    await using web = await WsClient.open(server.webAddr!.port);
    await web.send("LOGIN ChanServ");
    await web.expect("ERR username-taken");
  });
});

Deno.test("IRC a JOIN behind a refused registration is refused too, and the JOIN after the next login works", async () => {
  await withServer(IRC, async (server) => {
    await using _tcp = await TestClient.login(server, "alice");
    await using irc = await IrcClient.connect(server);
    await irc.sendRaw(
      "NICK alice\r\nUSER a 0 * :A\r\nJOIN #chat\r\nPRIVMSG #chat :early\r\nNOTICE #chat :quiet\r\n",
    );
    // The NOTICE behind the refused login is not answered, not even with 451.
    assertEquals(await irc.sync(), [
      ":chat 433 * alice :Nickname is already in use",
      ":chat 451 * :You have not registered",
      ":chat 451 * :You have not registered",
    ]);
    await irc.send("NICK alice2");
    await irc.expectLines(welcomeLines("alice2"));
    assertEquals(await irc.join("alice2"), ["alice", "alice2"]);
  });
});

Deno.test("IRC a name held on IRC is taken for TCP and WebSocket logins, case aside", async () => {
  await withServer({ ...IRC, webPort: 0 }, async (server) => {
    await using _irc = await IrcClient.register(server, "Bob");
    await using tcp = await TestClient.connect(server);
    await tcp.send("LOGIN bob");
    await tcp.expect("ERR username-taken");
    await using web = await WsClient.open(server.webAddr!.port);
    await web.send("LOGIN BOB");
    await web.expect("ERR username-taken");
  });
});

Deno.test("IRC PING is answered with its token echoed; 461 without one, 409 for an empty one", async () => {
  await withServer(IRC, async (server) => {
    await using irc = await IrcClient.register(server, "pinger", { join: false });
    await irc.send("PING :hello world");
    await irc.expect(":chat PONG chat :hello world");
    await irc.send("PING LAG12345");
    await irc.expect(":chat PONG chat :LAG12345");
    await irc.send("PING");
    await irc.send("PING :");
    assertEquals(await irc.sync(), [
      ":chat 461 pinger PING :Not enough parameters",
      ":chat 409 pinger :No origin specified",
    ]);
  });
});

Deno.test("IRC JOIN: the echo, 353 and 366 (no topic, so no 331); again says nothing; another channel 403; JOIN 0 parts", async () => {
  await withServer(IRC, async (server) => {
    await using _tcp = await TestClient.login(server, "alice");
    await using irc = await IrcClient.register(server, "bob", { join: false });
    assertEquals(await irc.join("bob"), ["alice", "bob"]);
    await irc.send("JOIN #CHAT");
    await irc.send("JOIN #other");
    await irc.send("JOIN");
    assertEquals(await irc.sync(), [
      ":chat 403 bob #other :No such channel",
      ":chat 461 bob JOIN :Not enough parameters",
    ]);
    await irc.send("JOIN 0");
    await irc.send("JOIN #other,#chat");
    assertEquals(await irc.sync(), [
      ":bob!bob@chat PART #chat",
      ":chat 403 bob #other :No such channel",
      ":bob!bob@chat JOIN #chat",
      ":chat 353 bob = #chat :alice bob",
      ":chat 366 bob #chat :End of /NAMES list.",
    ]);
  });
});

Deno.test("IRC PART stops channel messages; DMs still arrive and the user stays in WHO; JOIN resumes, replaying what was said", async () => {
  await withClockedServer({}, async (server) => {
    await using tcp = await TestClient.login(server, "alice");
    await using irc = await IrcClient.register(server, "bob");
    await irc.send("PART #chat :bye");
    await irc.expect(":bob!bob@chat PART #chat :bye");
    await irc.send("PART #chat");
    await irc.send("PART #other");
    assertEquals(await irc.sync(), [
      ":chat 442 bob #chat :You're not on that channel",
      ":chat 403 bob #other :No such channel",
    ]);
    await tcp.send("MSG unheard");
    await tcp.send("DM bob still reachable");
    await tcp.send("WHO");
    assertEquals(await tcp.sync(), ["USER alice", "USER bob"]);
    assertEquals(await irc.sync(), [":alice!alice@chat PRIVMSG bob :still reachable"]);
    // A departure is a channel's QUIT: not heard off the channel either.
    await using _carol = await TestClient.login(server, "carol");
    assertEquals(await irc.sync(), []);
    await irc.join("bob");
    // The latest messages (the one said while it was away), their time in front, before what comes live.
    await irc.expect(":alice!alice@chat PRIVMSG #chat :[03:04] unheard");
    await tcp.send("MSG heard");
    await irc.expect(":alice!alice@chat PRIVMSG #chat :heard");
  });
});

Deno.test("IRC NAMES and WHO list every user; another channel has nobody", async () => {
  await withServer(IRC, async (server) => {
    await using _tcp = await TestClient.login(server, "Zoë");
    await using irc = await IrcClient.register(server, "bob");
    await irc.send("NAMES");
    await irc.send("NAMES #chat");
    await irc.send("NAMES #other");
    await irc.send("WHO #chat");
    await irc.send("WHO #other");
    assertEquals(await irc.sync(), [
      ":chat 353 bob = #chat :Zo|eb| bob",
      ":chat 366 bob #chat :End of /NAMES list.",
      ":chat 353 bob = #chat :Zo|eb| bob",
      ":chat 366 bob #chat :End of /NAMES list.",
      ":chat 366 bob #other :End of /NAMES list.",
      ":chat 352 bob #chat Zo|eb| chat chat Zo|eb| H :0 Zoë",
      ":chat 352 bob #chat bob chat chat bob H :0 bob",
      ":chat 315 bob #chat :End of /WHO list.",
      ":chat 315 bob #other :End of /WHO list.",
    ]);
  });
});

Deno.test("IRC MODE: 324 for the channel, 368 for its ban list, 482 for a change; 221 for oneself, 502 for others", async () => {
  await withServer(IRC, async (server) => {
    await using irc = await IrcClient.register(server, "bob");
    for (
      const line of [
        "MODE #chat",
        "MODE #chat b",
        "MODE #Chat +b",
        "MODE #chat +o bob",
        "MODE #other",
        "MODE bob",
        "MODE bob +i",
        "MODE alice",
        "MODE",
        "TOPIC #chat",
        "TOPIC #chat :new topic",
        "TOPIC #other",
      ]
    ) await irc.send(line);
    assertEquals(await irc.sync(), [
      ":chat 324 bob #chat +nt",
      ":chat 368 bob #chat :End of channel ban list",
      ":chat 368 bob #chat :End of channel ban list",
      ":chat 482 bob #chat :You're not channel operator",
      ":chat 403 bob #other :No such channel",
      ":chat 221 bob +i",
      ":chat 502 bob :Can't change mode for other users",
      ":chat 461 bob MODE :Not enough parameters",
      ":chat 331 bob #chat :No topic is set",
      ":chat 482 bob #chat :You're not channel operator",
      ":chat 403 bob #other :No such channel",
    ]);
  });
});

Deno.test("IRC MOTD, AWAY, USERHOST, ISON, VERSION, WHOIS and WHO <nick> get answers clients wait for", async () => {
  await withServer(IRC, async (server) => {
    await using irc = await IrcClient.register(server, "bob");
    await using zoe = await TestClient.login(server, "Zo\u00eb");
    const lines = ["MOTD", "AWAY :lunch", "AWAY", "USERHOST bob", "ISON alice bob", "VERSION"];
    for (const line of [...lines, "WHOIS ZO|EB|", "WHOIS ZO|CB|", "WHOIS nobody", "WHO zo|eb|"]) {
      await irc.send(line);
    }
    assertEquals(await irc.sync(), [
      ":Zo|eb|!Zo|eb|@chat JOIN #chat",
      ":chat 422 bob :MOTD File is missing",
      ":chat 306 bob :You have been marked as being away",
      ":chat 305 bob :You are no longer marked as being away",
      ":chat 302 bob :bob=+bob@chat",
      ":chat 303 bob :bob",
      ":chat 351 bob chat-3 chat :the chat server, version 3",
      ":chat 311 bob Zo|eb| Zo|eb| chat * :Zo\u00eb",
      ":chat 319 bob Zo|eb| :#chat",
      ":chat 312 bob Zo|eb| chat :chat",
      ":chat 318 bob ZO|EB| :End of /WHOIS list.",
      // ZOË's nick: names compare in any case, so it finds Zoë, as a DM to it does.
      ":chat 311 bob Zo|eb| Zo|eb| chat * :Zo\u00eb",
      ":chat 319 bob Zo|eb| :#chat",
      ":chat 312 bob Zo|eb| chat :chat",
      ":chat 318 bob ZO|CB| :End of /WHOIS list.",
      ":chat 401 bob nobody :No such nick/channel",
      ":chat 318 bob nobody :End of /WHOIS list.",
      ":chat 352 bob #chat Zo|eb| chat chat Zo|eb| H :0 Zo\u00eb",
      ":chat 315 bob zo|eb| :End of /WHO list.",
    ]);
    assertEquals(await zoe.sync(), []);
  });
});

Deno.test("IRC PRIVMSG and NOTICE reach the channel and nicks; 401, 404, 407, 411, 412; a NOTICE is never answered", async () => {
  await withServer(IRC, async (server) => {
    await using carol = await TestClient.login(server, "carol");
    await using bob = await IrcClient.register(server, "bob");
    await using alice = await IrcClient.register(server, "alice");
    await bob.expect(":alice!alice@chat JOIN #chat");
    await alice.send("PRIVMSG #chat :hello all");
    await alice.send("NOTICE #Chat :notice all");
    await alice.send("PRIVMSG bob :psst");
    await alice.send("NOTICE BOB :psst notice");
    await alice.send("PRIVMSG carol :hi carol");
    await alice.send("NOTICE carol :notice carol");
    await alice.send("PRIVMSG bob,carol :to both");
    assertEquals(await alice.sync(), [], "nothing echoed to the sender");
    assertEquals(await bob.sync(), [
      ":alice!alice@chat PRIVMSG #chat :hello all",
      ":alice!alice@chat NOTICE #chat :notice all",
      ":alice!alice@chat PRIVMSG bob :psst",
      ":alice!alice@chat NOTICE bob :psst notice",
      ":alice!alice@chat PRIVMSG bob :to both",
    ]);
    assertEquals(await carol.sync(), [
      "MSG alice hello all",
      "MSG alice notice all",
      "DM alice hi carol",
      "DM alice notice carol",
      "DM alice to both",
    ]);
    for (
      const line of [
        "PRIVMSG nobody :x",
        "PRIVMSG 9lives :x",
        "PRIVMSG #other :x",
        "PRIVMSG",
        "PRIVMSG #chat",
        "PRIVMSG #chat :",
        "PRIVMSG a,b,c,d,e,f :x",
      ]
    ) await alice.send(line);
    assertEquals(await alice.sync(), [
      ":chat 401 alice nobody :No such nick/channel",
      ":chat 401 alice 9lives :No such nick/channel",
      ":chat 401 alice #other :No such nick/channel",
      ":chat 411 alice :No recipient given (PRIVMSG)",
      ":chat 412 alice :No text to send",
      ":chat 412 alice :No text to send",
      ":chat 401 alice a :No such nick/channel",
      ":chat 401 alice b :No such nick/channel",
      ":chat 401 alice c :No such nick/channel",
      ":chat 401 alice d :No such nick/channel",
      ":chat 407 alice e :Too many targets",
    ]);
    for (
      const line of ["NOTICE nobody :x", "NOTICE #other :x", "NOTICE", "NOTICE #chat", "NOTICE bob"]
    ) await alice.send(line);
    await alice.send("PART #chat");
    await alice.expect(":alice!alice@chat PART #chat");
    await alice.send("NOTICE #chat :not on it");
    await alice.send("PRIVMSG #chat :not on it");
    assertEquals(await alice.sync(), [":chat 404 alice #chat :Cannot send to channel"]);
    // Its PART is the channel's news; the NOTICEs and PRIVMSGs went nowhere.
    assertEquals(await bob.sync(), [":alice!alice@chat PART #chat"]);
    assertEquals(await carol.sync(), []);
  });
});

Deno.test("IRC NICK after registration is refused with 447, the name kept", async () => {
  await withServer(IRC, async (server) => {
    await using tcp = await TestClient.login(server, "alice");
    await using irc = await IrcClient.register(server, "bob");
    await irc.send("NICK robert");
    await irc.send("NICK #bad");
    assertEquals(await irc.sync(), [
      ":chat 447 bob :Cannot change nickname: a name is kept for the session",
      ":chat 432 bob #bad :Erroneous nickname",
    ]);
    await tcp.send("WHO");
    assertEquals(await tcp.sync(), ["USER alice", "USER bob"]);
  });
});

Deno.test("IRC QUIT: ERROR, then the server closes; others see QUIT with its reason, or INFO", async () => {
  await withServer(IRC, async (server) => {
    await using tcp = await TestClient.login(server, "carol");
    await using alice = await IrcClient.register(server, "alice");
    await using bob = await IrcClient.register(server, "bob");
    await alice.expect(":bob!bob@chat JOIN #chat");
    await bob.send("QUIT :see you");
    await bob.expect("ERROR :Closing link: Quit");
    await bob.expectClosed();
    await alice.expect(":bob!bob@chat QUIT :Quit: see you");
    assertEquals(await tcp.sync(), ["INFO bob disconnected"]);
    // Before registration too.
    await using early = await IrcClient.connect(server);
    await early.send("QUIT");
    await early.expect("ERROR :Closing link: Quit");
    await early.expectClosed();
  });
});

Deno.test("IRC 421 for an unknown command, its name echoed sanitised and cut", async () => {
  await withServer(IRC, async (server) => {
    await using irc = await IrcClient.register(server, "bob");
    await irc.send("FOO bar");
    await irc.send("knock #chat");
    // A CR inside a line must not come back as a line end that forges a line.
    await irc.send("X\r:evil!e@chat PRIVMSG #chat :forged");
    await irc.send("Y".repeat(300));
    assertEquals(await irc.sync(), [
      ":chat 421 bob FOO :Unknown command",
      ":chat 421 bob KNOCK :Unknown command",
      ":chat 421 bob X\uFFFD:EVIL!E@CHAT :Unknown command",
      `:chat 421 bob ${"Y".repeat(64)} :Unknown command`,
    ]);
  });
});
