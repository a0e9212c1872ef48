/** Public surface of the tunnel module. */
export { TunnelDriver, type TunnelDriverOptions, type TunnelDriverEvents, type PendingTunnel } from './driver.js';
export { TunnelConnection, type TunnelConnectionEvents } from './tunnel-connection.js';
export { TunnelStream, STREAM_HIGH_WATER_MARK } from './stream.js';
export { Connection, CloseCode, type ConnectionEvent, type ConnectionStats } from './connection.js';
export { StreamCode } from './stream-table.js';
export { defaultTunnelConfig, resolveTunnelConfig, type TunnelConfig } from './config.js';
export {
  HandshakeInitiator,
  readHandshakeInit,
  handshakeIdentity,
  type HandshakeIdentity,
  type HandshakeInit,
  type TunnelKeys,
  CID_LENGTH,
  MAX_HANDSHAKE_PAYLOAD,
} from './handshake.js';
export { TUNNEL_PACKET_TYPE, RELAYED_PACKET_TYPE, MAX_DATAGRAM } from './packet.js';
