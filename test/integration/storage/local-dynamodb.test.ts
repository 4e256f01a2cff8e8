import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { startDynamoLocal } from "../../../dev/local-services.js";

/**
 * The addresses the kernel lists as listening on `port` (Linux's /proc/net/tcp and tcp6: the
 * address as hex words in the machine's byte order, then the port; state 0A is LISTEN).
 */
function listeningAddresses(port: number): string[] {
  const found: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      const [address, hexPort] = local?.split(":") ?? [];
      if (state === "0A" && address && hexPort && Number.parseInt(hexPort, 16) === port) found.push(address);
    }
  }
  return found;
}

/** 127.0.0.0/8, ::1, or ::ffff:127.x.x.x as /proc writes them (little-endian words on x86 and arm). */
function isLoopback(hex: string): boolean {
  if (hex.length === 8) return hex.endsWith("7F");
  if (hex === "00000000000000000000000001000000") return true;
  return hex.startsWith("0000000000000000FFFF0000") && hex.endsWith("7F");
}

describe("DynamoDB Local as the tool starts it", () => {
  it("listens on 127.0.0.1 only and answers no web page's cross-origin call", async () => {
    const dynamo = await startDynamoLocal();
    try {
      expect(dynamo.loopbackOnly, "keeping DynamoDB Local on 127.0.0.1 needs a JDK's javac").toBe(true);
      const port = Number(new URL(dynamo.endpoint).port);
      if (existsSync("/proc/net/tcp")) {
        // On Linux, the kernel's own word for it.
        const addresses = listeningAddresses(port);
        expect(addresses.length).toBeGreaterThan(0);
        expect(addresses.filter((a) => !isLoopback(a))).toEqual([]);
      }
      const preflight = await fetch(dynamo.endpoint, {
        method: "OPTIONS",
        headers: { origin: "https://example.org", "access-control-request-method": "POST" },
      });
      expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await dynamo.stop();
    }
  });
});
