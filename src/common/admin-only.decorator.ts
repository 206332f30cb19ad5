import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { AdminGuard } from './admin.guard';

export const COURSE_TESTER_ROUTE = 'pixpool:course-tester-route';

/** Admin token, or loopback when none is configured (see AdminGuard). */
export const AdminOnly = () => applyDecorators(UseGuards(AdminGuard), ApiBearerAuth());

/** Like AdminOnly, but security.openCourseEndpoints opens it for course test clients. */
export const CourseTesterRoute = () =>
  applyDecorators(SetMetadata(COURSE_TESTER_ROUTE, true), UseGuards(AdminGuard), ApiBearerAuth());
