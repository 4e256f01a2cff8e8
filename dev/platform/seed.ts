/**
 * The development platform's in-memory LMS: a site, its courses, people, enrolments and the
 * "HLTA preparation" activity placed in each course. Ids look like Moodle's (numeric strings;
 * course 1 and user 1 are Moodle's site course and guest, so the seed starts at 2).
 */
import { CONTEXT_TYPE, ROLE } from "./claims.js";

export interface PlatformUser {
  /** Moodle's `user.id`: the `sub` and the `login_hint`. */
  readonly id: string;
  readonly username: string;
  /** What the home page's button says: "Launch as <persona>". */
  readonly persona: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly email: string;
  /** Moodle language code: `en`, `cy` (Welsh). */
  readonly locale: string;
  /** Moodle's `user.idnumber`, sent as `lis.person_sourcedid`. */
  readonly idNumber: string;
  /** A Moodle site administrator may launch in any course, as Instructor plus the admin roles. */
  readonly siteAdmin: boolean;
  /**
   * Listed by the course's memberships (NRPS) and gradebook but given no launch button on the
   * home page: a candidate who has never opened the tool.
   */
  readonly rosterOnly?: boolean;
}

export interface Course {
  readonly id: string;
  /** Moodle's short name, sent as `context.label`. */
  readonly shortName: string;
  /** Moodle's full name, sent as `context.title`. */
  readonly fullName: string;
  /** Moodle's `course.idnumber`, sent as `lis.course_section_sourcedid`. */
  readonly idNumber: string;
  /** Context type URIs; Moodle sends `CourseSection` for every course (LTI Core §A.1). */
  readonly contextType: readonly string[];
}

/** Moodle role archetypes that matter to a launch. */
export type CourseRole = "student" | "editingteacher";

export interface Enrolment {
  readonly courseId: string;
  readonly userId: string;
  readonly role: CourseRole;
}

/** An LTI activity in a course: the resource link. */
export interface ResourceLink {
  readonly id: string;
  readonly courseId: string;
  readonly title: string;
  readonly description: string;
  /** Defaults to the tool's target link URI. */
  readonly targetLinkUri?: string;
  readonly custom: Readonly<Record<string, string>>;
  /** The client_id of the tool the link launches; the first registered tool when absent. */
  readonly tool?: string;
}

export interface PlatformSeed {
  readonly courses: readonly Course[];
  readonly users: readonly PlatformUser[];
  readonly enrolments: readonly Enrolment[];
  readonly links: readonly ResourceLink[];
}

const courseSection = [CONTEXT_TYPE.courseSection];

/**
 * The rest of the September cohort: 25 candidates who have never launched the tool, so the
 * course's memberships need more than one page (NRPS `Link: rel="next"`).
 */
const COHORT_NAMES: readonly (readonly [string, string])[] = [
  ["Amara", "Okafor"],
  ["Ben", "Hughes"],
  ["Chloe", "Davies"],
  ["Daniel", "Evans"],
  ["Ella", "Roberts"],
  ["Finn", "Walsh"],
  ["Grace", "Patel"],
  ["Harry", "Jones"],
  ["Isla", "Morgan"],
  ["Jack", "Thomas"],
  ["Keira", "Lewis"],
  ["Liam", "Brennan"],
  ["Maya", "Khan"],
  ["Noah", "Williams"],
  ["Olivia", "Price"],
  ["Poppy", "Das"],
  ["Quinn", "Baker"],
  ["Rhys", "Jenkins"],
  ["Sophie", "Clarke"],
  ["Tomos", "Griffiths"],
  ["Uma", "Begum"],
  ["Victor", "Nowak"],
  ["Willow", "Bennett"],
  ["Yusuf", "Ali"],
  ["Zara", "Hussain"],
];

const COHORT: readonly PlatformUser[] = COHORT_NAMES.map(([givenName, familyName], i) => {
  const id = String(7 + i);
  return {
    id,
    username: `cohort${String(i + 1).padStart(2, "0")}`,
    persona: `cohort candidate ${i + 1}`,
    givenName,
    familyName,
    email: `${givenName}.${familyName}@dev-platform.test`.toLowerCase(),
    locale: "en",
    idNumber: `CAND-${id.padStart(4, "0")}`,
    siteAdmin: false,
    rosterOnly: true,
  };
});

