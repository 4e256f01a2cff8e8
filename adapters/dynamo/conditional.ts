import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";

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

/**
 * A transaction whose first item is a claim (a conditional put that only one writer may make),
 * sent: true when all of it was written, false when the claim was taken already (nothing was
 * written). Any other failure is thrown.
 */
export async function claimHeld(transaction: Promise<unknown>): Promise<boolean> {
  try {
    await transaction;
    return true;
  } catch (error) {
    if (
      error instanceof TransactionCanceledException &&
      error.CancellationReasons?.[0]?.Code === "ConditionalCheckFailed"
    ) {
      return false;
    }
    throw error;
  }
}
