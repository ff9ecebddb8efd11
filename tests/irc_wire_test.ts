/** The IRC wire: the hub's lines as IRC clients read them, byte for byte. */
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import {
  ACCOUNT_TAG,
  BATCH,
  CHATHISTORY,
  ECHO_MESSAGE,
  MESSAGE_TAGS,
  SERVER_TIME,
} from "../lib/irc/irc_caps.ts";
import { NICKSERV_PHASE, SASL_PHASE } from "../lib/irc/irc_account_replies.ts";
import { ircWires } from "../lib/irc/irc_wire.ts";
import { LineArena } from "../lib/line_arena.ts";
import type { Stamp } from "../lib/wire.ts";
import { welcomeLines } from "./irc_client.ts";

const strictDecoder = new TextDecoder("utf-8", { fatal: true });
const wire = ircWires({ server: "chat", channel: "#chat" })(0);

/** Bytes as their lines, each checked to end in `\r\n` and to be at most 512 bytes. */
function lines(bytes: Uint8Array): string[] {
  const text = strictDecoder.decode(bytes);
  assert(text.endsWith("\r\n"), JSON.stringify(text));
  const found = text.slice(0, -2).split("\r\n");
  for (const line of found) {
    const size = new TextEncoder().encode(line).length + 2;
    assert(size <= 512, `${size} bytes: ${line}`);
  }
  return found;
}

Deno.test("IRC wire: chat messages are channel PRIVMSGs (or NOTICEs) from nick!nick@chat; /me is an ACTION", () => {
  const arena = new LineArena();
  assertEquals(lines(wire.msg("alice", "hi there", false, arena)), [
    ":alice!alice@chat PRIVMSG #chat :hi there",
  ]);
  assertEquals(lines(wire.msg("alice", "heads up", true, arena)), [
    ":alice!alice@chat NOTICE #chat :heads up",
  ]);
  assertEquals(lines(wire.msg("Zoë", "/me waves", false, arena)), [
    ":Zo|eb|!Zo|eb|@chat PRIVMSG #chat :\x01ACTION waves\x01",
  ]);
  assertEquals(lines(wire.msg("#x", ":starts with a colon", false, arena)), [
    ":|23|x!|23|x@chat PRIVMSG #chat ::starts with a colon",
  ]);
});

Deno.test("IRC wire: DMs are private PRIVMSGs (or NOTICEs) to the receiver's nick", () => {
  assertEquals(lines(wire.dm("alice", "psst", "9lives", false)), [
    ":alice!alice@chat PRIVMSG |39|lives :psst",
  ]);
  assertEquals(lines(wire.dm("a|b", "/me nods", "bob", true)), [
    ":a|7c|b!a|7c|b@chat NOTICE bob :\x01ACTION nods\x01",
  ]);
});

Deno.test("IRC wire: logins are JOINs, departures QUITs, a PART is the parter's own", () => {
  const arena = new LineArena();
  assertEquals(lines(wire.connected("-dash", arena)), [":|2d|dash!|2d|dash@chat JOIN #chat"]);
  assertEquals(lines(wire.disconnected("bob", arena)), [":bob!bob@chat QUIT :Quit"]);
  assertEquals(lines(wire.parted("bob")!), [":bob!bob@chat PART #chat"]);
});

Deno.test("IRC wire: a departure's words are the QUIT's; a PART's reason follows it; a JOIN after a part", () => {
  const arena = new LineArena();
  assertEquals(lines(wire.disconnected("bob", arena, "Quit: see you")), [
    ":bob!bob@chat QUIT :Quit: see you",
  ]);
  assertEquals(lines(wire.disconnected("bob", arena, "Ping timeout")), [
    ":bob!bob@chat QUIT :Ping timeout",
  ]);
  assertEquals(lines(wire.parted("bob", ":colon first")!), [
    ":bob!bob@chat PART #chat ::colon first",
  ]);
  assertEquals(lines(wire.left!("bob", undefined, arena)), [":bob!bob@chat PART #chat"]);
  assertEquals(lines(wire.left!("bob", "brb", arena)), [":bob!bob@chat PART #chat :brb"]);
  assertEquals(lines(wire.rejoined!("bob", arena)), [":bob!bob@chat JOIN #chat"]);
  // Cut to 512 bytes on a character's boundary, whoever leaves.
  const [quit] = lines(wire.disconnected("😀".repeat(32), arena, `Quit: ${"é".repeat(300)}`));
  assert(quit!.endsWith("é"), quit);
  const [part] = lines(wire.left!("😀".repeat(32), "日".repeat(200), arena));
  assert(part!.endsWith("日"), part);
});

