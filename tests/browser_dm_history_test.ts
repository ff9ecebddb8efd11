/**
 * The browser page and direct-message history: an account sees its direct
 * messages again after a reload, drawn by time among the conversation,
 * with only the other parties' names kept in the tab's sessionStorage.
 * The server runs in this process with `--data-dir` (see accounts_rig.ts).
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import type { ChatServer } from "../lib/server.ts";
import { withAccounts } from "./accounts_rig.ts";
import { ChatPage, noBrowser as ignore } from "./browser_rig.ts";
import { Chromium } from "./chromium.ts";
import { TestClient } from "./helpers.ts";

const PASSWORD = "correct-horse-42";

function pageUrl(server: ChatServer): string {
  return `http://${server.webAddr!.hostname}:${server.webAddr!.port}/`;
}

/** Goes to the page, types `name`, and signs in with the password when the page asks for it. */
async function signIn(page: ChatPage, url: string, name: string): Promise<void> {
  await page.page.goto(url);
  await page.status(/^Connected$/);
  await page.page.focus("#name");
  await page.page.type(name);
  await page.page.press("Enter");
  await page.page.waitFor(`!document.getElementById("signin").hidden`, "the sign-in form");
  await page.page.focus("#signin-password");
  await page.page.type(PASSWORD);
  await page.page.press("Enter");
  await page.page.waitFor(`document.body.classList.contains("joined")`, `${name} to join`);
}

/**
 * Reloads the page: it logs in again with the name the tab kept, the server asks for the password,
 * and it is typed into the sign-in form (the name is not typed again: the page is already using it).
 */
async function reloadAndSignIn(page: ChatPage, url: string, name: string): Promise<void> {
  await page.page.goto(url);
  await page.page.waitFor(`!document.getElementById("signin").hidden`, "the sign-in form");
  await page.page.focus("#signin-password");
  await page.page.type(PASSWORD);
  await page.page.press("Enter");
  await page.page.waitFor(`document.body.classList.contains("joined")`, `${name} to join`);
}

Deno.test({
  name:
    "An account's direct messages come back after a reload, by time, each once; names alone are kept",
  ignore,
  async fn() {
    await withAccounts({ overrides: { webPort: 0 } }, async (server) => {
      {
        await using owner = await TestClient.login(server, "alice");
        await owner.send(`REGISTER ${PASSWORD}`);
        await owner.expect("OK registered");
      }
      await using browser = await Chromium.launch();
      await using bob = await TestClient.login(server, "bob");
      await using carol = await TestClient.login(server, "carol");
      const page = new ChatPage(await browser.newPage());
      await page.page.setViewport(1000, 700);
      await signIn(page, pageUrl(server), "alice");
      await bob.send("DM alice hello alice");
      await page.sees({ kind: "dm-in", from: "bob", text: "hello alice" });
      await page.say("/msg bob hi bob");
      await bob.expect("DM alice hi bob");
      await page.sees({ kind: "dm-out", from: "bob", text: "hi bob" });
      await carol.send("DM alice from carol");
      await page.sees({ kind: "dm-in", from: "carol", text: "from carol" });
      await bob.send("MSG to everyone");
      await page.sees({ kind: "msg", from: "bob", text: "to everyone" });
      const kept = await page.page.evaluate<string>(
        `JSON.stringify(Object.entries(sessionStorage).sort())`,
      );
      assertEquals(JSON.parse(kept), [
        ["chat.dm-peers", JSON.stringify({ owner: "alice", peers: ["bob", "carol"] })],
        ["chat.name", "alice"],
      ]);
      assert(!kept.includes(PASSWORD));

      await reloadAndSignIn(page, pageUrl(server), "alice");
      const shown = await page.showsExactly([
        { kind: "note", from: "", text: "This is the beginning of the conversation." },
        { kind: "dm-in", from: "bob", text: "hello alice" },
        { kind: "dm-out", from: "bob", text: "hi bob" },
        { kind: "dm-in", from: "carol", text: "from carol" },
        { kind: "msg", from: "bob", text: "to everyone" },
        { kind: "separator", from: "", text: "New messages" },
        { kind: "note", from: "", text: "You joined as alice." },
      ]);
      // The chat's message carries its id; the direct ones none (paging back is the chat's).
      const withId = shown.map((entry) => entry.id !== "");
      assertEquals(withId, [false, false, false, false, true, false, false]);
      page.assertClean();
    });
  },
});
