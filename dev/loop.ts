import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../functions/web/log.js";

/**
 * A background loop for local mode (in AWS a schedule or a stream does the same work): run
 * `work` every `intervalMs` until stopped; a failing round is logged and the loop goes on.
 */
export function startLoop(
  name: string,
  work: () => Promise<unknown>,
  intervalMs: number,
  log: Logger,
): () => Promise<void> {
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        await work();
      } catch (error) {
        log.error(`${name}.round_failed`, { error });
      }
      if (running) await sleep(intervalMs);
    }
  })();
  return async () => {
    running = false;
    await done;
  };
}
