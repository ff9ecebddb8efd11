/**
 * Accounts in the browser page (see ./browser_rig.ts for the page's side):
 * the server runs in this process with `--data-dir` in a temporary
 * directory and a cheap scrypt (N=2^10) injected through its `hasher`
 * option, so each check costs milliseconds, not half a second.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { hashPassword, verifyPassword } from "../lib/accounts/password_hash.ts";
import type { PasswordHasher } from "../lib/accounts/password_checks.ts";
import { type Config, DEFAULT_CONFIG } from "../lib/config.ts";
import { openHistory } from "../lib/history/open_history.ts";
import { SILENT_LOGGER } from "../lib/log.ts";
import { ChatServer } from "../lib/server.ts";
import { REASONS } from "../lib/web/page/reasons.js";
import { ChatPage, noBrowser as ignore } from "./browser_rig.ts";
import { Chromium } from "./chromium.ts";
import { TestClient } from "./helpers.ts";
import { tempDir } from "./temp_dir.ts";

const CHEAP_HASHER: PasswordHasher = {
  hash: (password) => hashPassword(password, { logN: 10, r: 8, p: 1 }),
  verify: verifyPassword,
};

const PASSWORD = "correct-horse-42";

const PLAIN_HTTP_WARNING = "This page is not encrypted (http, not https): anyone on the " +
  "network between you and the server could read your password. " +
  "Press the button again to send it anyway.";

/** The chat server in this process, with accounts in `dataDir` (none: accounts off). */
async function startServer(
  dataDir: string | undefined,
  host = "127.0.0.1",
  webPort = 0,
): Promise<ChatServer> {
  const config: Config = { ...DEFAULT_CONFIG, host, port: 0, webPort, rate: 0, dataDir };
  const { history, accounts } = await openHistory(config, SILENT_LOGGER);
  return ChatServer.listen(config, {
    log: SILENT_LOGGER,
    history: history!,
    ...(accounts === undefined ? {} : { accounts }),
    hasher: CHEAP_HASHER,
  });
}

/** The page's address on `server`'s web port. */
function pageUrl(server: ChatServer): string {
  return `http://${server.webAddr!.hostname}:${server.webAddr!.port}/`;
}

/** Opens the page in a new tab and waits until it is connected. */
async function open(browser: Chromium, url: string): Promise<ChatPage> {
  const page = new ChatPage(await browser.newPage());
  await page.page.setViewport(1000, 700);
  await page.page.goto(url);
  await page.status(/^Connected$/);
  return page;
}

/** Types `name` in the Name box and presses Enter, without waiting for the login. */
async function tryName(page: ChatPage, name: string): Promise<void> {
  await page.page.focus("#name");
  await page.page.type(name);
  await page.page.press("Enter");
}

/** Waits for the sign-in form and resolves with the name it was filled with. */
async function signInShown(page: ChatPage): Promise<string> {
  return await page.page.waitFor(
    `!document.getElementById("signin").hidden && document.getElementById("signin-name").value`,
    "the sign-in form",
  );
}

/** Types `password` in the sign-in form and presses Enter. */
async function signIn(page: ChatPage, password: string): Promise<void> {
  await page.page.focus("#signin-password");
  await page.page.type(password);
  await page.page.press("Enter");
}

/** Waits until `form`'s error line says `text`. */
async function formSays(page: ChatPage, form: string, text: string): Promise<void> {
  const read = `document.querySelector("#${form} .account-error").textContent`;
  await page.page.waitFor(
    `${read} === ${JSON.stringify(text)}`,
    `#${form} to say ${JSON.stringify(text)}, not ${
      JSON.stringify(await page.page.evaluate(read))
    }`,
  );
}

/** Opens "Keep this name", types `password` and `again`, and presses Enter. */
async function keepName(page: ChatPage, password: string, again = password): Promise<void> {
  await page.page.waitFor(`!document.getElementById("keep-name").hidden`, "Keep this name");
  await page.page.evaluate(`document.getElementById("keep-name").click()`);
  await page.page.evaluate(`document.getElementById("keep-password").value = ""`);
  await page.page.focus("#keep-password");
  await page.page.type(password);
  await page.page.evaluate(`document.getElementById("keep-confirm").value = ""`);
  await page.page.focus("#keep-confirm");
  await page.page.type(again);
  await page.page.press("Enter");
}

/** Waits until the page is logged in. */
async function joined(page: ChatPage, name: string): Promise<void> {
  await page.page.waitFor(`document.body.classList.contains("joined")`, `${name} to join`);
}

/** Everything the page keeps or shows outside its memory, where a password must never be. */
const KEPT = `JSON.stringify({
  local: Object.entries(localStorage),
  session: Object.entries(sessionStorage),
  cookie: document.cookie,
  url: location.href,
  inputs: [...document.querySelectorAll("input")].map((input) => input.value),
})`;

/** Asserts that `password` is in none of the page's storages, its cookie, its URL or its fields. */
async function assertNotKept(page: ChatPage, password: string): Promise<string> {
  const kept = await page.page.evaluate<string>(KEPT);
  assert(!kept.includes(password), kept);
  return kept;
}

const REGISTERED = {
  kind: "note",
  from: "",
  text: "The name alice is yours now: it asks for your password next time.",
};

