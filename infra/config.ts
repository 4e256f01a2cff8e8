/**
 * Deployment configuration of the CDK app, read once in `bin/app.ts` from the environment and
 * passed down as props: constructs never read `process.env` (the team's CDK convention).
 */
export interface InfraConfig {
  /** Deployment stage; part of the stack name, so `dev` and `prod` can share an account. */
  stage: string;
  /**
   * AWS region of the stack (HLTA_REGION, default eu-west-2, London): school staff's personal
   * data stays in the UK unless a provider deliberately chooses otherwise, whatever region the
   * deploying AWS profile happens to name.
   */
  region: string;
}

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d$/;
export const DEFAULT_REGION = "eu-west-2";

// Lower case, starts with a letter, short: it ends up in the stack name and in resource names
// that CloudFormation derives from it.
const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,15}$/;

export function infraConfigFrom(env: Record<string, string | undefined>): InfraConfig {
  const stage = env.HLTA_STAGE?.trim() || "dev";
  if (!STAGE_PATTERN.test(stage)) {
    throw new Error(`HLTA_STAGE must match ${STAGE_PATTERN} (got "${stage}")`);
  }
  return { stage, region: regionFrom(env) };
}

/**
 * The stack's region: HLTA_REGION, else London. Never AWS_REGION, which a shell or CI sets for
 * other reasons: the stack and the CLIs' `--table` must agree on one pin.
 */
export function regionFrom(env: Record<string, string | undefined>): string {
  const region = env.HLTA_REGION?.trim() || DEFAULT_REGION;
  if (!REGION_PATTERN.test(region)) {
    throw new Error(`HLTA_REGION must be an AWS region such as ${DEFAULT_REGION} (got "${region}")`);
  }
  return region;
}

export function stackNameFor(stage: string): string {
  return `Hlta-${stage}`;
}
