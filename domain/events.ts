import * as z from "./zod.js";

/**
 * The domain events of the product: every step of a candidate's preparation that a provider
 * wants to see in their Learning Record Store. Each event is a fact that already happened; the
 * xAPI statement builders (statements/) turn one event into one statement, and the statement id
 * is derived from the event's identity, so recording the same event twice yields the same
 * statement (docs/architecture.md, shared/guides/xapi.md).
 *
 * Events are plain data validated by zod at the boundary where they are created. Identifiers
 * that end up in activity IRIs (module, question, evidence, feedback ids, framework ids) are
 * restricted to IRI-safe characters so no escaping can make two ids collide.
 */

// A launch records one event, "launched": LaunchedSchema and the envelope every event shares are
// built at import. The other events' schemas, the parts only they use and the union of them all
// (DomainEventSchema) are built on first use: no launch records those events.

/** A path segment that is safe in an IRI without escaping (RFC 3986 unreserved characters). */
const SegmentSchema = z.lazySchema(() =>
  z.string().check(z.regex(/^[A-Za-z0-9._~-]{1,128}$/, "use letters, digits and . _ ~ - only (at most 128)")),
);

/**
 * The well-formed BCP 47 language tag (RFC 5646) within what an LMS sends as a locale: `en_GB`
 * becomes `en-GB`, and subtags that make the tag invalid are dropped from the end (Moodle's
 * language pack `en_us_k12` is `en-US`, `en-a` is `en`). Undefined when nothing is left. An
 * LRS refuses a statement whose language is not a valid tag, so none is ever sent.
 */
export function languageTag(raw: string | undefined): string | undefined {
  if (!raw || raw.length > 100) return undefined;
  const parts = raw.replace(/_/g, "-").split("-");
  for (let n = parts.length; n > 0; n -= 1) {
    const tag = parts.slice(0, n).join("-");
    if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(tag)) continue;
    try {
      const [canonical] = Intl.getCanonicalLocales(tag);
      if (canonical) return canonical;
    } catch {
      // Not a valid tag: try it without its last subtag.
    }
  }
  return undefined;
}

/** A language tag as LTI sends it (`en`, `en-GB`, `cy`; Moodle may send `en_GB`), made well-formed. */
export const LocaleSchema = z.pipe(
  z.string(),
  z.transform((raw: string, ctx) => {
    const tag = languageTag(raw);
    if (tag !== undefined) return tag;
    ctx.issues.push({ code: "custom", message: "a language tag such as en, en-GB or cy", input: raw });
    return z.NEVER;
  }),
);

/** An email address an event may carry: the same rule the event schema holds it to. */
export const EventEmailSchema = z.email();

/**
 * A standard of a versioned framework (the England HLTA standards are one framework version;
 * Wales has its own). Never a bare number: the same number means different things in
 * different frameworks and versions.
 */
export const StandardRefSchema = z.lazySchema(() =>
  z.object({
    frameworkId: z
      .string()
      .check(z.regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "a lower-case slug such as hlta-england")),
    frameworkVersion: z
      .string()
      .check(z.regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,31}$/, "a version such as 2007 or 1.0")),
    number: z.int().check(z.gte(1), z.lte(999)),
  }),
);
export type StandardRef = z.infer<ReturnType<typeof StandardRefSchema>>;

const StandardsSchema = z.lazySchema(() => z.array(StandardRefSchema()).check(z.maxLength(100)));

/** The tenant (LTI deployment) and course (LTI context) the event happened in: a CourseRef plus its title. */
export const EventCourseSchema = z.object({
  issuer: z.string().check(z.minLength(1)),
  clientId: z.string().check(z.minLength(1)),
  deploymentId: z.string().check(z.minLength(1)),
  contextId: z.string().check(z.minLength(1)),
  title: z.optional(z.string().check(z.minLength(1), z.maxLength(500))),
});
export type EventCourse = z.infer<typeof EventCourseSchema>;

/** The person the event is about, as the LTI launch identified them. */
export const EventActorSchema = z.object({
  /** LTI `iss` of the platform. */
  iss: z.string().check(z.minLength(1)),
  /** LTI `sub`: stable, pseudonymous user id within the platform. */
  sub: z.string().check(z.minLength(1), z.maxLength(255)),
  name: z.optional(z.string().check(z.minLength(1), z.maxLength(500))),
  email: z.optional(EventEmailSchema),
});
export type EventActor = z.infer<typeof EventActorSchema>;

const EnvelopeShape = {
  /**
   * Stable identity of the event within its tenant. The statement id is a UUIDv5 of it, so an
   * event recorded twice (a retried request) produces the same statement, never a duplicate.
   */
  eventId: z.string().check(z.minLength(1), z.maxLength(200)),
  occurredAt: z.iso.datetime({ offset: true }),
  course: EventCourseSchema,
  actor: EventActorSchema,
  /** The enrolment's xAPI registration (one UUID per candidate enrolment). */
  registration: z.uuid(),
  locale: LocaleSchema,
};

