import type { DomainEventType } from "../domain/events.js";
import { lazy } from "../domain/lazy.js";
import {
  ACTIVITY_TYPES,
  EXTENSIONS,
  PROFILE_BASE,
  PROFILE_IRI,
  PROFILE_VERSION_DATE,
  PROFILE_VERSION_IRI,
  VERB_DISPLAY,
  VERBS,
  type VerbKey,
} from "./vocabulary.js";

/**
 * The HLTA xAPI Profile (xAPI Profiles 1.0, JSON-LD with the normative context): the verbs,
 * activity types and extensions the tool defines, and one Statement Template per domain event
 * with rules for every location the statement builders fill. Served by the web app at
 * PROFILE_IRI; the unit tests check every built statement against its template.
 *
 * Concepts reused from ADL and cmi5 (launched, attempted, answered, completed, passed,
 * progressed, mastered; course, module, question, assessment; cmi5 progress) are referenced by
 * the templates but not redefined here: a profile only defines what it owns (Profiles §7).
 */

type LanguageMap = Record<string, string>;

export interface TemplateRule {
  location: string;
  selector?: string;
  presence?: "included" | "excluded" | "recommended";
  any?: unknown[];
  all?: unknown[];
  none?: unknown[];
  scopeNote?: LanguageMap;
}

export interface StatementTemplate {
  id: string;
  type: "StatementTemplate";
  inScheme: string;
  prefLabel: LanguageMap;
  definition: LanguageMap;
  allowedSolo?: boolean;
  verb?: string;
  objectActivityType?: string;
  contextGroupingActivityType?: string[];
  contextParentActivityType?: string[];
  contextOtherActivityType?: string[];
  contextCategoryActivityType?: string[];
  rules?: TemplateRule[];
}

export interface ProfileConcept {
  id: string;
  type: "Verb" | "ActivityType" | "ContextExtension" | "ResultExtension" | "ActivityExtension";
  inScheme: string;
  prefLabel: LanguageMap;
  definition: LanguageMap;
  recommendedVerbs?: string[];
  inlineSchema?: string;
}

export interface XapiProfile {
  "@context": "https://w3id.org/xapi/profiles/context";
  id: string;
  type: "Profile";
  conformsTo: string;
  prefLabel: LanguageMap;
  definition: LanguageMap;
  versions: { id: string; generatedAtTime: string; wasRevisionOf?: string[] }[];
  author: { type: "Organization" | "Person"; name: string; url?: string };
  concepts: ProfileConcept[];
  templates: StatementTemplate[];
}

const en = (text: string): LanguageMap => ({ en: text });

function verbConcept(key: VerbKey, definition: string): ProfileConcept {
  return {
    id: VERBS[key],
    type: "Verb",
    inScheme: PROFILE_VERSION_IRI,
    prefLabel: en(VERB_DISPLAY[key]),
    definition: en(definition),
  };
}

function activityTypeConcept(id: string, label: string, definition: string): ProfileConcept {
  return {
    id,
    type: "ActivityType",
    inScheme: PROFILE_VERSION_IRI,
    prefLabel: en(label),
    definition: en(definition),
  };
}

