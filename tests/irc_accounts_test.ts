/**
 * Accounts on the IRC door, over real sockets and a real SQLite file in a
 * temporary `--data-dir` (cheap scrypt): SASL PLAIN, `PASS`, NickServ, the
 * `account` tag, and the server's log at debug level free of every secret.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { createLogger } from "../lib/log.ts";
import { withAccounts } from "./accounts_rig.ts";
import { CAPABILITIES, IrcClient, welcomeLines } from "./irc_client.ts";

const encoder = new TextEncoder();
const WITH_ACCOUNTS = `${CAPABILITIES} sasl=PLAIN account-tag`;
const IRC = { overrides: { ircPort: 0 } };

function plain(text: string): string {
  return btoa(String.fromCharCode(...encoder.encode(text)));
}

/** NickServ's NOTICE to `nick`. */
function ns(nick: string, text: string): string {
  return `:NickServ!NickServ@services NOTICE ${nick} :${text}`;
}

/** A guest `nick` that registers its nick with NickServ, then leaves. */
async function registerNick(server: Parameters<typeof IrcClient.connect>[0], nick: string) {
  await using irc = await IrcClient.register(server, nick, { join: false });
  await irc.send("PRIVMSG NickServ :REGISTER password1");
  await irc.expect(ns(nick, `${nick} is registered to you now; log in with SASL or PASS`));
}

/** Connects, negotiates `sasl` (and `caps`), and sends NICK and USER as `nick`. */
async function saslStart(
  server: Parameters<typeof IrcClient.connect>[0],
  nick: string,
  caps = "sasl",
): Promise<IrcClient> {
  const irc = await IrcClient.connect(server);
  await irc.send("CAP LS 302");
  await irc.expect(`:chat CAP * LS :${WITH_ACCOUNTS}`);
  await irc.send(`NICK ${nick}`);
  await irc.send(`USER ${nick} 0 * :${nick}`);
  await irc.send(`CAP REQ :${caps}`);
  await irc.expect(`:chat CAP * ACK :${caps}`);
  return irc;
}

Deno.test("irc accounts: SASL PLAIN logs in, the nick becoming the account's, and welcomes at CAP END", async () => {
  await withAccounts(IRC, async (server) => {
    await registerNick(server, "alice");
    await using irc = await saslStart(server, "zed");
    await irc.send("AUTHENTICATE PLAIN");
    await irc.expect("AUTHENTICATE +");
    await irc.send(`AUTHENTICATE ${plain("\0alice\0password1")}`);
    await irc.expectLines([
      ":chat 900 alice alice!alice@chat alice :You are now logged in as alice",
      ":chat 903 alice :SASL authentication successful",
    ]);
    await irc.send("AUTHENTICATE PLAIN");
    await irc.expect(":chat 907 alice :You have already authenticated using SASL");
    await irc.send("CAP END");
    await irc.expectLines(welcomeLines("alice"));
    await irc.send("AUTHENTICATE PLAIN");
    await irc.expect(":chat 907 alice :You have already authenticated using SASL");
    // A NICK now is a rename, which a session never makes.
    await irc.send("NICK zed");
    await irc.expect(":chat 447 alice :Cannot change nickname: a name is kept for the session");
  });
});

Deno.test("irc accounts: SASL pipelined with CAP END, no answer awaited, ends in the welcome", async () => {
  await withAccounts(IRC, async (server) => {
    await registerNick(server, "bea");
    await using irc = await IrcClient.connect(server);
    await irc.sendRaw(
      "CAP LS 302\r\nNICK bea\r\nUSER bea 0 * :bea\r\nCAP REQ sasl\r\nAUTHENTICATE PLAIN\r\n" +
        `AUTHENTICATE ${plain("bea\0bea\0password1")}\r\nCAP END\r\n`,
    );
    await irc.expectLines([
      `:chat CAP * LS :${WITH_ACCOUNTS}`,
      ":chat CAP * ACK :sasl",
      "AUTHENTICATE +",
      ":chat 900 bea bea!bea@chat bea :You are now logged in as bea",
      ":chat 903 bea :SASL authentication successful",
      ...welcomeLines("bea"),
    ]);
  });
});

