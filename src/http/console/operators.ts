import type { Request, Response, Router } from 'express';
import type { OperatorRole } from '../../domain/model.ts';
import { OPERATOR_ROLES } from '../../domain/operators.ts';
import { can, contextOf, formErrors, renderConsole, type ConsoleKit } from './kit.ts';
import { ok } from './management-client.ts';

/** Operators: who runs this Gatehouse, with which role; invite (a single-use link shown once), change a role, remove. */
export function operatorPages(router: Router, kit: ConsoleKit): void {
  const base = `${kit.root}/operators`;

  async function show(req: Request, res: Response, extra: Record<string, unknown> = {}, status = 200) {
    const { api, operator } = contextOf(req);
    const [operators, invitations] = await Promise.all([ok(api.GET('/api/v2/operators')), ok(api.GET('/api/v2/operators/invitations'))]);
    await renderConsole(kit, req, res, 'operators', 'Operators', 'operators', {
      operators: operators.sort((a, b) => a.email.localeCompare(b.email)), invitations, roles: OPERATOR_ROLES, me: operator.userId,
      canInvite: can(req, 'create:operators'), canChange: can(req, 'update:operators'), canRemove: can(req, 'delete:operators'),
      form: { email: '', role: 'viewer' }, errors: {}, saved: String(req.query.saved ?? ''), ...extra,
    }, status);
  }

  router.get('/operators', (req, res) => show(req, res));

  router.post('/operators/invitations', async (req, res) => {
    const form = { email: String(req.body.email ?? '').trim(), role: String(req.body.role ?? 'viewer') as OperatorRole };
    try {
      const invitation = await ok(contextOf(req).api.POST('/api/v2/operators/invitations', { body: form }));
      return show(req, res, { invited: invitation }, 201);
    } catch (err) {
      return show(req, res, { form, errors: formErrors(err, ['email', 'role'], { email: ['is an operator already'] }) }, 400);
    }
  });

  router.post('/operators/invitations/:id/revoke', async (req, res) => {
    await ok(contextOf(req).api.DELETE('/api/v2/operators/invitations/{id}', { params: { path: { id: String(req.params.id) } } }));
    return res.redirect(303, `${base}?saved=revoked`);
  });

  router.post('/operators/:id/role', async (req, res) => {
    try {
      await ok(contextOf(req).api.PATCH('/api/v2/operators/{id}', { params: { path: { id: String(req.params.id) } }, body: { role: String(req.body.role) as OperatorRole } }));
    } catch (err) {
      return show(req, res, { alert: formErrors(err, [])._form }, 400);
    }
    return res.redirect(303, `${base}?saved=role`);
  });

  router.post('/operators/:id/remove', async (req, res) => {
    try {
      await ok(contextOf(req).api.DELETE('/api/v2/operators/{id}', { params: { path: { id: String(req.params.id) } } }));
    } catch (err) {
      return show(req, res, { alert: formErrors(err, [])._form }, 400);
    }
    return res.redirect(303, `${base}?saved=removed`);
  });
}
