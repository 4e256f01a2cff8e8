import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { allCustomMatcher } from "aws-sdk-client-mock-vitest";
import "aws-sdk-client-mock-vitest/extend";
import { beforeEach, describe, expect, it } from "vitest";
import {
  DynamoOutboxStore,
  MAX_STATEMENT_BYTES,
  outboxTransactItems,
  XapiOutboxWriter,
} from "../../../adapters/dynamo/outbox.js";
import { buildStatement } from "../../../statements/builders.js";
import { StatementTooLargeError } from "../../../statements/errors.js";
import type { TenantXapiTarget } from "../../../statements/ports.js";
import { body, pendingEntry, ROUTE } from "./fakes.js";
import { eventOfType, SETTINGS } from "./fixtures.js";

expect.extend(allCustomMatcher);

const NOW = new Date("2025-03-04T08:15:31.000Z");

describe("outboxTransactItems", () => {
  it("gives one conditional Put per statement and route, holding the exact bytes, keyed OUTBOX#", () => {
    const built = buildStatement(eventOfType("launched"), SETTINGS);
    const items = outboxTransactItems([built], [{ routeId: "r1" }, { routeId: "r2" }], {
      tableName: "hlta",
      now: NOW,
    });
    expect(items).toEqual(
      ["r1", "r2"].map((routeId) => ({
        Put: {
          TableName: "hlta",
          Item: {
            pk: `OUTBOX#${built.id}`,
            sk: `ROUTE#${routeId}`,
            gsi1pk: `OUTBOX#${routeId}#pending`,
            gsi1sk: `2025-03-04T08:15:31.000Z#${built.id}`,
            kind: "xapi-outbox",
            statementId: built.id,
            routeId,
            eventType: "launched",
            body: built.json,
            status: "pending",
            attempts: 0,
            createdAt: "2025-03-04T08:15:31.000Z",
            nextAttemptAt: "2025-03-04T08:15:31.000Z",
          },
          ConditionExpression: "attribute_not_exists(pk)",
        },
      })),
    );
  });

  it("gives nothing when the tenant has no LRS", () => {
    const built = buildStatement(eventOfType("launched"), SETTINGS);
    expect(outboxTransactItems([built], [], { tableName: "hlta", now: NOW })).toEqual([]);
  });

  it("refuses a statement too large for one item", () => {
    const huge = { id: "x", eventType: "launched" as const, json: "x".repeat(MAX_STATEMENT_BYTES + 1) };
    let caught: unknown;
    try {
      outboxTransactItems([huge], [{ routeId: "r1" }], { tableName: "hlta", now: NOW });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StatementTooLargeError);
    expect(caught).toMatchObject({ code: "xapi.statement_too_large" });
  });
});

describe("XapiOutboxWriter", () => {
  const writer = (target: TenantXapiTarget) =>
    new XapiOutboxWriter(
      { resolveTenant: async () => target },
      { tableName: "hlta", emitter: "hlta-lti-tool/0.1.0", now: () => NOW },
    );

  it("builds each event's statement with the tenant's identifier type, once per route", async () => {
    const routes = [ROUTE, { ...ROUTE, routeId: "route-2" }];
    const { items, statements, notes } = await writer({ actorIdentifier: "mbox", routes }).transactItemsFor([
      eventOfType("launched"),
    ]);
    expect(items.map((i) => i.Put.Item.sk)).toEqual(["ROUTE#route-1", "ROUTE#route-2"]);
    expect(statements[0]?.statement.actor).toMatchObject({ mbox: "mailto:sam.jones@school.example" });
    expect(items[0]?.Put.Item.body).toBe(statements[0]?.json);
    expect(notes).toEqual([]);
  });

  it("writes nothing for a tenant without an LRS", async () => {
    const result = await writer({ actorIdentifier: "account", routes: [] }).transactItemsFor([
      eventOfType("launched"),
    ]);
    expect(result).toEqual({ items: [], statements: [], notes: [] });
  });
});

