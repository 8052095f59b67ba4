import { errors } from 'oidc-provider';
import type { Application, Trust } from '../domain/model.ts';
import { trustRefusal } from '../domain/trust.ts';
import type { MetadataDocumentError } from '../services/client-metadata-documents.ts';

/**
 * A client id URL whose metadata document cannot be used now (it could not be fetched, breaks a rule, or a new
 * application for it is not admitted now): the request stops, and a person gets Gatehouse's page saying so.
 */
export class MetadataDocumentUnusable extends errors.InvalidClient {
  readonly document: Pick<MetadataDocumentError, 'url' | 'kind' | 'problems'> & { host: string };
  constructor(cause: MetadataDocumentError) {
    super(cause.message);
    this.document = { url: cause.url, kind: cause.kind, problems: cause.problems, host: URL.parse(cause.url)?.host ?? cause.url };
    this.allow_redirect = false;
  }
}

/**
 * A self-registered application that may not get tokens now (pending approval, or blocked). Never a redirect to its
 * callback: a person gets Gatehouse's page, the application `unauthorized_client`.
 */
export class ApplicationNotTrusted extends errors.UnauthorizedClient {
  readonly application: Pick<Application, 'name'>;
  readonly trust: Exclude<Trust, 'trusted'>;
  constructor(application: Pick<Application, 'name'>, refusal: NonNullable<ReturnType<typeof trustRefusal>>) {
    super(refusal.description);
    this.application = { name: application.name };
    this.trust = refusal.trust;
    this.allow_redirect = false;
  }
}

/** Stops a request of an application the trust ladder does not let get tokens now. */
export function assertTrusted(app: Pick<Application, 'name' | 'trust'>): void {
  const refusal = trustRefusal(app);
  if (refusal) throw new ApplicationNotTrusted(app, refusal);
}
