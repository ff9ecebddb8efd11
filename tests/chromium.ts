/**
 * Debian's `chromium`, headless, driven over the DevTools protocol through
 * Deno's own WebSocket: no browser automation package. One browser, pages
 * in it (each a target attached with a flat session), and the few commands
 * the browser tests need: evaluate, wait for a condition under a deadline,
 * type, press a key, set the viewport, take a screenshot.
 *
 * @module
 */
import { pollUntil } from "./helpers.ts";
import { OutputLog } from "./output_log.ts";

/** Where Debian's `chromium` package puts its launcher. */
export const CHROMIUM = "/usr/bin/chromium";

/** How long a page waits for an expected state before failing. */
const DEADLINE_MS = 5000;
/** How long a DevTools command may take before the test fails. */
const COMMAND_MS = 15_000;
/** Between two looks at a page's state while waiting for it. */
const POLL_MS = 20;

/** True when Debian's `chromium` is installed. */
export async function hasChromium(): Promise<boolean> {
  try {
    return (await Deno.stat(CHROMIUM)).isFile;
  } catch {
    return false;
  }
}

// deno-lint-ignore no-explicit-any
type Json = any;

interface Waiter {
  readonly method: string;
  readonly resolve: (result: Json) => void;
  readonly reject: (error: Error) => void;
}

/** One DevTools WebSocket to the browser; each page's commands carry its session id. */
class DevTools {
  readonly #socket: WebSocket;
  readonly #waiters = new Map<number, Waiter>();
  readonly #listeners = new Set<(message: Json) => void>();
  readonly closed: Promise<void>;
  #nextId = 1;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    this.closed = new Promise((resolve) => {
      socket.addEventListener("close", () => {
        for (const waiter of this.#waiters.values()) {
          waiter.reject(new Error(`DevTools closed during ${waiter.method}`));
        }
        this.#waiters.clear();
        resolve();
      });
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data));
      if (typeof message.id !== "number") {
        for (const listener of this.#listeners) listener(message);
        return;
      }
      const waiter = this.#waiters.get(message.id);
      if (waiter === undefined) return;
      this.#waiters.delete(message.id);
      if (message.error !== undefined) {
        waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
      } else {
        waiter.resolve(message.result);
      }
    });
  }

  static async open(url: string): Promise<DevTools> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error(`Cannot open ${url}`)), {
        once: true,
      });
    });
    return new DevTools(socket);
  }

  /** Sends one command (to a page when `sessionId` is given) and resolves with its result. */
  send(method: string, params: Json = {}, sessionId?: string): Promise<Json> {
    if (this.#socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error(`DevTools is closed: ${method}`));
    }
    const id = this.#nextId++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const reply = new Promise<Json>((resolve, reject) => {
      this.#waiters.set(id, { method, resolve, reject });
      timer = setTimeout(() => {
        this.#waiters.delete(id);
        reject(new Error(`Timed out after ${COMMAND_MS} ms: ${method}`));
      }, COMMAND_MS);
    });
    this.#socket.send(JSON.stringify({ id, method, params, sessionId }));
    return reply.finally(() => clearTimeout(timer));
  }

  /** Calls `listener` with every event; returns what removes it. */
  on(listener: (message: Json) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.#socket.readyState < WebSocket.CLOSING) this.#socket.close();
    await this.closed;
  }
}

/** A key {@linkcode Page.press} can press. */
export type Key = "Enter" | "Tab";

const KEYS: Record<Key, { code: string; keyCode: number; text?: string }> = {
  Enter: { code: "Enter", keyCode: 13, text: "\r" },
  Tab: { code: "Tab", keyCode: 9 },
};

/** One tab of the browser. */
export class Page {
  readonly #devtools: DevTools;
  readonly #targetId: string;
  readonly #sessionId: string;
  readonly #stopListening: () => void;
  /** Uncaught exceptions and console errors of the page, as text. */
  readonly errors: string[] = [];
  /** JavaScript dialogs (`alert` and the like) the page opened. */
  readonly dialogs: string[] = [];

