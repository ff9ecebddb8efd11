/**
 * A load-generator worker: holds a share of the benchmark's clients, logs
 * them in, sends (when it owns the senders) and receives, and reports counts
 * and latencies to the main thread.
 *
 * Message text is `<sender> <seq> <sent-µs> <padding>`, so any receiver can
 * tell who sent it, in what order, and how long it took.
 *
 * @module
 */

/// <reference lib="deno.worker" />

/** Commands from the main thread. */
export type WorkerCommand =
  | {
    readonly cmd: "connect";
    /** Client number n connects to `ports[n % ports.length]`: several instances share the load. */
    readonly ports: readonly number[];
    readonly first: number;
    readonly count: number;
  }
  | {
    readonly cmd: "fanout";
    /** Local indexes of the clients that send; the client at local index 0 is the reference receiver. */
    readonly senders: number;
    readonly reference: boolean;
    readonly messages: number;
    readonly window: number;
    readonly rate: number;
    readonly payload: number;
    /** How many senders there are in all (each receiver expects messages × senders, less its own). */
    readonly totalSenders: number;
    readonly drainMs: number;
  }
  | { readonly cmd: "ping" }
  | { readonly cmd: "close" };

/** Reports to the main thread. */
export type WorkerReport =
  | { readonly ev: "connected"; readonly count: number }
  | {
    readonly ev: "fanout-done";
    readonly deliveries: number;
    readonly expected: number;
    readonly outOfOrder: number;
    readonly firstSendUs: number;
    readonly lastDeliveryUs: number;
    readonly latenciesUs: Float64Array;
  }
  | { readonly ev: "pinged"; readonly answered: number; readonly count: number }
  | { readonly ev: "closed" }
  | { readonly ev: "error"; readonly message: string };

const encoder = new TextEncoder();
const LF = 10;

/** Microseconds on a clock shared by every worker of this process. */
function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

class Client {
  readonly conn: Deno.TcpConn;
  readonly index: number;
  #buffer = new Uint8Array(65536);
  #held = 0;
  #unsent = "";
  #writing = false;

  constructor(conn: Deno.TcpConn, index: number) {
    this.conn = conn;
    this.index = index;
  }

  /** Queues text; one writer per client keeps partial writes from interleaving. */
  send(text: string): void {
    this.#unsent += text;
    if (!this.#writing) this.#flush();
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#unsent !== "") {
        let bytes = encoder.encode(this.#unsent);
        this.#unsent = "";
        while (bytes.length > 0) bytes = bytes.subarray(await this.conn.write(bytes));
      }
    } catch {
      // The read side reports the broken connection.
    } finally {
      this.#writing = false;
    }
  }