describe("DynamoOutboxStore commands", () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const store = new DynamoOutboxStore(ddb as unknown as DynamoDBDocumentClient, "hlta");
  beforeEach(() => ddb.reset());

  it("reads due entries of one route from gsi1, oldest first, up to now", async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    await store.listDue("r1", NOW, 500);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: "hlta",
      IndexName: "gsi1",
      KeyConditionExpression: "#gpk = :gpk AND #gsk <= :due",
      ExpressionAttributeValues: { ":gpk": "OUTBOX#r1#pending", ":due": "2025-03-04T08:15:31.000Z#~" },
      Limit: 500,
    });
  });

  it("marks delivered in batches of 25 and resends what DynamoDB left unprocessed", async () => {
    const entries = Array.from({ length: 60 }, (_, i) => pendingEntry(`id-${i}`, body(`id-${i}`)));
    let first = true;
    ddb.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => {
      const requests = input.RequestItems.hlta ?? [];
      if (first) {
        first = false;
        return { UnprocessedItems: { hlta: requests.slice(0, 2) } };
      }
      return { UnprocessedItems: {} };
    });
    await store.markDelivered(entries, NOW);
    const sizes = ddb.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems?.hlta?.length);
    expect(sizes).toEqual([25, 25, 10, 2]);
    const firstPut =
      ddb.commandCalls(BatchWriteCommand)[0]?.args[0].input.RequestItems?.hlta?.[0]?.PutRequest?.Item;
    expect(firstPut).toMatchObject({
      pk: "OUTBOX#id-0",
      sk: "ROUTE#route-1",
      gsi1pk: "OUTBOX#route-1#delivered",
      status: "delivered",
      deliveredAt: "2025-03-04T08:15:31.000Z",
      body: body("id-0"),
      expiresAt: Math.floor(NOW.getTime() / 1000) + 30 * 86_400,
    });
  });

  it("records failed attempts as whole pending items, due at the back-off time", async () => {
    ddb.on(BatchWriteCommand).resolves({ UnprocessedItems: {} });
    const entry = pendingEntry("id-1", body("id-1"));
    await store.reschedule([{ entry, attempts: 1, nextAttemptAt: NOW, lastError: "the LRS answered 503" }]);
    expect(ddb).toHaveReceivedCommandWith(BatchWriteCommand, {
      RequestItems: {
        hlta: [
          {
            PutRequest: {
              Item: {
                pk: "OUTBOX#id-1",
                sk: "ROUTE#route-1",
                gsi1pk: "OUTBOX#route-1#pending",
                gsi1sk: "2025-03-04T08:15:31.000Z#id-1",
                kind: "xapi-outbox",
                statementId: "id-1",
                routeId: "route-1",
                body: body("id-1"),
                createdAt: "2025-01-01T00:00:00.000Z",
                status: "pending",
                attempts: 1,
                nextAttemptAt: "2025-03-04T08:15:31.000Z",
                lastError: "the LRS answered 503",
              },
            },
          },
        ],
      },
    });
  });

  it("parks only an entry that is still pending: a lost race is not an error", async () => {
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: "lost", $metadata: {} }));
    await expect(
      store.park(pendingEntry("id-3", body("id-3")), {
        reason: "the LRS rejected the statement as invalid",
        parkedAt: "2025-03-04T08:15:31.000Z",
        attempts: 1,
      }),
    ).resolves.toBeUndefined();
  });

  it("parks with the reason and the LRS's answer, moving the entry to the parked listing", async () => {
    ddb.on(UpdateCommand).resolves({});
    await store.park(pendingEntry("id-2", body("id-2")), {
      reason: "the LRS rejected the statement as invalid",
      lrsStatus: 400,
      lrsBody: '{"message":"bad"}',
      parkedAt: "2025-03-04T08:15:31.000Z",
      attempts: 1,
    });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      ConditionExpression: "#status = :pending",
      ExpressionAttributeValues: {
        ":parked": "parked",
        ":gpk": "OUTBOX#route-1#parked",
        ":gsk": "2025-03-04T08:15:31.000Z#id-2",
        ":reason": "the LRS rejected the statement as invalid",
        ":parkedAt": "2025-03-04T08:15:31.000Z",
        ":attempts": 1,
        ":pending": "pending",
        ":lrsStatus": 400,
        ":lrsBody": '{"message":"bad"}',
      },
    });
  });
});
