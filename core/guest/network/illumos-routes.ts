/**
 * Routes on illumos, both styles: `route -p add` changes the table and /etc/inet/static_routes
 * (an entry already in the table is still saved: route exits 0 on EEXIST with -p). The legacy
 * style keeps the default router in /etc/defaultrouter, read by network/physical at boot; a
 * default already saved by `route -p` (the runbook's way) counts as kept too.
 *
 * A default route through another gateway is removed once ours is in, never before; without a
 * gateway in the spec, existing default routes are left alone (the worker may need them).
 */
import { sh, type ShellScript } from '../../quote';
import type { LiveRoute, NetworkFacts } from './facts';
import { parseDefaultRouter } from './illumos-parse';
import { command, emptyPart, file, type PlanPart } from './plan';
import { fileSpecFor, type RouteWork } from './style';

export const DEFAULTROUTER = '/etc/defaultrouter';

const routeWords = (r: { to: string; via: string }) => (r.to === 'default' ? ['default', r.via] : ['-net', r.to, r.via]);
const has = (routes: LiveRoute[], r: { to: string; via: string }) => routes.some((x) => x.to === r.to && x.via === r.via);

export interface IllumosRoutesPlan {
  part: PlanPart;
  /** Steps that undo `part` (for a timed revert). */
  undo: ShellScript[];
}

export function illumosRoutes(routes: RouteWork[], facts: NetworkFacts): IllumosRoutesPlan {
  const legacy = facts.style === 'legacy';
  const { persistentRoutes, defaultRouter } = facts.illumos!;
  const routers = defaultRouter.exists ? parseDefaultRouter(defaultRouter.content) : [];
  const part = emptyPart();
  const undo: ShellScript[] = [];
  const removals: PlanPart['actions'] = [];
  for (const r of routes) {
    const words = routeWords(r);
    const live = has(facts.routes, r);
    const isDefault = r.to === 'default';
    const kept = has(persistentRoutes, r) || (isDefault && routers.includes(r.via));
    if (isDefault && legacy && !(routers.length === 1 && routers[0] === r.via) && (!kept || routers.length > 0)) {
      part.actions.push(file({ path: DEFAULTROUTER, content: `${r.via}\n`, spec: fileSpecFor(defaultRouter), change: `${DEFAULTROUTER}: ${r.via}` }));
      undo.push(defaultRouter.exists ? sh`printf '%s' ${defaultRouter.content} >${DEFAULTROUTER}` : sh`rm -f ${DEFAULTROUTER}`);
    }
    if (kept && live) part.found.push(`route ${r.to} via ${r.via}: live and kept`);
    else if (!kept && !(isDefault && legacy)) {
      part.actions.push(command(['route', '-p', 'add', ...words], `route ${r.to} via ${r.via}: added${live ? ' (was live only)' : ''}, kept across reboots`));
      undo.push(sh`route -p delete ${words}`);
    }
    if (!live) {
      if (kept || (isDefault && legacy)) part.actions.push(command(['route', 'add', ...words], `route ${r.to} via ${r.via}: added live`));
      if (kept || (isDefault && legacy)) undo.push(sh`route delete ${words}`);
    }
    if (!isDefault) continue;
    // Other default routes go once ours is in.
    for (const stale of persistentRoutes.filter((x) => x.to === 'default' && x.via !== r.via)) {
      removals.push(command(['route', '-p', 'delete', 'default', stale.via], `default route via ${stale.via} removed (the spec's gateway is ${r.via})`));
      undo.push(sh`route -p add default ${stale.via}`);
    }
    for (const stale of facts.routes.filter((x) => x.to === 'default' && x.via !== r.via && !has(persistentRoutes, x))) {
      removals.push(command(['route', 'delete', 'default', stale.via], `default route via ${stale.via} removed (the spec's gateway is ${r.via})`));
      undo.push(sh`route add default ${stale.via}`);
    }
    const staleRouters = routers.filter((x) => x !== r.via);
    if (!legacy && staleRouters.length > 0) {
      const rest = defaultRouter.content.split('\n').filter((l) => !staleRouters.includes(l.trim().split(/\s+/)[0]!)).join('\n');
      removals.push(file({ path: DEFAULTROUTER, content: rest, spec: fileSpecFor(defaultRouter), change: `${DEFAULTROUTER}: ${staleRouters.join(', ')} removed` }));
      undo.push(sh`printf '%s' ${defaultRouter.content} >${DEFAULTROUTER}`);
    }
  }
  part.actions.push(...removals);
  return { part, undo: undo.reverse() };
}