function event<T extends string, P extends z.ZodMiniType>(type: T, payload: P) {
  return z.object({ ...EnvelopeShape, type: z.literal(type), payload });
}

export const LaunchedSchema = event(
  "launched",
  z.object({
    resourceLinkId: z.string().check(z.minLength(1), z.maxLength(255)),
    resourceTitle: z.optional(z.string().check(z.minLength(1), z.maxLength(500))),
  }),
);

/** The fields every module event has (one set of schemas for the four events). */
const ModulePayloadShape = z.lazySchema(() => ({
  moduleId: SegmentSchema(),
  moduleTitle: z.optional(z.string().check(z.minLength(1), z.maxLength(500))),
  /** Standards the module bears on. */
  standards: z._default(StandardsSchema(), []),
}));

export const ModuleAttemptedSchema = z.lazySchema(() =>
  event("module.attempted", z.object(ModulePayloadShape())),
);

export const ModuleAnsweredSchema = z.lazySchema(() =>
  event(
    "module.answered",
    z.object({
      ...ModulePayloadShape(),
      questionId: SegmentSchema(),
      questionText: z.optional(z.string().check(z.minLength(1), z.maxLength(1000))),
      /** The candidate's response in the xAPI response format for the question type. */
      response: z.string().check(z.maxLength(4000)),
      correct: z.boolean(),
    }),
  ),
);

export const ModuleCompletedSchema = z.lazySchema(() =>
  event("module.completed", z.object(ModulePayloadShape())),
);

/** A score: `scaled` in [0, 1] (xAPI allows [-1, 1]; a module score is never negative). */
export const ScoreSchema = z.lazySchema(() =>
  z
    .object({
      scaled: z.number().check(z.gte(0), z.lte(1)),
      raw: z.optional(z.number()),
      min: z.optional(z.number()),
      max: z.optional(z.number()),
    })
    .check(
      // xAPI 1.0.3 Data §2.4.5.1: min is less than max (LRSs that check refuse min = max).
      z.refine(
        (s) => s.min === undefined || s.max === undefined || s.min < s.max,
        "min must be less than max",
      ),
      z.refine(
        (s) =>
          s.raw === undefined ||
          ((s.min === undefined || s.raw >= s.min) && (s.max === undefined || s.raw <= s.max)),
        "raw must lie between min and max",
      ),
    ),
);

export const ModulePassedSchema = z.lazySchema(() =>
  event("module.passed", z.object({ ...ModulePayloadShape(), score: ScoreSchema() })),
);

export const StandardProgressedSchema = z.lazySchema(() =>
  event(
    "standard.progressed",
    z.object({ standard: StandardRefSchema(), progress: z.int().check(z.gte(0), z.lte(100)) }),
  ),
);

export const StandardMasteredSchema = z.lazySchema(() =>
  event("standard.mastered", z.object({ standard: StandardRefSchema() })),
);

const EvidenceIdShape = z.lazySchema(() => ({
  evidenceId: SegmentSchema(),
  title: z.optional(z.string().check(z.minLength(1), z.maxLength(500))),
}));

export const EvidenceUploadedSchema = z.lazySchema(() =>
  event(
    "evidence.uploaded",
    z.object({
      ...EvidenceIdShape(),
      mediaType: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
      standards: z._default(StandardsSchema(), []),
    }),
  ),
);

export const EvidenceMappedSchema = z.lazySchema(() =>
  event(
    "evidence.mapped",
    z.object({ ...EvidenceIdShape(), standards: StandardsSchema().check(z.minLength(1)) }),
  ),
);

export const EvidenceRemovedSchema = z.lazySchema(() =>
  event("evidence.removed", z.object(EvidenceIdShape())),
);

/** Written tasks 1–3 describe one led session each; task 4 covers the standards not met in 1–3. */
export const WrittenTaskNumberSchema = z.lazySchema(() => z.int().check(z.gte(1), z.lte(4)));

export const WrittenTaskDraftedSchema = z.lazySchema(() =>
  event(
    "written_task.drafted",
    z.object({ taskNumber: WrittenTaskNumberSchema(), standards: z._default(StandardsSchema(), []) }),
  ),
);

export const WrittenTaskSubmittedSchema = z.lazySchema(() =>
  event(
    "written_task.submitted",
    z.object({ taskNumber: WrittenTaskNumberSchema(), standards: z._default(StandardsSchema(), []) }),
  ),
);

/** What a piece of formative feedback is about. */
export const FeedbackSubjectSchema = z.lazySchema(() =>
  z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("written_task"), taskNumber: WrittenTaskNumberSchema() }),
    z.object({ kind: z.literal("evidence_file") }),
    z.object({ kind: z.literal("general") }),
  ]),
);

