import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";

/**
 * A conditional write, sent: true when it was written, false when its condition did not hold
 * (another writer got there first, or the item is not in the state it expected). Any other
 * failure is thrown.
 */
export async function conditionHeld(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
