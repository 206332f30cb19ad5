import { noAction } from '../../../src/autoscaler/autoscaler-decision';
import { DecisionLog } from '../../../src/autoscaler/decision-log';

describe('DecisionLog', () => {
  const at = (minute: number) => new Date(Date.UTC(2024, 4, 1, 12, minute));

  it('lists newest first and forgets the oldest beyond its capacity', () => {
    const sut = new DecisionLog(3);
    for (let minute = 0; minute < 5; minute++) sut.add(noAction(at(minute), 2, `tick ${minute}`));
    expect(sut.recent().map((decision) => decision.reason)).toEqual(['tick 4', 'tick 3', 'tick 2']);
  });

  it('lists what it has before it is full', () => {
    const sut = new DecisionLog(3);
    sut.add(noAction(at(0), 2, 'first'));
    sut.add(noAction(at(1), 2, 'second'));
    expect(sut.recent().map((decision) => decision.reason)).toEqual(['second', 'first']);
  });
});
