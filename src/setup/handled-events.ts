/** An EventBridge event the service acts on; `detail` holds fields it requires to have exactly these values. */
export interface HandledEvent {
  source: string;
  detailType: string;
  detail?: Readonly<Record<string, string>>;
}

/**
 * Every event the service acts on: setup's EventBridge rules subscribe to exactly these, and the
 * event listener's parser accepts exactly these, so the two cannot drift.
 */
export const HANDLED_EVENTS = {
  stateChange: { source: 'aws.ec2', detailType: 'EC2 Instance State-change Notification' },
  spotInterruption: { source: 'aws.ec2', detailType: 'EC2 Spot Instance Interruption Warning' },
  rebalance: { source: 'aws.ec2', detailType: 'EC2 Instance Rebalance Recommendation' },
  scheduledChange: {
    source: 'aws.health',
    detailType: 'AWS Health Event',
    detail: { service: 'EC2', eventTypeCategory: 'scheduledChange' },
  },
} as const satisfies Record<string, HandledEvent>;
