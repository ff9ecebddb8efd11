/**
 * The connection state at the top of the page: connecting, connected,
 * waiting to reconnect (with a countdown for the eye), or offline.
 *
 * @module
 */

/** Shows one connection state at a time in the header's status line. */
export class StatusLine {
  #ui;
  #countdown = 0;

  /** `ui` holds the elements `status`, `statusText`, `statusCount` and `retry`. */
  constructor(ui) {
    this.#ui = ui;
  }

  /** Shows `phase`; for `waiting`, counts down to `retryAt` (ms since the epoch). */
  show(phase, retryAt = 0) {
    const ui = this.#ui;
    clearInterval(this.#countdown);
    this.#countdown = 0;
    ui.status.dataset.state = phase;
    ui.retry.hidden = phase !== "waiting";
    ui.statusCount.textContent = "";
    if (phase === "waiting") {
      // Only "Reconnecting" is announced; the countdown is for the eye.
      ui.statusText.textContent = "Reconnecting";
      const tick = () => {
        const seconds = Math.max(1, Math.ceil((retryAt - Date.now()) / 1000));
        ui.statusCount.textContent = ` in ${seconds} s`;
      };
      tick();
      this.#countdown = setInterval(tick, 250);
    } else {
      ui.statusText.textContent = {
        connecting: "Connecting…",
        connected: "Connected",
        offline: "Offline",
      }[phase];
    }
  }
}
