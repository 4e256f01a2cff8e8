/**
 * The benchmark's LMS: one course with many candidates, so that concurrent launches are by
 * different people (as in a real class), each launch as a Moodle student (Learner).
 */
import { CONTEXT_TYPE, type PlatformSeed } from "../../dev/platform/index.js";
import { fullName, type PlatformUser } from "../../dev/platform/seed.js";

export const BENCH_COURSE = "2";
const CANDIDATES = 64;

const users: PlatformUser[] = Array.from({ length: CANDIDATES }, (_, i) => ({
  id: String(100 + i),
  username: `candidate${i + 1}`,
  persona: `candidate ${i + 1}`,
  givenName: "Candidate",
  familyName: `Number ${i + 1}`,
  email: `candidate${i + 1}@bench-platform.test`,
  locale: "en",
  idNumber: `CAND-${String(i + 1).padStart(4, "0")}`,
  siteAdmin: false,
}));

export const BENCH_SEED: PlatformSeed = {
  courses: [
    {
      id: BENCH_COURSE,
      shortName: "HLTA-BENCH",
      fullName: "HLTA preparation: benchmark cohort",
      idNumber: "HLTA-BENCH",
      contextType: [CONTEXT_TYPE.courseSection],
    },
  ],
  users,
  enrolments: users.map((u) => ({ courseId: BENCH_COURSE, userId: u.id, role: "student" as const })),
  links: [{ id: "1", courseId: BENCH_COURSE, title: "HLTA preparation", description: "", custom: {} }],
};

export interface BenchUser {
  readonly username: string;
  /** The `name` claim the platform sends, which both first pages greet. */
  readonly name: string;
}

export const BENCH_USERS: readonly BenchUser[] = users.map((u) => ({
  username: u.username,
  name: fullName(u),
}));
