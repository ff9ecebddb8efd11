/**
 * CHATHISTORY, pure: each subcommand read into the hub's ask (the bounds
 * its references give), each malformed one into its FAIL, and history as
 * IRC words it for each set of capabilities.
 */
import { assertEquals } from "@std/assert";
import { BATCH, MESSAGE_TAGS, SERVER_TIME } from "../lib/irc/irc_caps.ts";
import { historyBlock, parseChatHistory } from "../lib/irc/irc_chathistory.ts";
import type { HistoryAsk } from "../lib/protocol.ts";
import type { HistoryBlock } from "../lib/wire.ts";

const T = "2026-01-02T03:04:05.678Z";
const MS = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
/** A millisecond's last id: above every message of that millisecond. */
const LAST = `${MS}-9007199254740991`;

const parse = (line: string) => parseChatHistory(line.split(" "), "#chat");
const ask = (fields: Omit<HistoryAsk, "form" | "target">): { ask: HistoryAsk } => ({
  ask: { ...fields, form: "chathistory", target: "#chat" },
});

Deno.test("CHATHISTORY BEFORE, AFTER and LATEST: ranges that leave out their reference, a timestamp's whole millisecond", () => {
  assertEquals(
    parse("BEFORE #chat msgid=5-1 10"),
    ask({ limit: 10, from: "latest", before: "5-1" }),
  );
  assertEquals(
    parse(`BEFORE #chat timestamp=${T} 10`),
    ask({ limit: 10, from: "latest", before: `${MS}-0` }),
  );
  assertEquals(parse("AFTER #chat msgid=5-1 3"), ask({ limit: 3, from: "earliest", after: "5-1" }));
  assertEquals(
    parse(`AFTER #chat timestamp=${T} 3`),
    ask({ limit: 3, from: "earliest", after: LAST }),
  );
  assertEquals(parse("LATEST #chat * 50"), ask({ limit: 50, from: "latest" }));
  assertEquals(parse("latest #CHAT * 50"), ask({ limit: 50, from: "latest" }));
  assertEquals(
    parse("LATEST #chat msgid=7-0 50"),
    ask({ limit: 50, from: "latest", after: "7-0" }),
  );
  assertEquals(
    parse(`LATEST #chat timestamp=${T} 50`),
    ask({ limit: 50, from: "latest", after: LAST }),
  );
  // Above CHATHISTORY=1000 counts as 1000; leading zeros are a number still.
  assertEquals(parse("LATEST #chat * 5000"), ask({ limit: 1000, from: "latest" }));
  assertEquals(parse("LATEST #chat * 007"), ask({ limit: 7, from: "latest" }));
});

Deno.test("CHATHISTORY AROUND is half up to its reference (a timestamp's first id), half after", () => {
  assertEquals(
    parse("AROUND #chat msgid=5-1 4"),
    ask({ limit: 4, from: "latest", around: "5-1" }),
  );
  assertEquals(
    parse(`AROUND #chat timestamp=${T} 4`),
    ask({ limit: 4, from: "latest", around: `${MS}-0` }),
  );
});

Deno.test("CHATHISTORY BETWEEN counts from its first reference towards the second, either way in time", () => {
  assertEquals(
    parse("BETWEEN #chat msgid=5-1 msgid=9-0 20"),
    ask({ limit: 20, from: "earliest", after: "5-1", before: "9-0" }),
  );
  assertEquals(
    parse("BETWEEN #chat msgid=9-0 msgid=5-1 20"),
    ask({ limit: 20, from: "latest", after: "5-1", before: "9-0" }),
  );
  assertEquals(
    parse(`BETWEEN #chat timestamp=${T} msgid=${MS + 5}-0 20`),
    ask({ limit: 20, from: "earliest", after: LAST, before: `${MS + 5}-0` }),
  );
  assertEquals(
    parse(`BETWEEN #chat msgid=${MS + 5}-0 timestamp=${T} 20`),
    ask({ limit: 20, from: "latest", after: LAST, before: `${MS + 5}-0` }),
  );
});

