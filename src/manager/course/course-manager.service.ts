import { Inject, Injectable, Optional } from '@nestjs/common';
import { success } from '../../common/course-response';
import { MISS_RATE_SOURCE, MissRateSource } from '../../metrics/metrics.ports';
import { Clock, CLOCK, systemClock } from '../../pool/clock.port';
import { CacheConfigService } from '../cache-config.service';
import { ManagerAutoscalerService } from '../manager-autoscaler.service';
import { ManagerDataService } from '../manager-data.service';
import { ManagerPoolService } from '../manager-pool.service';
import { RATE_WINDOW_MS } from '../manager-stats.service';
import { withoutUndefined } from '../settings/stored-cache-settings';
import { StatsPoller } from '../stats-poller.service';
import { ConfigureCacheQuery } from './configure-cache.query';
import { coursePolicyName } from './course-policy-names';

/** The course's tester endpoints (shared/reference/course-api.md): answers compared exactly. */
@Injectable()
export class CourseManagerService {
  private readonly clock: Clock;

  constructor(
    private readonly pool: ManagerPoolService,
    private readonly cache: CacheConfigService,
    private readonly autoscaler: ManagerAutoscalerService,
    private readonly data: ManagerDataService,
    private readonly poller: StatsPoller,
    @Inject(MISS_RATE_SOURCE) private readonly missRates: MissRateSource,
    @Optional() @Inject(CLOCK) clock?: Clock,
  ) {
    this.clock = clock ?? systemClock;
  }

  numNodes() {
    return success({ numNodes: this.pool.view().size });
  }

  /**
   * Over the last 60 s from the miss-rate source (CloudWatch in production); 0 with no lookups.
   * The nodes are polled first, so a tester that reads and then asks at once sees its reads (the
   * local source; CloudWatch has its own delay).
   */
  async rate(kind: 'miss' | 'hit') {
    await this.poller.pollOnce();
    const { missRate, hits, lookups } = await this.missRates.missRate(
      this.clock.now(),
      RATE_WINDOW_MS,
    );
    const value = kind === 'miss' ? missRate : lookups > 0 ? hits / lookups : 0;
    return success({ rate: kind, value });
  }

  /**
   * Every parameter is checked before any is applied, so a bad request changes nothing. Then the
   * resize (waited for: the course's clients read numNodes right after), the cache settings, and
   * the policy; the answer echoes the values in force, also of parameters not sent.
   */
  async configure(query: ConfigureCacheQuery) {
    const { numNodes, cacheSize, policy, mode, maxMiss, minMiss, expRatio, shrinkRatio } = query;
    const cacheChange = withoutUndefined({ capacityMb: cacheSize, policy });
    const policyChange = withoutUndefined({ mode, maxMiss, minMiss, expRatio, shrinkRatio });
    await this.cache.check(cacheChange);
    await this.autoscaler.check(policyChange);
    if (numNodes !== undefined) this.pool.checkTarget(numNodes);

    if (numNodes !== undefined) await this.pool.resizeAndWait(numNodes, 'configure_cache');
    if (Object.keys(cacheChange).length > 0) await this.cache.apply(cacheChange);
    if (Object.keys(policyChange).length > 0) await this.autoscaler.update(policyChange);
    return this.current();
  }

  async deleteAll() {
    await this.data.deleteAll();
    return success({});
  }

  private async current() {
    const [settings, { policy }] = await Promise.all([
      this.cache.current(),
      this.autoscaler.view(0),
    ]);
    return success({
      mode: policy.mode,
      numNodes: this.pool.view().size,
      cacheSize: settings.capacityMb,
      policy: coursePolicyName(settings.policy),
    });
  }
}
