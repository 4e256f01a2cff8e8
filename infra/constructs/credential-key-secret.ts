import { RemovalPolicy } from "aws-cdk-lib";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";

export interface CredentialKeySecretProps {
  description: string;
  /** Default RETAIN: losing the secret makes every credential sealed with it unreadable. */
  removalPolicy?: RemovalPolicy;
}

/**
 * A Secrets Manager secret holding the key material that seals stored credentials (the LRS
 * credentials in the table are AES-256-GCM ciphertexts). CloudFormation has Secrets Manager
 * generate the value, so it never appears in the template, the CDK app or a deploy log; the
 * functions get only the ARN (`HltaFunction.bindSecret`) and fetch the value at cold start.
 *
 * The value is 43 characters from [A-Za-z0-9] (43 × log2 62 ≈ 256 bits); the code derives the
 * 32-byte AES key as SHA-256 of its UTF-8 bytes. No rotation schedule: a new value would orphan
 * the sealed credentials. Rotating means re-sealing them under a new key id, a deliberate step.
 */
export class CredentialKeySecret extends Construct {
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: CredentialKeySecretProps) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, "Secret", {
      description: props.description,
      generateSecretString: { passwordLength: 43, excludePunctuation: true, includeSpace: false },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
