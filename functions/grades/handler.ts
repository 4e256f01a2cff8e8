import { createDynamoClients } from "../../adapters/dynamo/client.js";
import { DynamoToolKeyStore } from "../../adapters/dynamo/tool-keys.js";
import { logUnreadable } from "../../adapters/dynamo/unreadable.js";
import { deliverDueGrades } from "../../lti-tool/advantage/grades.js";
import { StoredKeySigner } from "../../lti-tool/tool-keys.js";
import { jsonLogger } from "../web/log.js";
import { gradeDeliveryDeps } from "./deps.js";

const log = jsonLogger();
const tableName = process.env.TABLE_NAME ?? "";
if (!tableName) throw new Error("TABLE_NAME is not set");
const { doc } = createDynamoClients(process.env.AWS_REGION ? { region: process.env.AWS_REGION } : {});
const deps = gradeDeliveryDeps(doc, tableName, new StoredKeySigner(new DynamoToolKeyStore(doc, tableName)), {
  onUnreadable: logUnreadable(log),
});

/** EventBridge schedule (every minute): send due scores to LMS gradebooks, within a time budget. */
export const handler = async (_event: unknown, context?: { getRemainingTimeInMillis?: () => number }) => {
  const totals = { delivered: 0, retried: 0, parked: 0 };
  // No job starts with less than 15 s of the invocation left; each job takes at most 12 s
  // (jobBudgetMs), so every outcome is recorded before the function stops.
  const stopAt = Date.now() + (context?.getRemainingTimeInMillis?.() ?? 60_000) - 15_000;
  // Bounded: at most 20 rounds of 50.
  for (let round = 0; round < 20 && Date.now() < stopAt; round++) {
    const report = await deliverDueGrades({ ...deps, stopAt }, 50);
    totals.delivered += report.delivered;
    totals.retried += report.retried;
    totals.parked += report.parked;
    const handled = report.delivered + report.retried + report.parked;
    if (handled < 50) break;
  }
  if (totals.delivered + totals.retried + totals.parked > 0) log.info("grades.sweep", totals);
  return totals;
};
