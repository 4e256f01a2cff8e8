import { type DomainEvent, type DomainEventInput, DomainEventSchema } from "../../../domain/events.js";
import type { StatementSettings } from "../../../statements/builders.js";

/** Shared test data: one event of every type, for one candidate in one course. */

export const ISSUER = "https://moodle.school.example";
export const COURSE = {
  issuer: ISSUER,
  clientId: "client-1",
  deploymentId: "dep-1",
  contextId: "course-42",
  title: "HLTA preparation, spring cohort",
};
export const ACTOR = { iss: ISSUER, sub: "user-7", name: "Sam Jones", email: "Sam.Jones@School.Example" };
export const REGISTRATION = "0b0f6a4e-7d52-5c1e-9a51-3f1c2b0d9e10";
export const STD = (number: number) => ({ frameworkId: "hlta-england", frameworkVersion: "1.0.0", number });

export const SETTINGS: StatementSettings = { actorIdentifier: "account", emitter: "hlta-lti-tool/0.1.0" };

const envelope = (eventId: string) => ({
  eventId,
  occurredAt: "2025-03-04T09:15:30.250+01:00",
  course: COURSE,
  actor: ACTOR,
  registration: REGISTRATION,
  locale: "en_GB",
});

export const EVENT_INPUTS: DomainEventInput[] = [
  {
    ...envelope("ev-launch"),
    type: "launched",
    payload: { resourceLinkId: "link 1/α", resourceTitle: "HLTA hub" },
  },
  {
    ...envelope("ev-attempt"),
    type: "module.attempted",
    payload: {
      moduleId: "understanding-standards",
      moduleTitle: "The standards",
      standards: [STD(1), STD(2)],
    },
  },
  {
    ...envelope("ev-answer"),
    type: "module.answered",
    payload: {
      moduleId: "understanding-standards",
      questionId: "q3",
      questionText: "Which standard covers behaviour?",
      response: "26",
      correct: true,
      standards: [STD(26)],
    },
  },
  { ...envelope("ev-complete"), type: "module.completed", payload: { moduleId: "understanding-standards" } },
  {
    ...envelope("ev-pass"),
    type: "module.passed",
    payload: { moduleId: "understanding-standards", score: { scaled: 0.85, raw: 17, min: 0, max: 20 } },
  },
  { ...envelope("ev-progress"), type: "standard.progressed", payload: { standard: STD(7), progress: 40 } },
  { ...envelope("ev-master"), type: "standard.mastered", payload: { standard: STD(7) } },
  {
    ...envelope("ev-upload"),
    type: "evidence.uploaded",
    payload: { evidenceId: "ev-doc-1", title: "Lesson plan", mediaType: "application/pdf" },
  },
  {
    ...envelope("ev-map"),
    type: "evidence.mapped",
    payload: { evidenceId: "ev-doc-1", standards: [STD(17), STD(9), STD(17)] },
  },
  { ...envelope("ev-remove"), type: "evidence.removed", payload: { evidenceId: "ev-doc-1" } },
  { ...envelope("ev-draft"), type: "written_task.drafted", payload: { taskNumber: 2, standards: [STD(30)] } },
  { ...envelope("ev-submit"), type: "written_task.submitted", payload: { taskNumber: 4 } },
  {
    ...envelope("ev-feedback"),
    type: "feedback.received",
    payload: { feedbackId: "fb-1", about: { kind: "written_task", taskNumber: 2 }, standards: [STD(30)] },
  },
  { ...envelope("ev-file"), type: "evidence_file.submitted", payload: { standards: [STD(1), STD(33)] } },
  { ...envelope("ev-book"), type: "assessment.booked", payload: { assessmentDate: "2025-06-12" } },
  {
    ...envelope("ev-outcome"),
    type: "outcome.recorded",
    payload: { outcome: "partial_reassessment", standardsToReexamine: [STD(24), STD(25)] },
  },
];

export const EVENTS: DomainEvent[] = EVENT_INPUTS.map((e) => DomainEventSchema().parse(e));

export function eventOfType<T extends DomainEvent["type"]>(type: T): Extract<DomainEvent, { type: T }> {
  const found = EVENTS.find((e): e is Extract<DomainEvent, { type: T }> => e.type === type);
  if (!found) throw new Error(`no fixture for ${type}`);
  return found;
}
