import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';

/** An open control endpoint must never go unnoticed: say so at every start. */
@Injectable()
export class CourseEndpointsWarning implements OnApplicationBootstrap {
  constructor(private readonly config: AppConfig) {}

  onApplicationBootstrap(): void {
    if (!this.config.security.openCourseEndpoints) return;
    new Logger('Security').warn(
      'security.openCourseEndpoints is on: anyone who can reach this app can resize the pool, ' +
        'change the cache and delete all data through /api/configure_cache and /api/delete_all',
    );
  }
}
