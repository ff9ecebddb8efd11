/**
 * What the browser tests share: the server process with its web port, a
 * chat page in a headless chromium tab ({@link ./chromium.ts}) with what a
 * test does and reads on it, and the rig that starts and disposes of them.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { Chromium, hasChromium, type Page } from "./chromium.ts";
import { DEADLINE_MS, TestClient, withDeadline } from "./helpers.ts";
import { spawnServer, type StartedServer } from "./server_process.ts";

/** True when the browser tests cannot run here: no chromium, outside CI (which fails rather than skips). */
export const noBrowser: boolean = !(await hasChromium()) && Deno.env.get("CI") !== "true";

/** How long a page may take to come back after the server restarts: the backoff's first steps. */
export const RECONNECT_MS = 15_000;

/** The server process with its chat port and its web port. */
export class WebServer {
  readonly process: StartedServer;
  readonly port: number;
  readonly webPort: number;
  /** Started with TLS files: the web port serves HTTPS and WSS. */
  readonly secure: boolean;

  private constructor(process: StartedServer, webPort: number, secure: boolean) {
    this.process = process;
    this.port = process.port;
    this.webPort = webPort;
    this.secure = secure;
  }

  /** Starts the server on loopback with `args` besides, on the given ports or free ones. */
  static async start(args: readonly string[] = [], port = 0, webPort = 0): Promise<WebServer> {
    const process = await withDeadline(
      spawnServer([
        ...["--host", "127.0.0.1", "--port", String(port), "--web-port", String(webPort)],
        ...args,
      ]),
      10_000,
      "server start",
    );
    const log = await withDeadline(
      process.logged(/ listening web address="[^"]*:\d+"/),
      DEADLINE_MS,
      "the web port's listening line",
    );
    const web = Number(log.match(/ listening web address="[^"]*:(\d+)"/)![1]);
    return new WebServer(process, web, args.includes("--tls-cert"));
  }

  get url(): string {
    return `${this.secure ? "https" : "http"}://127.0.0.1:${this.webPort}/`;
  }

  /** Stops the server as an operator would (SIGTERM), once, and waits for it to exit. */
  async stop(): Promise<void> {
    try {
      this.process.child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await this.process.child.status;
    await this.process.logClosed;
  }
}

/** One entry of the conversation, as the page shows it. */
export interface Entry {
  readonly kind: string;
  readonly from: string;
  readonly text: string;
}

/** An entry with what else the page shows of it. */
export interface ShownEntry extends Entry {
  readonly pending: boolean;
  /** Why it was not sent, for a message that failed. */
  readonly why: string;
  /** Its message id, for one drawn from the history. */
  readonly id: string;
  /** The time in its heading, if it has one. */
  readonly time: string;
}

const ENTRIES = `[...document.querySelectorAll("#log > li")].map((li) => ({
  kind: li.dataset.kind,
  from: li.dataset.from ?? "",
  text: li.querySelector(".text").textContent,
  pending: li.classList.contains("pending"),
  why: li.querySelector(".why")?.textContent ?? "",
  id: li.dataset.id ?? "",
  time: li.querySelector("time")?.textContent ?? "",
}))`;

const ONLINE = `[...document.querySelectorAll('ul[aria-label="Online"] > li')]
  .map((li) => li.textContent)`;

/** A chat page in a tab, with what the tests do and read on it. */
export class ChatPage {
  readonly page: Page;

  constructor(page: Page) {
    this.page = page;
  }

  /** Types `name` in the Name box, presses Enter, and waits until logged in. */
  async join(name: string): Promise<void> {
    await this.page.focus("#name");
    await this.page.type(name);
    await this.page.press("Enter");
    await this.page.waitFor(`document.body.classList.contains("joined")`, `${name} to join`);
  }

  /** Types `text` in the Message box and presses Enter. */
  async say(text: string): Promise<void> {
    await this.page.focus("#message");
    await this.page.type(text);
    await this.page.press("Enter");
  }

  /** Waits until the conversation shows `entry`, exactly; resolves with its failure note, if any. */
  async sees(entry: Entry): Promise<string> {
    const found = await this.page.waitFor<{ why: string }>(
      `(${ENTRIES}).find((e) => e.kind === ${JSON.stringify(entry.kind)} &&
        e.from === ${JSON.stringify(entry.from)} && e.text === ${JSON.stringify(entry.text)} &&
        !e.pending)`,
      `the entry ${JSON.stringify(entry)}; entries: ${JSON.stringify(await this.entries())}`,
    );
    return found.why;
  }

  /**
   * Waits until the conversation is `expected` (kinds, senders and texts),
   * top to bottom, nothing more; resolves with the entries as shown.
   */
  async showsExactly(expected: readonly Entry[], ms = DEADLINE_MS): Promise<ShownEntry[]> {
    const want = JSON.stringify(expected.map(({ kind, from, text }) => ({ kind, from, text })));
    try {
      await this.page.waitFor(
        `JSON.stringify((${ENTRIES}).map(({ kind, from, text }) => ({ kind, from, text }))) ===
          ${JSON.stringify(want)}`,
        "the conversation",
        ms,
      );
    } catch (error) {
      const shown = (await this.entries()).map(({ kind, from, text }) => ({ kind, from, text }));
      assertEquals(shown, expected, String(error));
    }
    return await this.entries();
  }

  /** Every entry of the conversation, top to bottom. */
  async entries(): Promise<ShownEntry[]> {
    return await this.page.evaluate(ENTRIES);
  }

  /** Waits until the Online list holds `names` and no other, in any order. */
  async online(names: string[]): Promise<void> {
    await this.page.waitFor(
      `JSON.stringify(${ONLINE}.sort()) === ${JSON.stringify(JSON.stringify(names.toSorted()))}`,
      `Online to be ${JSON.stringify(names)}, not ${
        JSON.stringify(await this.page.evaluate(ONLINE))
      }`,
    );
  }

  /** Waits until the visible connection state's text matches `pattern`. */
  async status(pattern: RegExp, ms = DEADLINE_MS): Promise<string> {
    return await this.page.waitFor(
      `(() => { const text = document.getElementById("status").textContent.trim();
        return ${pattern}.test(text) && text; })()`,
      `the connection state to match ${pattern}`,
      ms,
    );
  }

  /** The id of the focused element. */
  async focused(): Promise<string> {
    return await this.page.evaluate(`document.activeElement?.id ?? ""`);
  }

  /** Asserts that the page threw nothing and opened no dialog. */
  assertClean(): void {
    assertEquals(this.page.errors, [], "errors in the page");
    assertEquals(this.page.dialogs, [], "dialogs opened by the page");
  }
}

/** A browser, the server, and the TCP clients of one test; disposed in reverse. */
export class Rig {
  readonly browser: Chromium;
  server: WebServer;
  readonly pages: ChatPage[] = [];
  readonly clients: TestClient[] = [];
  readonly #args: readonly string[];

  private constructor(browser: Chromium, server: WebServer, args: readonly string[]) {
    this.browser = browser;
    this.server = server;
    this.#args = args;
  }

  /** Starts the server (with `args` besides the ports) and the browser (with `browserArgs`). */
  static async start(
    args: readonly string[] = [],
    browserArgs: readonly string[] = [],
  ): Promise<Rig> {
    const server = await WebServer.start(args);
    try {
      return new Rig(await Chromium.launch(browserArgs), server, args);
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  /** Opens the page (at `url`) in a new tab, `width` by `height`, and waits until it is connected. */
  async open(width = 1000, height = 700, url = this.server.url): Promise<ChatPage> {
    const page = new ChatPage(await this.browser.newPage());
    this.pages.push(page);
    await page.page.setViewport(width, height);
    await page.page.goto(url);
    await page.status(/^Connected$/);
    return page;
  }

  /** A raw TCP client logged in as `name`. */
  async tcp(name: string): Promise<TestClient> {
    const client = await TestClient.login(this.server.port, name);
    this.clients.push(client);
    return client;
  }

  /** Stops the server and starts it again with the same arguments, on the same ports. */
  async restartServer(): Promise<void> {
    await this.server.stop();
    this.server = await WebServer.start(this.#args, this.server.port, this.server.webPort);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const client of this.clients) await client.dispose();
    await this.browser.close();
    await this.server.stop();
  }
}