const concepts = (): ProfileConcept[] => [
  verbConcept("uploaded", "The candidate added a document to their evidence collection."),
  verbConcept(
    "mapped",
    "The candidate labelled an evidence document with the standards it evidences; the standards are in context.contextActivities.other.",
  ),
  verbConcept("removed", "The candidate removed a document from their evidence collection."),
  verbConcept("drafted", "The candidate saved a draft of a written task."),
  verbConcept(
    "submitted",
    "The candidate handed in a written task or their evidence file; nothing can be added after.",
  ),
  verbConcept("received", "The candidate received formative feedback from their tutor."),
  verbConcept("booked", "An assessment appointment was booked for the candidate."),
  verbConcept(
    "receivedOutcome",
    "The outcome of the candidate's HLTA assessment was recorded; the outcome is in the outcome result extension.",
  ),
  activityTypeConcept(
    ACTIVITY_TYPES.standard,
    "HLTA standard",
    "One standard of one version of an HLTA standards framework. Its IRI names the framework, the version and the standard number.",
  ),
  activityTypeConcept(
    ACTIVITY_TYPES.ltiResourceLink,
    "LTI resource link",
    "The place in the LMS course from which the candidate opened the tool (LTI 1.3 resource link).",
  ),
  activityTypeConcept(
    ACTIVITY_TYPES.evidenceDocument,
    "Evidence document",
    "One document of the candidate's documentary evidence, labelled with the standards it evidences.",
  ),
  activityTypeConcept(
    ACTIVITY_TYPES.evidenceFile,
    "Evidence file",
    "The candidate's documentary evidence file as a whole, handed to the assessor before the assessment.",
  ),
  activityTypeConcept(
    ACTIVITY_TYPES.writtenTask,
    "Written task",
    "One of the four HLTA written tasks (1 individual pupil, 2 small group, 3 whole class, 4 short situations).",
  ),
  activityTypeConcept(
    ACTIVITY_TYPES.feedback,
    "Feedback",
    "A piece of formative feedback given to a candidate.",
  ),
  {
    id: EXTENSIONS.emitter,
    type: "ContextExtension",
    inScheme: PROFILE_VERSION_IRI,
    prefLabel: en("Emitter"),
    definition: en("Name and version of the software that built the statement, e.g. hlta-lti-tool/0.1.0."),
    inlineSchema: JSON.stringify({ type: "string" }),
  },
  {
    id: EXTENSIONS.assessmentDate,
    type: "ContextExtension",
    inScheme: PROFILE_VERSION_IRI,
    prefLabel: en("Assessment date"),
    definition: en("The date of the booked assessment appointment (ISO 8601 date)."),
    recommendedVerbs: [VERBS.booked],
    inlineSchema: JSON.stringify({ type: "string", format: "date" }),
  },
  {
    id: EXTENSIONS.outcome,
    type: "ResultExtension",
    inScheme: PROFILE_VERSION_IRI,
    prefLabel: en("Assessment outcome"),
    definition: en(
      "standards_met, partial_reassessment (the standards to re-examine are in context.contextActivities.other) or standards_not_met.",
    ),
    recommendedVerbs: [VERBS.receivedOutcome],
    inlineSchema: JSON.stringify({ enum: ["standards_met", "partial_reassessment", "standards_not_met"] }),
  },
];

/** Rules every statement of the profile follows, whatever its event. */
const COMMON_RULES: TemplateRule[] = [
  {
    location: "$.id",
    presence: "included",
    scopeNote: en("UUIDv5 of the event identity: a resend is the same statement."),
  },
  { location: "$.timestamp", presence: "included" },
  { location: "$.actor.objectType", all: ["Agent"] },
  {
    location: "$.context.registration",
    presence: "included",
    scopeNote: en("One UUID per candidate enrolment."),
  },
  { location: "$.context.language", presence: "included" },
  { location: "$.context.contextActivities.category[*].id", any: [PROFILE_VERSION_IRI] },
  { location: "$.context.contextActivities.grouping[*].definition.type", all: [ACTIVITY_TYPES.course] },
  { location: `$.context.extensions['${EXTENSIONS.emitter}']`, presence: "included" },
];

const STANDARDS_OPTIONAL: TemplateRule = {
  location: "$.context.contextActivities.other[*].definition.type",
  presence: "recommended",
  all: [ACTIVITY_TYPES.standard],
  scopeNote: en("The standards the activity bears on, when known."),
};
const STANDARDS_REQUIRED: TemplateRule = {
  location: "$.context.contextActivities.other[*].definition.type",
  presence: "included",
  all: [ACTIVITY_TYPES.standard],
};
const NO_OTHER: TemplateRule = { location: "$.context.contextActivities.other", presence: "excluded" };
const NO_RESULT: TemplateRule = { location: "$.result", presence: "excluded" };
const NO_PARENT: TemplateRule = { location: "$.context.contextActivities.parent", presence: "excluded" };

interface TemplateSpec {
  label: string;
  definition: string;
  verb: string;
  objectActivityType: string;
  parent?: string[];
  otherRequired?: boolean;
  rules: TemplateRule[];
}

