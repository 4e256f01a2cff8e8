import { DEFAULT_DOUBLE_CREDENTIALS, startLrsDouble } from "./index.js";

/**
 * Run the LRS double on its own: `npx tsx dev/lrs-double/main.ts [port]`. Open the printed URL
 * to watch statements arrive; control faults with e.g.
 *   curl -XPOST localhost:PORT/_faults -H 'content-type: application/json' -d '{"failRate":0.3}'
 *   curl -XPOST 'localhost:PORT/_faults/down?ms=10000'
 */
const port = process.argv[2] ? Number(process.argv[2]) : 8089;
const double = await startLrsDouble({ port });
console.log(`LRS double on ${double.url}/ (xAPI endpoint ${double.endpoint})`);
console.log(
  `Basic credentials: ${DEFAULT_DOUBLE_CREDENTIALS.username} / ${DEFAULT_DOUBLE_CREDENTIALS.password} (development only)`,
);
const stop = async () => {
  await double.stop();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
