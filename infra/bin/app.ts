import { App, Tags } from "aws-cdk-lib";
import { infraConfigFrom, stackNameFor } from "../config.js";
import { HltaStack } from "../stacks/hlta-stack.js";

// The only place that reads the environment; everything below receives props.
const config = infraConfigFrom(process.env);

const app = new App();
Tags.of(app).add("project", "hlta-lti-tool");
Tags.of(app).add("stage", config.stage);

// The region is pinned (infra/config.ts: eu-west-2 unless HLTA_REGION says otherwise), the
// account is not: the stack does no context lookups, so `cdk synth` works offline, and
// `cdk deploy` takes the account from the AWS profile.
new HltaStack(app, stackNameFor(config.stage), {
  env: { region: config.region },
  stage: config.stage,
  description: `HLTA preparation LTI 1.3 tool (${config.stage})`,
});
