/**
 * A running node's use of its data directory: services restored before the join (so that a
 * client holding the old record is served at once), registrations republished right after
 * it, and the state and routing table saved whenever they change and every 30 s, so that a
 * crash (SIGKILL, power loss) loses at most that much.
 *
 * A restricted registration (consortium mode) is saved with its visibility and restored with
 * it before the service takes any stream, so the tunnel handshake checks it from the first
 * connection on. It fails closed: when the visibility no longer resolves (consortium mode off,
 * an organisation no longer trusted) the service is not restored at all, and a warning says so.
 */
import type { Visibility } from '../consortium/policy.js';
import { invalidArgument } from '../errors.js';
import type { RecordCopy } from '../discovery/registration.js';
import type { ServiceMetadata } from '../discovery/provider-record.js';
import type { RoutingSnapshot } from '../kademlia/snapshot.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { ServiceInfo } from './introspection.js';
import { writeAtomic, type DataDir, type SavedNodeState, type SavedService } from './persistence.js';
import type { ServiceTarget } from './service-targets.js';

/** How often a running node saves its routing table and checks its state, ms. */
export const SAVE_INTERVAL_MS = 30_000;

/** What {@link NodePersistence} needs from the node. */
export interface PersistenceContext {
  clock: Clock;
  logger: Logger;
  /** True while the node is started (nothing is saved while it stops: its registrations are ending). */
  running(): boolean;
  registrations(): ServiceInfo[];
  routing(): RoutingSnapshot;
  /** Publishes a restored registration again, as `register()` would (`sealed`: a restricted one's copies). */
  republish(service: SavedService, sealed: { copies?: RecordCopy[] }): Promise<unknown>;
  /** Consortium mode, when on: records a restricted service's visibility and seals its copies. */
  consortium?: RestrictedRegistrations | undefined;
}

/** What persistence needs of consortium mode (a `NodeConsortium` has it). */
export interface RestrictedRegistrations {
  prepareRegistration(name: string, visibility: Visibility | undefined, metadata: ServiceMetadata | undefined): { copies?: RecordCopy[] };
  visibilityOf(name: string): Visibility | undefined;
  forget(name: string): void;
}

/** The data directory of one running node. */
export class NodePersistence {
  /** Names restored from disk that the application has not registered again itself. */
  private readonly restored = new Set<string>();
  private port: number | undefined;
  /** Saved services that are restored (a restricted one whose visibility still resolves), with their sealed copies. */
  private readonly services: Array<{ service: SavedService; sealed: { copies?: RecordCopy[] } }> = [];
  private timer: TimerHandle | undefined;

  constructor(
    /** The directory. */
    readonly dir: DataDir,
    private readonly saved: SavedNodeState,
    private readonly context: PersistenceContext,
  ) {
    for (const service of saved.services) {
      try {
        this.services.push({ service, sealed: this.restrict(service) });
      } catch (error) {
        this.context.logger.warn(`data directory: "${service.name}" not restored: ${(error as Error).message}`);
      }
    }
  }

  /** The saved registrations as service targets, for the node's service table before it joins. */
  targets(): Array<[string, ServiceTarget]> {
    return this.services.map(({ service }) => [service.name, { kind: 'tcp', host: service.host, port: service.port }]);
  }

  /** The node is bound at `port`: remember it for the next start. */
  async bound(port: number): Promise<void> {
    this.port = port;
    await this.saveState();
  }

  /** The node joined: republish the saved registrations (in the background), save the routing table, save every 30 s from now on. */
  async joined(): Promise<void> {
    for (const { service, sealed } of this.services) {
      this.restored.add(service.name);
      this.context.republish(service, sealed).catch((error: Error) => {
        this.restored.delete(service.name);
        this.context.consortium?.forget(service.name);
        this.context.logger.warn(`data directory: "${service.name}" not registered again: ${error.message}`);
      });
    }
    this.schedule();
    // Awaited by start(): a process killed right after start() still finds its peers next time.
    await this.saveRouting();
  }

  /**
   * True (once) when `name` was restored from disk: the application's own register() then takes it over.
   * @throws MccError `ERR_INVALID_ARGUMENT` naming `visibility` when it differs from the restored one (unregister first to change it).
   */
  adopt(name: string, visibility?: Visibility): boolean {
    if (!this.restored.has(name)) return false;
    // unregister() forgets the visibility before it calls this: it never throws there.
    const held = this.context.consortium?.visibilityOf(name);
    const given = visibility === 'public' ? undefined : visibility;
    if (JSON.stringify(held) !== JSON.stringify(given)) {
      throw invalidArgument('visibility', `"${name}" was restored from the data directory with another visibility; unregister it first to change it`);
    }
    return this.restored.delete(name);
  }

  /** Saves the port and the TCP registrations now (unchanged state is not rewritten). */
  async saveState(): Promise<void> {
    if (!this.context.running()) return;
    const services: SavedService[] = [];
    for (const info of this.context.registrations()) {
      if (info.target.kind !== 'tcp') continue; // an in-process handler cannot be restored by another process
      services.push({
        name: info.name,
        host: info.target.host,
        port: info.target.port,
        ...(info.metadata !== undefined ? { metadata: info.metadata } : {}),
        ttl: info.ttlMs,
        ...this.visibility(info.name),
      });
    }
    await this.dir.writeState({ ...(this.port !== undefined ? { port: this.port } : {}), services });
  }

  /** Saves the routing table now (never an empty one over a saved one). */
  async saveRouting(): Promise<void> {
    const snapshot = this.context.routing();
    if (snapshot.contacts.length === 0) return;
    // A temporary file of its own per write: a periodic save and stop()'s may overlap.
    await writeAtomic(this.dir.routingPath, JSON.stringify(snapshot)).catch((error: Error) =>
      this.context.logger.warn(`could not save the routing table: ${error.message}`),
    );
  }

  /** Stops the periodic saves. */
  stop(): void {
    if (this.timer) this.context.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A saved service's sealed copies (none for a public one). @throws MccError when its visibility cannot be restored. */
  private restrict(service: SavedService): { copies?: RecordCopy[] } {
    if (service.visibility === undefined) return {};
    if (this.context.consortium === undefined) throw invalidArgument('visibility', 'a restricted service needs consortium mode');
    return this.context.consortium.prepareRegistration(service.name, service.visibility, service.metadata);
  }

  private visibility(name: string): { visibility?: Visibility } {
    const visibility = this.context.consortium?.visibilityOf(name);
    return visibility === undefined ? {} : { visibility };
  }

  private schedule(): void {
    this.stop();
    this.timer = this.context.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.context.running()) return;
      void Promise.all([this.saveState(), this.saveRouting()]).finally(() => {
        if (this.context.running()) this.schedule();
      });
    }, SAVE_INTERVAL_MS);
  }
}
