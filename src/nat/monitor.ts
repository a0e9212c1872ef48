/**
 * Runs the NAT checks: pings a few observers (each answers with our observed
 * address), feeds the {@link NatClassifier}, then asks a helper for a dial-back to
 * learn whether unsolicited packets reach us. Re-checks periodically and soon
 * after a network change (an observer sees us at a new address).
 */
import type { TimerHandle } from '../util/clock.js';
import { bytesToHex } from '../util/bytes.js';
import { fromSocketAddress } from '../wire/address.js';
import type { NatClassifier, NatState } from './classifier.js';
import type { NatProbeService } from './probe-service.js';
import { isVirtualAddress } from './relay-packet.js';
import type { NatContext, NatPeer } from './types.js';

/** Timing of the NAT checks (`NatTuning.monitor`). */
export interface NatMonitorTuning {
  /** Observers pinged per check. Default 2. */
  observersPerCheck?: number;
  /** Periodic re-check. Default 10 minutes. */
  intervalMs?: number;
  /** Delay of the re-check after a network change. Default 1000 ms. */
  networkChangeDelayMs?: number;
  /** Time budget of a ping and of waiting for a dial-back probe. Default 3000 ms. */
  probeTimeoutMs?: number;
}

/** Options of a {@link NatMonitor}. */
export interface NatMonitorOptions extends NatMonitorTuning {
  /** Candidate observers (peers with real addresses); the first few distinct ones are pinged. */
  observers: () => NatPeer[];
  /** Candidate dial-back helpers (they pick the third node). Default: the observers. */
  helpers?: () => NatPeer[];
  /** Nodes we talked to lately (besides the observers): excluded as dial-back third parties. Default none. */
  recentContacts?: () => Uint8Array[];
}

/** Schedules and runs NAT checks for one node. */
export class NatMonitor {
  private readonly options: Required<NatMonitorOptions>;
  private timer: TimerHandle | undefined;
  private running: Promise<NatState> | undefined;
  private started = false;
  private readonly onNetworkChange = (): void => this.schedule(this.options.networkChangeDelayMs);

  constructor(
    private readonly context: NatContext,
    private readonly classifier: NatClassifier,
    private readonly probes: NatProbeService,
    options: NatMonitorOptions,
  ) {
    this.options = {
      observers: options.observers,
      helpers: options.helpers ?? options.observers,
      observersPerCheck: options.observersPerCheck ?? 2,
      recentContacts: options.recentContacts ?? (() => []),
      intervalMs: options.intervalMs ?? 10 * 60_000,
      networkChangeDelayMs: options.networkChangeDelayMs ?? 1000,
      probeTimeoutMs: options.probeTimeoutMs ?? 3000,
    };
  }

  /** Starts periodic checks (the first one at once). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.classifier.on('network-change', this.onNetworkChange);
    this.schedule(0);
  }

  /** Stops checking. */
  stop(): void {
    this.started = false;
    this.classifier.off('network-change', this.onNetworkChange);
    this.context.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Runs one check now (joins one already running) and resolves with the resulting state. */
  check(): Promise<NatState> {
    this.running ??= this.runCheck().finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(delay: number): void {
    if (!this.started) return;
    this.context.clock.clearTimeout(this.timer);
    this.timer = this.context.clock.setTimeout(() => {
      this.timer = undefined;
      void this.check().then(() => this.schedule(this.options.intervalMs));
    }, delay);
  }

  private async runCheck(): Promise<NatState> {
    const observers = distinct(this.options.observers()).slice(0, this.options.observersPerCheck);
    await Promise.all(observers.map((observer) => this.pingObserver(observer)));
    const state = this.classifier.state;
    if (state.publicAddress === undefined) return state;
    // The helper itself and everyone we just pinged would pass a port-restricted NAT: exclude them.
    const contacted = [...observers.map((o) => o.id), ...this.options.recentContacts()];
    for (const helper of distinct(this.options.helpers()).slice(0, 2)) {
      const exclude = [helper.id, ...contacted];
      const reachable = await this.probes.dialBack(helper, state.publicAddress, this.options.probeTimeoutMs, exclude);
      if (reachable !== undefined) {
        this.classifier.setReachable(reachable);
        break;
      }
    }
    return this.classifier.state;
  }

  private async pingObserver(observer: NatPeer): Promise<void> {
    try {
      const answer = await this.context.rpc.request(observer, { ping: {} }, { timeoutMs: this.options.probeTimeoutMs });
      const observed = fromSocketAddress(answer.envelope.pong?.observed);
      if (observed) this.classifier.observe(answer.fromHex, observer.address, observed);
    } catch {
      // An observer that does not answer simply does not count.
    }
  }
}

/** Peers with real addresses, one per node ID. */
function distinct(peers: NatPeer[]): NatPeer[] {
  const seen = new Set<string>();
  return peers.filter((peer) => {
    const hex = bytesToHex(peer.id);
    if (seen.has(hex) || isVirtualAddress(peer.address)) return false;
    seen.add(hex);
    return true;
  });
}