  constructor(devtools: DevTools, targetId: string, sessionId: string) {
    this.#devtools = devtools;
    this.#targetId = targetId;
    this.#sessionId = sessionId;
    this.#stopListening = devtools.on((message) => {
      if (message.sessionId !== sessionId) return;
      if (message.method === "Runtime.exceptionThrown") {
        const details = message.params.exceptionDetails;
        this.errors.push(details.exception?.description ?? details.text);
      } else if (message.method === "Runtime.consoleAPICalled") {
        if (message.params.type !== "error") return;
        this.errors.push(
          message.params.args.map((arg: Json) => arg.value ?? arg.description).join(" "),
        );
      } else if (message.method === "Page.javascriptDialogOpening") {
        this.dialogs.push(message.params.message);
        void this.#send("Page.handleJavaScriptDialog", { accept: true }).catch(() => {});
      }
    });
  }

  #send(method: string, params: Json = {}): Promise<Json> {
    return this.#devtools.send(method, params, this.#sessionId);
  }

  /** Loads `url` and resolves once the document and its scripts are loaded. */
  async goto(url: string): Promise<void> {
    const { errorText } = await this.#send("Page.navigate", { url });
    if (errorText) throw new Error(`Cannot load ${url}: ${errorText}`);
    await this.waitFor(`document.readyState === "complete"`, `${url} to load`);
  }

  /** The value of `expression` in the page (awaited when it is a promise), as JSON. */
  async evaluate<T = Json>(expression: string): Promise<T> {
    const { result, exceptionDetails } = await this.#send("Runtime.evaluate", {
      expression,
      awaitPromise: true,
      returnByValue: true,
    });
    if (exceptionDetails !== undefined) {
      const description = exceptionDetails.exception?.description ?? exceptionDetails.text;
      throw new Error(`${expression}: ${description}`);
    }
    return result.value as T;
  }

  /**
   * Evaluates `expression` until it is truthy, and resolves with that value;
   * after `ms`, fails with `what` and the last value seen.
   */
  async waitFor<T = Json>(expression: string, what: string, ms = DEADLINE_MS): Promise<T> {
    return await pollUntil(what, () => this.evaluate<T>(expression), Boolean, {
      ms,
      everyMs: POLL_MS,
    });
  }

  /** Types `text` into the focused element, as an input method would. */
  async type(text: string): Promise<void> {
    await this.#send("Input.insertText", { text });
  }

  /** Presses and releases `key`, with its default action (Enter submits, Tab moves focus). */
  async press(key: Key): Promise<void> {
    const { code, keyCode, text } = KEYS[key];
    const event = {
      key,
      code,
      windowsVirtualKeyCode: keyCode,
      nativeVirtualKeyCode: keyCode,
    };
    await this.#send("Input.dispatchKeyEvent", {
      ...event,
      type: text === undefined ? "rawKeyDown" : "keyDown",
      ...(text === undefined ? {} : { text, unmodifiedText: text }),
    });
    await this.#send("Input.dispatchKeyEvent", { ...event, type: "keyUp" });
  }

  /** Focuses the element `selector` names. */
  async focus(selector: string): Promise<void> {
    await this.evaluate(`document.querySelector(${JSON.stringify(selector)}).focus()`);
  }

  /** Emulates a viewport `width` by `height` CSS pixels (a phone's when `mobile`). */
  async setViewport(width: number, height: number, mobile = false): Promise<void> {
    await this.#send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: 1,
      mobile,
    });
  }

  /** Cuts the tab off the network, as a lost Wi-Fi would (`navigator.onLine` follows), or back. */
  async setOffline(offline: boolean): Promise<void> {
    await this.#send("Network.enable");
    await this.#send("Network.emulateNetworkConditions", {
      offline,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
  }

  /**
   * A PNG of the viewport, with the tab brought to the front (a background
   * tab paints late) and two frames let pass: without them a capture may show
   * the frame before the page's last change.
   */
  async screenshot(): Promise<Uint8Array> {
    await this.#send("Page.bringToFront");
    await this.evaluate(
      `new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))`,
    );
    const { data } = await this.#send("Page.captureScreenshot", { format: "png" });
    return Uint8Array.from(atob(data), (char) => char.charCodeAt(0));
  }

  /** Closes the tab, as a user closing it would. */
  async close(): Promise<void> {
    this.#stopListening();
    await this.#devtools.send("Target.closeTarget", { targetId: this.#targetId }).catch(() => {});
  }
}

/** A headless chromium with its own throwaway profile; {@linkcode Chromium.close} it. */
export class Chromium {
  readonly #child: Deno.ChildProcess;
  readonly #profile: string;
  readonly #devtools: DevTools;
  readonly #stderr: Promise<string>;
  #closed = false;

  private constructor(
    child: Deno.ChildProcess,
    profile: string,
    devtools: DevTools,
    stderr: Promise<string>,
  ) {
    this.#child = child;
    this.#profile = profile;
    this.#devtools = devtools;
    this.#stderr = stderr;
  }

  /** Starts chromium (with `extraArgs` besides its own) and connects to it once it says where DevTools listens. */
  static async launch(extraArgs: readonly string[] = []): Promise<Chromium> {
    const profile = await Deno.makeTempDir({ prefix: "chat-chromium-" });
    const child = new Deno.Command(CHROMIUM, {
      args: [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--no-default-browser-check",
        "--no-first-run",
        "--mute-audio",
        "--hide-scrollbars",
        `--user-data-dir=${profile}`,
        "--remote-debugging-port=0",
        ...extraArgs,
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new OutputLog(child.stderr);
    const listening = /DevTools listening on (ws:\/\/\S+)/;
    let url: string;
    try {
      const seen = await stderr.until(
        (text) => listening.test(text),
        "chromium exited before DevTools listened",
      );
      url = seen.match(listening)![1]!;
    } catch (error) {
      child.kill("SIGKILL");
      await child.status;
      await stderr.closed;
      await Deno.remove(profile, { recursive: true });
      throw error;
    }
    const devtools = await DevTools.open(url);
    return new Chromium(child, profile, devtools, stderr.closed);
  }

  /** Opens a new tab at `url`, with focus emulated so each tab acts as the focused one. */
  async newPage(url = "about:blank"): Promise<Page> {
    const { targetId } = await this.#devtools.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await this.#devtools.send("Target.attachToTarget", {
      targetId,
      flatten: true,
    });
    const page = new Page(this.#devtools, targetId, sessionId);
    await this.#devtools.send("Page.enable", {}, sessionId);
    await this.#devtools.send("Runtime.enable", {}, sessionId);
    await this.#devtools.send("Emulation.setFocusEmulationEnabled", { enabled: true }, sessionId);
    if (url !== "about:blank") await page.goto(url);
    return page;
  }

  /** Closes the browser (killing it if it does not go), its DevTools socket and its profile. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const exited = this.#child.status;
    await this.#devtools.send("Browser.close").catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), 5000);
    });
    if (await Promise.race([exited, late]) === "late") this.#child.kill("SIGKILL");
    clearTimeout(timer);
    await exited;
    await this.#devtools.close();
    await this.#stderr;
    await Deno.remove(this.#profile, { recursive: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
