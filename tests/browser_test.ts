/**
 * The web page in a real browser: Debian's headless `chromium`, driven over
 * the DevTools protocol ({@link ./chromium.ts}), against the server started
 * as `deno task start` starts it, with a raw TCP client beside the pages.
 * Without `/usr/bin/chromium` these tests are skipped, unless `CI` is set.
 *
 * `SCREENSHOT=docs/screenshot.png` also saves a conversation's screenshot
 * there (the README shows it); it is not taken otherwise.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { noBrowser as ignore, RECONNECT_MS, Rig } from "./browser_rig.ts";

const screenshotPath = Deno.env.get("SCREENSHOT");

Deno.test({
  name: "Two pages and a TCP client chat in every direction, DMs included, and Online follows",
  ignore,
  async fn() {
    await using rig = await Rig.start();
    const alice = await rig.open();
    await alice.join("alice");
    await alice.online(["alice"]);

    const carol = await rig.tcp("carol");
    await carol.send("WATCH");
    await alice.sees({ kind: "join", from: "", text: "carol joined" });
    await alice.online(["alice", "carol"]);

    const bob = await rig.open();
    await bob.join("bob");
    await carol.expect("INFO bob connected");
    await alice.sees({ kind: "join", from: "", text: "bob joined" });
    await alice.online(["alice", "bob", "carol"]);
    await bob.online(["alice", "bob", "carol"]);

    // Everyone to everyone.
    await alice.say("Hello from alice");
    await alice.sees({ kind: "own", from: "alice", text: "Hello from alice" });
    await bob.sees({ kind: "msg", from: "alice", text: "Hello from alice" });
    await carol.expect("MSG alice Hello from alice");

    await bob.say("Hi, it's bob");
    await alice.sees({ kind: "msg", from: "bob", text: "Hi, it's bob" });
    await carol.expect("MSG bob Hi, it's bob");

    await carol.send("MSG  carol here,  with  spaces ");
    await alice.sees({ kind: "msg", from: "carol", text: " carol here,  with  spaces " });
    await bob.sees({ kind: "msg", from: "carol", text: " carol here,  with  spaces " });

    // DMs: page to page both ways, page to TCP, TCP to page.
    await alice.say("/msg bob psst, bob");
    await alice.sees({ kind: "dm-out", from: "bob", text: "psst, bob" });
    await bob.sees({ kind: "dm-in", from: "alice", text: "psst, bob" });
    await bob.say("/msg alice psst, alice");
    await alice.sees({ kind: "dm-in", from: "bob", text: "psst, alice" });
    await alice.say("/msg carol for carol only");
    await carol.expect("DM alice for carol only");
    await carol.send("DM bob for bob only");
    await bob.sees({ kind: "dm-in", from: "carol", text: "for bob only" });
    assertEquals(await carol.sync(), [], "carol saw nothing of the pages' DMs");
    assertEquals(
      (await alice.entries()).some((entry) => entry.text.includes("for bob only")),
      false,
      "alice saw carol's DM to bob",
    );

    // Departures: a tab closed, a TCP client quitting.
    await bob.page.close();
    await carol.expect("INFO bob disconnected");
    await alice.sees({ kind: "leave", from: "", text: "bob left" });
    await alice.online(["alice", "carol"]);
    await carol.send("QUIT");
    await alice.sees({ kind: "leave", from: "", text: "carol left" });
    await alice.online(["alice"]);
    alice.assertClean();
    bob.assertClean();
  },
});

Deno.test({
  name: "The page says in words why a name or a DM was refused",
  ignore,
  async fn() {
    await using rig = await Rig.start();
    await rig.tcp("carol");
    const page = await rig.open();

    await page.page.focus("#name");
    await page.page.type("Carol");
    await page.page.press("Enter");
    await page.sees({ kind: "error", from: "", text: "That name is taken. Choose another one." });
    assertEquals(await page.page.evaluate(`document.getElementById("name").readOnly`), false);

    await page.page.evaluate(`document.getElementById("name").select()`);
    await page.page.type("zero\u200bwidth");
    await page.page.press("Enter");
    await page.sees({
      kind: "error",
      from: "",
      text: "A name is 1 to 32 characters, without spaces or invisible characters.",
    });

    await page.page.evaluate(`document.getElementById("name").select()`);
    await page.join("dave");
    await page.online(["carol", "dave"]);
    await page.say("/msg nobody hi");
    const why = await page.sees({ kind: "dm-out", from: "nobody", text: "hi" });
    assertEquals(why, "Not delivered: no one called nobody is online.");
    page.assertClean();
  },
});

Deno.test({
  name: "After the server restarts, the page reconnects and logs in again under its name",
  ignore,
  async fn() {
    await using rig = await Rig.start();
    const page = await rig.open();
    await page.join("alice");
    const carol = await rig.tcp("carol");
    await page.online(["alice", "carol"]);

    const stopped = rig.server.stop();
    await carol.expect("ERR server-shutdown");
    carol.close(); // Rather than have the server wait for it to hang up.
    await stopped;
    await page.sees({ kind: "error", from: "", text: "The server is restarting. Reconnecting…" });
    await page.status(/^(Reconnecting in \d+ s|Connecting…)$/);

    await rig.restartServer();
    await page.status(/^Connected$/, RECONNECT_MS);
    await page.sees({ kind: "note", from: "", text: "Back in the chat as alice." });
    const again = await rig.tcp("carol");
    await again.send("WHO");
    assertEquals(await again.sync(), ["USER alice", "USER carol"]);
    await page.online(["alice", "carol"]);
    await page.say("I'm back");
    await again.expect("MSG alice I'm back");
    page.assertClean();
  },
});

Deno.test({
  name: "Back from offline, the page waits while its name is still held, then logs in again",
  ignore,
  async fn() {
    await using rig = await Rig.start();
    const page = await rig.open();
    await page.join("alice");
    await page.page.setOffline(true);
    await rig.restartServer();
    await page.status(/^Offline$/);

    // Someone holds the name meanwhile (as a session the server has not yet given up would).
    const holder = await rig.tcp("alice");
    await page.page.setOffline(false);
    await page.sees({
      kind: "note",
      from: "",
      text: "Waiting for the server to let go of the name alice…",
    });
    await page.status(/^Connected$/);
    await holder.send("QUIT");
    await page.sees({ kind: "note", from: "", text: "Back in the chat as alice." });
    const carol = await rig.tcp("carol");
    await carol.send("WHO");
    assertEquals(await carol.sync(), ["USER alice", "USER carol"]);
    page.assertClean();
  },
});

Deno.test({
  name: "A name and a message full of HTML and control characters appear as plain text",
  ignore,
  async fn() {
    const name = "<img/src=x/onerror=alert(1)>";
    const text = "<img src=x onerror=alert(2)> <b>bold</b> &amp; \u001b[31mred\u0007 <script>";
    const relayed = "<img src=x onerror=alert(2)> <b>bold</b> &amp; \uFFFD[31mred\uFFFD <script>";
    await using rig = await Rig.start();
    const carol = await rig.tcp("carol");
    const mallory = await rig.open();
    await mallory.join(name);
    const bob = await rig.open();
    await bob.join("bob");
    await bob.online(["bob", "carol", name]);

    await mallory.say(text);
    await carol.expect(`MSG ${name} ${relayed}`);
    await bob.sees({ kind: "msg", from: name, text: relayed });
    await mallory.sees({ kind: "own", from: name, text: relayed });
    await carol.send(`DM bob ${text}`);
    await bob.sees({ kind: "dm-in", from: "carol", text: relayed });
    await mallory.page.close();
    await bob.sees({ kind: "leave", from: "", text: `${name} left` });

    const elements = await bob.page.evaluate(`({
      images: document.querySelectorAll("img").length,
      scripts: [...document.scripts].map((script) => script.getAttribute("src")),
      inLog: [...new Set([...document.querySelectorAll("#log *")].map((el) => el.localName))]
        .sort(),
    })`);
    assertEquals(elements, {
      images: 0,
      scripts: ["app.js"],
      inLog: ["b", "div", "kbd", "li", "span", "time"],
    });
    bob.assertClean();
  },
});

Deno.test({
  name: "Tab goes from Name to Message to Send, and at 375 px nothing scrolls sideways",
  ignore,
  async fn() {
    await using rig = await Rig.start();
    const page = await rig.open(375, 740);
    const tabOrder = async () => {
      await page.page.focus("#name");
      const order = [await page.focused()];
      for (let step = 0; step < 2; step++) {
        await page.page.press("Tab");
        order.push(await page.focused());
      }
      return order;
    };
    assertEquals(await tabOrder(), ["name", "message", "send"]);

    const longName = "W".repeat(32);
    await page.join(longName);
    const carol = await rig.tcp("carol");
    const word = "Supercalifragilistic".repeat(20);
    await carol.send(`MSG ${word}`);
    await page.sees({ kind: "msg", from: "carol", text: word });
    await page.say(`${word} ${word}`);
    await page.sees({ kind: "own", from: longName, text: `${word} ${word}` });
    await page.say(`/msg ${longName} ${word}`);
    await page.sees({ kind: "dm-in", from: longName, text: word });
    assertEquals(await tabOrder(), ["name", "message", "send"]);

    const widths = await page.page.evaluate(`({
      page: document.documentElement.scrollWidth,
      log: document.getElementById("log").scrollWidth <= document.getElementById("log").clientWidth,
      online: [...document.querySelectorAll("#online li")].every((li) =>
        li.getBoundingClientRect().right <= 375),
    })`);
    assertEquals(widths, { page: 375, log: true, online: true });
    page.assertClean();
  },
});

Deno.test({
  name: "A screenshot of a conversation, saved where SCREENSHOT says",
  ignore: ignore || screenshotPath === undefined,
  async fn() {
    await using rig = await Rig.start();
    // Before alice comes: what she finds as earlier messages.
    const bob = await rig.open();
    await bob.join("Bob");
    const carol = await rig.tcp("Carol");
    await bob.say("Morning! Has anyone seen the release notes?");
    await carol.expect("MSG Bob Morning! Has anyone seen the release notes?");
    await carol.send("MSG not yet, I'm on the terminal today");
    await bob.sees({ kind: "msg", from: "Carol", text: "not yet, I'm on the terminal today" });

    const alice = await rig.open(1040, 640);
    await alice.join("alice");
    await alice.sees({ kind: "separator", from: "", text: "New messages" });
    await alice.say("They went out an hour ago. The page now shows what you missed.");
    await carol.expect("MSG alice They went out an hour ago. The page now shows what you missed.");
    await carol.send("DM alice can you look at my pull request after lunch?");
    await alice.sees({
      kind: "dm-in",
      from: "Carol",
      text: "can you look at my pull request after lunch?",
    });
    await alice.say("/msg Carol sure, around two");
    await alice.sees({ kind: "dm-out", from: "Carol", text: "sure, around two" });
    await bob.say("Nice. Lunch at noon?");
    await alice.sees({ kind: "msg", from: "Bob", text: "Nice. Lunch at noon?" });
    await alice.page.focus("#message");
    await alice.page.type("Count me in");
    const png = await alice.page.screenshot();
    await Deno.writeFile(screenshotPath!, png);
    assert(png.length < 150_000, `screenshot is ${png.length} bytes`);
  },
});
