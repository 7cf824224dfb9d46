import { action, ActionContext, checkDryRun, replayOf } from '../context';
import { Ec2Error, invalidValue, missingParameter } from '../errors';
import { compileFilters, FilterSpec, parseFilters } from '../filters';
import { mergeLaunchData, parseLaunchData } from '../launch';
import { LaunchTemplate, LaunchTemplateVersion, RegionState } from '../model';
import { encodeToken, decodeToken } from '../paging';
import { Query } from '../query';
import { parseTagSpecifications } from '../tags';
import {
  addVersion,
  checkTemplateId,
  createTemplate,
  deleteTemplate,
  findTemplate,
  findVersion,
  renderTemplate,
  renderTemplateVersion,
  TemplateRef,
  templateIdNotFound,
  templateNameNotFound,
} from '../templates';
import { iso } from '../xml';

const TEMPLATE_FILTERS: FilterSpec<LaunchTemplate> = {
  fields: {
    'launch-template-name': (t) => t.launchTemplateName,
    'launch-template-id': (t) => t.launchTemplateId,
    'create-time': (t) => iso(t.createTime),
  },
  tags: (t) => t.tags,
};

interface VersionRow {
  template: LaunchTemplate;
  version: LaunchTemplateVersion;
}

const VERSION_FILTERS: FilterSpec<VersionRow> = {
  fields: {
    'is-default-version': (r) => r.version.versionNumber === r.template.defaultVersion,
    'image-id': (r) => r.version.data.imageId,
    'instance-type': (r) => r.version.data.instanceType,
    'key-name': (r) => r.version.data.keyName,
    'create-time': (r) => iso(r.version.createTime),
  },
};

function templateRef(q: Query): TemplateRef {
  return { id: q.str('LaunchTemplateId'), name: q.str('LaunchTemplateName') };
}

function requiredData(q: Query) {
  const data = q.child('LaunchTemplateData');
  if (!data) throw missingParameter('LaunchTemplateData');
  return parseLaunchData(data);
}

function checkDescription(description: string | undefined): void {
  if (description !== undefined && description.length > 255) {
    throw invalidValue('VersionDescription', description, 'At most 255 characters.');
  }
}

/** Client tokens are kept per operation: the SDK fills one in for every call. */
function tokenKey(ctx: ActionContext, action: string): string | undefined {
  const token = ctx.q.str('ClientToken');
  return token === undefined ? undefined : `${action}:${token}`;
}

export const createLaunchTemplate = action(
  ['DryRun', 'ClientToken', 'LaunchTemplateName', 'VersionDescription', 'LaunchTemplateData', 'Operator', 'TagSpecification'],
  (ctx) => {
    const { q, region, ec2 } = ctx;
    const name = q.required('LaunchTemplateName');
    const data = requiredData(q);
    const description = q.str('VersionDescription');
    checkDescription(description);
    const tags = parseTagSpecifications(q, ['launch-template']).get('launch-template') ?? new Map<string, string>();
    const key = tokenKey(ctx, 'CreateLaunchTemplate');
    const previous = replayOf(region.templateTokens, key, ctx);
    if (previous) {
      const template = region.launchTemplates.get(previous.ids[0]);
      if (!template) throw templateIdNotFound(previous.ids[0]);
      return { launchTemplate: renderTemplate(template, ec2.accountId) };
    }
    checkDryRun(ctx);
    const template = createTemplate(region, name, data, description, tags, ec2.clock.now());
    if (key !== undefined) {
      region.templateTokens.set(key, { fingerprint: ctx.fingerprint, ids: [template.launchTemplateId] });
    }
    return { launchTemplate: renderTemplate(template, ec2.accountId) };
  },
);

export const createLaunchTemplateVersion = action(
  [
    'DryRun', 'ClientToken', 'LaunchTemplateId', 'LaunchTemplateName', 'SourceVersion', 'VersionDescription',
    'LaunchTemplateData', 'ResolveAlias',
  ], // prettier-ignore
  (ctx) => {
    const { q, region, ec2 } = ctx;
    const template = findTemplate(region, templateRef(q));
    const source = q.str('SourceVersion');
    const given = requiredData(q);
    const description = q.str('VersionDescription');
    checkDescription(description);
    const data = source === undefined ? given : mergeLaunchData(findVersion(template, source).data, given);
    const key = tokenKey(ctx, 'CreateLaunchTemplateVersion');
    const previous = replayOf(region.templateTokens, key, ctx);
    if (previous) {
      const version = template.versions.get(Number(previous.ids[1]));
      if (version) return { launchTemplateVersion: renderTemplateVersion(template, version, ec2.accountId) };
    }
    checkDryRun(ctx);
    const version = addVersion(template, data, description, ec2.clock.now());
    if (key !== undefined) {
      region.templateTokens.set(key, {
        fingerprint: ctx.fingerprint,
        ids: [template.launchTemplateId, String(version.versionNumber)],
      });
    }
    return { launchTemplateVersion: renderTemplateVersion(template, version, ec2.accountId) };
  },
);

