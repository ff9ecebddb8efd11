/**
 * What the hub does with what the cluster tells it of users elsewhere:
 * their messages, DMs, comings and goings and (IRC's) parts and joins,
 * delivered to this instance's clients; a local name lost to elsewhere ends
 * its session. Split from `hub.ts` so that the hub keeps only its sessions.
 *
 * @module
 */
import type { ClusterEvent } from "./cluster.ts";
import { idMs } from "./history/message_id.ts";
import type { CommandContext } from "./hub_commands.ts";

/** The cluster's events that are about users elsewhere (claims are the hub's own). */
export type RemoteEvent = Exclude<ClusterEvent, { readonly kind: "claimed" | "claim-refused" }>;

/** Applies one event about users elsewhere, in the hub's turn. */
export function applyRemote(hub: CommandContext, event: RemoteEvent): void {
  switch (event.kind) {
    case "remote-msg":
      // Delivered now, so from now on a history read includes it (and every id before it).
      if (event.id !== undefined) hub.history.observe(event.id);
      hub.delivery.broadcastMsg(event.sender, event.text, undefined, false, {
        id: event.id,
        at: event.id === undefined ? hub.history.now() : idMs(event.id),
      });
      return;
    case "observed":
      hub.history.observe(event.id);
      return;
    case "remote-dm": {
      // Delivered now (or gone): a read of its conversation from now on includes it.
      if (event.id !== undefined) hub.history.observe(event.id);
      const recipient = hub.users.get(event.target);
      if (recipient !== undefined) hub.delivery.dm(recipient, event.sender, event.text);
      return;
    }
    case "remote-joined":
      hub.delivery.broadcastConnected(event.name, undefined);
      return;
    case "remote-left":
      hub.delivery.broadcastDisconnected(event.name, event.why);
      return;
    case "remote-part":
      hub.delivery.broadcastLeft(event.name, event.reason, undefined);
      return;
    case "remote-rejoin":
      hub.delivery.broadcastRejoined(event.name, undefined);
      return;
    case "name-lost": {
      const holder = hub.users.get(event.key);
      if (holder !== undefined) hub.disconnect(holder, event.reason ?? "name-conflict");
      return;
    }
    default:
      event satisfies never;
  }
}
