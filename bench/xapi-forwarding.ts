/**
 * xAPI forwarding bench: `npx tsx bench/xapi-forwarding.ts [statements]`.
 *
 * Starts DynamoDB Local and the LRS double on loopback, then measures
 * 1. throughput: N statements (default 5,000) already in the outbox, forwarded by the local
 *    loop in batches to the double, until every one is at the LRS and marked delivered;
 * 2. end-to-end delay: with the loop running, statements are committed to the outbox at a
 *    steady rate, and the delay from each commit to the statement's arrival at the LRS is
 *    measured (p50 / p99).
 * Bounded: every phase has a deadline; the whole run stops after about two minutes at most.
 */
// First: the SDK reads this when its modules load (a Node 20 deprecation notice, not a figure).
import "../dev/quiet-sdk.js";
import { randomBytes } from "node:crypto";
import { QueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { createDynamoClients } from "../adapters/dynamo/client.js";
import { DynamoLrsRouteStore } from "../adapters/dynamo/lrs-routes.js";
import { DynamoOutboxStore, outboxTransactItems } from "../adapters/dynamo/outbox.js";
import { ensureTable } from "../adapters/dynamo/schema.js";
import { keys, TABLE_KEYS } from "../adapters/dynamo/table.js";
import { startDynamoLocal } from "../dev/local-services.js";
import { startLrsDouble } from "../dev/lrs-double/index.js";
import { allowLoopbackEndpoints } from "../domain/endpoints.js";
import { type DomainEvent, DomainEventSchema } from "../domain/events.js";
import { planBatches } from "../statements/batching.js";
import { type BuiltStatement, buildStatement } from "../statements/builders.js";
import { createAesGcmCipher } from "../statements/credential-cipher.js";
import { type ForwarderPolicy, startForwarderLoop } from "../statements/forwarder.js";
import { createLrsClient } from "../statements/lrs-client.js";
import { LrsCredentials, type LrsRoute } from "../statements/ports.js";

const N = Number(process.argv[2] ?? 5_000);
const TABLE = "hlta-bench";
const LOOP_INTERVAL_MS = 100;
// The forwarder's shipped defaults (DEFAULT_FORWARDER_POLICY: pages of 1,000, 4 batches in
// flight, 16 outcome writes outstanding), as the Lambda and the local loop run it. Measured here,
// more in flight (8 batches, 40 writes) is slower on DynamoDB Local, not faster.
const POLICY: Partial<ForwarderPolicy> = {};

function event(i: number, prefix: string): DomainEvent {
  const standard = { frameworkId: "hlta-england", frameworkVersion: "1.0.0", number: (i % 33) + 1 };
  return DomainEventSchema().parse({
    type: "standard.progressed",
    eventId: `${prefix}-${i}`,
    occurredAt: new Date().toISOString(),
    course: {
      issuer: "https://moodle.bench.example",
      clientId: "c",
      deploymentId: "d",
      contextId: `course-${i % 20}`,
      title: "HLTA cohort",
    },
    actor: { iss: "https://moodle.bench.example", sub: `user-${i % 400}`, name: `Candidate ${i % 400}` },
    registration: "7c7a1f4e-0d1a-5b8e-9f3a-2b6c4d8e0f12",
    locale: "en-GB",
    payload: { standard, progress: i % 100 },
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 20,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return check();
}

const dynamo = await startDynamoLocal();
const { client, doc } = createDynamoClients({ endpoint: dynamo.endpoint });
const lrs = await startLrsDouble();
const stopAll = async () => {
  client.destroy();
  await Promise.allSettled([lrs.stop(), dynamo.stop()]);
};
const hardStop = setTimeout(() => {
  console.error("bench: over the 3-minute bound, stopping");
  void stopAll().then(() => process.exit(2));
}, 180_000);

try {
  // The LRS double answers on loopback over http: the local mode's rule (domain/endpoints.ts).
  allowLoopbackEndpoints();
  await ensureTable(client, TABLE);
  const outbox = new DynamoOutboxStore(doc, TABLE);
  const routes = new DynamoLrsRouteStore(
    doc,
    TABLE,
    createAesGcmCipher({ current: { kid: "bench", key: randomBytes(32) } }),
  );
  const route = await routes.saveRoute({
    scope: { issuer: "https://moodle.bench.example", clientId: "c" },
    name: "LRS double",
    endpoint: lrs.endpoint,
    username: "hlta-dev",
    password: "hlta-dev-secret",
  });

  /**
   * Whether the route has nothing pending: one item's worth of its gsi1 pending partition.
   * (Not `backlog()`, which also counts the delivered partition, thousands of items here, and
   * polled every 50 ms would load DynamoDB Local while the forwarder writes to it.)
   */
  async function nonePending(routeId: string): Promise<boolean> {
    const out = await doc.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: TABLE_KEYS.gsi1,
        KeyConditionExpression: "#gpk = :gpk",
        ExpressionAttributeNames: { "#gpk": TABLE_KEYS.gsi1pk },
        ExpressionAttributeValues: { ":gpk": keys.outboxByStatus(routeId, "pending").gsi1pk },
        Limit: 1,
      }),
    );
    return (out.Items ?? []).length === 0;
  }

  /** Commit statements to the outbox, 25 per transaction, `parallel` transactions at a time. */
  async function commit(
    statements: readonly BuiltStatement[],
    target: LrsRoute,
    parallel = 8,
  ): Promise<number[]> {
    const committedAt: number[] = new Array(statements.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        for (let i = next; i < statements.length; i = next) {
          next += 25;
          const chunk = statements.slice(i, i + 25);
          await doc.send(
            new TransactWriteCommand({
              TransactItems: outboxTransactItems(chunk, [target], { tableName: TABLE, now: new Date() }),
            }),
          );
          const at = Date.now();
          for (let j = 0; j < chunk.length; j++) committedAt[i + j] = at;
        }
      }),
    );
    return committedAt;
  }

  // Warm-up, not measured: DynamoDB Local is a JVM whose JIT compiles the outbox's paths (batch
  // writes moving items between gsi1 partitions, gsi1 queries) over the first several thousand
  // items, and its rate keeps rising meanwhile; DynamoDB in AWS has no such phase (the launch
  // bench warms it too, bench/lib/dynamo-warmup.ts). Rounds of 2,000 statements run the whole
  // path (commit, forward, mark delivered) until a round is less than 10 % faster than the one
  // before (at most 6 rounds); their rates are printed.
  const warmRates: number[] = [];
  let stop: () => Promise<void> = async () => {};
  for (let round = 0; round < 6; round++) {
    const warm = Array.from({ length: 2_000 }, (_, i) =>
      buildStatement(event(i, `warm${round}`), { actorIdentifier: "account", emitter: "bench/1" }),
    );
    await commit(warm, route);
    const warmStart = performance.now();
    stop = startForwarderLoop({ intervalMs: LOOP_INTERVAL_MS, outbox, routes, policy: POLICY });
    await waitUntil(() => lrs.statements.count >= warm.length, 60_000, 5);
    await waitUntil(() => nonePending(route.routeId), 30_000, 20);
    await stop();
    lrs.statements.clear();
    warmRates.push((warm.length / (performance.now() - warmStart)) * 1000);
    const [previous, last] = warmRates.slice(-2);
    if (previous !== undefined && last !== undefined && last < previous * 1.1) break;
  }

  const statements = Array.from({ length: N }, (_, i) =>
    buildStatement(event(i, "tput"), { actorIdentifier: "account", emitter: "bench/1" }),
  );

  // 0. The LRS path alone (client + batching, no outbox bookkeeping), to show where time goes.
  const direct = createLrsClient({
    endpoint: lrs.endpoint,
    credentials: new LrsCredentials("hlta-dev", "hlta-dev-secret"),
    timeoutMs: 10_000,
  });
  const directBatches = planBatches(statements, (s) => s.json);
  const directStart = performance.now();
  let nextBatch = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = nextBatch++; i < directBatches.length; i = nextBatch++) {
        await direct.postStatements((directBatches[i] ?? []).map((s) => s.json));
      }
    }),
  );
  const directMs = performance.now() - directStart;
  lrs.statements.clear();

  // 1. Throughput through the outbox and the local loop.
  const bytes = statements.reduce((sum, s) => sum + Buffer.byteLength(s.json), 0);
  const writeStart = performance.now();
  await commit(statements, route);
  const writeMs = performance.now() - writeStart;
  const start = performance.now();
  stop = startForwarderLoop({ intervalMs: LOOP_INTERVAL_MS, outbox, routes, policy: POLICY });
  const arrived = await waitUntil(() => lrs.statements.count >= N, 90_000, 5);
  const atLrsMs = performance.now() - start;
  const recorded = await waitUntil(() => nonePending(route.routeId), 30_000, 50);
  const recordedMs = performance.now() - start;
  await stop();
  lrs.statements.clear();

  // 2. End-to-end delay: ~500 statements/s committed for 4 s while the loop runs.
  stop = startForwarderLoop({ intervalMs: LOOP_INTERVAL_MS, outbox, routes, policy: POLICY });
  const committed = new Map<string, number>();
  for (let tick = 0; tick < 40; tick++) {
    const tickStart = Date.now();
    const batch = Array.from({ length: 50 }, (_, i) =>
      buildStatement(event(tick * 50 + i, "e2e"), { actorIdentifier: "account", emitter: "bench/1" }),
    );
    const at = await commit(batch, route, 2);
    for (const [i, s] of batch.entries()) committed.set(s.id, at[i] ?? Date.now());
    await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - tickStart))));
  }
  await waitUntil(() => lrs.statements.count >= committed.size, 30_000);
  await stop();
  const delays = lrs.statements
    .all()
    .map((s) => s.storedAtMs - (committed.get(s.id) ?? s.storedAtMs))
    .sort((a, b) => a - b);

  console.log("xAPI forwarding bench (DynamoDB Local + LRS double on loopback)");
  console.log(
    `  statements            ${N} (${(bytes / N).toFixed(0)} bytes each), batches of ≤ 50 / ≤ 1 MB`,
  );
  console.log(
    `  warm-up rounds        ${warmRates.map((r) => r.toFixed(0)).join(", ")} statements/s (2,000 each, whole path; not counted)`,
  );
  console.log(
    `  outbox write          ${((N / writeMs) * 1000).toFixed(0)} statements/s (transactions of 25, 8 in parallel)`,
  );
  console.log(
    `  LRS path alone        ${((N / directMs) * 1000).toFixed(0)} statements/s (client + batching, 8 in flight, no outbox)`,
  );
  console.log(
    `  forwarding throughput ${((N / atLrsMs) * 1000).toFixed(0)} statements/s to the LRS${arrived ? "" : " (INCOMPLETE)"}` +
      ` (target ≥ 2,000); ${((N / recordedMs) * 1000).toFixed(0)} statements/s incl. marking delivered${recorded ? "" : " (INCOMPLETE)"}`,
  );
  console.log(
    `  end-to-end delay      p50 ${percentile(delays, 50).toFixed(0)} ms, p99 ${percentile(delays, 99).toFixed(0)} ms` +
      ` (commit → stored at the LRS, ${delays.length} statements at ~500/s, loop interval ${LOOP_INTERVAL_MS} ms)`,
  );
} finally {
  clearTimeout(hardStop);
  await stopAll();
}
