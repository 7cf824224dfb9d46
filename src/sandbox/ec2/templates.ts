import { hexId, uniqueId } from '../ids';
import { Ec2Error, invalidCombination, missingParameter } from './errors';
import { LaunchTemplate, LaunchTemplateVersion, RegionState, Tags, TemplateData } from './model';
import { renderTags } from './render';
import { iso, NamedList, XmlObject, XmlValue } from './xml';

export const TEMPLATE_ID = /^lt-([0-9a-f]{8}|[0-9a-f]{17})$/;
const TEMPLATE_NAME = /^[a-zA-Z0-9().\-/_]{3,128}$/;

/** How a request names a template (`LaunchTemplateId` or `LaunchTemplateName`) and, optionally, a version. */
export interface TemplateRef {
  id?: string;
  name?: string;
  version?: string;
}

export function checkTemplateName(name: string): void {
  if (!TEMPLATE_NAME.test(name)) {
    throw new Ec2Error(
      'InvalidLaunchTemplateName.MalformedException',
      'A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.',
    );
  }
}

export function checkTemplateId(id: string): void {
  if (!TEMPLATE_ID.test(id)) {
    throw new Ec2Error(
      'InvalidLaunchTemplateId.Malformed',
      `The specified ID for the launch template, ${id}, is not valid. Reissue the request with a valid ID.`,
    );
  }
}

export function templateIdNotFound(id: string): Ec2Error {
  return new Ec2Error(
    'InvalidLaunchTemplateId.NotFound',
    `The specified launch template, with template ID ${id}, does not exist.`,
  );
}

export function templateNameNotFound(): Ec2Error {
  return new Ec2Error(
    'InvalidLaunchTemplateName.NotFoundException',
    'At least one of the launch templates specified in the request does not exist.',
  );
}

export function createTemplate(
  region: RegionState,
  name: string,
  data: TemplateData,
  description: string | undefined,
  tags: Tags,
  now: number,
): LaunchTemplate {
  checkTemplateName(name);
  if (region.launchTemplatesByName.has(name)) {
    throw new Ec2Error('InvalidLaunchTemplateName.AlreadyExistsException', 'Launch template name already in use.');
  }
  const template: LaunchTemplate = {
    seq: region.nextSeq(),
    removed: false,
    launchTemplateId: uniqueId(
      () => hexId('lt'),
      (id) => region.launchTemplates.has(id),
    ),
    launchTemplateName: name,
    createTime: now,
    defaultVersion: 1,
    latestVersion: 1,
    versions: new Map([[1, { versionNumber: 1, description, createTime: now, data }]]),
    tags,
  };
  region.launchTemplates.set(template.launchTemplateId, template);
  region.launchTemplatesByName.set(name, template);
  return template;
}

export function addVersion(
  template: LaunchTemplate,
  data: TemplateData,
  description: string | undefined,
  now: number,
): LaunchTemplateVersion {
  const version: LaunchTemplateVersion = {
    versionNumber: template.latestVersion + 1,
    description,
    createTime: now,
    data,
  };
  template.versions.set(version.versionNumber, version);
  template.latestVersion = version.versionNumber;
  return version;
}

export function deleteTemplate(region: RegionState, template: LaunchTemplate): void {
  template.removed = true;
  region.launchTemplates.delete(template.launchTemplateId);
  region.launchTemplatesByName.delete(template.launchTemplateName);
}

/** The template a request names by id or by name, or EC2's error. */
export function findTemplate(region: RegionState, ref: TemplateRef, path = ''): LaunchTemplate {
  if (ref.id !== undefined && ref.name !== undefined) {
    throw invalidCombination(`${path}LaunchTemplateId and ${path}LaunchTemplateName cannot be used together.`);
  }
  if (ref.id !== undefined) {
    checkTemplateId(ref.id);
    const found = region.launchTemplates.get(ref.id);
    if (!found) throw templateIdNotFound(ref.id);
    return found;
  }
  if (ref.name !== undefined) {
    const found = region.launchTemplatesByName.get(ref.name);
    if (!found) throw templateNameNotFound();
    return found;
  }
  throw new Ec2Error(
    'MissingParameter',
    `The request must contain the parameter ${path}LaunchTemplateId or ${path}LaunchTemplateName`,
  );
}

