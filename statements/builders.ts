import { createHash } from "node:crypto";
import type { Activity, Agent, Context, Result, Statement } from "@xapi/xapi";
import type {
  AssessmentBooked,
  DomainEvent,
  DomainEventType,
  EventOfType,
  EvidenceFileSubmitted,
  EvidenceMapped,
  EvidenceRemoved,
  EvidenceUploaded,
  FeedbackReceived,
  Launched,
  ModuleAnswered,
  ModuleAttempted,
  ModuleCompleted,
  ModulePassed,
  OutcomeRecorded,
  StandardMastered,
  StandardProgressed,
  StandardRef,
  WrittenTaskDrafted,
  WrittenTaskSubmitted,
} from "../domain/events.js";
import { HLTA_NAMESPACE, uuidv5 } from "../domain/ids.js";
import type { Framework } from "../domain/standards/framework.js";
import { courseId, tenantId } from "../domain/tenancy.js";
import * as z from "../domain/zod.js";
import {
  ACTIVITY_TYPES,
  EXTENSIONS,
  PROFILE_ACTIVITY_TYPE,
  PROFILE_BASE,
  PROFILE_VERSION_IRI,
  VERB_DISPLAY,
  VERBS,
  type VerbKey,
} from "./vocabulary.js";

/**
 * Statement builders: pure functions from a domain event to one xAPI 1.0.3 statement.
 * No clock, no randomness, no I/O: the same event and settings always give the same bytes,
 * which is what lets the outbox store the JSON once and resend it unchanged.
 */

/** How the candidate is identified to the LRS (xAPI 1.0.3 §2.4.2.3: exactly one identifier). */
export const ActorIdentifierTypeSchema = z.enum(["account", "mbox", "mbox_sha1sum"]);
export type ActorIdentifierType = z.infer<typeof ActorIdentifierTypeSchema>;

export interface StatementSettings {
  /** The tenant's choice; `account {homePage: iss, name: sub}` unless a provider asks otherwise. */
  actorIdentifier: ActorIdentifierType;
  /** Emitter name and version, e.g. `hlta-lti-tool/0.1.0`, sent as a context extension. */
  emitter: string;
  /**
   * Base of the activity IRIs (standards, courses, modules, evidence). Choose once per
   * installation: changing it changes every activity id the LRS has seen.
   */
  activityBase?: string;
  /** Include the person's name in the actor (default true; never with `mbox_sha1sum`). */
  includeActorName?: boolean;
  /** Our short label of a standard, when the framework data is at hand (see `standardLabelsFrom`). */
  standardLabel?: (standard: StandardRef) => { en: string; cy?: string | undefined } | undefined;
}

export interface BuiltStatement {
  /** The statement id (UUIDv5 of the event identity). */
  id: string;
  eventType: DomainEventType;
  statement: Statement;
  /** The exact bytes to store in the outbox and send, every time. */
  json: string;
  /** The identifier actually used (may differ from the setting: see `notes`). */
  actorIdentifier: ActorIdentifierType;
  /** Plain-words notes about choices the builder had to make, e.g. a fallback to `account`. */
  notes: string[];
}

/**
 * The statement id of an event: a UUIDv5 (RFC 4122 §4.3) in the product's name space, stable
 * across retries, distinct across tenants and event types (two tenants may well use the same
 * event id scheme). The `statement` prefix keeps it apart from the other derived ids
 * (domain/ids.ts derives registrations the same way).
 */
export function statementIdFor(event: Pick<DomainEvent, "type" | "eventId" | "course">): string {
  return uuidv5(`statement\n${tenantId(event.course)}\n${event.type}\n${event.eventId}`, HLTA_NAMESPACE);
}

/** `standardLabel` from framework data: our short labels, per framework id and version. */
export function standardLabelsFrom(
  frameworks: readonly Framework[],
): (standard: StandardRef) => { en: string; cy?: string | undefined } | undefined {
  const byKey = new Map<string, { en: string; cy?: string | undefined }>();
  for (const fw of frameworks) {
    for (const s of fw.standards) byKey.set(`${fw.id}\n${fw.version}\n${s.number}`, s.label);
  }
  return (s) => byKey.get(`${s.frameworkId}\n${s.frameworkVersion}\n${s.number}`);
}