Deno.test("IRC wire: WHO and WHOIS show what USER said, 330 for an account, defaults for the rest", () => {
  const details = (name: string) =>
    name === "ann"
      ? { ident: { user: "annie", realname: "Ann Example" }, account: true }
      : name === "bob"
      ? { ident: { user: "", realname: "" } }
      : undefined;
  const who = strictDecoder.decode(
    wire.userList(["ann", "bob", "Zoë"], "bob", "who", undefined, details),
  );
  assertEquals(who.split("\r\n"), [
    ":chat 352 bob #chat annie chat chat ann H :0 Ann Example",
    ":chat 352 bob #chat bob chat chat bob H :0 bob",
    ":chat 352 bob #chat Zo|eb| chat chat Zo|eb| H :0 Zoë",
    ":chat 315 bob #chat :End of /WHO list.",
    "",
  ]);
  assertEquals(lines(wire.userList(["ann", "bob"], "bob", "whois", "ANN", details)), [
    ":chat 311 bob ann annie chat * :Ann Example",
    ":chat 319 bob ann :#chat",
    ":chat 312 bob ann chat :chat",
    ":chat 330 bob ann ann :is logged in as",
    ":chat 318 bob ANN :End of /WHOIS list.",
  ]);
  // Without details (a door that asks for none), the defaults.
  assertEquals(lines(wire.userList(["ann"], "bob", "whois", "ann")), [
    ":chat 311 bob ann ann chat * :ann",
    ":chat 319 bob ann :#chat",
    ":chat 312 bob ann chat :chat",
    ":chat 318 bob ann :End of /WHOIS list.",
  ]);
});

Deno.test("IRC wire: a long relayed message is cut to 512 bytes, whatever the sender's name", () => {
  const arena = new LineArena();
  const text = "ü€😀".repeat(400);
  for (const sender of ["a", "Zoë", "😀".repeat(32), "\u{10ffff}".repeat(32), "日".repeat(32)]) {
    const [line] = lines(wire.msg(sender, text, false, arena));
    assert(line!.includes(" PRIVMSG #chat :ü€😀"), line);
  }
  // The user part of a long nick is cut, so that a prefix leaves room for text.
  const [line] = lines(wire.msg("😀".repeat(32), "hi", false, arena));
  const nick = "|1f600|".repeat(32);
  assertEquals(line, `:${nick}!${nick.slice(0, 32)}@chat PRIVMSG #chat :hi`);
});

Deno.test("IRC wire: replies are numerics to the client's nick, * before it has one", () => {
  const text = (bytes: Uint8Array) => lines(bytes);
  assertEquals(text(wire.reply("ok", "Zoë")), welcomeLines("Zo|eb|"));
  assertEquals(text(wire.reply("pong", undefined, "abc def")), [":chat PONG chat :abc def"]);
  assertEquals(text(wire.reply("pong", "bob")), [":chat PONG chat :chat"]);
  assertEquals(text(wire.reply("usernameTaken", undefined, "a:b")), [
    ":chat 433 * a|3a|b :Nickname is already in use",
  ]);
  assertEquals(text(wire.reply("invalidUsername", undefined, "x".repeat(100))), [
    `:chat 432 * ${"x".repeat(64)} :Erroneous nickname`,
  ]);
  assertEquals(text(wire.reply("alreadyLoggedIn", "bob")), [
    ":chat 447 bob :Cannot change nickname: a name is kept for the session",
  ]);
  assertEquals(text(wire.reply("loginRequired", undefined)), [
    ":chat 451 * :You have not registered",
  ]);
  assertEquals(text(wire.reply("userNotFound", "bob", "Zoë")), [
    ":chat 401 bob Zo|eb| :No such nick/channel",
  ]);
  assertEquals(text(wire.reply("lineTooLong", "bob")), [
    ":chat 417 bob :Input line was too long",
  ]);
  assertEquals(text(wire.reply("clusterUnavailable", undefined)), [
    ":chat NOTICE * :The chat cannot reach its other servers; try again",
  ]);
  // A PING token of any length is echoed within 512 bytes.
  assertEquals(text(wire.reply("pong", "bob", "t".repeat(600))), [
    `:chat PONG chat :${"t".repeat(510 - ":chat PONG chat :".length)}`,
  ]);
});