export const DEFAULT_SEED: PlatformSeed = {
  courses: [
    {
      id: "2",
      shortName: "HLTA-SEP25",
      fullName: "HLTA preparation: September 2025 cohort",
      idNumber: "HLTA-2025-09",
      contextType: courseSection,
    },
    {
      id: "3",
      shortName: "HLTA-JAN26",
      fullName: "HLTA preparation: January 2026 cohort",
      idNumber: "HLTA-2026-01",
      contextType: courseSection,
    },
  ],
  users: [
    {
      id: "2",
      username: "admin",
      persona: "administrator",
      givenName: "Admin",
      familyName: "User",
      email: "admin@dev-platform.test",
      locale: "en",
      idNumber: "",
      siteAdmin: true,
    },
    {
      id: "3",
      username: "tutor",
      persona: "tutor",
      givenName: "Priya",
      familyName: "Shah",
      email: "priya.shah@dev-platform.test",
      locale: "en",
      idNumber: "STAFF-0003",
      siteAdmin: false,
    },
    {
      id: "4",
      username: "candidate",
      persona: "candidate",
      givenName: "Sam",
      familyName: "Taylor",
      email: "sam.taylor@dev-platform.test",
      locale: "en",
      idNumber: "CAND-0004",
      siteAdmin: false,
    },
    {
      id: "5",
      username: "candidate-cy",
      persona: "Welsh-speaking candidate",
      givenName: "Gwenllian",
      familyName: "Prys",
      email: "gwenllian.prys@dev-platform.test",
      locale: "cy",
      idNumber: "CAND-0005",
      siteAdmin: false,
    },
    {
      id: "6",
      username: "candidate2",
      persona: "second candidate",
      givenName: "Jordan",
      familyName: "Ellis",
      email: "jordan.ellis@dev-platform.test",
      locale: "en",
      idNumber: "CAND-0006",
      siteAdmin: false,
    },
    ...COHORT,
  ],
  enrolments: [
    { courseId: "2", userId: "3", role: "editingteacher" },
    { courseId: "2", userId: "4", role: "student" },
    { courseId: "2", userId: "5", role: "student" },
    { courseId: "2", userId: "6", role: "student" },
    ...COHORT.map((u) => ({ courseId: "2", userId: u.id, role: "student" as const })),
    { courseId: "3", userId: "3", role: "editingteacher" },
    { courseId: "3", userId: "6", role: "student" },
  ],
  links: [
    { id: "1", courseId: "2", title: "HLTA preparation", description: "", custom: {} },
    { id: "2", courseId: "3", title: "HLTA preparation", description: "", custom: {} },
  ],
};

/**
 * Lookups over a seed; a reference is an id or a human name (username, course short name).
 * Courses and people are fixed; activities grow as tools place links (deep linking).
 */
export class PlatformDirectory {
  private readonly allLinks: ResourceLink[];

  constructor(readonly seed: PlatformSeed) {
    this.allLinks = [...seed.links];
  }

  /** Every activity, or a course's, in the order they were added. */
  links(courseId?: string): readonly ResourceLink[] {
    return courseId === undefined ? [...this.allLinks] : this.allLinks.filter((l) => l.courseId === courseId);
  }

  /** Adds an activity with the next numeric id (Moodle's course module ids grow the same way). */
  addLink(link: Omit<ResourceLink, "id">): ResourceLink {
    const next = Math.max(0, ...this.allLinks.map((l) => Number(l.id)).filter(Number.isFinite)) + 1;
    const added: ResourceLink = { ...link, id: String(next) };
    this.allLinks.push(added);
    return added;
  }

  user(ref: string): PlatformUser | undefined {
    return this.seed.users.find((u) => u.id === ref) ?? this.seed.users.find((u) => u.username === ref);
  }

  course(ref: string): Course | undefined {
    return this.seed.courses.find((c) => c.id === ref) ?? this.seed.courses.find((c) => c.shortName === ref);
  }

  /** The link `ref` in the course, or the course's first link when no ref is given. */
  link(courseId: string, ref?: string): ResourceLink | undefined {
    const inCourse = this.links(courseId);
    return ref === undefined ? inCourse[0] : inCourse.find((l) => l.id === ref);
  }

  linkById(id: string): ResourceLink | undefined {
    return this.allLinks.find((l) => l.id === id);
  }

  /** A course's enrolments (teachers and students), in seed order: what NRPS lists. */
  enrolments(courseId: string): { user: PlatformUser; role: CourseRole }[] {
    const out: { user: PlatformUser; role: CourseRole }[] = [];
    for (const e of this.seed.enrolments) {
      const user = e.courseId === courseId ? this.user(e.userId) : undefined;
      if (user) out.push({ user, role: e.role });
    }
    return out;
  }

  enrolment(courseId: string, userId: string): Enrolment | undefined {
    return this.seed.enrolments.find((e) => e.courseId === courseId && e.userId === userId);
  }

  /** People who may launch in the course: its enrolments, then site administrators. */
  participants(courseId: string): { user: PlatformUser; role: CourseRole | "admin" }[] {
    const out: { user: PlatformUser; role: CourseRole | "admin" }[] = this.enrolments(courseId);
    for (const user of this.seed.users) {
      if (user.siteAdmin && !out.some((p) => p.user.id === user.id)) out.push({ user, role: "admin" });
    }
    return out;
  }

  /**
   * The roles claim Moodle sends: Instructor for teachers, Learner otherwise; a site
   * administrator loses Learner and gains the system and institution Administrator roles
   * (Moodle's `lti_get_ims_role`), sorted as Moodle sorts array claims. `undefined` when the
   * user may not launch in the course at all.
   */
  roles(courseId: string, user: PlatformUser): string[] | undefined {
    const enrolment = this.enrolment(courseId, user.id);
    if (!enrolment && !user.siteAdmin) return undefined;
    const roles = new Set<string>([enrolment?.role === "student" ? ROLE.learner : ROLE.instructor]);
    if (user.siteAdmin) {
      roles.delete(ROLE.learner);
      roles.add(ROLE.instructor);
      roles.add(ROLE.systemAdministrator);
      roles.add(ROLE.institutionAdministrator);
    }
    return [...roles].sort();
  }
}

export function fullName(user: PlatformUser): string {
  return `${user.givenName} ${user.familyName}`;
}