/** Activity IRIs, all under a base the tool controls. */
export function activityIris(base: string = PROFILE_BASE) {
  const root = base.replace(/\/+$/, "");
  const courseRoot = (c: DomainEvent["course"]) => `${root}/courses/${tenantId(c)}/${courseId(c)}`;
  return {
    standard: (s: StandardRef) => `${root}/standards/${s.frameworkId}/${s.frameworkVersion}/${s.number}`,
    course: courseRoot,
    resourceLink: (c: DomainEvent["course"], resourceLinkId: string) =>
      `${courseRoot(c)}/links/${encodeURIComponent(resourceLinkId)}`,
    module: (moduleId: string) => `${root}/modules/${moduleId}`,
    question: (moduleId: string, questionId: string) => `${root}/modules/${moduleId}/questions/${questionId}`,
    evidence: (c: DomainEvent["course"], evidenceId: string) => `${courseRoot(c)}/evidence/${evidenceId}`,
    feedback: (c: DomainEvent["course"], feedbackId: string) => `${courseRoot(c)}/feedback/${feedbackId}`,
    writtenTask: (n: number) => `${root}/written-tasks/${n}`,
    evidenceFile: `${root}/evidence-file`,
    assessment: `${root}/assessment`,
  };
}

type Extra = {
  result?: Result;
  other?: readonly StandardRef[];
  parent?: Activity[];
  contextExtensions?: Record<string, unknown>;
};

interface Draft {
  verb: VerbKey;
  object: Activity;
  extra?: Extra;
}

/**
 * An activity with its definition. `name` is either our own English text (`en` only: a language
 * map's value is in its tag's language (xAPI 1.0.3 Data §5.2), so no `cy` until the Welsh strings
 * exist, TODO(welsh issue)) or text in an unknown language, tagged `und` (RFC 5646
 * "undetermined") rather than mislabelled as English: titles the LMS sends (course, resource
 * link) and what people type (an evidence document's title).
 */
function activity(id: string, type: string, name?: string | { lms: string }): Activity {
  if (name === undefined) return { objectType: "Activity", id, definition: { type } };
  const languageMap: Record<string, string> = typeof name === "string" ? { en: name } : { und: name.lms };
  return { objectType: "Activity", id, definition: { type, name: languageMap } };
}

function lmsTitle(title: string | undefined): { lms: string } | undefined {
  return title === undefined ? undefined : { lms: title };
}

function sha1Hex(text: string): string {
  return createHash("sha1").update(text, "utf8").digest("hex");
}

function buildActor(
  event: DomainEvent,
  settings: StatementSettings,
): { actor: Agent; used: ActorIdentifierType; notes: string[] } {
  const wanted = settings.actorIdentifier;
  // A tenant that asks for hashed emails asks for statements that do not name people: a name
  // beside the hash would undo it.
  const name =
    settings.includeActorName === false || wanted === "mbox_sha1sum" ? undefined : event.actor.name;
  const base: Agent = name === undefined ? { objectType: "Agent" } : { objectType: "Agent", name };
  const email = event.actor.email?.trim().toLowerCase();
  if (wanted !== "account" && email) {
    // Emails are compared case-insensitively in practice; lower-casing keeps one person one
    // identifier even when the LMS changes the case it sends.
    const mbox = `mailto:${email}`;
    return wanted === "mbox"
      ? { actor: { ...base, mbox }, used: "mbox", notes: [] }
      : { actor: { ...base, mbox_sha1sum: sha1Hex(mbox) }, used: "mbox_sha1sum", notes: [] };
  }
  const notes =
    wanted === "account"
      ? []
      : [
          `the tenant asks for ${wanted} but the platform sent no email, so the LTI account identifies the actor`,
        ];
  // xAPI §2.4.2.4: account.homePage is the platform's home page, account.name the user id there.
  return {
    actor: { ...base, account: { homePage: event.actor.iss, name: event.actor.sub } },
    used: "account",
    notes,
  };
}

