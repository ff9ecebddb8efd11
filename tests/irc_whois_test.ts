/**
 * The IRC door shows who is who, over real sockets: the server's name in
 * every prefix and numeric, `USER`'s username and real name in `WHO` and
 * `WHOIS`, 330 for an account holder, `QUIT` and `PART` reasons relayed and
 * a `JOIN` after a part seen by the channel's other IRC users.
 */
import { assertEquals } from "@std/assert";
import { TestClient, withServer } from "./helpers.ts";
import { IrcClient, ISUPPORT, welcomeLines } from "./irc_client.ts";
import { withAccounts } from "./accounts_rig.ts";

const IRC = { ircPort: 0 } as const;
const SERVER = "irc.example.test";

Deno.test("IRC --server-name is the source of every numeric and the host of every prefix", async () => {
  await withServer({ ...IRC, serverName: SERVER }, async (server) => {
    await using tcp = await TestClient.login(server, "carol");
    await using bob = await IrcClient.connect(server);
    await bob.send("NICK bob");
    await bob.send("USER bobby 0 * :Bob Builder");
    await bob.expectLines([
      `:${SERVER} 001 bob :Welcome to the chat network, bob`,
      `:${SERVER} 002 bob :Your host is ${SERVER}, running chat`,
      `:${SERVER} 003 bob :This server speaks the chat protocol, version 3`,
      `:${SERVER} 004 bob ${SERVER} chat-3 i bnt`,
      `:${SERVER} 005 bob ${ISUPPORT} :are supported by this server`,
      `:${SERVER} 422 bob :MOTD File is missing`,
    ]);
    await bob.send("JOIN #chat");
    await bob.send("PING :x");
    await bob.send("WHOIS bob");
    await bob.send("WHO bob");
    await bob.expectLines([
      `:bob!bob@${SERVER} JOIN #chat`,
      `:${SERVER} 353 bob = #chat :carol bob`,
      `:${SERVER} 366 bob #chat :End of /NAMES list.`,
      `:${SERVER} PONG ${SERVER} :x`,
      `:${SERVER} 311 bob bob bobby ${SERVER} * :Bob Builder`,
      `:${SERVER} 319 bob bob :#chat`,
      `:${SERVER} 312 bob bob ${SERVER} :chat`,
      `:${SERVER} 318 bob bob :End of /WHOIS list.`,
      `:${SERVER} 352 bob #chat bobby ${SERVER} ${SERVER} bob H :0 Bob Builder`,
      `:${SERVER} 315 bob bob :End of /WHO list.`,
    ]);
    await tcp.send("MSG hi");
    await bob.expect(`:carol!carol@${SERVER} PRIVMSG #chat :hi`);
  });
});

Deno.test("IRC WHO and WHOIS show USER's username and real name, cleaned and cut; others' defaults", async () => {
  await withServer(IRC, async (server) => {
    await using _zoe = await TestClient.login(server, "Zoë");
    await using ann = await IrcClient.connect(server);
    await ann.send("NICK ann");
    // Control characters and `@`, `!`, `:` go from the username, which is cut to 10.
    await ann.send("USER a@n!n:\x01verylongusername 0 * :Ann\x07 Example  ");
    await ann.expectLines(welcomeLines("ann"));
    await using bob = await IrcClient.connect(server);
    await bob.send("NICK bob");
    // Nothing left of the username: the nick stands for it.
    await bob.send("USER @@@ 0 * :");
    await bob.expectLines(welcomeLines("bob"));
    await bob.send("WHO #chat");
    await bob.send("WHOIS ANN");
    await bob.send("WHOIS zo|eb|");
    await bob.send("WHOIS nobody");
    assertEquals(await bob.sync(), [
      ":chat 352 bob #chat Zo|eb| chat chat Zo|eb| H :0 Zoë",
      ":chat 352 bob #chat annverylon chat chat ann H :0 Ann\uFFFD Example",
      ":chat 352 bob #chat bob chat chat bob H :0 bob",
      ":chat 315 bob #chat :End of /WHO list.",
      ":chat 311 bob ann annverylon chat * :Ann\uFFFD Example",
      ":chat 319 bob ann :#chat",
      ":chat 312 bob ann chat :chat",
      ":chat 318 bob ANN :End of /WHOIS list.",
      ":chat 311 bob Zo|eb| Zo|eb| chat * :Zoë",
      ":chat 319 bob Zo|eb| :#chat",
      ":chat 312 bob Zo|eb| chat :chat",
      ":chat 318 bob zo|eb| :End of /WHOIS list.",
      ":chat 401 bob nobody :No such nick/channel",
      ":chat 318 bob nobody :End of /WHOIS list.",
    ]);
  });
});

