import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoCourseServicesStore } from "../../adapters/dynamo/course-services.js";
import { DynamoGradeJobStore } from "../../adapters/dynamo/grade-jobs.js";
import { DynamoRegistrationStore } from "../../adapters/dynamo/registrations.js";
import type { OnUnreadable } from "../../adapters/dynamo/unreadable.js";
import { AgsClient } from "../../lti-tool/advantage/ags.js";
import type { GradeDeliveryDeps } from "../../lti-tool/advantage/grades.js";
import { PlatformServiceClient } from "../../lti-tool/advantage/service-client.js";
import type { ToolSigner } from "../../lti-tool/tool-keys.js";

/** What grade delivery needs, over the one table; the signer signs the AGS token assertions. */
export function gradeDeliveryDeps(
  doc: DynamoDBDocumentClient,
  tableName: string,
  signer: ToolSigner,
  options: {
    fetch?: typeof fetch;
    backoffMs?: number;
    maxAttempts?: number;
    /** Told of each stored job its schema refuses (the handler logs it as an error). */
    onUnreadable?: OnUnreadable;
  } = {},
): GradeDeliveryDeps {
  const registrations = new DynamoRegistrationStore(doc, tableName);
  const courseServices = new DynamoCourseServicesStore(doc, tableName);
  const client = new PlatformServiceClient({ signer, ...(options.fetch ? { fetch: options.fetch } : {}) });
  return {
    jobs: new DynamoGradeJobStore(
      doc,
      tableName,
      options.onUnreadable ? { onUnreadable: options.onUnreadable } : {},
    ),
    ags: new AgsClient(client),
    platform: (issuer, clientId) => registrations.getPlatform(issuer, clientId),
    services: (course) => courseServices.services(course),
    link: (course, id) => courseServices.link(course, id),
    ...(options.backoffMs !== undefined ? { backoffMs: options.backoffMs } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
  };
}
