/**
 * The soak's servers as its clients see them: which port each door is on,
 * which server the next client goes to, their metrics and memory summed, and
 * the certificate a run's servers serve their TLS doors with.
 *
 * @module
 */
import { makeCertificate } from "../tests/certificates.ts";
import type { StartedServer } from "../tests/server_process.ts";
import { type DoorKind, Link } from "./soak_doors.ts";

const decoder = new TextDecoder();

/** A run's TLS: the servers' flags, the CA its clients trust, and how to delete the files. */
export interface RunCertificate {
  readonly args: string[];
  /** The PEM CA certificate that signed the servers' certificate. */
  readonly caCert: string;
  readonly remove: () => void;
}

/**
 * A certificate made for one run in a temporary directory (`remove` deletes it, the key with
 * it, so no key outlives the run), and the flags that serve it on the TLS and IRC TLS ports.
 */
export async function runCertificate(): Promise<RunCertificate> {
  const dir = await Deno.makeTempDir({ prefix: "soak-tls-" });
  const remove = () => Deno.removeSync(dir, { recursive: true });
  try {
    const { cert, key, ca } = await makeCertificate(dir);
    const args = ["--tls-cert", cert, "--tls-key", key, "--tls-port", "0", "--irc-tls-port", "0"];
    return { args, caCert: await Deno.readTextFile(ca), remove };
  } catch (error) {
    remove();
    throw error;
  }
}

/** The servers under test, with the doors clients are dealt over: clients go to them in turn. */
export class Servers {
  readonly #servers: readonly StartedServer[];
  /** The doors every kind of client is dealt over, in turn. */
  readonly doors: readonly DoorKind[];
  /** The PEM CA certificate the TLS doors are trusted with, when the servers have TLS files. */
  readonly #caCert: string | undefined;
  #next = 0;

  constructor(servers: readonly StartedServer[], doors: readonly DoorKind[], caCert?: string) {
    this.#servers = servers;
    this.doors = doors;
    this.#caCert = caCert;
  }

  /** The door of the `i`th client of a kind: every kind is dealt over all doors in turn. */
  doorOf(i: number): DoorKind {
    return this.doors[i % this.doors.length]!;
  }

  /** The port of `door` on the next server. */
  nextPort(door: DoorKind): number {
    const server = this.#servers[this.#next++ % this.#servers.length]!;
    const port = {
      tcp: server.port,
      tls: server.tlsPort,
      ws: server.webPort,
      wss: server.webPort,
      irc: server.ircPort,
      irctls: server.ircTlsPort,
    }[door];
    if (port === undefined) throw new Error(`no ${door} port`);
    return port;
  }

  /** Opens a link through `door` to the next server. */
  open(door: DoorKind, answerPings = true): Promise<Link> {
    return Link.open(door, this.nextPort(door), answerPings, this.#caCert);
  }

  /** Every server's metrics, summed by series. */
  async metrics(): Promise<Map<string, number>> {
    const samples = new Map<string, number>();
    for (const server of this.#servers) {
      const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
      for (const line of text.split("\n")) {
        if (line === "" || line.startsWith("#")) continue;
        const space = line.lastIndexOf(" ");
        const key = line.slice(0, space);
        samples.set(key, (samples.get(key) ?? 0) + Number(line.slice(space + 1)));
      }
    }
    return samples;
  }

  /** The servers' resident memory together. */
  async rssKb(): Promise<number> {
    const { stdout } = await new Deno.Command("ps", {
      args: ["-o", "rss=", "-p", this.#servers.map((server) => server.child.pid).join(",")],
      stdout: "piped",
    }).output();
    return decoder.decode(stdout).trim().split(/\s+/).reduce((sum, kb) => sum + Number(kb), 0);
  }
}
