import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { validateStatement } from "../../../dev/lrs-double/validation.js";
import { DOMAIN_EVENT_TYPES } from "../../../domain/events.js";
import { DEFAULT_FRAMEWORK } from "../../../domain/standards/framework.js";
import { courseId, tenantId } from "../../../domain/tenancy.js";
import {
  type ActorIdentifierType,
  buildStatement,
  STATEMENT_BUILDERS,
  standardLabelsFrom,
  statementIdFor,
} from "../../../statements/builders.js";
import { templateForEvent } from "../../../statements/profile.js";
import { checkAgainstTemplate } from "../../../statements/template-check.js";
import { COURSE, EVENTS, eventOfType, REGISTRATION, SETTINGS } from "./fixtures.js";

const IDENTIFIERS: ActorIdentifierType[] = ["account", "mbox", "mbox_sha1sum"];

describe("every statement builder", () => {
  it("covers every domain event type", () => {
    expect(Object.keys(STATEMENT_BUILDERS).sort()).toEqual([...DOMAIN_EVENT_TYPES].sort());
    expect(new Set(EVENTS.map((e) => e.type))).toEqual(new Set(DOMAIN_EVENT_TYPES));
  });

  for (const identifier of IDENTIFIERS) {
    for (const event of EVENTS) {
      it(`builds a valid xAPI 1.0.3 statement that follows its profile template: ${event.type}, actor by ${identifier}`, () => {
        const built = buildStatement(event, { ...SETTINGS, actorIdentifier: identifier });
        expect(validateStatement(JSON.parse(built.json))).toEqual([]);
        expect(checkAgainstTemplate(JSON.parse(built.json), templateForEvent(event.type))).toEqual([]);
        expect(built.actorIdentifier).toBe(identifier);
        expect(built.notes).toEqual([]);
      });
    }
  }
});

describe("the actor", () => {
  it("is the LTI account (homePage = iss, name = sub) by default, with exactly one identifier", () => {
    const { statement } = buildStatement(eventOfType("launched"), SETTINGS);
    expect(statement.actor).toEqual({
      objectType: "Agent",
      name: "Sam Jones",
      account: { homePage: "https://moodle.school.example", name: "user-7" },
    });
  });

  it("is a lower-cased mailto IRI when the tenant asks for mbox", () => {
    const { statement } = buildStatement(eventOfType("launched"), { ...SETTINGS, actorIdentifier: "mbox" });
    expect(statement.actor).toEqual({
      objectType: "Agent",
      name: "Sam Jones",
      mbox: "mailto:sam.jones@school.example",
    });
  });

  it("is the SHA-1 of the mailto IRI, without the person's name, when the tenant asks for mbox_sha1sum", () => {
    const { statement } = buildStatement(eventOfType("launched"), {
      ...SETTINGS,
      actorIdentifier: "mbox_sha1sum",
    });
    const expected = createHash("sha1").update("mailto:sam.jones@school.example").digest("hex");
    expect(statement.actor).toEqual({ objectType: "Agent", mbox_sha1sum: expected });
  });

  it("falls back to the account, and says so, when mbox is asked for but the platform sent no email", () => {
    const event = { ...eventOfType("launched"), actor: { iss: COURSE.issuer, sub: "user-8" } };
    const built = buildStatement(event, { ...SETTINGS, actorIdentifier: "mbox" });
    expect(built.statement.actor).toEqual({
      objectType: "Agent",
      account: { homePage: COURSE.issuer, name: "user-8" },
    });
    expect(built.actorIdentifier).toBe("account");
    expect(built.notes).toEqual([
      "the tenant asks for mbox but the platform sent no email, so the LTI account identifies the actor",
    ]);
    expect(validateStatement(built.statement)).toEqual([]);
  });

  it("leaves the name out when the tenant says so", () => {
    const { statement } = buildStatement(eventOfType("launched"), { ...SETTINGS, includeActorName: false });
    expect(statement.actor).toEqual({
      objectType: "Agent",
      account: { homePage: COURSE.issuer, name: "user-7" },
    });
  });
});

