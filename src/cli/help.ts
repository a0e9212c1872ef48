/** The `--help` texts of `mcc` and each of its commands. */
import type { CommandName } from './args.js';

export const HELP = `mcc - run an mcc-mesh node and talk to it

Usage:
  mcc start [--host HOST] [--port PORT] [--bootstrap HOST:PORT]... [--expose NAME=HOST:PORT]...
            [--forward NAME=PORT]... [--rest HOST:PORT | --no-rest] [--token TOKEN] [--config FILE]
  mcc org create | issue NODE-ID | revoke NODE-ID...   (mcc org --help)
  mcc status | id | peers                    [--json]
  mcc lookup NAME                            [--json]
  mcc expose NAME HOST:PORT [--metadata JSON] [--ttl MS] [--visibility V]
  mcc unexpose NAME
  mcc forward NAME [HOST:]PORT
  mcc unforward PORT
  mcc COMMAND --help | mcc --help | mcc --version

Commands:
  start      run a node (the daemon) until SIGINT/SIGTERM, with the REST API on 127.0.0.1:7700
  status     the running daemon's node: ID, address, NAT, peers, crypto suite, services, forwards
  id         print the node ID
  lookup     list the providers of a service
  expose     offer a local TCP service under a name
  unexpose   withdraw a service
  forward    listen on a local port; connections reach a provider of the service
  unforward  stop the forward on a port
  peers      list the peers the node talks to

Client commands find the daemon through --rest URL, MCC_REST, or <config dir>/daemon.json,
and authenticate with --token, MCC_TOKEN, or the token in daemon.json.

Exit codes: 0 success, 1 failure (e.g. the daemon is not running), 2 usage error.
Config directory: --config-dir, MCC_CONFIG_DIR, else $XDG_CONFIG_HOME/mcc or ~/.config/mcc.
`;

const CLIENT_OPTIONS = `Options:
  --json             print the REST API's JSON answer as is
  --rest URL         the daemon's REST API (default: MCC_REST, else <config dir>/daemon.json)
  --token TOKEN      bearer token (default: MCC_TOKEN, else daemon.json's)
  --config-dir DIR   where daemon.json is (default: MCC_CONFIG_DIR, $XDG_CONFIG_HOME/mcc, ~/.config/mcc)
  -h, --help         this help
`;

const START_HELP = `mcc start - run an mcc-mesh node (the daemon) until SIGINT/SIGTERM

Usage:
  mcc start [--host HOST] [--port PORT] [--bootstrap HOST:PORT]... [--identity FILE]
            [--expose NAME=HOST:PORT]... [--forward NAME=[HOST:]PORT]...
            [--rest HOST:PORT | --rest off | --no-rest] [--token TOKEN]
            [--config FILE] [--config-dir DIR] [--credential FILE [--trust ORG-ID]...]

Options (environment variable in brackets):
  --host HOST              UDP address to bind (default :: with IPv4 fallback)      [MCC_HOST]
  -p, --port PORT          UDP port (default 0: any free port)                      [MCC_PORT]
  -b, --bootstrap H:P      join through this node; repeatable                       [MCC_BOOTSTRAP, comma-separated]
  --identity FILE          the node's key file, created (mode 0600) if missing      [MCC_IDENTITY]
                           (default <config dir>/identity.json: the ID survives restarts)
  -e, --expose NAME=H:P    offer the TCP service at H:P (or a bare port on 127.0.0.1)
                           under NAME; repeatable                                   [MCC_EXPOSE, comma-separated]
  -f, --forward NAME=PORT  listen on 127.0.0.1:PORT (or HOST:PORT; 0 = any free port);
                           connections reach a provider of NAME; repeatable         [MCC_FORWARD, comma-separated]
  --rest HOST:PORT         serve the REST API there (default 127.0.0.1:7700;       [MCC_REST]
                           port 0 = any free port); "off" disables it
  --no-rest                no REST API
  --token TOKEN            require "Authorization: Bearer TOKEN" on the REST API;   [MCC_TOKEN]
                           mandatory when --rest is not a loopback address
  -c, --config FILE        JSON config file with the same keys as the long options, [MCC_CONFIG]
                           e.g. {"port":4100,"bootstrap":["127.0.0.1:4000"],"expose":["web=127.0.0.1:8080"]}
                           (default <config dir>/config.json if it exists)
  --config-dir DIR         identity, config.json and daemon.json live here         [MCC_CONFIG_DIR]
  --credential FILE        consortium mode: this node's credential (mcc org issue)  [MCC_CREDENTIAL]
  --trust ORG-ID           an organisation trusted besides the credential's; repeatable [MCC_TRUST]
                           (default $XDG_CONFIG_HOME/mcc or ~/.config/mcc, mode 0700)
  -h, --help               this help

Precedence: command line > environment > config file > defaults; a repeatable option given
on the command line replaces the environment's and the config file's list.
While the REST API listens, <config dir>/daemon.json (mode 0600) holds its URL, token and pid
for the client commands; it is removed on exit.

Environment: MCC_LOG=debug|info|warn|error logs to stderr.
`;

const CLIENT_HELP: Record<Exclude<CommandName, 'start'>, string> = {
  status: `mcc status - show the running daemon's node: ID, address, NAT, peers, crypto suite, services, forwards

Usage: mcc status [--json]
`,
  id: `mcc id - print the running daemon's node ID

Usage: mcc id [--json]
`,
  lookup: `mcc lookup - list the live providers of a service

Usage: mcc lookup NAME [--json]
`,
  expose: `mcc expose - offer a local TCP service under NAME (until unexpose or the daemon stops)

Usage: mcc expose NAME HOST:PORT [--metadata JSON] [--ttl MS] [--visibility V] [--json]
  HOST:PORT        the TCP service (a bare PORT means 127.0.0.1:PORT)
  --metadata JSON  small JSON object published with the record, e.g. '{"region":"eu"}'
  --ttl MS         record lifetime in ms (10000 to 86400000; default 120000)
  --visibility V   who may see and connect (a daemon started with --credential): public (default),
                   org (its own organisation) or '{"orgs":["ORG-ID"],"nodes":["NODE-ID"]}'
`,
  unexpose: `mcc unexpose - withdraw a service this daemon offers

Usage: mcc unexpose NAME [--json]
`,
  forward: `mcc forward - listen on a local port; each connection reaches a provider of NAME

Usage: mcc forward NAME [HOST:]PORT [--json]
  PORT   local TCP port (0 = any free port); HOST defaults to 127.0.0.1
`,
  unforward: `mcc unforward - stop the daemon's forward on a local port

Usage: mcc unforward PORT [--json]
`,
  peers: `mcc peers - list the peers the daemon's node talks to

Usage: mcc peers [--json]
`,
};

/** The help text for `topic` (the overview when undefined). */
export function helpText(topic?: CommandName): string {
  if (topic === undefined) return HELP;
  if (topic === 'start') return START_HELP;
  return `${CLIENT_HELP[topic]}\n${CLIENT_OPTIONS}`;
}
