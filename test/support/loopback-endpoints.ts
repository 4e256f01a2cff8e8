// Integration and browser tests run the LMS, the LRS and the tool on loopback over plain http:
// the local mode's rule (domain/endpoints.ts). Unit tests keep the deployed rule, https only.
import { allowLoopbackEndpoints } from "../../domain/endpoints.js";

allowLoopbackEndpoints();
