import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { DynamoLrsRouteStore } from "../../../adapters/dynamo/lrs-routes.js";
import { createAesGcmCipher } from "../../../statements/credential-cipher.js";
import { InvalidLrsRouteError } from "../../../statements/errors.js";
import { withoutUserinfo } from "../../../statements/lrs-client.js";

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

  it("refuses a blank deployment or ids with spaces around them, as a registration does, and writes nothing", async () => {
    for (const scope of [
      { ...route.scope, deploymentId: "" },
      { ...route.scope, deploymentId: " 1" },
      { ...route.scope, clientId: "abc " },
    ]) {
      const error = await store()
        .saveRoute({ ...route, scope })
        .catch((e: unknown) => e);
      expect(error, JSON.stringify(scope)).toBeInstanceOf(InvalidLrsRouteError);
      await expect(store().saveTenantSettings(scope, { actorIdentifier: "mbox" })).rejects.toBeInstanceOf(
        InvalidLrsRouteError,
      );
    }
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it("refuses an endpoint holding the LRS key and secret, a query or a fragment, and writes nothing", async () => {
    for (const [endpoint, said] of [
      ["https://lrs-key:TOP-SECRET@lrs.example.org/xapi/", "must not hold a key or secret"],
      ["https://lrs-key@lrs.example.org/xapi/", "must not hold a key or secret"],
      ["https://lrs.example.org/xapi/?tenant=1", "must not have a query or fragment"],
      ["https://lrs.example.org/xapi/#x", "must not have a query or fragment"],
    ] as const) {
      const error = await store()
        .saveRoute({ ...route, endpoint })
        .catch((e: unknown) => e);
      expect(error, endpoint).toBeInstanceOf(InvalidLrsRouteError);
      expect((error as InvalidLrsRouteError).issues).toContainEqual({
        path: "endpoint",
        message: expect.stringContaining(said),
      });
    }
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it("never quotes a key or secret that reached a network error's message", () => {
    expect(
      withoutUserinfo(
        "Request cannot be constructed from a URL that includes credentials: https://lrs-key:TOP-SECRET@lrs.example.org/xapi/statements",
      ),
    ).toBe(
      "Request cannot be constructed from a URL that includes credentials: https://[credentials removed]@lrs.example.org/xapi/statements",
    );
    expect(withoutUserinfo("connect ECONNREFUSED https://lrs.example.org/x")).toBe(
      "connect ECONNREFUSED https://lrs.example.org/x",
    );
  });

  it("says whether there was a route to remove", async () => {
    ddb.on(DeleteCommand).resolves({});
    expect(await store().removeRoute("does-not-exist")).toBe(false);
    ddb.on(DeleteCommand).resolves({ Attributes: { routeId: "r1" } });
    expect(await store().removeRoute("r1")).toBe(true);
  });
});