export const modifyLaunchTemplate = action(
  ['DryRun', 'ClientToken', 'LaunchTemplateId', 'LaunchTemplateName', 'SetDefaultVersion', 'LaunchTemplate'],
  (ctx) => {
    const { q, region, ec2 } = ctx;
    const template = findTemplate(region, templateRef(q));
    const wanted = q.str('SetDefaultVersion');
    const version = wanted === undefined ? undefined : findVersion(template, wanted);
    checkDryRun(ctx);
    if (version) template.defaultVersion = version.versionNumber;
    return { launchTemplate: renderTemplate(template, ec2.accountId) };
  },
);

export const deleteLaunchTemplate = action(['DryRun', 'LaunchTemplateId', 'LaunchTemplateName'], (ctx) => {
  const { q, region, ec2 } = ctx;
  const template = findTemplate(region, templateRef(q));
  checkDryRun(ctx);
  deleteTemplate(region, template);
  return { launchTemplate: renderTemplate(template, ec2.accountId) };
});

export const describeLaunchTemplates = action(
  ['DryRun', 'LaunchTemplateId', 'LaunchTemplateName', 'Filter', 'NextToken', 'MaxResults'],
  (ctx) => {
    const { q, region, ec2 } = ctx;
    const ids = q.strList('LaunchTemplateId');
    const names = q.strList('LaunchTemplateName');
    ids.forEach(checkTemplateId);
    const missingId = ids.find((id) => !region.launchTemplates.has(id));
    if (missingId !== undefined) throw templateIdNotFound(missingId);
    if (names.some((n) => !region.launchTemplatesByName.has(n))) throw templateNameNotFound();
    const accept = compileFilters(parseFilters(q), TEMPLATE_FILTERS);
    const limit = q.int('MaxResults', 1, 200) ?? 200;
    const token = q.str('NextToken');
    const after = token ? decodeToken(token, 'DescribeLaunchTemplates').position : -1;
    checkDryRun(ctx);
    const wanted = (t: LaunchTemplate) =>
      (ids.length === 0 || ids.includes(t.launchTemplateId)) &&
      (names.length === 0 || names.includes(t.launchTemplateName));
    const all = sortedTemplates(region).filter((t) => t.seq > after && wanted(t) && accept(t));
    const page = all.slice(0, limit);
    return {
      launchTemplates: page.map((t) => renderTemplate(t, ec2.accountId)),
      nextToken:
        all.length > limit ? encodeToken('DescribeLaunchTemplates', page[page.length - 1].seq) : undefined,
    };
  },
);

export const describeLaunchTemplateVersions = action(
  [
    'DryRun', 'LaunchTemplateId', 'LaunchTemplateName', 'LaunchTemplateVersion', 'MinVersion', 'MaxVersion',
    'NextToken', 'MaxResults', 'Filter', 'ResolveAlias',
  ], // prettier-ignore
  (ctx) => {
    const { q, region, ec2 } = ctx;
    const ref = templateRef(q);
    const asked = q.strList('LaunchTemplateVersion');
    const min = q.int('MinVersion', 1);
    const max = q.int('MaxVersion', 1);
    const accept = compileFilters(parseFilters(q), VERSION_FILTERS);
    const limit = q.int('MaxResults', 1, 200) ?? 200;
    const token = q.str('NextToken');
    const after = token ? decodeToken(token, 'DescribeLaunchTemplateVersions').position : -1;
    let rows: VersionRow[];
    if (ref.id === undefined && ref.name === undefined) {
      // Without a template EC2 describes the $Latest or $Default version of every template.
      if (asked.length === 0 || asked.some((v) => v !== '$Latest' && v !== '$Default')) {
        throw new Ec2Error(
          'MissingParameter',
          'The request must contain the parameter LaunchTemplateId or LaunchTemplateName, or only the versions $Latest and $Default',
        );
      }
      rows = sortedTemplates(region).flatMap((template) =>
        [...new Set(asked.map((v) => findVersion(template, v)))].map((version) => ({ template, version })),
      );
    } else {
      const template = findTemplate(region, ref);
      const versions =
        asked.length > 0
          ? [...new Set(asked.map((v) => findVersion(template, v)))]
          : [...template.versions.values()].filter(
              (v) => (min === undefined || v.versionNumber >= min) && (max === undefined || v.versionNumber <= max),
            );
      rows = versions.sort((a, b) => a.versionNumber - b.versionNumber).map((version) => ({ template, version }));
    }
    checkDryRun(ctx);
    const all = rows.filter(accept);
    const page = all.slice(after + 1, after + 1 + limit);
    return {
      launchTemplateVersionSet: page.map((r) => renderTemplateVersion(r.template, r.version, ec2.accountId)),
      nextToken:
        all.length > after + 1 + limit
          ? encodeToken('DescribeLaunchTemplateVersions', after + limit)
          : undefined,
    };
  },
);

function sortedTemplates(region: RegionState): LaunchTemplate[] {
  return [...region.launchTemplates.values()].sort((a, b) => a.seq - b.seq);
}
