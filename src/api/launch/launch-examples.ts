import type { OpenAPIObject } from '@nestjs/swagger';
import { keyPairNameFor, NamingConfig } from '../../ec2/naming';
import type { DocumentPatch } from '../swagger';

export const EXAMPLE_WORKER_TYPE = 'builder';
/** An image every sandbox region knows from the start (src/sandbox/ec2/catalog.ts). */
export const EXAMPLE_IMAGE_ID = 'ami-0123456789abcdef0';
/**
 * In aws mode no image is known to exist: a well-formed id no account has, which the example's summary
 * says to replace (EC2 answers InvalidAMIID.NotFound for it, as a 400 naming the field).
 */
export const PLACEHOLDER_IMAGE_ID = 'ami-00000000000000000';

export interface ExampleConfig extends NamingConfig {
  regions: readonly string[];
  awsMode: 'sandbox' | 'aws';
}

/** Launch bodies for this deployment (its key name, its first region); in the sandbox they work as they are. */
export function launchExamples(config: ExampleConfig) {
  const spec = {
    ImageId: config.awsMode === 'aws' ? PLACEHOLDER_IMAGE_ID : EXAMPLE_IMAGE_ID,
    InstanceType: 'm5.large',
    KeyName: keyPairNameFor(config, EXAMPLE_WORKER_TYPE),
  };
  const region = config.regions[0];
  return {
    spot: {
      ClientToken: 'example-spot-request-0001',
      Region: region,
      SpotPrice: 0.5,
      LaunchSpecification: spec,
    },
    onDemand: {
      ClientToken: 'example-on-demand-0001',
      Region: region,
      RequestType: 'on-demand',
      LaunchInfo: { ...spec, Placement: { AvailabilityZone: `${region}a` } },
    },
    spotInstance: {
      ClientToken: 'example-spot-instance-0001',
      Region: region,
      RequestType: 'spot',
      SpotPrice: 0.5,
      LaunchInfo: spec,
    },
  };
}

function setExamples(
  doc: OpenAPIObject,
  path: string,
  examples: Record<string, { summary: string; value: unknown }>,
  method: 'put' | 'post' = 'put',
) {
  const body = doc.paths[path]?.[method]?.requestBody;
  if (!body || '$ref' in body) return;
  const json = body.content['application/json'];
  if (json) json.examples = examples;
}

/** launchFleet bodies for each capacity mode (SPEC §11); in the sandbox they work as they are. */
export function fleetExamples(config: ExampleConfig) {
  const region = config.regions[0];
  const base = {
    Region: region,
    Count: 4,
    Candidates: [
      { InstanceType: 'm5.large' },
      { InstanceType: 'c5.large', AvailabilityZone: `${region}b` },
      { InstanceType: 'm6i.large' },
    ],
    LaunchSpecification: {
      ImageId: config.awsMode === 'aws' ? PLACEHOLDER_IMAGE_ID : EXAMPLE_IMAGE_ID,
      KeyName: keyPairNameFor(config, EXAMPLE_WORKER_TYPE),
      MetadataOptions: { HttpTokens: 'required' },
    },
  };
  return {
    spot: {
      ...base,
      ClientToken: 'example-fleet-spot-0001',
      Capacity: 'spot',
      AllocationStrategy: 'price-capacity-optimized',
      MaxSpotPrice: 0.5,
    },
    onDemand: { ...base, ClientToken: 'example-fleet-on-demand-0001', Capacity: 'on-demand' },
    spotThenOnDemand: {
      ...base,
      ClientToken: 'example-fleet-fallback-0001',
      Capacity: 'spot-then-on-demand',
      AllocationStrategy: 'capacity-optimized',
    },
  };
}

/** Puts the launch examples into the OpenAPI document, so "Try it out" in Swagger UI works as is. */
export function launchExamplesPatch(config: ExampleConfig): DocumentPatch {
  const examples = launchExamples(config);
  const image =
    config.awsMode === 'aws'
      ? `; replace ImageId ${PLACEHOLDER_IMAGE_ID}, a placeholder, with an image (AMI) of your account in ${config.regions[0]}`
      : '';
  const note = `for worker type "${EXAMPLE_WORKER_TYPE}" (call ensureKeyPair for it first; change ClientToken for each new launch${image})`;
  return (doc) => {
    setExamples(doc, '/v1/worker-types/{workerType}/spot-request', {
      spot: { summary: `One-time spot request ${note}`, value: examples.spot },
    });
    setExamples(doc, '/v1/worker-types/{workerType}/instance', {
      onDemand: { summary: `On-demand instance ${note}`, value: examples.onDemand },
      spot: { summary: `Spot instance through RunInstances ${note}`, value: examples.spotInstance },
    });
    const fleets = fleetExamples(config);
    setExamples(
      doc,
      '/v1/worker-types/{workerType}/fleet',
      {
        spot: { summary: `Spot fleet over three instance types ${note}`, value: fleets.spot },
        onDemand: { summary: `On-demand fleet ${note}`, value: fleets.onDemand },
        spotThenOnDemand: {
          summary: `Spot, what spot cannot give on-demand ${note}`,
          value: fleets.spotThenOnDemand,
        },
      },
      'post',
    );
  };
}
