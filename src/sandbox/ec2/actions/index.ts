import { ActionDef } from '../context';
import { describeInstances, runInstances, terminateInstances } from './instances.actions';
import {
  createTags,
  deleteKeyPair,
  describeAvailabilityZones,
  describeImages,
  describeKeyPairs,
  describeVolumes,
  importKeyPair,
} from './resources.actions';
import {
  cancelSpotInstanceRequests,
  describeSpotInstanceRequests,
  describeSpotPriceHistory,
  requestSpotInstances,
} from './spot.actions';

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
]);
