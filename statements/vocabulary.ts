/**
 * The xAPI vocabulary of the HLTA tool: the IRIs of its Profile, verbs, activity types and
 * extensions. Profile concepts have fixed IRIs (one profile for every deployment, so providers
 * can compare statements across schools); activity IRIs (standards, courses, modules, ...) are
 * built from a configurable base by `activityIris` below.
 *
 * Where a concept already exists in a well-known vocabulary (ADL verbs and activity types,
 * cmi5), it is reused rather than reinvented; the Profile lists only what it defines or
 * constrains.
 */
export const PROFILE_BASE = "https://hlta.tool/xapi";

export const PROFILE_IRI = `${PROFILE_BASE}/profile`;
/** xAPI Profiles §5 ("Using Profiles in Statements"): the version IRI goes in `category`. */
export const PROFILE_VERSION_IRI = `${PROFILE_IRI}/v1.0`;
export const PROFILE_VERSION_DATE = "2025-01-06T00:00:00.000Z";
/** Activity type of a profile version used as a category (the convention cmi5 and ADL profiles follow). */
export const PROFILE_ACTIVITY_TYPE = "http://adlnet.gov/expapi/activities/profile";

export const VERBS = {
  launched: "http://adlnet.gov/expapi/verbs/launched",
  attempted: "http://adlnet.gov/expapi/verbs/attempted",
  answered: "http://adlnet.gov/expapi/verbs/answered",
  completed: "http://adlnet.gov/expapi/verbs/completed",
  passed: "http://adlnet.gov/expapi/verbs/passed",
  progressed: "http://adlnet.gov/expapi/verbs/progressed",
  mastered: "http://adlnet.gov/expapi/verbs/mastered",
  uploaded: `${PROFILE_BASE}/verbs/uploaded`,
  mapped: `${PROFILE_BASE}/verbs/mapped`,
  removed: `${PROFILE_BASE}/verbs/removed`,
  drafted: `${PROFILE_BASE}/verbs/drafted`,
  submitted: `${PROFILE_BASE}/verbs/submitted`,
  received: `${PROFILE_BASE}/verbs/received`,
  booked: `${PROFILE_BASE}/verbs/booked`,
  receivedOutcome: `${PROFILE_BASE}/verbs/received-outcome`,
} as const;
export type VerbKey = keyof typeof VERBS;

/** English display of each verb. TODO(welsh issue): add `cy` displays once translated. */
export const VERB_DISPLAY: Record<VerbKey, string> = {
  launched: "launched",
  attempted: "attempted",
  answered: "answered",
  completed: "completed",
  passed: "passed",
  progressed: "progressed",
  mastered: "mastered",
  uploaded: "uploaded",
  mapped: "mapped to standards",
  removed: "removed",
  drafted: "drafted",
  submitted: "submitted",
  received: "received",
  booked: "booked",
  receivedOutcome: "received the outcome of",
};

export const ACTIVITY_TYPES = {
  course: "http://adlnet.gov/expapi/activities/course",
  module: "http://adlnet.gov/expapi/activities/module",
  question: "http://adlnet.gov/expapi/activities/question",
  assessment: "http://adlnet.gov/expapi/activities/assessment",
  profile: PROFILE_ACTIVITY_TYPE,
  standard: `${PROFILE_BASE}/activity-types/standard`,
  ltiResourceLink: `${PROFILE_BASE}/activity-types/lti-resource-link`,
  evidenceDocument: `${PROFILE_BASE}/activity-types/evidence-document`,
  evidenceFile: `${PROFILE_BASE}/activity-types/evidence-file`,
  writtenTask: `${PROFILE_BASE}/activity-types/written-task`,
  feedback: `${PROFILE_BASE}/activity-types/feedback`,
} as const;

export const EXTENSIONS = {
  /** cmi5 §9.6.3.2 (reused, not redefined): integer percentage 0–100 in `result.extensions`. */
  progress: "https://w3id.org/xapi/cmi5/result/extensions/progress",
  /** Context extension on every statement: the emitting software and its version. */
  emitter: `${PROFILE_BASE}/extensions/emitter`,
  /** Result extension of the outcome statement: standards_met | partial_reassessment | standards_not_met. */
  outcome: `${PROFILE_BASE}/extensions/outcome`,
  /** Context extension of the booking statement: the assessment date (YYYY-MM-DD). */
  assessmentDate: `${PROFILE_BASE}/extensions/assessment-date`,
} as const;
