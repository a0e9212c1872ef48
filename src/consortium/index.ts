/** Consortium mode: organisations, certificates, revocation, restricted services. See docs/consortium.md. */
export { createOrganisation, parseOrganisationId, type Organisation, type OrganisationRef } from './organisation.js';
export {
  issueCertificate,
  verifyCertificate,
  checkCertificate,
  decodeCertificate,
  MAX_CERTIFICATE_BYTES,
  type Certificate,
  type CertificateCheck,
  type CertificateProblem,
  type CertificateVerdict,
  type IssueOptions,
} from './certificate.js';
export { createRevocationRecord, parseRevocationRecord, revocationKey, MAX_REVOKED, type RevocationList } from './revocation.js';
export { credentialFor, loadCredential, saveCredential, loadOrganisation, saveOrganisation, type Credential } from './credential.js';
export type { Visibility } from './policy.js';