function sortedStandards(standards: readonly StandardRef[]): StandardRef[] {
  const seen = new Map<string, StandardRef>();
  for (const s of standards) seen.set(`${s.frameworkId}\n${s.frameworkVersion}\n${s.number}`, s);
  return [...seen.values()].sort(
    (a, b) =>
      a.frameworkId.localeCompare(b.frameworkId) ||
      a.frameworkVersion.localeCompare(b.frameworkVersion) ||
      a.number - b.number,
  );
}

function standardActivity(s: StandardRef, settings: StatementSettings): Activity {
  const iris = activityIris(settings.activityBase);
  const label = settings.standardLabel?.(s);
  if (!label) return activity(iris.standard(s), ACTIVITY_TYPES.standard, `HLTA standard ${s.number}`);
  const en = `HLTA standard ${s.number}: ${label.en}`;
  // `cy` only with the framework's Welsh text, never English under a Welsh tag; "HLTA" and the
  // number need no translation. TODO(welsh issue): "Safon HLTA" once the Welsh strings are reviewed.
  const name: Record<string, string> = label.cy ? { en, cy: `HLTA ${s.number}: ${label.cy}` } : { en };
  return {
    objectType: "Activity",
    id: iris.standard(s),
    definition: { type: ACTIVITY_TYPES.standard, name },
  };
}

function assemble(event: DomainEvent, settings: StatementSettings, draft: Draft): BuiltStatement {
  const iris = activityIris(settings.activityBase);
  const { actor, used, notes } = buildActor(event, settings);
  const extra = draft.extra ?? {};
  const other = sortedStandards(extra.other ?? []).map((s) => standardActivity(s, settings));
  const context: Context = {
    registration: event.registration,
    contextActivities: {
      ...(extra.parent && extra.parent.length > 0 ? { parent: extra.parent } : {}),
      grouping: [activity(iris.course(event.course), ACTIVITY_TYPES.course, lmsTitle(event.course.title))],
      category: [
        { objectType: "Activity", id: PROFILE_VERSION_IRI, definition: { type: PROFILE_ACTIVITY_TYPE } },
      ],
      ...(other.length > 0 ? { other } : {}),
    },
    language: event.locale,
    extensions: { [EXTENSIONS.emitter]: settings.emitter, ...extra.contextExtensions },
  };
  const id = statementIdFor(event);
  const statement: Statement = {
    id,
    actor,
    verb: { id: VERBS[draft.verb], display: { en: VERB_DISPLAY[draft.verb] } },
    object: draft.object,
    ...(extra.result ? { result: extra.result } : {}),
    context,
    // ISO 8601 with milliseconds and Z (xAPI §4.5), whatever offset the event was recorded in.
    timestamp: new Date(event.occurredAt).toISOString(),
  };
  return {
    id,
    eventType: event.type,
    statement,
    json: JSON.stringify(statement),
    actorIdentifier: used,
    notes,
  };
}

export function buildLaunched(event: Launched, settings: StatementSettings): BuiltStatement {
  const iris = activityIris(settings.activityBase);
  return assemble(event, settings, {
    verb: "launched",
    object: activity(
      iris.resourceLink(event.course, event.payload.resourceLinkId),
      ACTIVITY_TYPES.ltiResourceLink,
      lmsTitle(event.payload.resourceTitle),
    ),
  });
}

function moduleActivity(
  e: ModuleAttempted | ModuleAnswered | ModuleCompleted | ModulePassed,
  s: StatementSettings,
) {
  return activity(
    activityIris(s.activityBase).module(e.payload.moduleId),
    ACTIVITY_TYPES.module,
    e.payload.moduleTitle,
  );
}

export function buildModuleAttempted(event: ModuleAttempted, settings: StatementSettings): BuiltStatement {
  return assemble(event, settings, {
    verb: "attempted",
    object: moduleActivity(event, settings),
    extra: { other: event.payload.standards },
  });
}