Deno.test("CHATHISTORY TARGETS asks for the latest message between two times, in either order", () => {
  const early = "2026-01-01T00:00:00.000Z";
  const targets: { ask: HistoryAsk } = {
    ask: {
      limit: 1,
      from: "latest",
      after: `${Date.UTC(2026, 0, 1)}-9007199254740991`,
      before: `${MS}-0`,
      form: "targets",
      target: "#chat",
    },
  };
  assertEquals(parse(`TARGETS timestamp=${early} timestamp=${T} 10`), targets);
  assertEquals(parse(`TARGETS timestamp=${T} timestamp=${early} 10`), targets);
});

Deno.test("CHATHISTORY malformed: UNKNOWN_COMMAND, INVALID_PARAMS with what was wrong, INVALID_TARGET for any other target", () => {
  const fails: [string[], string][] = [
    [[], "INVALID_PARAMS :Insufficient parameters"],
    [["FOO", "#chat"], "UNKNOWN_COMMAND FOO :Unknown command"],
    [["LATEST", "#chat", "*"], "INVALID_PARAMS LATEST :Insufficient parameters"],
    [["LATEST", "#chat", "*", "5", "6"], "INVALID_PARAMS LATEST :Too many parameters"],
    [["BETWEEN", "#chat", "*", "5"], "INVALID_PARAMS BETWEEN :Insufficient parameters"],
    [["LATEST", "#chat", "*", "0"], "INVALID_PARAMS LATEST 0 :Invalid limit"],
    [["LATEST", "#chat", "*", "-1"], "INVALID_PARAMS LATEST -1 :Invalid limit"],
    [["LATEST", "#chat", "*", "ten"], "INVALID_PARAMS LATEST ten :Invalid limit"],
    [["LATEST", "#chat", "*", "1 2"], "INVALID_PARAMS LATEST * :Invalid limit"],
    [["BEFORE", "#chat", "*", "5"], "INVALID_PARAMS BEFORE * :Invalid message reference"],
    [["AROUND", "#chat", "id=5-0", "5"], "INVALID_PARAMS AROUND id=5-0 :Invalid message reference"],
    [["AFTER", "#chat", "msgid=abc", "5"], "INVALID_PARAMS AFTER msgid=abc :Invalid msgid"],
    [["AFTER", "#chat", "msgid=05-0", "5"], "INVALID_PARAMS AFTER msgid=05-0 :Invalid msgid"],
    [
      ["AFTER", "#chat", "timestamp=2026-02-30T00:00:00.000Z", "5"],
      "INVALID_PARAMS AFTER timestamp=2026-02-30T00:00:00.000Z :Invalid timestamp",
    ],
    [
      ["AFTER", "#chat", "timestamp=2026-01-02T03:04:05Z", "5"],
      "INVALID_PARAMS AFTER timestamp=2026-01-02T03:04:05Z :Invalid timestamp",
    ],
    [
      ["TARGETS", "msgid=5-0", `timestamp=${T}`, "5"],
      "INVALID_PARAMS TARGETS msgid=5-0 :Invalid message reference",
    ],
    [["LATEST", "#bob", "*", "5"], "INVALID_TARGET LATEST #bob :Messages could not be retrieved"],
    [["LATEST", "|61|", "*", "5"], "INVALID_TARGET LATEST |61| :Messages could not be retrieved"],
    [["LATEST", "*", "*", "5"], "INVALID_TARGET LATEST * :Messages could not be retrieved"],
    [
      ["BEFORE", "#other", "msgid=1-0", "5"],
      "INVALID_TARGET BEFORE #other :Messages could not be retrieved",
    ],
    [
      ["LATEST", "a\x07b", "*", "5"],
      "INVALID_TARGET LATEST a\uFFFDb :Messages could not be retrieved",
    ],
  ];
  for (const [params, fail] of fails) {
    assertEquals(parseChatHistory(params, "#chat"), { fail }, params.join(" "));
  }
});

Deno.test("CHATHISTORY with a nick: the direct messages with its name, the refusal a guest gets", () => {
  assertEquals(parse("LATEST Bob * 5"), {
    ask: {
      limit: 5,
      from: "latest",
      with: "Bob",
      form: "chathistory",
      target: "Bob",
      refusal: "INVALID_TARGET LATEST Bob :Messages could not be retrieved",
    },
  });
});