Deno.test("irc accounts: SASL failures are 904 (908 for another mechanism), 905, 906; then 433 at CAP END", async () => {
  await withAccounts(IRC, async (server) => {
    await registerNick(server, "cid");
    await using irc = await saslStart(server, "cid");
    const failed = ":chat 904 * :SASL authentication failed";
    await irc.send("AUTHENTICATE EXTERNAL");
    await irc.expectLines([":chat 908 * PLAIN :are available SASL mechanisms", failed]);
    await irc.send("AUTHENTICATE PLAIN");
    await irc.expect("AUTHENTICATE +");
    await irc.send(`AUTHENTICATE ${plain("\0cid\0wrongpass")}`);
    await irc.expect(failed);
    await irc.send("AUTHENTICATE PLAIN");
    await irc.expect("AUTHENTICATE +");
    await irc.send(`AUTHENTICATE ${plain("\0nobody\0password1")}`);
    await irc.expect(failed);
    await irc.send("AUTHENTICATE PLAIN");
    await irc.expect("AUTHENTICATE +");
    await irc.send(`AUTHENTICATE ${plain("other\0cid\0password1")}`);
    await irc.expect(failed);
    await irc.send("AUTHENTICATE PLAIN");
    await irc.expect("AUTHENTICATE +");
    await irc.send(`AUTHENTICATE ${"A".repeat(401)}`);
    await irc.expect(":chat 905 * :SASL message too long");
    await irc.send("AUTHENTICATE PLAIN");
    await irc.expect("AUTHENTICATE +");
    await irc.send("AUTHENTICATE *");
    await irc.expect(":chat 906 * :SASL authentication aborted");
    // Registration mid-payload aborts it; the nick has an account, and no password came.
    await irc.send("AUTHENTICATE PLAIN");
    await irc.expect("AUTHENTICATE +");
    await irc.send("CAP END");
    await irc.expectLines([
      ":chat 906 * :SASL authentication aborted",
      ":chat 433 * cid :Nickname is registered to an account",
    ]);
    await irc.send("AUTHENTICATE PLAIN");
    await irc.expect(failed);
    await irc.send("NICK cid2");
    await irc.expectLines(welcomeLines("cid2"));
  });
});

Deno.test("irc accounts: PASS logs in to the nick's account; 464 when wrong or no account; 433 without", async () => {
  await withAccounts(IRC, async (server) => {
    await registerNick(server, "dora");
    await using wrong = await IrcClient.connect(server);
    await wrong.send("PASS wrongpass");
    await wrong.send("NICK dora");
    await wrong.send("USER dora 0 * :dora");
    await wrong.expect(":chat 464 * :Password incorrect");
    // Each later NICK tries the same password.
    await wrong.send("NICK nobody");
    await wrong.expect(":chat 464 * :Password incorrect: no account has this nick");
    await using none = await IrcClient.connect(server);
    await none.send("NICK dora");
    await none.send("USER dora 0 * :dora");
    await none.expect(":chat 433 * dora :Nickname is registered to an account");
    await none.send("PASS password1");
    await none.expect(":chat 462 * :You may not reregister");
    await using right = await IrcClient.connect(server);
    await right.send("PASS :password1");
    await right.send("PASS");
    await right.expect(":chat 461 * PASS :Not enough parameters");
    await right.send("NICK Dora");
    await right.send("USER dora 0 * :dora");
    await right.expectLines(welcomeLines("dora"));
    await right.send("PASS password1");
    await right.expect(":chat 462 dora :You may not reregister");
  });
});

