/**
 * Stands in for `@smithy/core/event-streams` in the Lambda bundles (an esbuild alias in
 * infra/constructs/hlta-function.ts and bench/build-bundles.ts, like lambda-credentials.ts).
 *
 * Event streams are the SDK's framing for streaming operations (S3 SelectObjectContent, Kinesis
 * SubscribeToShard, Bedrock, Transcribe…). No operation the tool calls has one: DynamoDB and
 * Secrets Manager have none, and of S3 the tool uses objects and presigned URLs only. The SDK's
 * protocol code still loads the module with a dynamic `import()`, and in a one-file bundle that
 * import made esbuild wrap the 157 @smithy/core modules it shares in lazy initialisers, which
 * then ran one by one at every cold start. Measured on the web bundle (`npm run bench`'s build):
 * 19 KB less to parse, and the cold import ≈ 4 ms (≈ 8 %) faster.
 *
 * What is left answers as the real module does until an event stream is actually used, and
 * then throws `EventStreamsNotBundledError`. If bundled code ever imports another name from the
 * module statically, esbuild stops with "No matching export"; names taken from its dynamic
 * import esbuild does not check, so `test/unit/bundles/no-event-streams.test.ts` reads every
 * import of the module in the installed SDK and checks that this file exports each name.
 */

export class EventStreamsNotBundledError extends Error {
  constructor() {
    super(
      "This operation uses an AWS event stream, which the tool's Lambda bundles leave out " +
        "(functions/no-event-streams.ts). Remove the alias from BUNDLE_ALIASES to use one.",
    );
    this.name = "EventStreamsNotBundledError";
  }
}

/** What a client keeps as its event-stream marshaller: it refuses when an operation uses it. */
class NoEventStreamMarshaller {
  serialize(): never {
    throw new EventStreamsNotBundledError();
  }
  deserialize(): never {
    throw new EventStreamsNotBundledError();
  }
}

/** Called by an S3 client's constructor (its runtime config): must not throw there. */
export const eventStreamSerdeProvider = (_options?: unknown) => new NoEventStreamMarshaller();

/** As the real one: the client's config gets the marshaller its provider makes. */
export const resolveEventStreamSerdeConfig = <T extends { eventStreamSerdeProvider: (input: T) => unknown }>(
  input: T,
) => Object.assign(input, { eventStreamMarshaller: input.eventStreamSerdeProvider(input) });

/** Built by the protocol only for an operation with an event stream. */
export class EventStreamSerde {
  constructor(_options?: unknown) {
    throw new EventStreamsNotBundledError();
  }
}
