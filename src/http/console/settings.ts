import type { Router } from 'express'; import type { ConsoleKit } from './kit.ts';
export function settingsPages(_router: Router, _kit: ConsoleKit, ..._rest: unknown[]): void {}
