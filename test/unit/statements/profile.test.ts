import { describe, expect, it } from "vitest";
import { validateStatement } from "../../../dev/lrs-double/validation.js";
import { DOMAIN_EVENT_TYPES } from "../../../domain/events.js";
import { createXapiProfileRoutes } from "../../../functions/admin/routes/xapi.js";
import { buildStatement } from "../../../statements/builders.js";
import {
  findConcept,
  findTemplate,
  hltaProfile,
  templateForEvent,
  templateIri,
} from "../../../statements/profile.js";
import { checkAgainstTemplate, evaluateJsonPath } from "../../../statements/template-check.js";
import { ACTIVITY_TYPES, PROFILE_VERSION_IRI, VERBS } from "../../../statements/vocabulary.js";
import { eventOfType, SETTINGS } from "./fixtures.js";

/** Profiles 1.0 §4: no empty objects, null, empty strings or empty arrays anywhere. */
function emptyValues(value: unknown, path = "$"): string[] {
  if (value === null || value === "") return [path];
  if (Array.isArray(value))
    return value.length === 0 ? [path] : value.flatMap((v, i) => emptyValues(v, `${path}[${i}]`));
  if (typeof value === "object") {
    const entries = Object.entries(value);
    return entries.length === 0 ? [path] : entries.flatMap(([k, v]) => emptyValues(v, `${path}.${k}`));
  }
  return [];
}

describe("the HLTA xAPI Profile", () => {
  it("is JSON-LD with the normative profile context and one version", () => {
    expect(hltaProfile()["@context"]).toBe("https://w3id.org/xapi/profiles/context");
    expect(hltaProfile().type).toBe("Profile");
    expect(hltaProfile().versions.map((v) => v.id)).toEqual([PROFILE_VERSION_IRI]);
  });

  it("has one allowed-solo statement template per domain event type", () => {
    expect(
      hltaProfile()
        .templates.map((t) => t.id)
        .sort(),
    ).toEqual(DOMAIN_EVENT_TYPES.map(templateIri).sort());
    for (const type of DOMAIN_EVENT_TYPES) {
      expect(findTemplate(templateIri(type))).toBe(templateForEvent(type));
      expect(templateForEvent(type).allowedSolo).toBe(true);
    }
  });

  it("defines every verb and activity type it owns that a template uses, in this version", () => {
    for (const template of hltaProfile().templates) {
      for (const iri of [template.verb, template.objectActivityType]) {
        if (iri?.startsWith("https://hlta.tool/"))
          expect(findConcept(iri)?.inScheme).toBe(PROFILE_VERSION_IRI);
      }
    }
    expect(findConcept(VERBS.uploaded)?.type).toBe("Verb");
    expect(findConcept(ACTIVITY_TYPES.standard)?.type).toBe("ActivityType");
  });

  it("has unique ids and no empty values", () => {
    const ids = [
      hltaProfile().id,
      ...hltaProfile().concepts.map((c) => c.id),
      ...hltaProfile().templates.map((t) => t.id),
    ];
    expect(new Set(ids).size).toBe(ids.length);
    expect(emptyValues(hltaProfile())).toEqual([]);
  });

  it("gives every template determining properties that tell events apart", () => {
    const keys = hltaProfile().templates.map((t) => `${t.verb} ${t.objectActivityType}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("the template checker", () => {
  const progressed = () => JSON.parse(buildStatement(eventOfType("standard.progressed"), SETTINGS).json);

  it("reports a wrong verb and a wrong object type", () => {
    const statement = progressed();
    statement.verb.id = VERBS.completed;
    statement.object.definition.type = ACTIVITY_TYPES.module;
    expect(
      checkAgainstTemplate(statement, templateForEvent("standard.progressed")).map((v) => v.where),
    ).toEqual(["verb", "objectActivityType"]);
  });

  it("reports a missing registration and a missing profile category", () => {
    const statement = progressed();
    delete statement.context.registration;
    statement.context.contextActivities.category = [];
    const where = checkAgainstTemplate(statement, templateForEvent("standard.progressed")).map(
      (v) => v.where,
    );
    expect(where).toEqual([
      "contextCategoryActivityType",
      "$.context.registration",
      "$.context.contextActivities.category[*].id",
    ]);
  });

  it("reports a score on progress and completion other than false", () => {
    const statement = progressed();
    statement.result.score = { scaled: 0.4 };
    statement.result.completion = true;
    const violations = checkAgainstTemplate(statement, templateForEvent("standard.progressed"));
    expect(violations).toEqual([
      { where: "$.result.completion", message: "true is not one of [false]" },
      { where: "$.result.score", message: "must be excluded but is present" },
    ]);
  });

  it("reports a mapped-evidence statement without standards", () => {
    const statement = JSON.parse(buildStatement(eventOfType("evidence.mapped"), SETTINGS).json);
    delete statement.context.contextActivities.other;
    expect(checkAgainstTemplate(statement, templateForEvent("evidence.mapped")).map((v) => v.where)).toEqual([
      "contextOtherActivityType",
      "$.context.contextActivities.other[*].definition.type",
      "$.context.contextActivities.other[*].definition.type",
    ]);
  });

  it("evaluates bracketed IRI keys, wildcards and indexes", () => {
    const doc = { a: { "https://x.example/k": [1, 2] }, b: [{ c: "x" }, { c: "y" }] };
    expect(evaluateJsonPath(doc, "$.a['https://x.example/k'][1]")).toEqual([2]);
    expect(evaluateJsonPath(doc, "$.b[*].c")).toEqual(["x", "y"]);
    expect(evaluateJsonPath(doc, "$.missing.c")).toEqual([]);
  });
});

describe("the validator used on every built statement", () => {
  it("catches two identifiers, a bad registration and a scaled score above 1", () => {
    const statement = JSON.parse(buildStatement(eventOfType("module.passed"), SETTINGS).json);
    statement.actor.mbox = "mailto:x@example.org";
    statement.context.registration = "not-a-uuid";
    statement.result.score.scaled = 1.5;
    expect(validateStatement(statement).map((w) => `${w.name} ${w.path.join(".")}`)).toEqual([
      "IfiCountWarning statement.actor",
      "TypeWarning statement.result.score.scaled",
      "TypeWarning statement.context.registration",
    ]);
  });
});

describe("the profile route", () => {
  it("serves the profile at its IRI path as application/ld+json", async () => {
    const app = createXapiProfileRoutes();
    for (const path of ["/xapi/profile", "/xapi/profile/v1.0"]) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/ld+json; charset=utf-8");
      expect(await res.json()).toEqual(JSON.parse(JSON.stringify(hltaProfile())));
    }
  });
});
