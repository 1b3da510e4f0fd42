//! Authorization server metadata (RFC 8414; OpenID Connect Discovery 1.0 §3), built with openidconnect's
//! types. It lists exactly what this build implements, so a client never tries a grant, response type or
//! endpoint that is not there.

use crate::{offered_response_types, supported_grants};
use latchkey_core::keys::KeyAlgorithm;
use latchkey_core::Issuer;
use latchkey_model::{GrantType, ResponseType};
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType,
    CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthUrl, IssuerUrl, JsonWebKeySetUrl, ProviderMetadata, ResponseTypes, Scope,
    TokenUrl, UserInfoUrl,
};
use serde::{Deserialize, Serialize};

fn response_types(kind: ResponseType) -> ResponseTypes<CoreResponseType> {
    ResponseTypes::new(match kind {
        ResponseType::Code => vec![CoreResponseType::Code],
        ResponseType::Token => vec![CoreResponseType::Token],
        ResponseType::IdToken => vec![CoreResponseType::IdToken],
        ResponseType::IdTokenToken => vec![CoreResponseType::IdToken, CoreResponseType::Token],
    })
}

fn grant_type(grant: GrantType) -> Option<CoreGrantType> {
    Some(match grant {
        GrantType::AuthorizationCode => CoreGrantType::AuthorizationCode,
        GrantType::RefreshToken => CoreGrantType::RefreshToken,
        GrantType::ClientCredentials => CoreGrantType::ClientCredentials,
        GrantType::Password => CoreGrantType::Password,
        GrantType::Implicit => CoreGrantType::Implicit,
        GrantType::Personal => return None,
    })
}

/// Metadata openidconnect has no field for (RFC 7636, RFC 9207, RFC 8414 §2, RP-Initiated Logout).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExtraMetadata {
    code_challenge_methods_supported: Vec<String>,
    authorization_response_iss_parameter_supported: bool,
    end_session_endpoint: String,
    introspection_endpoint: String,
    introspection_endpoint_auth_methods_supported: Vec<String>,
    revocation_endpoint: String,
    revocation_endpoint_auth_methods_supported: Vec<String>,
}

impl AdditionalProviderMetadata for ExtraMetadata {}

type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The metadata document for `issuer`, built once at start-up.
pub fn document(issuer: &Issuer) -> Result<serde_json::Value, String> {
    let url = |path: &str| issuer.endpoint(path);
    let err = |e: openidconnect::url::ParseError| e.to_string();
    let metadata = Metadata::new(
        IssuerUrl::new(issuer.to_string()).map_err(err)?,
        AuthUrl::new(url("/authorize")).map_err(err)?,
        JsonWebKeySetUrl::new(url("/jwks.json")).map_err(err)?,
        offered_response_types().into_iter().map(response_types).collect(),
        vec![CoreSubjectIdentifierType::Public],
        // Every algorithm always has an active key; each client picks one (`client add --id-token-alg`).
        KeyAlgorithm::ALL.into_iter().map(latchkey_core::keys::jws).collect(),
        ExtraMetadata {
            code_challenge_methods_supported: vec!["S256".into()],
            authorization_response_iss_parameter_supported: true,
            end_session_endpoint: url("/logout"),
            introspection_endpoint: url("/introspect"),
            // Only confidential clients may introspect (RFC 7662 §2.1).
            introspection_endpoint_auth_methods_supported: vec![
                "client_secret_basic".into(),
                "client_secret_post".into(),
                "private_key_jwt".into(),
            ],
            revocation_endpoint: url("/revoke"),
            revocation_endpoint_auth_methods_supported: vec![
                "client_secret_basic".into(),
                "client_secret_post".into(),
                "private_key_jwt".into(),
                "none".into(),
            ],
        },
    )
    .set_token_endpoint(Some(TokenUrl::new(url("/token")).map_err(err)?))
    .set_userinfo_endpoint(Some(UserInfoUrl::new(url("/userinfo")).map_err(err)?))
    .set_scopes_supported(Some(
        ["openid", "profile", "email", "address", "phone", "offline_access"]
            .map(|s| Scope::new(s.into()))
            .to_vec(),
    ))
    .set_response_modes_supported(Some(vec![
        CoreResponseMode::Query,
        CoreResponseMode::Fragment,
        CoreResponseMode::FormPost,
    ]))
    .set_grant_types_supported(Some(supported_grants().into_iter().filter_map(grant_type).collect()))
    .set_token_endpoint_auth_methods_supported(Some(vec![
        CoreClientAuthMethod::ClientSecretBasic,
        CoreClientAuthMethod::ClientSecretPost,
        CoreClientAuthMethod::PrivateKeyJwt,
        CoreClientAuthMethod::None,
    ]))
    .set_token_endpoint_auth_signing_alg_values_supported(Some(
        KeyAlgorithm::ALL.into_iter().map(latchkey_core::keys::jws).collect(),
    ))
    .set_claims_supported(Some(
        latchkey_core::claims::supported_claims().into_iter().map(|c| CoreClaimName::new(c.into())).collect(),
    ))
    .set_claims_parameter_supported(Some(false))
    .set_request_parameter_supported(Some(false))
    .set_request_uri_parameter_supported(Some(false));
    serde_json::to_value(&metadata).map_err(|e| e.to_string())
}
