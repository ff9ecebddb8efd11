/**
 * The page's history in a real browser (see ./browser_rig.ts): the latest
 * messages after a login, marked off from the live ones; older pages as the
 * reader scrolls up; a reload or a reconnect that draws each message once.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { compareIds, idMs } from "../lib/history/message_id.ts";
import {
  type ChatPage,
  type Entry,
  noBrowser as ignore,
  RECONNECT_MS,
  Rig,
} from "./browser_rig.ts";
import { TcpRelay } from "./tcp_relay.ts";

const BEGINNING: Entry = {
  kind: "note",
  from: "",
  text: "This is the beginning of the conversation.",
};
const SEPARATOR: Entry = { kind: "separator", from: "", text: "New messages" };
const JOINED: Entry = { kind: "note", from: "", text: "You joined as alice." };
const BACK: Entry = { kind: "note", from: "", text: "Back in the chat as alice." };

/** A chat message as the page shows it: someone else's (`msg`), or this page's own (`own`). */
function said(from: string, text: string, kind = "msg"): Entry {
  return { kind, from, text };
}

/**
 * Asserts that every entry with an id shows the time of that id's
 * milliseconds, in local time, as hours and minutes (all of them are from
 * today), and that the ids rise top to bottom.
 */
async function assertTimesFromIds(page: ChatPage): Promise<void> {
  const stamped = await page.page.evaluate(`[...document.querySelectorAll("#log > li[data-id]")]
    .map((li) => ({
      id: li.dataset.id,
      dateTime: li.querySelector("time").dateTime,
      shown: li.querySelector("time").textContent,
    }))`) as { id: string; dateTime: string; shown: string }[];
  assert(stamped.length > 0, "no entry from the history");
  const clock = await page.page.evaluate<string[]>(
    `${JSON.stringify(stamped.map(({ id }) => idMs(id)))}.map((ms) =>
      new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }))`,
  );
  stamped.forEach(({ id, dateTime, shown }, i) => {
    assertEquals(dateTime, new Date(idMs(id)).toISOString(), id);
    assertEquals(shown, clock[i], id);
    if (i > 0) assert(compareIds(stamped[i - 1]!.id, id) < 0, id);
  });
}

Deno.test({
  name: "After a login and after a reload, the earlier messages show once, above the separator",
  ignore,
  async fn() {
    await using rig = await Rig.start();
    const carol = await rig.tcp("carol");
    await carol.send("MSG first, before anyone else");
    await carol.send("MSG  second,  with  spaces ");
    assertEquals(await carol.sync(), []);

    const alice = await rig.open();
    await alice.join("alice");
    const earlier = [
      said("carol", "first, before anyone else"),
      said("carol", " second,  with  spaces "),
    ];
    // Two messages do not fill the view, so the page asks for older ones at once: there are none.
    await alice.showsExactly([BEGINNING, ...earlier, SEPARATOR, JOINED]);
    await assertTimesFromIds(alice);

    await alice.say("alice was here");
    await carol.expect("MSG alice alice was here");
    await carol.send("MSG a live one");
    await alice.showsExactly([
      BEGINNING,
      ...earlier,
      SEPARATOR,
      JOINED,
      said("alice", "alice was here", "own"),
      said("carol", "a live one"),
    ]);

    await alice.page.goto(rig.server.url);
    const shown = await alice.showsExactly([
      BEGINNING,
      ...earlier,
      said("alice", "alice was here", "own"),
      said("carol", "a live one"),
      SEPARATOR,
      BACK,
    ]);
    assertEquals(shown.filter((entry) => entry.id !== "").length, 4);
    await assertTimesFromIds(alice);
    alice.assertClean();
  },
});

Deno.test({
  name:
    "A reconnect redraws the conversation from the history: each message once, DMs kept in place",
  ignore,
  async fn() {
    await using rig = await Rig.start();
    const relay = TcpRelay.start(rig.server.webPort);
    try {
      const url = `http://127.0.0.1:${new URL(relay.url).port}/`;
      const alice = await rig.open(1000, 700, url);
      await alice.join("alice");
      const carol = await rig.tcp("carol");
      await carol.send("MSG one");
      await alice.sees(said("carol", "one"));
      await carol.send("DM alice psst");
      const dm: Entry = { kind: "dm-in", from: "carol", text: "psst" };
      await alice.sees(dm);
      // The DM keeps its place by its time: let the clock pass it before the next message.
      const dmAt = await alice.page.evaluate<number>(
        `Number(document.querySelector("#log > li.dm-in").dataset.at)`,
      );
      await alice.page.waitFor(`Date.now() > ${dmAt}`, "the clock to pass the DM");
      await carol.send("MSG two");
      await alice.sees(said("carol", "two"));
      await alice.say("three");
      await carol.expect("MSG alice three");

      relay.cut();
      await alice.sees({
        kind: "note",
        from: "",
        text: "The connection to the server was lost. Reconnecting…",
      });
      await carol.expect("INFO alice disconnected");
      await carol.send("MSG four, while alice was away");
      assertEquals(await carol.sync(), []);
      relay.restore();

      await alice.status(/^Connected$/, RECONNECT_MS);
      await alice.showsExactly([
        BEGINNING,
        said("carol", "one"),
        dm,
        said("carol", "two"),
        said("alice", "three", "own"),
        said("carol", "four, while alice was away"),
        SEPARATOR,
        BACK,
      ]);
      await carol.send("MSG five");
      await alice.sees(said("carol", "five"));
      assertEquals((await alice.entries()).filter((e) => e.text === "five").length, 1);
      alice.assertClean();
    } finally {
      await relay.close();
    }
  },
});