const templateSpecs = (): Record<DomainEventType, TemplateSpec> => ({
  launched: {
    label: "Launched the tool",
    definition: "The candidate opened the tool from their LMS course.",
    verb: VERBS.launched,
    objectActivityType: ACTIVITY_TYPES.ltiResourceLink,
    rules: [NO_RESULT, NO_OTHER, NO_PARENT],
  },
  "module.attempted": {
    label: "Attempted a module",
    definition: "The candidate started a check-your-understanding module.",
    verb: VERBS.attempted,
    objectActivityType: ACTIVITY_TYPES.module,
    rules: [NO_RESULT, STANDARDS_OPTIONAL, NO_PARENT],
  },
  "module.answered": {
    label: "Answered a question",
    definition: "The candidate answered a question of a module; result.success says whether it was correct.",
    verb: VERBS.answered,
    objectActivityType: ACTIVITY_TYPES.question,
    parent: [ACTIVITY_TYPES.module],
    rules: [
      { location: "$.result.success", presence: "included" },
      { location: "$.result.response", presence: "included" },
      STANDARDS_OPTIONAL,
    ],
  },
  "module.completed": {
    label: "Completed a module",
    definition: "The candidate finished every section of a module.",
    verb: VERBS.completed,
    objectActivityType: ACTIVITY_TYPES.module,
    rules: [
      { location: "$.result.completion", presence: "included", all: [true] },
      STANDARDS_OPTIONAL,
      NO_PARENT,
    ],
  },
  "module.passed": {
    label: "Passed a module",
    definition: "The candidate reached the pass mark of a module.",
    verb: VERBS.passed,
    objectActivityType: ACTIVITY_TYPES.module,
    rules: [
      { location: "$.result.score.scaled", presence: "included" },
      { location: "$.result.success", presence: "included", all: [true] },
      STANDARDS_OPTIONAL,
      NO_PARENT,
    ],
  },
  "standard.progressed": {
    label: "Progressed on a standard",
    definition:
      "How far the candidate's evidence covers a standard, as the cmi5 progress extension (integer 0-100). Progress is not a score.",
    verb: VERBS.progressed,
    objectActivityType: ACTIVITY_TYPES.standard,
    rules: [
      { location: `$.result.extensions['${EXTENSIONS.progress}']`, presence: "included" },
      { location: "$.result.completion", presence: "included", all: [false] },
      { location: "$.result.score", presence: "excluded" },
      NO_OTHER,
      NO_PARENT,
    ],
  },
  "standard.mastered": {
    label: "Mastered a standard",
    definition: "The standard is evidenced as the provider requires.",
    verb: VERBS.mastered,
    objectActivityType: ACTIVITY_TYPES.standard,
    rules: [{ location: "$.result.success", presence: "included", all: [true] }, NO_OTHER, NO_PARENT],
  },
  "evidence.uploaded": {
    label: "Uploaded evidence",
    definition: "The candidate added an evidence document.",
    verb: VERBS.uploaded,
    objectActivityType: ACTIVITY_TYPES.evidenceDocument,
    rules: [NO_RESULT, STANDARDS_OPTIONAL, NO_PARENT],
  },
  "evidence.mapped": {
    label: "Mapped evidence to standards",
    definition: "The candidate labelled an evidence document with the standards it evidences.",
    verb: VERBS.mapped,
    objectActivityType: ACTIVITY_TYPES.evidenceDocument,
    otherRequired: true,
    rules: [NO_RESULT, STANDARDS_REQUIRED, NO_PARENT],
  },
  "evidence.removed": {
    label: "Removed evidence",
    definition: "The candidate removed an evidence document.",
    verb: VERBS.removed,
    objectActivityType: ACTIVITY_TYPES.evidenceDocument,
    rules: [NO_RESULT, NO_OTHER, NO_PARENT],
  },
  "written_task.drafted": {
    label: "Drafted a written task",
    definition: "The candidate saved a draft of a written task; the standards tagged in it are in other.",
    verb: VERBS.drafted,
    objectActivityType: ACTIVITY_TYPES.writtenTask,
    rules: [NO_RESULT, STANDARDS_OPTIONAL, NO_PARENT],
  },
  "written_task.submitted": {
    label: "Submitted a written task",
    definition: "The candidate handed in a written task for assessment.",
    verb: VERBS.submitted,
    objectActivityType: ACTIVITY_TYPES.writtenTask,
    rules: [
      { location: "$.result.completion", presence: "included", all: [true] },
      STANDARDS_OPTIONAL,
      NO_PARENT,
    ],
  },
  "feedback.received": {
    label: "Received feedback",
    definition:
      "The candidate received formative feedback; its subject (a written task or the evidence file) is the parent.",
    verb: VERBS.received,
    objectActivityType: ACTIVITY_TYPES.feedback,
    rules: [
      NO_RESULT,
      {
        location: "$.context.contextActivities.parent[*].definition.type",
        presence: "recommended",
        all: [ACTIVITY_TYPES.writtenTask, ACTIVITY_TYPES.evidenceFile],
      },
      STANDARDS_OPTIONAL,
    ],
  },
  "evidence_file.submitted": {
    label: "Submitted the evidence file",
    definition: "The candidate handed in their evidence file; nothing can be added after.",
    verb: VERBS.submitted,
    objectActivityType: ACTIVITY_TYPES.evidenceFile,
    rules: [
      { location: "$.result.completion", presence: "included", all: [true] },
      STANDARDS_OPTIONAL,
      NO_PARENT,
    ],
  },
  "assessment.booked": {
    label: "Booked the assessment",
    definition:
      "The assessment appointment was booked; its date is in the assessment-date context extension.",
    verb: VERBS.booked,
    objectActivityType: ACTIVITY_TYPES.assessment,
    rules: [
      { location: `$.context.extensions['${EXTENSIONS.assessmentDate}']`, presence: "included" },
      NO_RESULT,
      NO_OTHER,
      NO_PARENT,
    ],
  },
  "outcome.recorded": {
    label: "Received the assessment outcome",
    definition:
      "The assessment outcome was recorded: result.success is true only for standards_met; standards to re-examine are in other.",
    verb: VERBS.receivedOutcome,
    objectActivityType: ACTIVITY_TYPES.assessment,
    rules: [
      {
        location: `$.result.extensions['${EXTENSIONS.outcome}']`,
        presence: "included",
        all: ["standards_met", "partial_reassessment", "standards_not_met"],
      },
      { location: "$.result.success", presence: "included" },
      { location: "$.result.completion", presence: "included", all: [true] },
      STANDARDS_OPTIONAL,
      NO_PARENT,
    ],
  },
});