export function buildModuleAnswered(event: ModuleAnswered, settings: StatementSettings): BuiltStatement {
  const iris = activityIris(settings.activityBase);
  const p = event.payload;
  return assemble(event, settings, {
    verb: "answered",
    object: activity(iris.question(p.moduleId, p.questionId), ACTIVITY_TYPES.question, p.questionText),
    extra: {
      result: { success: p.correct, response: p.response },
      parent: [moduleActivity(event, settings)],
      other: p.standards,
    },
  });
}

export function buildModuleCompleted(event: ModuleCompleted, settings: StatementSettings): BuiltStatement {
  return assemble(event, settings, {
    verb: "completed",
    object: moduleActivity(event, settings),
    extra: { result: { completion: true }, other: event.payload.standards },
  });
}

export function buildModulePassed(event: ModulePassed, settings: StatementSettings): BuiltStatement {
  const { scaled, raw, min, max } = event.payload.score;
  return assemble(event, settings, {
    verb: "passed",
    object: moduleActivity(event, settings),
    extra: {
      result: {
        score: {
          scaled,
          ...(raw === undefined ? {} : { raw }),
          ...(min === undefined ? {} : { min }),
          ...(max === undefined ? {} : { max }),
        },
        success: true,
        completion: true,
      },
      other: event.payload.standards,
    },
  });
}

export function buildStandardProgressed(
  event: StandardProgressed,
  settings: StatementSettings,
): BuiltStatement {
  return assemble(event, settings, {
    verb: "progressed",
    object: standardActivity(event.payload.standard, settings),
    // Progress is not a score (xapi.md): cmi5 progress extension, and completion stays false
    // until the standard is evidenced as required (then `mastered`).
    extra: { result: { completion: false, extensions: { [EXTENSIONS.progress]: event.payload.progress } } },
  });
}

export function buildStandardMastered(event: StandardMastered, settings: StatementSettings): BuiltStatement {
  return assemble(event, settings, {
    verb: "mastered",
    object: standardActivity(event.payload.standard, settings),
    extra: { result: { success: true } },
  });
}

function evidenceActivity(
  event: EvidenceUploaded | EvidenceMapped | EvidenceRemoved,
  settings: StatementSettings,
): Activity {
  const iris = activityIris(settings.activityBase);
  return activity(
    iris.evidence(event.course, event.payload.evidenceId),
    ACTIVITY_TYPES.evidenceDocument,
    // Typed by the candidate, in whatever language: not labelled as English.
    lmsTitle(event.payload.title),
  );
}

export function buildEvidenceUploaded(event: EvidenceUploaded, settings: StatementSettings): BuiltStatement {
  return assemble(event, settings, {
    verb: "uploaded",
    object: evidenceActivity(event, settings),
    extra: { other: event.payload.standards },
  });
}

export function buildEvidenceMapped(event: EvidenceMapped, settings: StatementSettings): BuiltStatement {
  return assemble(event, settings, {
    verb: "mapped",
    object: evidenceActivity(event, settings),
    extra: { other: event.payload.standards },
  });
}

export function buildEvidenceRemoved(event: EvidenceRemoved, settings: StatementSettings): BuiltStatement {
  return assemble(event, settings, { verb: "removed", object: evidenceActivity(event, settings) });
}

function writtenTaskActivity(taskNumber: number, settings: StatementSettings): Activity {
  return activity(
    activityIris(settings.activityBase).writtenTask(taskNumber),
    ACTIVITY_TYPES.writtenTask,
    `HLTA written task ${taskNumber}`,
  );
}

export function buildWrittenTaskDrafted(
  event: WrittenTaskDrafted,
  settings: StatementSettings,
): BuiltStatement {
  return assemble(event, settings, {
    verb: "drafted",
    object: writtenTaskActivity(event.payload.taskNumber, settings),
    extra: { other: event.payload.standards },
  });
}

