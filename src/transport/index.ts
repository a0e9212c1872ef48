/** Transports: the seam, real UDP, and the simulated network. */
export type { Transport, DatagramHandler } from './types.js';
export { UdpTransport, unmapIpv4, type UdpTransportOptions, type UdpTransportCounters } from './udp.js';
export * from './sim/index.js';