  /**
   * Reads until `onLine` returns false; lines are byte views valid only during the call.
   *
   * A hand reader, not `conn.readable` through `TextDecoderStream` and `TextLineStream`: this
   * is the measured hot path, and the generator is already the bottleneck of workload A. On
   * the 2-core machine, 100 connections each receiving 20,000 lines of 80 bytes in bursts of
   * ten: this reader about 1.0-1.4 M lines/s and 63 MB of RSS, the stream pipeline 0.28-0.33
   * M lines/s and 200-280 MB (a string per line, promises per chunk, 64 KiB per pending read).
   * `parseMsg` reads the numbers from the bytes, so no line is decoded.
   */
  async readLines(onLine: (line: Uint8Array) => boolean): Promise<void> {
    while (true) {
      if (this.#held === this.#buffer.length) {
        const bigger = new Uint8Array(this.#buffer.length * 2);
        bigger.set(this.#buffer);
        this.#buffer = bigger;
      }
      const count = await this.conn.read(this.#buffer.subarray(this.#held));
      if (count === null) throw new Error(`client ${this.index}: server closed the connection`);
      const end = this.#held + count;
      let start = 0;
      let keepGoing = true;
      while (keepGoing) {
        const lf = this.#buffer.indexOf(LF, start);
        if (lf === -1 || lf >= end) break;
        keepGoing = onLine(this.#buffer.subarray(start, lf));
        start = lf + 1;
      }
      this.#buffer.copyWithin(0, start, end);
      this.#held = end - start;
      if (!keepGoing) return;
    }
  }
}

const decoder = new TextDecoder();
let clients: Client[] = [];

function post(report: WorkerReport, transfer: Transferable[] = []): void {
  self.postMessage(report, transfer);
}

async function connect(ports: readonly number[], first: number, count: number): Promise<void> {
  const concurrency = 16;
  const made: Client[] = new Array(count);
  let next = 0;
  const one = async () => {
    while (next < count) {
      const i = next++;
      const port = ports[(first + i) % ports.length]!;
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.setNoDelay(true);
      const client = new Client(conn, first + i);
      client.send(`LOGIN u${first + i}\n`);
      await client.readLines((line) => {
        const text = decoder.decode(line);
        if (text !== "OK") throw new Error(`u${first + i}: expected OK, got ${text}`);
        return false;
      });
      made[i] = client;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, one));
  clients = made;
  post({ ev: "connected", count });
}

/** Parses `MSG u<n> <sender> <seq> <µs> …` without decoding; returns false for other lines. */
function parseMsg(line: Uint8Array, out: { sender: number; seq: number; sentUs: number }): boolean {
  // "MSG " then the name, then three numbers.
  if (line[0] !== 77 || line[1] !== 83 || line[2] !== 71 || line[3] !== 32) return false;
  let i = line.indexOf(32, 4) + 1;
  if (i === 0) return false;
  const fields = [0, 0, 0];
  for (let f = 0; f < 3; f++) {
    let value = 0;
    for (; i < line.length; i++) {
      const c = line[i]!;
      if (c === 32) break;
      value = value * 10 + (c - 48);
    }
    fields[f] = value;
    i++;
  }
  out.sender = fields[0]!;
  out.seq = fields[1]!;
  out.sentUs = fields[2]!;
  return true;
}

function messageText(sender: number, seq: number, payload: number): string {
  const head = `MSG ${sender} ${seq} ${nowUs()} `;
  return head + "x".repeat(Math.max(1, payload + 4 - head.length)) + "\n";
}

async function fanout(command: Extract<WorkerCommand, { cmd: "fanout" }>): Promise<void> {
  const { senders, messages, window, rate, payload, totalSenders, reference, drainMs } = command;
  const sent = new Array<number>(senders).fill(0);
  const outstanding = new Array<number>(senders).fill(0);
  const latencies: number[] = [];
  let deliveries = 0;
  let expected = 0;
  let outOfOrder = 0;
  let lastDeliveryUs = 0;
  const firstSendUs = nowUs();

  // In the reference worker, local client 0 is the reference receiver and
  // local clients 1..senders are senders 0..senders-1.
  const senderOf = (
    local: number,
  ) => (reference && local >= 1 && local <= senders ? local - 1 : -1);
  /** Sends sender s's messages up to number `due`, or while fewer than `limit` are unreceived. */
  const sendMore = (s: number, due: number, limit: number) => {
    let batch = "";
    while (sent[s]! < due && outstanding[s]! < limit) {
      batch += messageText(s, sent[s]!, payload);
      sent[s]!++;
      outstanding[s]!++;
    }
    if (batch !== "") clients[s + 1]!.send(batch);
  };

  let timer: ReturnType<typeof setInterval> | undefined;
  if (reference && senders > 0) {
    if (rate > 0) {
      // Open loop: each sender sends `rate` messages a second, whatever comes back.
      const start = performance.now();
      const intervalMs = 1000 / rate;
      timer = setInterval(() => {
        const due = Math.min(messages, Math.floor((performance.now() - start) / intervalMs) + 1);
        for (let s = 0; s < senders; s++) sendMore(s, due, Infinity);
        if (due >= messages) clearInterval(timer);
      }, 1);
    } else {
      for (let s = 0; s < senders; s++) sendMore(s, messages, window);
    }
  }

  const parsed = { sender: 0, seq: 0, sentUs: 0 };
  let lastProgress = performance.now();
  const receivers = clients.map((client, local) => {
    const own = senderOf(local);
    const wanted = messages * (own >= 0 ? totalSenders - 1 : totalSenders);
    expected += wanted;
    const nextSeq = new Array<number>(totalSenders).fill(0);
    let got = 0;
    if (wanted === 0) return Promise.resolve();
    return client.readLines((line) => {
      if (!parseMsg(line, parsed)) return true;
      const now = nowUs();
      latencies.push(now - parsed.sentUs);
      if (parsed.seq !== nextSeq[parsed.sender]) outOfOrder++;
      nextSeq[parsed.sender] = parsed.seq + 1;
      deliveries++;
      lastDeliveryUs = now;
      lastProgress = performance.now();
      if (reference && local === 0 && rate === 0) {
        outstanding[parsed.sender]!--;
        sendMore(parsed.sender, messages, window);
      }
      return ++got < wanted;
    });
  });

  // Give up on a run that stops delivering for drainMs.
  let stalled: ReturnType<typeof setInterval> | undefined;
  const watchdog = new Promise<void>((resolve) => {
    stalled = setInterval(() => {
      if (performance.now() - lastProgress > drainMs) resolve();
    }, 100);
  });
  await Promise.race([Promise.all(receivers), watchdog]);
  clearInterval(stalled);
  clearInterval(timer);
  const latenciesUs = Float64Array.from(latencies);
  post({
    ev: "fanout-done",
    deliveries,
    expected,
    outOfOrder,
    firstSendUs,
    lastDeliveryUs,
    latenciesUs,
  }, [latenciesUs.buffer]);
}

async function pingAll(): Promise<void> {
  let answered = 0;
  await Promise.all(clients.map(async (client) => {
    client.send("PING\n");
    await client.readLines((line) => {
      if (decoder.decode(line) === "PONG") {
        answered++;
        return false;
      }
      return true;
    });
  }));
  post({ ev: "pinged", answered, count: clients.length });
}

function closeAll(): void {
  for (const client of clients) {
    try {
      client.conn.close();
    } catch {
      // already closed
    }
  }
  clients = [];
  post({ ev: "closed" });
}

self.onmessage = async (event: MessageEvent<WorkerCommand>) => {
  const command = event.data;
  try {
    switch (command.cmd) {
      case "connect":
        await connect(command.ports, command.first, command.count);
        break;
      case "fanout":
        await fanout(command);
        break;
      case "ping":
        await pingAll();
        break;
      case "close":
        closeAll();
        break;
    }
  } catch (error) {
    post({ ev: "error", message: error instanceof Error ? error.message : String(error) });
  }
};
