import { SimClock } from '../clock';
import { Instance } from '../ec2/model';
import { Ec2EventSink } from '../ec2/sim-ec2';
import { EventDelivery } from './delivery';
import { makeEnvelope } from './envelope';

/** Turns simulated EC2 happenings into the EventBridge events EC2 publishes (source `aws.ec2`). */
export class Ec2EventPublisher implements Ec2EventSink {
  constructor(
    private readonly delivery: EventDelivery,
    private readonly clock: SimClock,
    private readonly accountId: string,
  ) {}

  stateChanged(instance: Instance): void {
    this.publish(instance, 'EC2 Instance State-change Notification', {
      'instance-id': instance.instanceId,
      state: instance.state,
    });
  }

  interruptionWarning(instance: Instance): void {
    this.publish(instance, 'EC2 Spot Instance Interruption Warning', {
      'instance-id': instance.instanceId,
      'instance-action': 'terminate',
    });
  }

  rebalanceRecommendation(instance: Instance): void {
    this.publish(instance, 'EC2 Instance Rebalance Recommendation', { 'instance-id': instance.instanceId });
  }

  private publish(instance: Instance, detailType: string, detail: Record<string, unknown>): void {
    this.delivery.emit(
      makeEnvelope({
        detailType,
        source: 'aws.ec2',
        account: this.accountId,
        time: this.clock.now(),
        region: instance.region,
        resources: [`arn:aws:ec2:${instance.region}:${this.accountId}:instance/${instance.instanceId}`],
        detail,
      }),
    );
  }
}
