import { describe, expect, it } from "vitest";
import {
  DOMAIN_EVENT_TYPES,
  DomainEventSchema,
  LaunchedSchema,
  languageTag,
  ScoreSchema,
} from "../../../domain/events.js";
import { HLTA_NAMESPACE, uuidv5 } from "../../../domain/ids.js";
import { EVENT_INPUTS, STD } from "./fixtures.js";

/** RFC 4122 Appendix C: the name space for fully qualified domain names. */
const DNS_NAMESPACE = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";

describe("UUIDv5", () => {
  it("matches the RFC 4122 example for www.example.com in the DNS name space", () => {
    expect(uuidv5("www.example.com", DNS_NAMESPACE)).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2");
  });

  it("sets version 5 and the RFC 4122 variant", () => {
    const id = uuidv5("anything", HLTA_NAMESPACE);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe("domain events", () => {
  it("refuse a score whose min is not less than its max (xAPI 1.0.3 Data §2.4.5.1; LRSs that check refuse it)", () => {
    expect(ScoreSchema().safeParse({ scaled: 1, raw: 10, min: 10, max: 10 }).success).toBe(false);
    expect(ScoreSchema().safeParse({ scaled: 1, raw: 10, min: 0, max: 10 }).success).toBe(true);
  });

  const outcome = EVENT_INPUTS.find((e) => e.type === "outcome.recorded");

  it("are sixteen distinct types", () => {
    expect(DOMAIN_EVENT_TYPES).toHaveLength(16);
    expect(new Set(DOMAIN_EVENT_TYPES).size).toBe(16);
  });

  it("are listed in DOMAIN_EVENT_TYPES as DomainEventSchema has them, in its order", () => {
    const inSchema = DomainEventSchema().def.options.flatMap((o) => o.shape.type.def.values);
    expect(DOMAIN_EVENT_TYPES).toEqual(inSchema);
  });

  // The launch checks its event with LaunchedSchema alone (built at import, the union is not).
  it("of type launched are read by LaunchedSchema as DomainEventSchema reads them, and refused alike", () => {
    const launched = EVENT_INPUTS.find((e) => e.type === "launched");
    expect(launched).toBeDefined();
    for (const input of [
      launched,
      { ...launched, locale: "en_us_k12", payload: { resourceLinkId: "l" } },
      { ...launched, locale: "12", registration: "r-1" },
      { ...launched, payload: { resourceLinkId: "" }, actor: { iss: "x", sub: "" } },
    ]) {
      const alone = LaunchedSchema.safeParse(input);
      const inUnion = DomainEventSchema().safeParse(input);
      expect(alone.success).toBe(inUnion.success);
      expect(alone.data).toStrictEqual(inUnion.data);
      expect(alone.error?.issues).toStrictEqual(inUnion.error?.issues);
    }
  });

  it("normalise a Moodle-style locale to a language tag", () => {
    const parsed = DomainEventSchema().parse(EVENT_INPUTS[0]);
    expect(parsed.locale).toBe("en-GB");
  });

  it("make what an LMS sends as a locale a well-formed language tag, or refuse it", () => {
    for (const [raw, tag] of [
      ["en_us_k12", "en-US"],
      ["EN_gb", "en-GB"],
      ["en-a", "en"],
      ["sr_latn_rs", "sr-Latn-RS"],
      ["cy", "cy"],
      ["x", undefined],
      ["", undefined],
      ["12", undefined],
    ] as const) {
      expect(languageTag(raw), raw).toBe(tag);
    }
    const parsed = DomainEventSchema().safeParse({ ...EVENT_INPUTS[0], locale: "en_us_k12" });
    expect(parsed.data?.locale).toBe("en-US");
    expect(DomainEventSchema().safeParse({ ...EVENT_INPUTS[0], locale: "12" }).success).toBe(false);
  });

  it("reject a partial reassessment that names no standard", () => {
    const result = DomainEventSchema().safeParse({
      ...outcome,
      payload: { outcome: "partial_reassessment" },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["payload.standardsToReexamine", "a partial reassessment names the standards to re-examine"],
    ]);
  });

  it("reject standards met with standards to re-examine", () => {
    const result = DomainEventSchema().safeParse({
      ...outcome,
      payload: { outcome: "standards_met", standardsToReexamine: [STD(3)] },
    });
    expect(result.error?.issues.map((i) => i.path.join("."))).toEqual(["payload.standardsToReexamine"]);
  });

  it("reject identifiers that would need escaping in an activity IRI, and task numbers outside 1–4", () => {
    const upload = EVENT_INPUTS.find((e) => e.type === "evidence.uploaded");
    expect(DomainEventSchema().safeParse({ ...upload, payload: { evidenceId: "a/b" } }).success).toBe(false);
    const draft = EVENT_INPUTS.find((e) => e.type === "written_task.drafted");
    expect(DomainEventSchema().safeParse({ ...draft, payload: { taskNumber: 5 } }).success).toBe(false);
  });

  it("reject a registration that is not a UUID and a progress above 100", () => {
    const progress = EVENT_INPUTS.find((e) => e.type === "standard.progressed");
    const result = DomainEventSchema().safeParse({
      ...progress,
      registration: "r-1",
      payload: { standard: STD(1), progress: 101 },
    });
    expect(result.error?.issues.map((i) => i.path.join(".")).sort()).toEqual([
      "payload.progress",
      "registration",
    ]);
  });
});