Deno.test("IRC WHOIS of an account holder has 330; a guest's has none", async () => {
  await withAccounts({ overrides: IRC }, async (server) => {
    {
      await using dora = await IrcClient.register(server, "dora", { join: false });
      await dora.send("PRIVMSG NickServ :REGISTER password1");
      await dora.expect(
        ":NickServ!NickServ@services NOTICE dora :dora is registered to you now; log in with SASL or PASS",
      );
    }
    await using dora = await IrcClient.connect(server);
    await dora.send("PASS password1");
    await dora.send("NICK dora");
    await dora.send("USER dee 0 * :Dora D");
    await dora.expectLines(welcomeLines("dora"));
    await using guest = await IrcClient.register(server, "guest", { join: false });
    await guest.send("WHOIS dora");
    await guest.send("WHOIS guest");
    assertEquals(await guest.sync(), [
      ":chat 311 guest dora dee chat * :Dora D",
      ":chat 319 guest dora :#chat",
      ":chat 312 guest dora chat :chat",
      ":chat 330 guest dora dora :is logged in as",
      ":chat 318 guest dora :End of /WHOIS list.",
      ":chat 311 guest guest guest chat * :guest",
      ":chat 319 guest guest :#chat",
      ":chat 312 guest guest chat :chat",
      ":chat 318 guest guest :End of /WHOIS list.",
    ]);
  });
});

Deno.test("IRC QUIT reasons reach IRC users as Quit: <reason>, cleaned and cut to 512 bytes; INFO for the others", async () => {
  await withServer(IRC, async (server) => {
    await using tcp = await TestClient.login(server, "carol");
    await using alice = await IrcClient.register(server, "alice");
    const quitters = ["QUIT", "QUIT :", "QUIT :a\x01b", `QUIT :${"é".repeat(250)}`];
    const seen = [];
    for (const [i, quit] of quitters.entries()) {
      await using quitter = await IrcClient.register(server, `q${i}`);
      await alice.expect(`:q${i}!q${i}@chat JOIN #chat`);
      await quitter.send(quit);
      await quitter.expect("ERROR :Closing link: Quit");
      await quitter.expectClosed();
      const line = await alice.readLine();
      seen.push(line);
      assertEquals(alice.lastLineBytes <= 512, true);
    }
    const head = ":q3!q3@chat QUIT :Quit: ";
    // 512 bytes with the line's end: é is two.
    const kept = "é".repeat(Math.floor((510 - head.length) / 2));
    assertEquals(seen, [
      ":q0!q0@chat QUIT :Quit",
      ":q1!q1@chat QUIT :Quit",
      ":q2!q2@chat QUIT :Quit: a\uFFFDb",
      head + kept,
    ]);
    assertEquals(await tcp.sync(), [
      "INFO q0 disconnected",
      "INFO q1 disconnected",
      "INFO q2 disconnected",
      "INFO q3 disconnected",
    ]);
    // A line client's QUIT, and a socket just closed, in IRC's words.
    {
      await using _dan = await TestClient.login(server, "dan");
    }
    await alice.expect(":dan!dan@chat JOIN #chat");
    await alice.expect(":dan!dan@chat QUIT :Remote host closed the connection");
    await tcp.send("QUIT");
    await alice.expect(":carol!carol@chat QUIT :Quit");
  });
});

Deno.test("IRC PART and JOIN again are seen by the channel's other IRC users, with the reason; line users see nothing", async () => {
  await withServer(IRC, async (server) => {
    await using tcp = await TestClient.login(server, "carol");
    await using alice = await IrcClient.register(server, "alice");
    await using bob = await IrcClient.register(server, "bob", { join: false });
    // Its login was its JOIN for the others: its first JOIN is not shown again.
    await alice.expect(":bob!bob@chat JOIN #chat");
    await bob.join("bob");
    await bob.send("PART #chat :gone \x02fishing");
    await bob.expect(":bob!bob@chat PART #chat :gone \uFFFDfishing");
    await bob.send("JOIN #chat");
    await bob.expect(":bob!bob@chat JOIN #chat");
    await bob.send("PART #Chat");
    await bob.send("JOIN #chat,#chat");
    await bob.send("JOIN 0");
    await bob.send("JOIN #chat");
    // Its own lines first: then all it caused is on its way to the others.
    await bob.sync();
    assertEquals(await alice.sync(), [
      ":bob!bob@chat PART #chat :gone \uFFFDfishing",
      ":bob!bob@chat JOIN #chat",
      ":bob!bob@chat PART #chat",
      ":bob!bob@chat JOIN #chat",
      ":bob!bob@chat PART #chat",
      ":bob!bob@chat JOIN #chat",
    ]);
    // A parted IRC user is still a member: it stays in NAMES, WHO and the line users' WHO.
    await bob.send("PART #chat");
    await alice.expect(":bob!bob@chat PART #chat");
    await alice.send("NAMES #chat");
    await alice.expectLines([
      ":chat 353 alice = #chat :carol alice bob",
      ":chat 366 alice #chat :End of /NAMES list.",
    ]);
    await tcp.send("WHO");
    assertEquals(await tcp.sync(), ["USER carol", "USER alice", "USER bob"]);
    // A parted user does not hear another's PART either.
    await bob.sync();
    await alice.send("PART #chat");
    await alice.expect(":alice!alice@chat PART #chat");
    assertEquals(await bob.sync(), []);
    assertEquals(await tcp.sync(), []);
  });
});
