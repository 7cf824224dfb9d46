import { ActionDef } from '../context';
import { createFleet } from './fleet.actions';
import { describeInstanceAttribute, describeInstances, runInstances, terminateInstances } from './instances.actions';
import {
  createTags,
  deleteKeyPair,
  describeAvailabilityZones,
  describeImages,
  describeKeyPairs,
  describeSubnets,
  describeVolumes,
  importKeyPair,
} from './resources.actions';
import {
  cancelSpotInstanceRequests,
  describeSpotInstanceRequests,
  describeSpotPriceHistory,
  requestSpotInstances,
} from './spot.actions';
import {
  createLaunchTemplate,
  createLaunchTemplateVersion,
  deleteLaunchTemplate,
  describeLaunchTemplates,
  describeLaunchTemplateVersions,
  modifyLaunchTemplate,
} from './templates.actions';

export const ACTIONS: ReadonlyMap<string, ActionDef> = new Map([
  ['DescribeAvailabilityZones', describeAvailabilityZones],
  ['DescribeImages', describeImages],
  ['ImportKeyPair', importKeyPair],
  ['DescribeKeyPairs', describeKeyPairs],
  ['DeleteKeyPair', deleteKeyPair],
  ['RequestSpotInstances', requestSpotInstances],
  ['DescribeSpotInstanceRequests', describeSpotInstanceRequests],
  ['CancelSpotInstanceRequests', cancelSpotInstanceRequests],
  ['RunInstances', runInstances],
  ['DescribeInstances', describeInstances],
  ['TerminateInstances', terminateInstances],
  ['CreateTags', createTags],
  ['DescribeVolumes', describeVolumes],
  ['DescribeSpotPriceHistory', describeSpotPriceHistory],
  ['DescribeSubnets', describeSubnets],
  ['DescribeInstanceAttribute', describeInstanceAttribute],
  ['CreateLaunchTemplate', createLaunchTemplate],
  ['CreateLaunchTemplateVersion', createLaunchTemplateVersion],
  ['ModifyLaunchTemplate', modifyLaunchTemplate],
  ['DeleteLaunchTemplate', deleteLaunchTemplate],
  ['DescribeLaunchTemplates', describeLaunchTemplates],
  ['DescribeLaunchTemplateVersions', describeLaunchTemplateVersions],
  ['CreateFleet', createFleet],
]);
