/**
 * Warms DynamoDB Local before anything is timed. A fresh DynamoDB Local (a JVM) answers its
 * first thousands of calls two to three times slower than later ones, while its JIT compiler
 * warms up; DynamoDB in AWS has no such phase. Two phases, on keys and a tenant no tool uses:
 * - the kinds of call the tools make (put, get, update, one-item transaction,
 *   `BENCH#WARMUP#…`);
 * - the launch's own transaction, through the real adapters (the enrolment's update with the
 *   login's conditional claim, in a course of `https://warmup.bench.invalid`), each followed by
 *   a returning candidate's launch (the claim alone, a conditional put): their code paths (a
 *   two-item transaction, `if_not_exists`, a condition that returns the old item) warm up
 *   separately. Measured on this machine (2026-11-24): DynamoDB Local's CPU per launch
 *   transaction falls from about 7.5 ms over the first 500 to about 3.2 ms after 2,500, which
 *   the first phase alone did not reach; the launch benchmark's 320 launches ran inside that
 *   fall, so on two cores its JIT competed with both tools for the CPU.
 * Prints nothing; returns the counts and the launch transaction's p50 per block of 250, first
 * and last, to show it levelled off.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { createDynamoClients } from "../../adapters/dynamo/client.js";
import { DynamoEnrolmentStore } from "../../adapters/dynamo/enrolments.js";
import { DynamoUsedLoginStore } from "../../adapters/dynamo/login-states.js";
import type { Enrolment } from "../../domain/enrolment.js";
import { enrolmentRegistration } from "../../domain/ids.js";
import type { CourseRef } from "../../domain/tenancy.js";
import { percentile } from "./stats.js";

const WARMUP_COURSE: CourseRef = {
  issuer: "https://warmup.bench.invalid",
  clientId: "warmup",
  deploymentId: "1",
  contextId: "warmup-course",
};
const BLOCK = 250;

export interface WarmupResult {
  calls: number;
  ms: number;
  /** Launch transactions run, and their p50 in the first and the last block of 250 (ms). */
  launchTransactions: number;
  launchP50First: number;
  launchP50Last: number;
}

/**
 * A candidate's enrolment as a launch records it: the i-th of `people` in `course`, with the
 * name, e-mail, locale and course title an LMS sends (the launch-writes bench uses it too).
 */
export function benchEnrolment(course: CourseRef, i: number, at: string, people = 64): Enrolment {
  const n = i % people;
  const userId = `candidate-${n}`;
  return {
    course,
    userId,
    role: "candidate",
    ltiRoles: ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
    name: `Candidate ${n}`,
    email: `candidate-${n}@school.bench.invalid`,
    locale: "en",
    courseTitle: "HLTA cohort",
    registration: enrolmentRegistration(course, userId),
    firstLaunchAt: at,
    lastLaunchAt: at,
  };
}

export async function warmDynamoLocal(
  endpoint: string,
  tableName: string,
  options: { rounds?: number; launchTransactions?: number; maxMs?: number } = {},
): Promise<WarmupResult> {
  const rounds = options.rounds ?? 500;
  const launchTransactions = options.launchTransactions ?? 3_000;
  const maxMs = options.maxMs ?? 40_000;
  const { doc, client } = createDynamoClients({ endpoint });
  const started = performance.now();
  let calls = 0;
  try {
    for (let i = 0; i < rounds && performance.now() - started < maxMs; i++) {
      const key = { pk: `BENCH#WARMUP#${i}`, sk: "WARMUP" };
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...key, n: i },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      await doc.send(new GetCommand({ TableName: tableName, Key: key }));
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: "BENCH#WARMUP", sk: "WARMUP" },
          UpdateExpression: "SET n = :n",
          ExpressionAttributeValues: { ":n": i },
        }),
      );
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: tableName,
                Key: { pk: `BENCH#WARMUP#T${i % 16}`, sk: "WARMUP" },
                UpdateExpression: "SET n = :n",
                ExpressionAttributeValues: { ":n": i },
              },
            },
          ],
        }),
      );
      calls += 4;
    }
    const enrolments = new DynamoEnrolmentStore(doc, tableName);
    const usedLogins = new DynamoUsedLoginStore(doc, tableName);
    const blocks: number[] = [];
    let block: number[] = [];
    let launches = 0;
    for (; launches < launchTransactions && performance.now() - started < maxMs; launches++) {
      const e = benchEnrolment(WARMUP_COURSE, launches, new Date().toISOString());
      const nonce = randomBytes(16).toString("base64url");
      const t0 = performance.now();
      await enrolments.recordLaunch(e, [
        { Put: usedLogins.claimPut(WARMUP_COURSE.issuer, nonce, `warmup-${launches}`, 4_000_000_000) },
      ]);
      block.push(performance.now() - t0);
      // A returning candidate's launch: the login's claim alone (a conditional put returning the old item).
      await usedLogins.claim(WARMUP_COURSE.issuer, `${nonce}-r`, `warmup-r-${launches}`, 4_000_000_000);
      if (block.length === BLOCK) {
        blocks.push(percentile(block, 50));
        block = [];
      }
    }
    if (block.length > 0) blocks.push(percentile(block, 50));
    return {
      calls: calls + 2 * launches,
      ms: performance.now() - started,
      launchTransactions: launches,
      launchP50First: blocks[0] ?? Number.NaN,
      launchP50Last: blocks.at(-1) ?? Number.NaN,
    };
  } finally {
    client.destroy();
  }
}
