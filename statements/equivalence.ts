/**
 * Statement comparison, for a 409 answer: does the LRS already hold *our* statement under this
 * id? xAPI 1.0.3 §2.2 ("Statement Comparison Requirements"): differences in `authority`,
 * `stored`, `version` (set by the LRS) and attachments are ignored; a timestamp may come back
 * in another time zone (§4.5) so it is compared as an instant. Everything else must be equal,
 * whatever the key order.
 */

const IGNORED = new Set(["authority", "stored", "version", "attachments"]);

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort())
      out[key] = canonical((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

function comparable(statement: unknown): string | undefined {
  if (typeof statement !== "object" || statement === null || Array.isArray(statement)) return undefined;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(statement)) {
    if (IGNORED.has(key)) continue;
    if (key === "timestamp" && typeof value === "string") {
      const instant = Date.parse(value);
      copy[key] = Number.isNaN(instant) ? value : new Date(instant).toISOString();
      continue;
    }
    copy[key] = value;
  }
  return JSON.stringify(canonical(copy));
}

/** True when `stored` (what the LRS returned) is the statement whose JSON we sent. */
export function sameStatement(sentJson: string, stored: unknown): boolean {
  let sent: unknown;
  try {
    sent = JSON.parse(sentJson);
  } catch {
    return false;
  }
  const a = comparable(sent);
  return a !== undefined && a === comparable(stored);
}