const decoder = new TextDecoder();
const textOf = (block: HistoryBlock) => ({
  start: block.start && decoder.decode(block.start),
  lines: block.lines.map((line) => decoder.decode(line)),
  end: block.end && decoder.decode(block.end),
});
const wording = (caps: number) => ({
  caps,
  server: "chat",
  channel: "#chat",
  source: (name: string) => `:${name}!${name}@chat`,
  nextBatch: () => "b1",
});
const MESSAGES = [
  { id: `${MS}-0`, sender: "alice", text: "hello" },
  { id: `${MS + 60_000}-1`, sender: "bob", text: "/me waves" },
];
const CHAT_ASK: HistoryAsk = { limit: 50, from: "latest", form: "chathistory", target: "#chat" };

Deno.test("IRC history: with every capability, a chathistory batch of tagged PRIVMSGs", () => {
  assertEquals(
    textOf(historyBlock(MESSAGES, CHAT_ASK, wording(SERVER_TIME | MESSAGE_TAGS | BATCH))),
    {
      start: ":chat BATCH +b1 chathistory #chat\r\n",
      lines: [
        `@batch=b1;time=${T};msgid=${MS}-0 :alice!alice@chat PRIVMSG #chat :hello\r\n`,
        `@batch=b1;time=2026-01-02T03:05:05.678Z;msgid=${
          MS + 60_000
        }-1 :bob!bob@chat PRIVMSG #chat :\x01ACTION waves\x01\r\n`,
      ],
      end: ":chat BATCH -b1\r\n",
    },
  );
  // An empty answer is an empty batch.
  assertEquals(textOf(historyBlock([], CHAT_ASK, wording(BATCH))), {
    start: ":chat BATCH +b1 chathistory #chat\r\n",
    lines: [],
    end: ":chat BATCH -b1\r\n",
  });
});

Deno.test("IRC history: without server-time each line has its time in front, [HH:MM] in UTC, inside an ACTION", () => {
  const replay: HistoryAsk = { limit: 20, from: "latest", form: "replay", target: "#chat" };
  assertEquals(textOf(historyBlock(MESSAGES, replay, wording(0))), {
    start: undefined,
    lines: [
      ":alice!alice@chat PRIVMSG #chat :[03:04] hello\r\n",
      ":bob!bob@chat PRIVMSG #chat :\x01ACTION [03:05] waves\x01\r\n",
    ],
    end: undefined,
  });
  assertEquals(textOf(historyBlock(MESSAGES.slice(0, 1), replay, wording(MESSAGE_TAGS | BATCH))), {
    start: ":chat BATCH +b1 chathistory #chat\r\n",
    lines: [`@batch=b1;msgid=${MS}-0 :alice!alice@chat PRIVMSG #chat :[03:04] hello\r\n`],
    end: ":chat BATCH -b1\r\n",
  });
  // Nothing to replay says nothing, not even an empty batch.
  assertEquals(textOf(historyBlock([], replay, wording(BATCH))), {
    start: undefined,
    lines: [],
    end: undefined,
  });
});

Deno.test("IRC history: TARGETS names the channel with its latest message's time, in a targets batch", () => {
  const targets: HistoryAsk = { limit: 1, from: "latest", form: "targets", target: "#chat" };
  assertEquals(textOf(historyBlock(MESSAGES.slice(1), targets, wording(BATCH))), {
    start: ":chat BATCH +b1 draft/chathistory-targets\r\n",
    lines: ["@batch=b1 :chat CHATHISTORY TARGETS #chat 2026-01-02T03:05:05.678Z\r\n"],
    end: ":chat BATCH -b1\r\n",
  });
  assertEquals(textOf(historyBlock([], targets, wording(0))), {
    start: undefined,
    lines: [],
    end: undefined,
  });
});

Deno.test("IRC history of a conversation with a nick: a batch named after it, each PRIVMSG to its receiver", () => {
  const dm: HistoryAsk = { ...CHAT_ASK, with: "bob", target: "Bob" };
  assertEquals(textOf(historyBlock(MESSAGES, dm, wording(BATCH), "alice")), {
    start: ":chat BATCH +b1 chathistory Bob\r\n",
    lines: [
      "@batch=b1 :alice!alice@chat PRIVMSG Bob :[03:04] hello\r\n",
      "@batch=b1 :bob!bob@chat PRIVMSG alice :\x01ACTION [03:05] waves\x01\r\n",
    ],
    end: ":chat BATCH -b1\r\n",
  });
});