describe("a progressed statement", () => {
  it("is exactly this payload: cmi5 progress, completion false, the standard as object, course, profile", () => {
    const event = eventOfType("standard.progressed");
    const built = buildStatement(event, SETTINGS);
    const course = `https://hlta.tool/xapi/courses/${tenantId(COURSE)}/${courseId(COURSE)}`;
    expect(JSON.parse(built.json)).toEqual({
      id: statementIdFor(event),
      actor: {
        objectType: "Agent",
        name: "Sam Jones",
        account: { homePage: "https://moodle.school.example", name: "user-7" },
      },
      verb: { id: "http://adlnet.gov/expapi/verbs/progressed", display: { en: "progressed" } },
      object: {
        objectType: "Activity",
        id: "https://hlta.tool/xapi/standards/hlta-england/1.0.0/7",
        definition: {
          type: "https://hlta.tool/xapi/activity-types/standard",
          name: { en: "HLTA standard 7" },
        },
      },
      result: {
        completion: false,
        extensions: { "https://w3id.org/xapi/cmi5/result/extensions/progress": 40 },
      },
      context: {
        registration: REGISTRATION,
        contextActivities: {
          grouping: [
            {
              objectType: "Activity",
              id: course,
              definition: {
                type: "http://adlnet.gov/expapi/activities/course",
                name: { und: "HLTA preparation, spring cohort" },
              },
            },
          ],
          category: [
            {
              objectType: "Activity",
              id: "https://hlta.tool/xapi/profile/v1.0",
              definition: { type: "http://adlnet.gov/expapi/activities/profile" },
            },
          ],
        },
        language: "en-GB",
        extensions: { "https://hlta.tool/xapi/extensions/emitter": "hlta-lti-tool/0.1.0" },
      },
      timestamp: "2025-03-04T08:15:30.250Z",
    });
  });
});

describe("statement identity and bytes", () => {
  it("builds the same bytes for the same event, every time", () => {
    for (const event of EVENTS)
      expect(buildStatement(event, SETTINGS).json).toBe(buildStatement(event, SETTINGS).json);
  });

  it("keeps the JSON and the statement object in step", () => {
    for (const event of EVENTS) {
      const built = buildStatement(event, SETTINGS);
      expect(built.json).toBe(JSON.stringify(built.statement));
      expect(built.id).toBe(built.statement.id);
    }
  });

  it("gives different ids to different events, tenants and event types with the same event id", () => {
    const ids = new Set(EVENTS.map((e) => statementIdFor(e)));
    expect(ids.size).toBe(EVENTS.length);
    const launched = eventOfType("launched");
    const otherTenant = { ...launched, course: { ...launched.course, deploymentId: "dep-2" } };
    expect(statementIdFor(otherTenant)).not.toBe(statementIdFor(launched));
    expect(statementIdFor({ ...launched, type: "module.attempted" })).not.toBe(statementIdFor(launched));
  });

  it("writes the timestamp in UTC with milliseconds and Z", () => {
    for (const event of EVENTS) {
      expect(buildStatement(event, SETTINGS).statement.timestamp).toBe("2025-03-04T08:15:30.250Z");
    }
  });
});

describe("standards in context", () => {
  it("lists each standard once, sorted, as an activity under the configurable base", () => {
    const built = buildStatement(eventOfType("evidence.mapped"), {
      ...SETTINGS,
      activityBase: "https://lrs-ids.provider.example/hlta/",
    });
    expect(built.statement.context?.contextActivities?.other?.map((a) => a.id)).toEqual([
      "https://lrs-ids.provider.example/hlta/standards/hlta-england/1.0.0/9",
      "https://lrs-ids.provider.example/hlta/standards/hlta-england/1.0.0/17",
    ]);
    expect(validateStatement(built.statement)).toEqual([]);
  });

  it("names a standard with our short label when the framework data is given", () => {
    const built = buildStatement(eventOfType("standard.mastered"), {
      ...SETTINGS,
      standardLabel: standardLabelsFrom([DEFAULT_FRAMEWORK]),
    });
    const label = DEFAULT_FRAMEWORK.standards.find((s) => s.number === 7)?.label.en;
    // English only: the framework has no Welsh text, and English under `cy` would mislabel it.
    expect((built.statement.object as { definition?: { name?: unknown } }).definition?.name).toEqual({
      en: `HLTA standard 7: ${label}`,
    });
  });

  it("names a standard in Welsh too when the framework has its Welsh text, and only then", () => {
    const built = buildStatement(eventOfType("standard.mastered"), {
      ...SETTINGS,
      standardLabel: () => ({ en: "Plans lessons", cy: "Yn cynllunio gwersi" }),
    });
    expect((built.statement.object as { definition?: { name?: unknown } }).definition?.name).toEqual({
      en: "HLTA standard 7: Plans lessons",
      cy: "HLTA 7: Yn cynllunio gwersi",
    });
  });

  it("records the outcome and the standards to re-examine", () => {
    const built = buildStatement(eventOfType("outcome.recorded"), SETTINGS);
    expect(built.statement.result).toEqual({
      success: false,
      completion: true,
      extensions: { "https://hlta.tool/xapi/extensions/outcome": "partial_reassessment" },
    });
    expect(built.statement.context?.contextActivities?.other?.map((a) => a.id)).toEqual([
      "https://hlta.tool/xapi/standards/hlta-england/1.0.0/24",
      "https://hlta.tool/xapi/standards/hlta-england/1.0.0/25",
    ]);
  });
});