Deno.test("irc accounts: NickServ REGISTER, PASSWD, DROP, HELP, IDENTIFY; nothing relayed", async () => {
  await withAccounts(IRC, async (server) => {
    await using other = await IrcClient.register(server, "ear");
    await using irc = await IrcClient.register(server, "eve");
    await other.expect(":eve!eve@chat JOIN #chat");
    const talk = async (text: string, ...answers: string[]) => {
      await irc.send(`PRIVMSG NickServ :${text}`);
      await irc.expectLines(answers);
    };
    await talk("REGISTER", ns("eve", "Syntax: REGISTER <password>"));
    await talk("REGISTER short", ns("eve", "Passwords are 8 to 128 characters, without spaces"));
    await talk("PASSWD password1 password2", ns("eve", "You are not logged in to an account"));
    await talk(
      "register password1",
      ns("eve", "eve is registered to you now; log in with SASL or PASS"),
    );
    await talk("REGISTER password1", ns("eve", "eve is already registered"));
    await talk("PASSWD wrongpass password2", ns("eve", "Wrong password"));
    await talk("PASSWD password1", ns("eve", "Syntax: PASSWD <old> <new>"));
    await talk(
      "PASSWD password1 short",
      ns("eve", "Passwords are 8 to 128 characters, without spaces"),
    );
    await talk("PASSWD password1 password2", ns("eve", "Password changed"));
    await talk(
      "IDENTIFY password2",
      ns("eve", "Log in when you connect: SASL PLAIN, or PASS <password> with your nick"),
    );
    await talk(
      "HELP",
      ns("eve", "REGISTER <password>: your nick becomes your account"),
      ns("eve", "PASSWD <old> <new>: changes your account's password"),
      ns("eve", "DROP <password>: deletes your account; you stay on as a guest"),
      ns("eve", "Log in when you connect: SASL PLAIN, or PASS <password> with your nick"),
    );
    await talk("WHAT", ns("eve", "Unknown command; try HELP"));
    await irc.send("PRIVMSG NickServ,ear :REGISTER password1");
    await irc.expect(":chat 407 eve NickServ :Too many targets");
    await irc.send("NOTICE nickserv :DROP password2");
    await talk("DROP wrongpass", ns("eve", "Wrong password"));
    await talk("DROP password2", ns("eve", "eve is no longer registered; you are a guest now"));
    // The wire is back to its own words: a DM to nobody, and the chat, as before.
    await irc.send("PRIVMSG ghost :hi");
    await irc.expect(":chat 401 eve ghost :No such nick/channel");
    await irc.send("PRIVMSG #chat :done");
    assertEquals(await other.sync(), [":eve!eve@chat PRIVMSG #chat :done"]);
  });
});

