/**
 * The launch's writes on DynamoDB Local: `npx tsx bench/launch-writes.ts [rounds]`.
 *
 * A launch spends its login (state and nonce, one conditional put) and records the enrolment,
 * with the "launched" statement for the outbox when the tenant has an LRS. This compares, on
 * the real adapters and interleaved round by round so the machine's drift touches both:
 * - two calls, as the tool did until 2026-11-24: the claim's put, then the enrolment's write
 *   (an update, or a transaction with the outbox item);
 * - one transaction, as it does now: the claim inside the enrolment's transaction.
 * Each with no LRS (the launch bench's case) and with one LRS route; and the claim alone, as a
 * returning candidate's launch writes it (their enrolment written minutes before, unchanged).
 * Prints p50 / p99 / mean per variant. Bounded: at most `rounds` (default 1,000) per variant and 90 s of rounds.
 */
// First: the SDK reads this when its modules load (a Node 20 deprecation notice, not a figure).
import "../dev/quiet-sdk.js";
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { createDynamoClients } from "../adapters/dynamo/client.js";
import { DynamoEnrolmentStore, type TransactItem } from "../adapters/dynamo/enrolments.js";
import { DynamoUsedLoginStore } from "../adapters/dynamo/login-states.js";
import { outboxTransactItems } from "../adapters/dynamo/outbox.js";
import { ensureTable } from "../adapters/dynamo/schema.js";
import { startDynamoLocal } from "../dev/local-services.js";
import type { Enrolment } from "../domain/enrolment.js";
import { DomainEventSchema } from "../domain/events.js";
import type { CourseRef } from "../domain/tenancy.js";
import { buildStatement } from "../statements/builders.js";
import { benchEnrolment, warmDynamoLocal } from "./lib/dynamo-warmup.js";
import { mean, percentile } from "./lib/stats.js";

const ROUNDS = Number(process.argv[2] ?? 1_000);
if (!Number.isInteger(ROUNDS) || ROUNDS < 50) {
  console.error(`rounds must be an integer ≥ 50, not "${process.argv[2]}".`);
  process.exit(2);
}
const MAX_MS = 90_000;
const TABLE = "hlta-bench";
const ISSUER = "https://moodle.bench.example";
const COURSE: CourseRef = { issuer: ISSUER, clientId: "c", deploymentId: "1", contextId: "course-1" };

function outboxItems(e: Enrolment, stateId: string, now: Date): TransactItem[] {
  const event = DomainEventSchema().parse({
    type: "launched",
    eventId: `launch:${stateId}`,
    occurredAt: e.lastLaunchAt,
    course: { ...COURSE, title: "HLTA cohort" },
    actor: { iss: ISSUER, sub: e.userId, name: e.name },
    registration: e.registration,
    locale: "en",
    payload: { resourceLinkId: "link-1", resourceTitle: "HLTA preparation" },
  });
  const built = buildStatement(event, { actorIdentifier: "account", emitter: "hlta-lti-tool/bench" });
  return outboxTransactItems([built], [{ routeId: "bench-route" }], { tableName: TABLE, now });
}

type Variant = {
  name: string;
  lrs: boolean;
  oneTransaction: boolean;
  claimOnly?: boolean;
  samples: number[];
};

async function main(): Promise<void> {
  const dynamo = await startDynamoLocal();
  const { doc, client } = createDynamoClients({ endpoint: dynamo.endpoint });
  try {
    await ensureTable(client, TABLE);
    const warm = await warmDynamoLocal(dynamo.endpoint, TABLE);
    console.log(`· warmed DynamoDB Local's JIT: ${warm.calls} calls in ${(warm.ms / 1000).toFixed(1)} s`);
    const used = new DynamoUsedLoginStore(doc, TABLE);
    const enrolments = new DynamoEnrolmentStore(doc, TABLE);
    const variants: Variant[] = [
      { name: "no LRS: claim put, then enrolment update", lrs: false, oneTransaction: false, samples: [] },
      { name: "no LRS: one transaction (2 items)", lrs: false, oneTransaction: true, samples: [] },
      { name: "LRS: claim put, then transaction (2 items)", lrs: true, oneTransaction: false, samples: [] },
      { name: "LRS: one transaction (3 items)", lrs: true, oneTransaction: true, samples: [] },
      // A returning candidate's launch with no LRS: their enrolment is current, the claim goes alone.
      {
        name: "no LRS, enrolment current: claim put alone",
        lrs: false,
        oneTransaction: false,
        claimOnly: true,
        samples: [],
      },
    ];
    const expiresAt = Math.floor(Date.now() / 1000) + 660;
    const started = performance.now();
    // 50 untimed rounds first, then the timed ones; every round runs each variant once.
    for (let round = 0; round < ROUNDS + 50 && performance.now() - started < MAX_MS; round++) {
      for (const v of variants) {
        const stateId = randomBytes(32).toString("base64url");
        const nonce = randomBytes(16).toString("base64url");
        const now = new Date();
        const e = benchEnrolment(COURSE, round, now.toISOString(), 50);
        const extra = v.lrs ? outboxItems(e, stateId, now) : [];
        const t0 = performance.now();
        if (v.claimOnly) {
          const { previous } = await used.claim(ISSUER, nonce, stateId, expiresAt);
          if (previous !== undefined) throw new Error("a fresh nonce was refused");
        } else if (v.oneTransaction) {
          await enrolments.recordLaunch(e, [
            { Put: used.claimPut(ISSUER, nonce, stateId, expiresAt) },
            ...extra,
          ]);
        } else {
          const { previous } = await used.claim(ISSUER, nonce, stateId, expiresAt);
          if (previous !== undefined) throw new Error("a fresh nonce was refused");
          await enrolments.recordLaunch(e, extra);
        }
        if (round >= 50) v.samples.push(performance.now() - t0);
      }
    }
    console.log(
      `The launch's writes on DynamoDB Local, ${variants[0]?.samples.length} rounds each (interleaved):`,
    );
    console.log(`  ${"variant".padEnd(46)}${"p50".padStart(9)}${"p99".padStart(9)}${"mean".padStart(9)}`);
    for (const v of variants) {
      const f = (x: number) => `${x.toFixed(2)} ms`.padStart(9);
      console.log(
        `  ${v.name.padEnd(46)}${f(percentile(v.samples, 50))}${f(percentile(v.samples, 99))}${f(mean(v.samples))}`,
      );
    }
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
