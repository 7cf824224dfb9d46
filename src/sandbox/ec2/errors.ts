/** An EC2 API error: rendered as EC2's XML error document with `status`. */
export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'Ec2Error';
  }
}

export const missingParameter = (name: string) =>
  new Ec2Error('MissingParameter', `The request must contain the parameter ${name}`);

export const unknownParameter = (name: string) =>
  new Ec2Error('UnknownParameter', `The parameter ${name} is not recognized`);

export const invalidValue = (name: string, value: string, reason?: string) =>
  new Ec2Error(
    'InvalidParameterValue',
    `Value (${value}) for parameter ${name} is invalid.${reason ? ` ${reason}` : ''}`,
  );

export const invalidCombination = (message: string) => new Ec2Error('InvalidParameterCombination', message);

export const dryRunSucceeded = () =>
  new Ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);

export const throttled = () => new Ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503);

export const invalidAction = (action: string) =>
  new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);

export function notFound(code: string, noun: string, ids: string[]): Ec2Error {
  const quoted = ids.map((id) => `'${id}'`).join(', ');
  return ids.length === 1
    ? new Ec2Error(code, `The ${noun} ID ${quoted} does not exist`)
    : new Ec2Error(code, `The ${noun} IDs ${quoted} do not exist`);
}

export function malformed(code: string, noun: string, id: string): Ec2Error {
  return new Ec2Error(code, `Invalid id: "${id}" (expecting "${noun}")`);
}
