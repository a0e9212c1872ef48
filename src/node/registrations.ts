/**
 * A node's registrations: the services it provides. Registering makes a service reachable
 * (the local target table) and publishes its signed record (discovery); with a data
 * directory it is saved, and a name restored from disk is taken over by registering it again.
 */
import { invalidArgument } from '../errors.js';
import type { Discovery } from '../discovery/discovery.js';
import type { Registration } from '../discovery/registration.js';
import type { NodeConsortium } from './consortium.js';
import type { ServiceInfo } from './introspection.js';
import type { NodePersistence } from './persistence-runtime.js';
import type { RegisterServiceOptions, ServiceTarget } from './service-targets.js';

/** What registering needs from the node. */
export interface RegistrationContext {
  discovery: Discovery;
  /** Where incoming streams of each registered service go. */
  services: Map<string, ServiceTarget>;
  consortium: NodeConsortium | undefined;
  persistence: NodePersistence | undefined;
  /** A registration was published or withdrawn (the node's events). */
  emit(event: 'registered' | 'unregistered', name: string): void;
}

/** Registers `name` with the already validated `target` (see `MccNode.register`). */
export async function registerService(
  context: RegistrationContext,
  name: string,
  target: ServiceTarget,
  options: RegisterServiceOptions,
): Promise<Registration> {
  const { discovery, services, consortium, persistence } = context;
  const restored = discovery.registration(name);
  if (restored && persistence?.adopt(name, options.visibility)) {
    services.set(name, target);
    if (JSON.stringify(restored.metadata) !== JSON.stringify(options.metadata))
      await restored.update(options.metadata, options.signal ? { signal: options.signal } : {});
    await persistence.saveState();
    return restored;
  }
  if (restored) throw invalidArgument('name', `"${name}" is already registered on this node`);
  if (options.visibility !== undefined && options.visibility !== 'public' && consortium === undefined) {
    throw invalidArgument('visibility', 'restricted services need consortium mode (MccNode.create({ consortium }))');
  }
  const sealed = consortium?.prepareRegistration(name, options.visibility, options.metadata) ?? {};
  // The service is reachable before its record is published: a client that finds the
  // record at once must not have its stream refused.
  services.set(name, target);
  try {
    const registration = await discovery.register(name, {
      ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
      ...(options.ttl !== undefined ? { ttl: options.ttl } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...sealed,
    });
    await persistence?.saveState();
    context.emit('registered', name);
    return registration;
  } catch (error) {
    if (services.get(name) === target && !discovery.registration(name)) {
      services.delete(name);
      consortium?.forget(name);
    }
    throw error;
  }
}

/** Withdraws `name` (see `MccNode.unregister`); false when it was not registered. */
export async function unregisterService(context: RegistrationContext, name: string, options: { signal?: AbortSignal }): Promise<boolean> {
  const { discovery, services, consortium, persistence } = context;
  const registration = discovery.registration(name);
  services.delete(name);
  consortium?.forget(name);
  if (!registration) return false;
  persistence?.adopt(name);
  try {
    await registration.unregister(options);
  } finally {
    await persistence?.saveState();
  }
  context.emit('unregistered', name);
  return true;
}

/** The registrations as `MccNode.registrations` lists them, in registration order. */
export function listRegistrations(context: Pick<RegistrationContext, 'discovery' | 'services' | 'consortium'>): ServiceInfo[] {
  const { discovery, services, consortium } = context;
  return discovery.registeredNames().flatMap((name) => {
    const registration = discovery.registration(name);
    const target = services.get(name);
    if (!registration || !target) return [];
    const visibility = consortium?.visibilityOf(name);
    return [
      {
        name,
        state: registration.state,
        target: target.kind === 'tcp' ? { kind: 'tcp' as const, host: target.host, port: target.port } : { kind: 'handler' as const },
        metadata: registration.metadata,
        ttlMs: registration.ttlMs,
        stored: registration.stored,
        ...(visibility !== undefined ? { visibility } : {}),
      },
    ];
  });
}
