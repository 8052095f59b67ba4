import type { Application } from './model.ts';

export const isThirdParty = (app: Pick<Application, 'is_first_party'>) => !app.is_first_party;

export const isStrictThirdParty = (app: Pick<Application, 'is_first_party' | 'third_party_security_mode'>) =>
  !app.is_first_party && app.third_party_security_mode === 'strict';

export const isConfidential = (app: Pick<Application, 'token_endpoint_auth_method'>) => app.token_endpoint_auth_method !== 'none';

/** Whether errors after the application is identified must render Gatehouse's page instead of redirecting. */
export const protectsAgainstOpenRedirect = (app: Pick<Application, 'is_first_party' | 'third_party_security_mode' | 'redirection_policy'>) =>
  isStrictThirdParty(app) && app.redirection_policy !== 'allow_always';

/** The client metadata oidc-provider works with, derived from the stored application. */
export interface OidcClientMetadata {
  client_id: string;
  client_secret?: string;
  client_name: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: Application['token_endpoint_auth_method'];
  application_type: 'web' | 'native';
  id_token_signed_response_alg: string;
  logo_uri?: string;
}

export function toOidcClientMetadata(app: Application): OidcClientMetadata {
  const grantTypes = app.grant_types.filter((g) => g !== 'implicit' && g !== 'password');
  const responseTypes: string[] = [];
  if (app.grant_types.includes('authorization_code')) responseTypes.push('code');
  if (app.grant_types.includes('implicit')) {
    grantTypes.push('implicit');
    responseTypes.push('id_token token', 'id_token');
  }
  return {
    client_id: app.client_id,
    ...(app.client_secret_hash ? { client_secret: app.client_secret_hash } : {}),
    client_name: app.name,
    redirect_uris: app.callbacks,
    post_logout_redirect_uris: app.allowed_logout_urls,
    grant_types: grantTypes,
    response_types: responseTypes,
    token_endpoint_auth_method: app.token_endpoint_auth_method,
    application_type: app.app_type === 'native' ? 'native' : 'web',
    id_token_signed_response_alg: app.jwt_configuration.alg,
    ...(app.logo_uri ? { logo_uri: app.logo_uri } : {}),
  };
}