Deno.test({
  name: "After a restart with --data-dir, the page shows the messages from before it, once",
  ignore,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "chat-page-history-" });
    try {
      await using rig = await Rig.start(["--data-dir", dataDir]);
      const alice = await rig.open();
      await alice.join("alice");
      const carol = await rig.tcp("carol");
      await carol.send("MSG before the restart");
      await alice.sees(said("carol", "before the restart"));
      await alice.say("me too");
      await carol.expect("MSG alice me too");

      const stopped = rig.server.stop();
      await carol.expect("ERR server-shutdown");
      carol.close();
      await stopped;
      await alice.sees({
        kind: "error",
        from: "",
        text: "The server is restarting. Reconnecting…",
      });
      await rig.restartServer();
      await alice.status(/^Connected$/, RECONNECT_MS);
      await alice.showsExactly([
        BEGINNING,
        said("carol", "before the restart"),
        said("alice", "me too", "own"),
        SEPARATOR,
        BACK,
      ]);
      const again = await rig.tcp("carol");
      await again.send("MSG after the restart");
      await alice.sees(said("carol", "after the restart"));
      alice.assertClean();
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

/** The position of the first message from the history within the conversation's box, and its id. */
const FIRST_STORED = `(() => {
  const log = document.getElementById("log");
  const first = log.querySelector("li[data-id]");
  return { id: first.dataset.id, top: first.getBoundingClientRect().top - log.getBoundingClientRect().top };
})()`;

Deno.test({
  name: "Scrolling up pages back through 500 messages to the beginning, each once and in order",
  ignore,
  async fn() {
    const total = 500;
    await using rig = await Rig.start(["--rate", "0"]);
    const carol = await rig.tcp("carol");
    for (let i = 1; i <= total; i++) await carol.send(`MSG message ${i}`);
    assertEquals(await carol.sync(), []);

    const alice = await rig.open();
    await alice.join("alice");
    const latest = Array.from({ length: 50 }, (_, i) => said("carol", `message ${total - 49 + i}`));
    await alice.showsExactly([...latest, SEPARATOR, JOINED]);
    // Scrolled to the end: the latest message is in view, the separator and the note below it.
    assert(
      await alice.page.evaluate(`(() => {
      const log = document.getElementById("log");
      return log.scrollHeight - log.scrollTop - log.clientHeight < 1;
    })()`),
    );

    let pages = 0;
    while (true) {
      const before = await alice.page.evaluate<{ id: string; top: number }>(
        `(() => { document.getElementById("log").scrollTop = 0; return ${FIRST_STORED}; })()`,
      );
      const done = await alice.page.waitFor<string>(
        `(() => {
          if (document.querySelector("#log > li[data-edge='beginning']")) return "beginning";
          if (document.querySelector("#log > li[data-edge]")) return "";
          return ${FIRST_STORED}.id !== ${JSON.stringify(before.id)} && "page";
        })()`,
        `the page before ${before.id}`,
      );
      // The message that was at the top stays where the reader saw it.
      const after = await alice.page.evaluate<number>(`(() => {
        const log = document.getElementById("log");
        const li = log.querySelector('li[data-id=${JSON.stringify(before.id)}]');
        return li.getBoundingClientRect().top - log.getBoundingClientRect().top;
      })()`);
      assert(Math.abs(after - before.top) < 1, `moved from ${before.top} to ${after}`);
      if (done === "beginning") break;
      pages++;
      assert(pages < total / 50, `${pages} pages for ${total} messages`);
    }
    assertEquals(pages, total / 50 - 1);
    const all = Array.from({ length: total }, (_, i) => said("carol", `message ${i + 1}`));
    const shown = await alice.showsExactly([BEGINNING, ...all, SEPARATOR, JOINED]);
    const ids = shown.filter((entry) => entry.id !== "").map((entry) => entry.id);
    assertEquals(new Set(ids).size, total);
    alice.assertClean();
  },
});

/** Resolves in the page once the scroll events of the last scroll have been dispatched. */
const NEXT_FRAME = `new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)))`;

Deno.test({
  name: "A history request the server refuses is said in words, and paging back stops",
  ignore,
  async fn() {
    await using rig = await Rig.start(["--rate", "0"]);
    const carol = await rig.tcp("carol");
    for (let i = 1; i <= 60; i++) await carol.send(`MSG message ${i}`);
    assertEquals(await carol.sync(), []);
    const alice = await rig.open();
    await alice.join("alice");
    const latest = Array.from({ length: 50 }, (_, i) => said("carol", `message ${11 + i}`));
    await alice.showsExactly([...latest, SEPARATOR, JOINED]);

    // Nothing the server sends makes the page ask this: a broken id stands in for a bug.
    await alice.page.evaluate(`document.querySelector("#log > li[data-id]").dataset.id = "bad"`);
    const scrollUp = `(async () => {
      document.getElementById("log").scrollTop = 0;
      await ${NEXT_FRAME};
    })()`;
    await alice.page.evaluate(scrollUp);
    const refused: Entry = {
      kind: "error",
      from: "",
      text: "The server did not understand the page's request for earlier messages.",
    };
    await alice.showsExactly([...latest, SEPARATOR, JOINED, refused]);

    // Scrolling up again asks nothing more: a message sent after it is the next thing answered.
    await alice.page.evaluate(scrollUp);
    await alice.say("still here");
    await carol.expect("MSG alice still here");
    await alice.sees(said("alice", "still here", "own"));
    await alice.showsExactly([
      ...latest,
      SEPARATOR,
      JOINED,
      refused,
      said("alice", "still here", "own"),
    ]);
    alice.assertClean();
  },
});
