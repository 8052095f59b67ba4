import { Router } from 'express';
import type { Stores } from '../store/index.ts';
import { storeOutage } from './errors.ts';

/** /healthz says the process is alive; /readyz that its stores answer (503 otherwise, so a balancer stops routing). */
export function operationsRouter(stores: Stores, isShuttingDown: () => boolean): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (req, res) => {
    if (isShuttingDown()) return void res.status(503).json({ status: 'shutting_down' });
    try {
      await Promise.race([
        stores.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('store ping timed out after 2s')), 2000).unref()),
      ]);
      res.json({ status: 'ready', durable: stores.durable.kind, ephemeral: stores.ephemeral.kind });
    } catch (err) {
      if (!storeOutage(err)) req.log?.warn({ err }, 'readiness check failed'); // an outage is told once, by its store
      res.status(503).json({ status: 'unavailable', reason: (err as Error).message });
    }
  });
  return router;
}