export const FeedbackReceivedSchema = z.lazySchema(() =>
  event(
    "feedback.received",
    z.object({
      feedbackId: SegmentSchema(),
      about: FeedbackSubjectSchema(),
      standards: z._default(StandardsSchema(), []),
    }),
  ),
);

export const EvidenceFileSubmittedSchema = z.lazySchema(() =>
  event("evidence_file.submitted", z.object({ standards: z._default(StandardsSchema(), []) })),
);

export const AssessmentBookedSchema = z.lazySchema(() =>
  event("assessment.booked", z.object({ assessmentDate: z.iso.date() })),
);

/** HNAP wording: Standards Met; Partial Reassessment (some standards re-examined); Standards Not Met. */
export const AssessmentOutcomeSchema = z.lazySchema(() =>
  z.enum(["standards_met", "partial_reassessment", "standards_not_met"]),
);
export type AssessmentOutcome = z.infer<ReturnType<typeof AssessmentOutcomeSchema>>;

export const OutcomeRecordedSchema = z.lazySchema(() =>
  event(
    "outcome.recorded",
    z
      .object({ outcome: AssessmentOutcomeSchema(), standardsToReexamine: z._default(StandardsSchema(), []) })
      // The number of standards that separates partial from not met is the provider's rule
      // (HNAP: 1–3), so only the shape is checked here, never the count.
      .check(
        z.refine((p) => p.outcome !== "standards_met" || p.standardsToReexamine.length === 0, {
          error: "standards met leaves no standard to re-examine",
          path: ["standardsToReexamine"],
        }),
        z.refine((p) => p.outcome !== "partial_reassessment" || p.standardsToReexamine.length > 0, {
          error: "a partial reassessment names the standards to re-examine",
          path: ["standardsToReexamine"],
        }),
      ),
  ),
);

export const DomainEventSchema = z.lazySchema(() =>
  z.discriminatedUnion("type", [
    LaunchedSchema,
    ModuleAttemptedSchema(),
    ModuleAnsweredSchema(),
    ModuleCompletedSchema(),
    ModulePassedSchema(),
    StandardProgressedSchema(),
    StandardMasteredSchema(),
    EvidenceUploadedSchema(),
    EvidenceMappedSchema(),
    EvidenceRemovedSchema(),
    WrittenTaskDraftedSchema(),
    WrittenTaskSubmittedSchema(),
    FeedbackReceivedSchema(),
    EvidenceFileSubmittedSchema(),
    AssessmentBookedSchema(),
    OutcomeRecordedSchema(),
  ]),
);

export type DomainEvent = z.infer<ReturnType<typeof DomainEventSchema>>;
/** The input shape (defaults not yet applied), for code that creates events. */
export type DomainEventInput = z.input<ReturnType<typeof DomainEventSchema>>;
export type DomainEventType = DomainEvent["type"];
export type EventOfType<T extends DomainEventType> = Extract<DomainEvent, { type: T }>;

export type Launched = EventOfType<"launched">;
export type ModuleAttempted = EventOfType<"module.attempted">;
export type ModuleAnswered = EventOfType<"module.answered">;
export type ModuleCompleted = EventOfType<"module.completed">;
export type ModulePassed = EventOfType<"module.passed">;
export type StandardProgressed = EventOfType<"standard.progressed">;
export type StandardMastered = EventOfType<"standard.mastered">;
export type EvidenceUploaded = EventOfType<"evidence.uploaded">;
export type EvidenceMapped = EventOfType<"evidence.mapped">;
export type EvidenceRemoved = EventOfType<"evidence.removed">;
export type WrittenTaskDrafted = EventOfType<"written_task.drafted">;
export type WrittenTaskSubmitted = EventOfType<"written_task.submitted">;
export type FeedbackReceived = EventOfType<"feedback.received">;
export type EvidenceFileSubmitted = EventOfType<"evidence_file.submitted">;
export type AssessmentBooked = EventOfType<"assessment.booked">;
export type OutcomeRecorded = EventOfType<"outcome.recorded">;

/**
 * Every event type, in DomainEventSchema's order: listed, not read from the schema, which is
 * built on first use (a unit test checks the two agree).
 */
export const DOMAIN_EVENT_TYPES: readonly DomainEventType[] = [
  "launched",
  "module.attempted",
  "module.answered",
  "module.completed",
  "module.passed",
  "standard.progressed",
  "standard.mastered",
  "evidence.uploaded",
  "evidence.mapped",
  "evidence.removed",
  "written_task.drafted",
  "written_task.submitted",
  "feedback.received",
  "evidence_file.submitted",
  "assessment.booked",
  "outcome.recorded",
];
