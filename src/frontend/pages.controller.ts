import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import * as path from 'node:path';
import { packageRoot } from '../config/config-loader';

export const PAGES_DIR = path.join(packageRoot(), 'src', 'frontend', 'pages');

/** The web pages: static HTML that talks to the JSON API (assets under /assets). */
@ApiExcludeController()
@Controller()
export class PagesController {
  @Get()
  upload(@Res() res: Response): void {
    res.sendFile(path.join(PAGES_DIR, 'upload.html'));
  }

  @Get('browse')
  browse(@Res() res: Response): void {
    res.sendFile(path.join(PAGES_DIR, 'browse.html'));
  }

  @Get('view')
  view(@Res() res: Response): void {
    res.sendFile(path.join(PAGES_DIR, 'view.html'));
  }
}
