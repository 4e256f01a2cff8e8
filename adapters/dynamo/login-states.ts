import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import {
  NonceReplayedError,
  StateNotBoundError,
  StateReplayedError,
  UnknownStateError,
} from "../../lti-tool/errors.js";
import type { LoginState, LoginStateStore } from "../../lti-tool/ports.js";
import { isExpired, keys, TABLE_KEYS } from "./table.js";

const LoginStateItemSchema = z.object({
  state: z.string(),
  nonce: z.string(),
  issuer: z.string(),
  clientId: z.string(),
  deploymentId: z.string().optional(),
  targetLinkUri: z.string(),
  bindingHash: z.string(),
  authRedirectUrl: z.string(),
  binding: z.enum(["cookie", "platform-storage"]),
  loginParams: z.record(z.string(), z.string()),
  createdAt: z.string(),
  expiresAt: z.number(),
  consumedAt: z.string().optional(),
});

function toLoginState(item: Record<string, unknown>): LoginState & { consumedAt?: string } {
  const { deploymentId, consumedAt, ...rest } = LoginStateItemSchema.parse(item);
  return { ...rest, ...(deploymentId ? { deploymentId } : {}), ...(consumedAt ? { consumedAt } : {}) };
}

const unknownState = () =>
  new UnknownStateError(
    "This launch was not started by the tool, or it took too long. Please launch the tool again from your course.",
  );

/**
 * Single-use OIDC state and nonce on conditional writes: DynamoDB decides atomically whether a
 * state or nonce is used, so two concurrent launches with the same token cannot both pass.
 */
export class DynamoLoginStateStore implements LoginStateStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async saveState(state: LoginState): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.loginState(state.state), kind: "login-state", ...state },
        ConditionExpression: "attribute_not_exists(#pk)",
        ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk },
      }),
    );
  }

  async peekState(state: string): Promise<LoginState | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.loginState(state) }),
    );
    if (!out.Item || isExpired(out.Item)) return undefined;
    const { consumedAt: _consumed, ...loginState } = toLoginState(out.Item);
    return loginState;
  }

  async consumeState(state: string, bindingHash: string, nowSeconds: number): Promise<LoginState> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.loginState(state),
          UpdateExpression: "SET consumedAt = :at",
          // One round trip decides all four: issued, not expired, not used, same browser.
          ConditionExpression:
            "attribute_exists(#pk) AND attribute_not_exists(consumedAt) AND expiresAt > :now AND bindingHash = :bh",
          ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk },
          ExpressionAttributeValues: {
            ":at": new Date(nowSeconds * 1000).toISOString(),
            ":now": nowSeconds,
            ":bh": bindingHash,
          },
          ReturnValues: "ALL_NEW",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      const { consumedAt: _consumed, ...loginState } = toLoginState(out.Attributes ?? {});
      return loginState;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Tell the user which check failed, from the item as it was.
      const old = error.Item ? toPlainItem(error.Item) : undefined;
      if (!old || isExpired(old, nowSeconds)) throw unknownState();
      if (old.consumedAt !== undefined) {
        throw new StateReplayedError(
          "This launch has already been used. Please launch the tool again from your course.",
          { context: { state: `${state.slice(0, 8)}…` } },
        );
      }
      throw new StateNotBoundError(
        "Your browser did not keep the tool's launch cookie, so the launch cannot be confirmed as yours. Open the tool in a new window to continue.",
        { context: { state: `${state.slice(0, 8)}…`, proofGiven: bindingHash !== "" } },
      );
    }
  }

  async useNonce(issuer: string, nonce: string, expiresAt: number): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.usedNonce(issuer, nonce), kind: "used-nonce", [TABLE_KEYS.ttl]: expiresAt },
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new NonceReplayedError(
          "This launch has already been used. Please launch the tool again from your course.",
          {
            context: { issuer },
          },
        );
      }
      throw error;
    }
  }
}

/** ConditionalCheckFailedException.Item comes in the low-level AttributeValue shape. */
function toPlainItem(item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) {
    if (v && typeof v === "object") {
      const av = v as { S?: string; N?: string; BOOL?: boolean };
      out[k] = av.S ?? (av.N !== undefined ? Number(av.N) : av.BOOL);
    }
  }
  return out;
}