Deno.test("IRC wire: JOIN is the echo, then NAMES; WHO is 352 per user and 315", () => {
  assertEquals(lines(wire.userList(["alice", "#x", "bob"], "bob", "join")), [
    ":bob!bob@chat JOIN #chat",
    ":chat 353 bob = #chat :alice |23|x bob",
    ":chat 366 bob #chat :End of /NAMES list.",
  ]);
  assertEquals(lines(wire.userList(["alice", "Zoë"], "alice", "who")), [
    ":chat 352 alice #chat alice chat chat alice H :0 alice",
    ":chat 352 alice #chat Zo|eb| chat chat Zo|eb| H :0 Zoë",
    ":chat 315 alice #chat :End of /WHO list.",
  ]);
});

Deno.test("IRC wire: a WHO line of a long name fits 512 bytes, its real name cut", () => {
  const name = "\u{10ffff}".repeat(32);
  const nick = "|10ffff|".repeat(32);
  const [line] = lines(wire.userList([name], "bob", "who"));
  assert(
    line!.startsWith(`:chat 352 bob #chat ${nick.slice(0, 32)} chat chat ${nick} H :0 `),
    line,
  );
});

Deno.test("IRC wire: NAMES of many users is split into 353 lines of at most 512 bytes, in order", () => {
  for (const channel of ["#chat", "#" + "ч".repeat(49)]) {
    const names = Array.from({ length: 300 }, (_, i) => i % 7 === 0 ? `日本${i}` : `user${i}`);
    const nicks = names.map((name) =>
      name.startsWith("日本") ? `|65e5||672c|${name.slice(2)}` : name
    );
    const reply = lines(ircWires({ server: "chat", channel })(0).userList(names, "me", "names"));
    const head = `:chat 353 me = ${channel} :`;
    assertEquals(reply.at(-1), `:chat 366 me ${channel} :End of /NAMES list.`);
    const body = reply.slice(0, -1);
    assert(body.length > 5, `${body.length} lines`);
    for (const line of body) assert(line.startsWith(head), line);
    assertEquals(body.flatMap((line) => line.slice(head.length).split(" ")), nicks);
    // Each line but the last was full: the next nick would not have fitted.
    const bytes = (line: string) => new TextEncoder().encode(line).length + 2;
    let next = 0;
    for (const line of body.slice(0, -1)) {
      next += line.slice(head.length).split(" ").length;
      assert(bytes(line) + 1 + nicks[next]!.length > 512, line);
    }
  }
});

Deno.test("IRC wire: a broadcast is encoded once into the arena, the same bytes for every receiver", () => {
  const arena = new LineArena();
  const first = wire.msg("alice", "hello", false, arena);
  const second = wire.msg("alice", "hello", false, arena);
  assertStrictEquals(first.buffer, second.buffer, "both in the arena's buffer");
  assertEquals(lines(first), lines(second));
});

Deno.test("IRC wires: one per capability set; the same tags share a slot; echo and replay as negotiated", () => {
  const wires = ircWires({ server: "chat", channel: "#chat" });
  assertStrictEquals(wires(SERVER_TIME), wires(SERVER_TIME));
  assertEquals(
    [0, SERVER_TIME, MESSAGE_TAGS, SERVER_TIME | MESSAGE_TAGS].map((caps) => wires(caps).slot),
    [2, 3, 4, 5],
  );
  // Batch, echo and chathistory change no broadcast's bytes: the slot of the same tags.
  assertEquals(wires(BATCH | ECHO_MESSAGE | CHATHISTORY).slot, 2);
  assertEquals(wires(SERVER_TIME | ECHO_MESSAGE).slot, 3);
  assertEquals([wires(0).echoes, wires(ECHO_MESSAGE).echoes], [false, true]);
  assertEquals(wires(0).replay, { limit: 20, from: "latest", form: "replay", target: "#chat" });
  assertEquals(wires(CHATHISTORY | BATCH).replay, undefined);
});

Deno.test("IRC wires: server-time tags a chat message with its id's time, message-tags with its msgid", () => {
  const wires = ircWires({ server: "chat", channel: "#chat" });
  const arena = new LineArena();
  const ms = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  const stamp = { id: `${ms}-2`, at: ms + 5 };
  const text = (caps: number, notice = false, at: Stamp = stamp) =>
    lines(wires(caps).msg("alice", "hi", notice, arena, at));
  assertEquals(text(0), [":alice!alice@chat PRIVMSG #chat :hi"]);
  assertEquals(text(SERVER_TIME), [
    "@time=2026-01-02T03:04:05.678Z :alice!alice@chat PRIVMSG #chat :hi",
  ]);
  assertEquals(text(MESSAGE_TAGS), [`@msgid=${ms}-2 :alice!alice@chat PRIVMSG #chat :hi`]);
  assertEquals(text(SERVER_TIME | MESSAGE_TAGS | BATCH, true), [
    `@time=2026-01-02T03:04:05.678Z;msgid=${ms}-2 :alice!alice@chat NOTICE #chat :hi`,
  ]);
  // Not yet known (through Redis): no msgid, and the time it was delivered.
  assertEquals(text(SERVER_TIME | MESSAGE_TAGS, false, { id: undefined, at: ms + 5 }), [
    "@time=2026-01-02T03:04:05.683Z :alice!alice@chat PRIVMSG #chat :hi",
  ]);
  // The 512 bytes are the line's after its tags.
  const long = wires(SERVER_TIME | MESSAGE_TAGS).msg("alice", "x".repeat(600), false, arena, stamp);
  const [line] = new TextDecoder().decode(long).split("\r\n");
  assertEquals(new TextEncoder().encode(line!.slice(line!.indexOf(" ") + 1)).length, 510);
});