export function buildWrittenTaskSubmitted(
  event: WrittenTaskSubmitted,
  settings: StatementSettings,
): BuiltStatement {
  return assemble(event, settings, {
    verb: "submitted",
    object: writtenTaskActivity(event.payload.taskNumber, settings),
    extra: { result: { completion: true }, other: event.payload.standards },
  });
}

function evidenceFileActivity(settings: StatementSettings): Activity {
  return activity(
    activityIris(settings.activityBase).evidenceFile,
    ACTIVITY_TYPES.evidenceFile,
    "HLTA documentary evidence file",
  );
}

export function buildFeedbackReceived(event: FeedbackReceived, settings: StatementSettings): BuiltStatement {
  const iris = activityIris(settings.activityBase);
  const about = event.payload.about;
  const parent =
    about.kind === "written_task"
      ? [writtenTaskActivity(about.taskNumber, settings)]
      : about.kind === "evidence_file"
        ? [evidenceFileActivity(settings)]
        : [];
  return assemble(event, settings, {
    verb: "received",
    object: activity(
      iris.feedback(event.course, event.payload.feedbackId),
      ACTIVITY_TYPES.feedback,
      "Feedback",
    ),
    extra: { parent, other: event.payload.standards },
  });
}

export function buildEvidenceFileSubmitted(
  event: EvidenceFileSubmitted,
  settings: StatementSettings,
): BuiltStatement {
  return assemble(event, settings, {
    verb: "submitted",
    object: evidenceFileActivity(settings),
    extra: { result: { completion: true }, other: event.payload.standards },
  });
}

function assessmentActivity(settings: StatementSettings): Activity {
  return activity(
    activityIris(settings.activityBase).assessment,
    ACTIVITY_TYPES.assessment,
    "HLTA assessment",
  );
}

export function buildAssessmentBooked(event: AssessmentBooked, settings: StatementSettings): BuiltStatement {
  return assemble(event, settings, {
    verb: "booked",
    object: assessmentActivity(settings),
    extra: { contextExtensions: { [EXTENSIONS.assessmentDate]: event.payload.assessmentDate } },
  });
}

export function buildOutcomeRecorded(event: OutcomeRecorded, settings: StatementSettings): BuiltStatement {
  const { outcome, standardsToReexamine } = event.payload;
  return assemble(event, settings, {
    verb: "receivedOutcome",
    object: assessmentActivity(settings),
    extra: {
      result: {
        success: outcome === "standards_met",
        completion: true,
        extensions: { [EXTENSIONS.outcome]: outcome },
      },
      other: standardsToReexamine,
    },
  });
}

type Builders = {
  [T in DomainEventType]: (event: EventOfType<T>, settings: StatementSettings) => BuiltStatement;
};

/** One builder per event type; the type makes a missing builder a compile error. */
export const STATEMENT_BUILDERS: Builders = {
  launched: buildLaunched,
  "module.attempted": buildModuleAttempted,
  "module.answered": buildModuleAnswered,
  "module.completed": buildModuleCompleted,
  "module.passed": buildModulePassed,
  "standard.progressed": buildStandardProgressed,
  "standard.mastered": buildStandardMastered,
  "evidence.uploaded": buildEvidenceUploaded,
  "evidence.mapped": buildEvidenceMapped,
  "evidence.removed": buildEvidenceRemoved,
  "written_task.drafted": buildWrittenTaskDrafted,
  "written_task.submitted": buildWrittenTaskSubmitted,
  "feedback.received": buildFeedbackReceived,
  "evidence_file.submitted": buildEvidenceFileSubmitted,
  "assessment.booked": buildAssessmentBooked,
  "outcome.recorded": buildOutcomeRecorded,
};

/** Build the statement of any domain event (already validated with `DomainEventSchema`). */
export function buildStatement(event: DomainEvent, settings: StatementSettings): BuiltStatement {
  const builder = STATEMENT_BUILDERS[event.type] as (e: DomainEvent, s: StatementSettings) => BuiltStatement;
  return builder(event, settings);
}