Deno.test("irc accounts: account-tag marks an account holder's messages and DMs, not a guest's", async () => {
  await withAccounts(IRC, async (server) => {
    await registerNick(server, "fox");
    await using reader = await saslStart(server, "gil", "account-tag message-tags");
    await reader.send("CAP END");
    await reader.expectLines(welcomeLines("gil"));
    await reader.join("gil");
    await using plainReader = await IrcClient.register(server, "hal");
    await reader.expect(":hal!hal@chat JOIN #chat");
    await using fox = await IrcClient.connect(server);
    await fox.send("PASS password1");
    await fox.send("NICK fox");
    await fox.send("USER fox 0 * :fox");
    await fox.expectLines(welcomeLines("fox"));
    await fox.join("fox");
    await reader.expect(":fox!fox@chat JOIN #chat");
    await plainReader.expect(":fox!fox@chat JOIN #chat");
    await fox.send("PRIVMSG #chat :from an account");
    await fox.send("PRIVMSG gil :a DM");
    const [message, dm] = await reader.readLines(2);
    assert(
      /^@msgid=\d+-\d+;account=fox :fox!fox@chat PRIVMSG #chat :from an account$/.test(message!),
      message,
    );
    assertEquals(dm, "@account=fox :fox!fox@chat PRIVMSG gil :a DM");
    assertEquals(await plainReader.sync(), [":fox!fox@chat PRIVMSG #chat :from an account"]);
    await plainReader.send("PRIVMSG #chat :from a guest");
    await plainReader.send("PRIVMSG gil :a guest's DM");
    const [guest, guestDm] = await reader.readLines(2);
    assert(/^@msgid=\d+-\d+ :hal!hal@chat PRIVMSG #chat :from a guest$/.test(guest!), guest);
    assertEquals(guestDm, ":hal!hal@chat PRIVMSG gil :a guest's DM");
  });
});

Deno.test("irc accounts: no password nor SASL payload reaches the log, even at debug", async () => {
  const lines: string[] = [];
  const log = createLogger({ format: "json", level: "debug", write: (line) => lines.push(line) });
  const secrets = ["Secret-one1", "Secret-two2", "Secret-new3", "Wrong-guess4"];
  await withAccounts({ ...IRC, log }, async (server) => {
    await using irc = await IrcClient.register(server, "ivy");
    await irc.send(`PRIVMSG NickServ :REGISTER ${secrets[0]}`);
    await irc.send(`PRIVMSG NickServ :PASSWD ${secrets[0]} ${secrets[2]}`);
    await irc.send(`PRIVMSG NickServ :PASSWD ${secrets[3]} ${secrets[1]}`);
    await irc.expectLines([
      ns("ivy", "ivy is registered to you now; log in with SASL or PASS"),
      ns("ivy", "Password changed"),
      ns("ivy", "Wrong password"),
    ]);
    await using pass = await IrcClient.connect(server);
    await pass.sendRaw(`PASS ${secrets[3]}\r\nNICK ivy\r\nUSER ivy 0 * :ivy\r\n`);
    await pass.expect(":chat 464 * :Password incorrect");
    await pass.sendRaw("QUIT\r\n");
    await pass.expectLines(["ERROR :Closing link: Quit"]);
    await using sasl = await saslStart(server, "ivy");
    for (const [i, password] of [secrets[1], secrets[2]].entries()) {
      await sasl.send("AUTHENTICATE PLAIN");
      await sasl.expect("AUTHENTICATE +");
      await sasl.send(`AUTHENTICATE ${plain(`\0ivy\0${password}`)}`);
      await sasl.expect(
        i === 0
          ? ":chat 904 * :SASL authentication failed"
          : ":chat 900 ivy ivy!ivy@chat ivy :You are now logged in as ivy",
      );
    }
    await irc.expect("ERROR :Closing link: Logged in again elsewhere");
  });
  assert(lines.length > 0);
  const logged = lines.join("\n");
  for (const secret of [...secrets, plain(`\0ivy\0${secrets[1]}`), plain(`\0ivy\0${secrets[2]}`)]) {
    assert(!logged.includes(secret), `${secret} logged`);
  }
});

Deno.test("irc accounts: accounts off: no sasl offered, PASS ignored, AUTHENTICATE 904", async () => {
  await withAccounts(IRC, async (server) => {
    await using irc = await IrcClient.connect(server);
    await irc.send("CAP LS 302");
    await irc.expect(`:chat CAP * LS :${CAPABILITIES}`);
    await irc.send("CAP REQ sasl");
    await irc.expect(":chat CAP * NAK :sasl");
    await irc.send("AUTHENTICATE PLAIN");
    await irc.expect(":chat 904 * :SASL authentication failed");
    await irc.send("PASS anything1");
    await irc.send("NICK jo");
    await irc.send("USER jo 0 * :jo");
    await irc.send("CAP END");
    await irc.expectLines(welcomeLines("jo"));
    await irc.send("PRIVMSG NickServ :REGISTER password1");
    await irc.expect(ns("jo", "Accounts are off on this server"));
  }, false);
});
