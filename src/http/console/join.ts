import type { Request, Response, Router } from 'express';
import { RuleError } from '../../domain/errors.ts';
import { newOperatorProblems } from '../../domain/operators.ts';
import { acceptInvitation, invitationFor } from '../../services/operators.ts';
import type { Stores } from '../../store/index.ts';
import { renderPage } from '../pages/render.ts';
import type { ConsoleKit } from './kit.ts';

/**
 * /console/join: where the holder of an invitation (or of the first-start link) becomes an operator by choosing a
 * password, then signs in like every operator. Nobody is signed in here, so the page calls the operators service
 * itself: the link's secret is the only credential, checked and used up there.
 */
export function joinPages(router: Router, kit: ConsoleKit, stores: Stores): void {
  const show = async (res: Response, data: Record<string, unknown>, status = 200) =>
    renderPage(res, { base: kit.base, tenant: await kit.tenant() }, 'console-join', 'Become an operator', { root: kit.root, ...data }, status);
  const unusable = async (res: Response) => renderPage(res, { base: kit.base, tenant: await kit.tenant() }, 'console-message', 'This invitation cannot be used', {
    heading: 'This invitation cannot be used',
    message: 'It is unknown, was used already, or has expired. Ask an operator of this Gatehouse for a new one.',
    action: { href: `${kit.root}/login`, label: 'Sign in to the console' },
  }, 400);

  router.get('/join', async (req, res) => {
    const token = String(req.query.invitation ?? '');
    const invitation = token ? await invitationFor(stores.durable, token) : undefined;
    if (!invitation) return unusable(res);
    res.set('Cache-Control', 'no-store');
    return show(res, { invitation, token, form: { email: invitation.email ?? '', name: '' }, errors: {} });
  });

  router.post('/join', async (req: Request, res: Response) => {
    const token = String(req.body?.invitation ?? '');
    const invitation = token ? await invitationFor(stores.durable, token) : undefined;
    if (!invitation) return unusable(res);
    const form = { email: invitation.email ?? String(req.body.email ?? '').trim(), name: String(req.body.name ?? '').trim() };
    const password = String(req.body.password ?? '');
    const errors: Record<string, string> = { ...newOperatorProblems({ ...form, password }) };
    if (!errors.password && password !== String(req.body.password_again ?? '')) errors.password_again = 'The two passwords differ.';
    if (Object.keys(errors).length) return show(res, { invitation, token, form, errors }, 400);
    try {
      await acceptInvitation(stores.durable, token, { ...form, password });
    } catch (err) {
      if (!(err instanceof RuleError)) throw err;
      return show(res, { invitation, token, form, errors: { _form: err.message } }, 400);
    }
    return res.redirect(303, `${kit.root}/login`);
  });
}