/** `$Latest`, `$Default` or a version number; no version means the default one, as RunInstances does. */
export function findVersion(template: LaunchTemplate, version: string | undefined): LaunchTemplateVersion {
  const number =
    version === undefined || version === '$Default'
      ? template.defaultVersion
      : version === '$Latest'
        ? template.latestVersion
        : /^\d+$/.test(version)
          ? Number(version)
          : NaN;
  if (Number.isNaN(number)) {
    throw new Ec2Error(
      'InvalidLaunchTemplateId.VersionNotFound',
      `The specified version ${version} for launch template ${template.launchTemplateId} is not valid.`,
    );
  }
  const found = template.versions.get(number);
  if (!found) {
    throw new Ec2Error(
      'InvalidLaunchTemplateId.VersionNotFound',
      `The specified version ${version} for launch template ${template.launchTemplateId} does not exist.`,
    );
  }
  return found;
}

export function requireVersion(ref: TemplateRef, path: string): string {
  if (ref.version === undefined || ref.version === '') throw missingParameter(`${path}Version`);
  return ref.version;
}

const CREATED_BY = (accountId: string) => `arn:aws:iam::${accountId}:root`;

export function renderTemplate(t: LaunchTemplate, accountId: string): XmlObject {
  return {
    launchTemplateId: t.launchTemplateId,
    launchTemplateName: t.launchTemplateName,
    createTime: iso(t.createTime),
    createdBy: CREATED_BY(accountId),
    defaultVersionNumber: t.defaultVersion,
    latestVersionNumber: t.latestVersion,
    tagSet: renderTags(t.tags),
  };
}

export function renderTemplateVersion(t: LaunchTemplate, v: LaunchTemplateVersion, accountId: string): XmlObject {
  return {
    launchTemplateId: t.launchTemplateId,
    launchTemplateName: t.launchTemplateName,
    versionNumber: v.versionNumber,
    versionDescription: v.description,
    createTime: iso(v.createTime),
    createdBy: CREATED_BY(accountId),
    defaultVersion: v.versionNumber === t.defaultVersion,
    launchTemplateData: renderTemplateData(v.data),
  };
}

function nonEmpty(list: XmlValue[]): XmlValue[] | undefined {
  return list.length > 0 ? list : undefined;
}

function renderTemplateData(d: TemplateData): XmlObject {
  return {
    iamInstanceProfile: d.iamInstanceProfile ? { arn: d.iamInstanceProfile.arn, name: d.iamInstanceProfile.name } : undefined,
    blockDeviceMappingSet: nonEmpty(
      d.blockDevices.map((b) => ({
        deviceName: b.deviceName,
        noDevice: b.noDevice ? '' : undefined,
        ebs: b.noDevice
          ? undefined
          : {
              encrypted: b.encrypted,
              deleteOnTermination: b.deleteOnTermination,
              iops: b.iops,
              snapshotId: b.snapshotId,
              volumeSize: b.volumeSize,
              volumeType: b.volumeType,
            },
      })),
    ),
    networkInterfaceSet: nonEmpty(
      d.networkInterfaces.map((n) => ({
        associatePublicIpAddress: n.associatePublicIpAddress,
        deleteOnTermination: n.deleteOnTermination,
        description: n.description,
        deviceIndex: n.deviceIndex,
        groupSet: n.groups.length > 0 ? new NamedList('groupId', n.groups) : undefined,
        subnetId: n.subnetId,
      })),
    ),
    imageId: d.imageId,
    instanceType: d.instanceType,
    keyName: d.keyName,
    placement: d.zone ? { availabilityZone: d.zone } : undefined,
    instanceInitiatedShutdownBehavior: d.shutdownBehavior,
    userData: d.userData,
    tagSpecificationSet: nonEmpty(
      [...d.tagSpecifications].map(([resourceType, tags]) => ({ resourceType, tagSet: renderTags(tags) })),
    ),
    securityGroupIdSet: nonEmpty(d.securityGroupIds),
    securityGroupSet: nonEmpty(d.securityGroups),
    instanceMarketOptions: d.spot ? { marketType: 'spot', spotOptions: { maxPrice: d.spot.maxPrice } } : undefined,
    creditSpecification: d.cpuCredits ? { cpuCredits: d.cpuCredits } : undefined,
    metadataOptions: d.metadataOptions ? { state: 'applied', ...d.metadataOptions } : undefined,
  };
}
