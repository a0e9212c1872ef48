/**
 * `mcc org`: an organisation's offline tools. `create` writes a new organisation file,
 * `issue NODE-ID` a member's credential (certificate + the organisation's read secret),
 * `revoke NODE-ID...` adds nodes to the organisation's revocation list and publishes the
 * whole signed list on the mesh through a short-lived node. Every file is written mode 0600.
 */
import { parseArgs } from 'node:util';
import { createOrganisation } from '../consortium/organisation.js';
import { issueCertificate } from '../consortium/certificate.js';
import { credentialFor, loadOrganisation, loadRevokedList, saveCredential, saveOrganisation } from '../consortium/credential.js';
import { MAX_REVOKED } from '../consortium/revocation.js';
import { MccNode } from '../node/node.js';
import { publishRevocationList } from '../node/consortium.js';
import { UsageError } from './args.js';

/** Help of `mcc org`. */
export const ORG_HELP = `mcc org: organisation tools for consortium mode (docs/consortium.md)

  mcc org create --out FILE                     a new organisation; prints its ID (give it to --trust)
  mcc org issue NODE-ID --org FILE --out FILE   a member's credential for node NODE-ID (mcc id prints it)
        [--days N]                              validity, default 30
        [--roles a,b]                           roles written into the certificate
  mcc org revoke NODE-ID... --org FILE --bootstrap HOST:PORT
                                                add nodes to the revocation list and publish it;
                                                members refuse them within their refresh interval (60 s)
  mcc start --credential FILE --trust ORG-ID    run a member daemon (--trust repeatable)

Files are JSON, mode 0600. Keep the organisation file offline: it signs certificates.
`;

const NODE_ID = /^[0-9a-f]{64}$/i;

function nodeIds(list: string[]): string[] {
  if (list.length === 0) throw new UsageError('expected a node ID (64 hex characters)');
  for (const id of list) if (!NODE_ID.test(id)) throw new UsageError(`"${id}" is not a node ID (64 hex characters)`);
  return list.map((id) => id.toLowerCase());
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value.length === 0) throw new UsageError(`${flag} FILE is required`);
  return value;
}

/** Runs `mcc org ARGS`; returns the exit code. */
export async function runOrg(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(ORG_HELP);
    return sub === undefined ? 2 : 0;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        out: { type: 'string', short: 'o' },
        org: { type: 'string' },
        days: { type: 'string' },
        roles: { type: 'string' },
        bootstrap: { type: 'string', short: 'b', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0].replace(/^.*?: /, ''));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(ORG_HELP);
    return 0;
  }
  switch (sub) {
    case 'create': {
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      const organisation = createOrganisation();
      await saveOrganisation(required(values.out, '--out'), organisation);
      console.log(organisation.id);
      return 0;
    }
    case 'issue': {
      const [nodeId] = nodeIds(positionals);
      if (positionals.length > 1) throw new UsageError('issue takes one node ID');
      const days = values.days === undefined ? 30 : Number(values.days);
      if (!Number.isFinite(days) || days <= 0 || days > 3650) throw new UsageError('--days: expected a number of days in (0, 3650]');
      const organisation = await loadOrganisation(required(values.org, '--org'));
      const notBefore = Date.now();
      const certificate = issueCertificate(organisation, nodeId, {
        notBefore,
        expiresAt: Math.floor(notBefore + days * 86_400_000),
        roles: values.roles ? values.roles.split(',').filter((role) => role.length > 0) : [],
      });
      await saveCredential(required(values.out, '--out'), credentialFor(organisation, certificate));
      console.log(`certificate for ${nodeId} valid until ${new Date(certificate.expiresAt).toISOString()}`);
      return 0;
    }
    case 'revoke': {
      const ids = nodeIds(positionals);
      const file = required(values.org, '--org');
      const bootstrap = values.bootstrap ?? [];
      if (bootstrap.length === 0) throw new UsageError('--bootstrap HOST:PORT is required (the list is published on the mesh)');
      const organisation = await loadOrganisation(file);
      const revoked = [...new Set([...(await loadRevokedList(file)), ...ids])];
      if (revoked.length > MAX_REVOKED) throw new UsageError(`a revocation list holds at most ${MAX_REVOKED} nodes; issue shorter certificates`);
      const node = await MccNode.create({ bootstrap });
      try {
        await node.start();
        const stored = await publishRevocationList(node, organisation, revoked);
        await saveOrganisation(file, organisation, revoked);
        console.log(`revocation list of ${revoked.length} node(s) stored on ${stored} node(s)`);
      } finally {
        await node.stop();
      }
      return 0;
    }
    default:
      throw new UsageError(`unknown org command "${sub}" (create, issue, revoke)`);
  }
}
