/**
 * The region a SigV4-signed request was made for, from its credential scope
 * (`Credential=AKID/20250101/us-east-1/ec2/aws4_request`): the SDK signs for the client's region, which lets one
 * endpoint serve every region.
 */
export function regionFromAuthorization(header: string | undefined): string | undefined {
  if (!header) return undefined;
  return /Credential=[^/\s]+\/\d{8}\/([^/\s]+)\//.exec(header)?.[1];
}