Deno.test("IRC wires: with server-time, joins, quits, parts and DMs carry the time they are sent", () => {
  const wire = ircWires({ server: "chat", channel: "#chat" })(SERVER_TIME | MESSAGE_TAGS);
  const arena = new LineArena();
  const before = Date.now();
  const sent = [
    ...lines(wire.connected("bob", arena)),
    ...lines(wire.disconnected("bob", arena)),
    ...lines(wire.parted("alice")!),
    ...lines(wire.dm("bob", "psst", "alice", false)),
    ...lines(wire.userList(["alice"], "alice", "join")).slice(0, 1),
  ];
  const after = Date.now();
  const untimed = sent.map((line) => {
    const match = /^@time=(\S+) (.*)$/.exec(line);
    assert(match !== null, line);
    const at = Date.parse(match[1]!);
    assert(before <= at && at <= after && new Date(at).toISOString() === match[1], line);
    return match[2];
  });
  assertEquals(untimed, [
    ":bob!bob@chat JOIN #chat",
    ":bob!bob@chat QUIT :Quit",
    ":alice!alice@chat PART #chat",
    ":bob!bob@chat PRIVMSG alice :psst",
    ":alice!alice@chat JOIN #chat",
  ]);
});

Deno.test("IRC wire: account-tag on an account holder's message and DM, its nick's \\ escaped; a slot of its own", () => {
  const wires = ircWires({ server: "chat", channel: "#chat" });
  const tagged = wires(ACCOUNT_TAG);
  const arena = new LineArena();
  const stamp: Stamp = { id: "5-0", at: 5, account: true };
  assertEquals(lines(tagged.msg("a\\b", "hi", false, arena, stamp)), [
    "@account=a\\\\b :a\\b!a\\b@chat PRIVMSG #chat :hi",
  ]);
  assertEquals(lines(tagged.msg("guest", "hi", false, arena, { id: "6-0", at: 6 })), [
    ":guest!guest@chat PRIVMSG #chat :hi",
  ]);
  assertEquals(lines(tagged.dm("alice", "psst", "bob", false, true)), [
    "@account=alice :alice!alice@chat PRIVMSG bob :psst",
  ]);
  assertEquals(lines(tagged.dm("carol", "psst", "bob", false)), [
    ":carol!carol@chat PRIVMSG bob :psst",
  ]);
  assertEquals(lines(wires(0).msg("alice", "hi", false, arena, stamp)), [
    ":alice!alice@chat PRIVMSG #chat :hi",
  ]);
  assertEquals(tagged.slot, wires(0).slot + 4);
  assertEquals(wires(ACCOUNT_TAG | SERVER_TIME | MESSAGE_TAGS).slot, 9);
});

Deno.test("IRC wire: the phases' words for account replies; broadcasts the same bytes in the same slot", () => {
  const wires = ircWires({ server: "chat", channel: "#chat" });
  const text = (bytes: Uint8Array) => strictDecoder.decode(bytes);
  assertEquals(
    text(wires(0).reply("badPassword", undefined)),
    ":chat 464 * :Password incorrect\r\n",
  );
  assertEquals(
    text(wires(SASL_PHASE).reply("badPassword", undefined)),
    ":chat 904 * :SASL authentication failed\r\n",
  );
  assertEquals(
    text(wires(NICKSERV_PHASE).reply("badPassword", "eve")),
    ":NickServ!NickServ@services NOTICE eve :Wrong password\r\n",
  );
  assertEquals(
    text(wires(NICKSERV_PHASE).reply("registered", "eve")),
    ":NickServ!NickServ@services NOTICE eve :eve is registered to you now; log in with SASL or PASS\r\n",
  );
  assertEquals(wires(SASL_PHASE | SERVER_TIME).slot, wires(SERVER_TIME).slot);
});
