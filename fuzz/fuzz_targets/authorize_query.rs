//! The authorization request (RFC 6749 §4.1.1, §4.2.1; OpenID Connect Core §3.1.2.1) from any query
//! string: an error is only ever redirected to a registered URI, and an accepted request names a
//! registered URI, the client's own scopes and, for a public client, a PKCE challenge.
#![no_main]

use latchkey_core::{ErrorCode, Form};
use latchkey_grant_code::request::{validate, Rejection, MAX_STATE_BYTES};
use latchkey_model::{
    Client, ClientCredentials, ClientId, GrantType, RedirectUri, ResponseMode, ResponseType, Scope,
    SecretHasher, SigningAlgorithm, Timestamp,
};
use libfuzzer_sys::fuzz_target;

fn client(id: &str, public: bool, redirect_uris: &[&str]) -> Client {
    Client {
        id: ClientId::parse(id).expect("a client id"),
        name: id.into(),
        credentials: if public {
            ClientCredentials::Public
        } else {
            ClientCredentials::Secret(SecretHasher::new(&[0; 32]).hash("s"))
        },
        redirect_uris: redirect_uris
            .iter()
            .map(|uri| RedirectUri::parse(uri).expect("a redirect URI"))
            .collect(),
        grant_types: [GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::Implicit].into(),
        scope: Scope::parse("openid profile email offline_access").expect("a scope"),
        access_token_ttl_seconds: 600,
        refresh_token_ttl_seconds: None,
        id_token_signing_alg: SigningAlgorithm::Rs256,
        created_at: Timestamp::from_unix_seconds(0),
        updated_at: Timestamp::from_unix_seconds(0),
    }
}

fn registered(client: &Client, uri: &RedirectUri) -> bool {
    client.redirect_uri_matching(uri.as_str()).is_some()
}

fuzz_target!(|input: &[u8]| {
    let Some((&which, query)) = input.split_first() else { return };
    let client = match which % 3 {
        0 => client("web", false, &["https://app.example.com/cb"]),
        1 => client("native", true, &["http://127.0.0.1/cb", "com.example.app:/cb"]),
        _ => client("two", false, &["https://a.example.com/cb", "https://b.example.com/cb?x=1"]),
    };
    let form = Form::parse(query);
    match validate(&form, Some(client.clone()), &ResponseType::ALL) {
        Ok(request) => {
            assert!(registered(&client, &request.redirect_uri), "{:?}", request.redirect_uri.as_str());
            assert!(request.scope.is_subset_of(&client.scope));
            let public = matches!(client.credentials, ClientCredentials::Public);
            if public && request.response_type == ResponseType::Code {
                assert!(request.code_challenge.is_some(), "a public client's code needs PKCE");
            }
            if request.response_type != ResponseType::Code {
                assert_ne!(request.response_mode, ResponseMode::Query, "tokens never go in a query");
            }
            if request.response_type.issues_id_token() {
                assert!(request.nonce.is_some() && request.scope.contains("openid"));
            }
            if let Some(state) = &request.state {
                assert!(state.as_bytes().len() <= MAX_STATE_BYTES);
            }
        }
        Err(Rejection::Redirect { redirect_uri, error, .. }) => {
            assert!(registered(&client, &redirect_uri), "an error redirected to {:?}", redirect_uri.as_str());
            assert_ne!(error.code, ErrorCode::ServerError);
        }
        Err(Rejection::Page(error)) => assert_ne!(error.code, ErrorCode::ServerError),
    }
    // No client, or the reserved one: never a redirect.
    assert!(matches!(validate(&form, None, &ResponseType::ALL), Err(Rejection::Page(_))));
});