export function templateIri(eventType: DomainEventType): string {
  return `${PROFILE_BASE}/templates/${eventType}`;
}

function buildTemplate(eventType: DomainEventType, spec: TemplateSpec): StatementTemplate {
  return {
    id: templateIri(eventType),
    type: "StatementTemplate",
    inScheme: PROFILE_VERSION_IRI,
    prefLabel: en(spec.label),
    definition: en(spec.definition),
    // Statements are sent one by one, not as part of a pattern (Profiles §8: implied pattern).
    allowedSolo: true,
    verb: spec.verb,
    objectActivityType: spec.objectActivityType,
    contextGroupingActivityType: [ACTIVITY_TYPES.course],
    contextCategoryActivityType: [ACTIVITY_TYPES.profile],
    ...(spec.parent ? { contextParentActivityType: spec.parent } : {}),
    ...(spec.otherRequired ? { contextOtherActivityType: [ACTIVITY_TYPES.standard] } : {}),
    rules: [...COMMON_RULES, ...spec.rules],
  };
}

/** The profile and its templates by event type, built on first use: no launch reads them. */
const profileParts = lazy(() => {
  const templates = new Map<DomainEventType, StatementTemplate>(
    (Object.entries(templateSpecs()) as [DomainEventType, TemplateSpec][]).map(([type, spec]) => [
      type,
      buildTemplate(type, spec),
    ]),
  );
  const profile: XapiProfile = {
    "@context": "https://w3id.org/xapi/profiles/context",
    id: PROFILE_IRI,
    type: "Profile",
    conformsTo: "https://w3id.org/xapi/profiles#1.0",
    prefLabel: en("HLTA preparation"),
    definition: en(
      "Statements of a teaching assistant's preparation for Higher Level Teaching Assistant (HLTA) status: " +
        "online modules, progress against each standard, evidence, written tasks, feedback, assessment booking and outcome.",
    ),
    versions: [{ id: PROFILE_VERSION_IRI, generatedAtTime: PROFILE_VERSION_DATE }],
    author: { type: "Organization", name: "HLTA LTI tool" },
    concepts: concepts(),
    templates: [...templates.values()],
  };
  return { profile, templates };
});

/** The HLTA xAPI Profile (the same object on every call). */
export function hltaProfile(): XapiProfile {
  return profileParts().profile;
}

/** The template a statement of this event type follows. */
export function templateForEvent(eventType: DomainEventType): StatementTemplate {
  const template = profileParts().templates.get(eventType);
  if (!template) throw new Error(`no statement template for event type ${eventType}`);
  return template;
}

export function findTemplate(id: string): StatementTemplate | undefined {
  return hltaProfile().templates.find((t) => t.id === id);
}

export function findConcept(id: string): ProfileConcept | undefined {
  return hltaProfile().concepts.find((c) => c.id === id);
}