Deno.test({
  name: "A guest keeps the name; after a reload it signs in with the password, kept only in memory",
  ignore,
  async fn() {
    await using dir = await tempDir("chat-page-accounts-");
    let server = await startServer(dir.path);
    await using browser = await Chromium.launch();
    try {
      const alice = await open(browser, pageUrl(server));
      await alice.join("alice");
      await keepName(alice, PASSWORD, "another-one-42");
      await formSays(alice, "keep", "The two passwords differ: type the same one twice.");
      await keepName(alice, "short", "short");
      await formSays(alice, "keep", REASONS["weak-password"]);
      await keepName(alice, PASSWORD);
      await alice.sees(REGISTERED);
      assertEquals(
        await alice.page.evaluate(`[document.getElementById("keep").hidden,
          document.getElementById("keep-name").hidden]`),
        [true, true],
      );
      assertEquals(
        JSON.parse(await assertNotKept(alice, PASSWORD)).session,
        [["chat.name", "alice"]],
      );

      // A reload forgets the password: the saved name asks for it.
      await alice.page.goto(pageUrl(server));
      assertEquals(await signInShown(alice), "alice");
      assertEquals(
        await alice.page.evaluate(`[...document.querySelectorAll("#signin input")]
          .map((input) => [input.type, input.autocomplete])`),
        [["text", "username"], ["password", "current-password"]],
      );
      await signIn(alice, "wrong-password-1");
      await formSays(alice, "signin", REASONS["bad-password"]);
      await signIn(alice, PASSWORD);
      await joined(alice, "alice");
      assertEquals(await alice.page.evaluate(`document.getElementById("signin").hidden`), true);
      await assertNotKept(alice, PASSWORD);

      // A drop: the page logs in again at once with the password it holds, no form shown.
      await server.shutdown();
      server = await startServer(dir.path, "127.0.0.1", server.webAddr!.port);
      await alice.sees({ kind: "note", from: "", text: "Back in the chat as alice." });
      await joined(alice, "alice");
      assertEquals(await alice.page.evaluate(`document.getElementById("signin").hidden`), true);
      await using bob = await TestClient.login(server, "bob");
      await bob.send("WHO");
      assertEquals(await bob.readLines(2), ["USER alice", "USER bob"]);
      await assertNotKept(alice, PASSWORD);
      alice.assertClean();
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name:
    "A guest is refused a kept name; a sign-in elsewhere replaces the page, which stays offline",
  ignore,
  async fn() {
    await using dir = await tempDir("chat-page-accounts-");
    const server = await startServer(dir.path);
    await using browser = await Chromium.launch();
    try {
      await using holder = await TestClient.login(server, "carol");
      await holder.send(`REGISTER ${PASSWORD}`);
      await holder.expect("OK registered");
      await using watcher = await TestClient.login(server, "w");
      await watcher.send("WATCH");

      const first = await open(browser, pageUrl(server));
      await tryName(first, "Carol");
      assertEquals(await signInShown(first), "Carol");
      await signIn(first, PASSWORD);
      await joined(first, "carol");
      await holder.expect("ERR session-replaced");
      await holder.expectClosed();
      // Shown as registered, whatever case was typed.
      await first.online(["carol", "w"]);

      const second = await open(browser, pageUrl(server));
      await tryName(second, "carol");
      assertEquals(await signInShown(second), "carol");
      await signIn(second, PASSWORD);
      await joined(second, "carol");

      await first.sees({ kind: "error", from: "", text: REASONS["session-replaced"] });
      await first.status(/^Offline$/);
      assertEquals(
        await first.page.evaluate(`[document.getElementById("retry").hidden,
          document.body.classList.contains("joined")]`),
        [true, false],
      );
      assertEquals(await watcher.sync(), [
        "INFO carol disconnected",
        "INFO carol connected",
        "INFO carol disconnected",
        "INFO carol connected",
      ]);
      first.assertClean();
      second.assertClean();
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "Without accounts, Keep this name says why in words and goes away",
  ignore,
  async fn() {
    const server = await startServer(undefined);
    await using browser = await Chromium.launch();
    try {
      const dave = await open(browser, pageUrl(server));
      await dave.join("dave");
      await keepName(dave, PASSWORD);
      await dave.sees({ kind: "error", from: "", text: REASONS["accounts-off"] });
      assertEquals(
        await dave.page.evaluate(`[document.getElementById("keep").hidden,
          document.getElementById("keep-name").hidden]`),
        [true, true],
      );
      dave.assertClean();
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "Over plain HTTP to a host that is not loopback's name, the page warns before a password",
  ignore,
  async fn() {
    await using dir = await tempDir("chat-page-accounts-");
    // 127.0.0.2 is this machine too, but not a name the page trusts as local.
    const server = await startServer(dir.path, "127.0.0.2");
    await using browser = await Chromium.launch();
    try {
      const erin = await open(browser, pageUrl(server));
      await erin.join("erin");
      await keepName(erin, PASSWORD);
      await formSays(erin, "keep", PLAIN_HTTP_WARNING);
      assertEquals(
        await erin.page.evaluate(`document.querySelector("#keep button[type=submit]").textContent`),
        "Send anyway",
      );
      // Nothing was sent: the name has no account yet.
      await using other = await TestClient.connect(server.addr);
      await other.send("LOGIN erin");
      await other.expect("ERR username-taken");
      await erin.page.press("Enter");
      await erin.sees({
        kind: "note",
        from: "",
        text: "The name erin is yours now: it asks for your password next time.",
      });
      await other.send("LOGIN erin");
      await other.expect("ERR password-required");
      erin.assertClean();
    } finally {
      await server.shutdown();
    }
  },
});
