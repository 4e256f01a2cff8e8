import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { DynamoLrsRouteStore } from "../../../adapters/dynamo/lrs-routes.js";
import { createAesGcmCipher } from "../../../statements/credential-cipher.js";
import { InvalidLrsRouteError } from "../../../statements/errors.js";

const ddb = mockClient(DynamoDBDocumentClient);
const store = () =>
  new DynamoLrsRouteStore(
    ddb as unknown as DynamoDBDocumentClient,
    "hlta",
    createAesGcmCipher({ current: { kid: "k", key: new Uint8Array(32).fill(1) } }),
  );
const route = {
  scope: { issuer: "https://moodle.school.test", clientId: "abc" },
  name: "Provider LRS",
  endpoint: "https://lrs.example.org/xapi/",
  username: "key",
  password: "secret",
};

beforeEach(() => ddb.reset());

describe("LRS routes as the CLI and the admin set them", () => {
  it("refuses a route for a tenant that could never launch, naming each problem, and writes nothing", async () => {
    const error = await store()
      .saveRoute({
        ...route,
        scope: { issuer: "notaurl", clientId: "a\u0001", deploymentId: "d\uFFFD" },
        name: "n".repeat(201),
        endpoint: "http://lrs.example.org/xapi/",
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidLrsRouteError);
    const paths = (error as InvalidLrsRouteError).issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining(["scope.issuer", "scope.clientId", "scope.deploymentId", "name", "endpoint"]),
    );
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it("says whether there was a route to remove", async () => {
    ddb.on(DeleteCommand).resolves({});
    expect(await store().removeRoute("does-not-exist")).toBe(false);
    ddb.on(DeleteCommand).resolves({ Attributes: { routeId: "r1" } });
    expect(await store().removeRoute("r1")).toBe(true);
  });
});
