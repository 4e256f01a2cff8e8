import { describe, expect, it } from "vitest";
import { DomainEventSchema } from "../../../domain/events.js";
import { buildStatement } from "../../../statements/builders.js";
import { EVENT_INPUTS, SETTINGS } from "./fixtures.js";

// xAPI 1.0.3 Data §5.2 (Language Map): the key is an RFC 5646 tag "and the value is a string in
// the language specified in the tag". English text under `cy` tells a Welsh consumer that the
// English string is the Welsh name.
describe("language maps hold text in the tagged language", () => {
  for (const input of EVENT_INPUTS) {
    it(`${input.type}: no cy entry that merely repeats the en text`, () => {
      const { statement } = buildStatement(DomainEventSchema().parse(input), SETTINGS);
      const maps: Record<string, string>[] = [];
      const walk = (v: unknown) => {
        if (Array.isArray(v)) return v.forEach(walk);
        if (v && typeof v === "object") {
          const o = v as Record<string, unknown>;
          for (const k of ["name", "description", "display"])
            if (o[k] && typeof o[k] === "object") maps.push(o[k] as Record<string, string>);
          Object.values(o).forEach(walk);
        }
      };
      walk(statement);
      const offenders = maps.filter((m) => m.cy !== undefined && m.en !== undefined && m.cy === m.en);
      expect(offenders).toEqual([]);
    });
  }
});

describe("what people type", () => {
  it("an evidence document's title is tagged und (language undetermined), not en or cy", () => {
    const titled = EVENT_INPUTS.filter((e) => e.type.startsWith("evidence.") && "title" in (e.payload ?? {}));
    expect(titled.length).toBeGreaterThan(0);
    for (const input of titled) {
      const { statement } = buildStatement(DomainEventSchema().parse(input), SETTINGS);
      const name = (statement.object as { definition?: { name?: Record<string, string> } }).definition?.name;
      expect(Object.keys(name ?? {}), input.type).toEqual(["und"]);
    }
  });
});
