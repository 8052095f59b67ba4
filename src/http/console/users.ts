import type { Router } from 'express'; import type { ConsoleKit } from './kit.ts';
export function userPages(_router: Router, _kit: ConsoleKit): void {}
export function consentPages(_router: Router, _kit: ConsoleKit): void {}
