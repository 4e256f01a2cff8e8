/**
 * Two instances of the web function (two cold starts) on one DynamoDB Local table: the second
 * checks a launch with the LMS's keys the first fetched, without asking the LMS.
 */
import { exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDeps, loadRuntimeConfig } from "../../../functions/web/compose.js";
import { silentLogger } from "../../../functions/web/log.js";
import { localAwsForTests } from "../../support/local-aws.js";

let aws: Awaited<ReturnType<typeof localAwsForTests>>;
beforeAll(async () => {
  aws = await localAwsForTests();
});
afterAll(async () => {
  await aws?.stop();
});

describe("the LMS's keys shared by the web function's instances", () => {
  it("a new instance takes the keys another fetched from the table, not from the LMS", async () => {
    const jwksUrl = `https://moodle.school.test/mod/lti/certs.php?t=${Date.now()}`;
    const { publicKey } = await generateKeyPair("RS256", { extractable: true });
    const key = { ...(await exportJWK(publicKey)), kid: "moodle-1", alg: "RS256", use: "sig" };
    const asked: string[] = [];
    const lms: typeof fetch = async (input) => {
      const url = String(input instanceof Request ? input.url : input);
      asked.push(url);
      return url === jwksUrl ? Response.json({ keys: [key] }) : new Response("not found", { status: 404 });
    };
    const config = loadRuntimeConfig({
      TABLE_NAME: aws.tableName,
      EVIDENCE_BUCKET: aws.bucketName,
      DYNAMODB_ENDPOINT: aws.dynamoEndpoint,
      S3_ENDPOINT: aws.s3Endpoint,
      HLTA_MODE: "aws",
    });
    const first = await buildDeps(config, { fetch: lms, log: silentLogger });
    expect(await first.platformKeys.verificationKey(jwksUrl, "moodle-1")).toBeDefined();
    expect(asked).toEqual([jwksUrl]);

    const second = await buildDeps(config, { fetch: lms, log: silentLogger });
    expect(await second.platformKeys.verificationKey(jwksUrl, "moodle-1")).toBeDefined();
    expect(asked).toEqual([jwksUrl]);
  });
});
