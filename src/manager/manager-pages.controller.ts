import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import * as path from 'node:path';
import { packageRoot } from '../config/config-loader';

/** Served from the source tree, like the front-end's pages: tsc does not copy HTML. */
export const MANAGER_PAGES_DIR = path.join(packageRoot(), 'src', 'manager', 'pages');

/** Only these names are served from the assets folder: a request names a file, never a path. */
const ASSETS = new Set([
  'manager.js',
  'manager-api.js',
  'manager-view.js',
  'manager-charts.js',
  'manager.css',
  'near-cache.js',
  'dependencies.js',
  'variants.js',
]);

/** Chart.js's browser bundle; the package's exports hide dist/, so go from its main entry. */
const CHART_JS = path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js');

/**
 * The dashboard. The page itself holds no data and is public; every call it makes goes to the
 * guarded /api/manager routes with the token the operator typed in.
 */
@ApiExcludeController()
@Controller()
export class ManagerPagesController {
  @Get('manager')
  dashboard(@Res() res: Response): void {
    res.sendFile(path.join(MANAGER_PAGES_DIR, 'manager.html'));
  }

  @Get('manager/assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    if (!ASSETS.has(file)) throw new NotFoundException(`no asset ${file}`);
    res.sendFile(path.join(MANAGER_PAGES_DIR, 'assets', file), { maxAge: '1h' });
  }

  @Get('assets/vendor/chart.js')
  chartJs(@Res() res: Response): void {
    res.sendFile(CHART_JS, { maxAge: '1d' });
  }
}
