import { describe, expect, it } from "vitest";
import { buildStatement } from "../../../statements/builders.js";
import { sameStatement } from "../../../statements/equivalence.js";
import { EVENTS, eventOfType, SETTINGS } from "./fixtures.js";

type Json = Record<string, unknown>;

/** Our statement for an event, as sent (its JSON) and as an object the tests change. */
function sent(type: Parameters<typeof eventOfType>[0], settings = SETTINGS) {
  const built = buildStatement(eventOfType(type), settings);
  return { json: built.json, copy: () => JSON.parse(built.json) as Json };
}

/** A deep path setter: `set(s, ["context", "language"], "en-gb")`. */
function set(target: Json, path: string[], value: unknown): Json {
  let at: Json = target;
  for (const key of path.slice(0, -1)) at = at[key] as Json;
  at[path.at(-1) as string] = value;
  return target;
}
const get = (target: Json, path: string[]): unknown =>
  path.reduce<unknown>((at, key) => (at as Json)[key], target);

describe("sameStatement (xAPI 1.0.3 Data §2.3.1, statement comparison)", () => {
  it("holds every statement the tool builds as itself, as the LRS returns it", () => {
    for (const event of EVENTS) {
      const built = buildStatement(event, SETTINGS);
      const stored = {
        ...(JSON.parse(built.json) as Json),
        stored: "2025-03-04T08:20:00.000Z",
        authority: { objectType: "Agent", account: { homePage: "https://lrs.example", name: "key" } },
        version: "1.0.3",
      };
      expect(sameStatement(built.json, stored), event.type).toBe(true);
    }
  });

  it("ignores key order and the serialisation of the timestamp", () => {
    const s = sent("module.passed");
    const copy = s.copy();
    const reordered = Object.fromEntries(Object.entries(copy).reverse());
    const instant = Date.parse(copy.timestamp as string);
    reordered.timestamp = new Date(instant).toISOString().replace("Z", "+00:00");
    expect(sameStatement(s.json, reordered)).toBe(true);
  });

  it("reads a timestamp the LRS returns without its zone as UTC, in whatever zone it runs", () => {
    const s = sent("module.passed");
    const copy = s.copy();
    copy.timestamp = (copy.timestamp as string).replace(/Z$/, "");
    const zone = process.env.TZ;
    try {
      for (const tz of ["UTC", "Asia/Kolkata", "America/New_York"]) {
        process.env.TZ = tz;
        expect(sameStatement(s.json, copy), tz).toBe(true);
        // An hour off is another instant, zone or no zone.
        const later = new Date(Date.parse(`${copy.timestamp as string}Z`) + 3_600_000).toISOString();
        expect(sameStatement(s.json, { ...copy, timestamp: later.replace(/Z$/, "") }), tz).toBe(false);
      }
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it("reads UUIDs in either case: the statement id and the registration", () => {
    const s = sent("module.passed");
    const copy = s.copy();
    copy.id = (copy.id as string).toUpperCase();
    set(copy, ["context", "registration"], (get(copy, ["context", "registration"]) as string).toUpperCase());
    expect(sameStatement(s.json, copy)).toBe(true);
  });

  it("ignores the Verb's display and the Activities' definitions, which are not part of a statement", () => {
    const s = sent("module.passed");
    const copy = s.copy();
    set(copy, ["verb", "display"], { "en-US": "passed" });
    set(copy, ["object", "definition"], { name: { en: "The LRS's canonical name" } });
    const grouping = get(copy, ["context", "contextActivities", "grouping"]) as Json[];
    expect(grouping.length).toBeGreaterThan(0);
    for (const activity of grouping) activity.definition = { type: "http://example.com/other-type" };
    expect(sameStatement(s.json, copy)).toBe(true);
  });

  it("reads the domain of an mbox and the context's language tag in either case", () => {
    const s = sent("module.passed", { ...SETTINGS, actorIdentifier: "mbox" });
    const copy = s.copy();
    const address = get(copy, ["actor", "mbox"]) as string;
    expect(address).toMatch(/^mailto:.+@.+$/);
    set(
      copy,
      ["actor", "mbox"],
      address.replace(/@(.*)$/, (_m, domain: string) => `@${domain.toUpperCase()}`),
    );
    set(copy, ["context", "language"], (get(copy, ["context", "language"]) as string).toUpperCase());
    expect(sameStatement(s.json, copy)).toBe(true);
  });

  it("compares a Group's members in any order", () => {
    const group = (members: string[]) => ({
      objectType: "Group",
      member: members.map((m) => ({ objectType: "Agent", mbox: `mailto:${m}@school.example` })),
    });
    const statement = (members: string[]) => ({
      id: "6f1c1c5e-3a0b-4c55-9a2a-1b7d2f0e9a11",
      actor: group(members),
      verb: { id: "http://adlnet.gov/expapi/verbs/attended" },
      object: { id: "https://hlta.example/activities/session-1" },
    });
    expect(sameStatement(JSON.stringify(statement(["a", "b", "c"])), statement(["c", "a", "b"]))).toBe(true);
    expect(sameStatement(JSON.stringify(statement(["a", "b", "c"])), statement(["a", "b"]))).toBe(false);
  });

  it("tells a different statement under our id from ours", () => {
    const s = sent("module.passed");
    const changes: [string, (c: Json) => void][] = [
      ["another verb", (c) => set(c, ["verb", "id"], "http://adlnet.gov/expapi/verbs/failed")],
      ["another activity", (c) => set(c, ["object", "id"], "https://hlta.example/activities/other")],
      ["another score", (c) => set(c, ["result", "score", "scaled"], 0.1)],
      ["another person", (c) => set(c, ["actor", "account", "name"], "someone-else")],
      [
        "another registration",
        (c) => set(c, ["context", "registration"], "11111111-2222-4333-8444-555555555555"),
      ],
      ["another instant", (c) => set(c, ["timestamp"], "2020-01-01T00:00:00.000Z")],
      [
        "another grouping activity",
        (c) => set(c, ["context", "contextActivities", "grouping"], [{ id: "https://x.example/a" }]),
      ],
      ["an extension changed", (c) => set(c, ["context", "extensions"], { "https://x.example/ext": 1 })],
      [
        "a name in another case",
        (c) => set(c, ["actor", "name"], (get(c, ["actor", "name"]) as string).toUpperCase()),
      ],
    ];
    for (const [what, change] of changes) {
      const copy = s.copy();
      change(copy);
      expect(sameStatement(s.json, copy), what).toBe(false);
    }
  });

  it("keeps the local part of an mbox case-sensitive", () => {
    const s = sent("module.passed", { ...SETTINGS, actorIdentifier: "mbox" });
    const copy = s.copy();
    set(
      copy,
      ["actor", "mbox"],
      (get(copy, ["actor", "mbox"]) as string).replace(
        /^mailto:(.)/,
        (_m, c: string) => `mailto:${c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()}`,
      ),
    );
    expect(sameStatement(s.json, copy)).toBe(false);
  });

  it("is never the same as what is not a statement", () => {
    const s = sent("module.passed");
    for (const stored of [undefined, null, "text", [s.copy()], 42])
      expect(sameStatement(s.json, stored)).toBe(false);
    expect(sameStatement("not json", s.copy())).toBe(false);
  });
});
