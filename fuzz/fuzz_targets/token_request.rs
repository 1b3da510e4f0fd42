//! The token, introspection and revocation endpoints below HTTP (RFC 6749 §3.2 and §5, RFC 7662, RFC 7009),
//! over a real SQLite database: any form and any `Authorization` header gets a token or an RFC 6749 §5.2
//! error that is the client's fault, never a server error and never a panic.
//!
//! Input: the first byte picks the endpoint, the first line is the `Authorization` header (empty for
//! none), the rest the form body. `{refresh}` in either stands for a live refresh token, `{secret}` for
//! the confidential client's secret.
#![no_main]

use latchkey_core::basic_auth::basic_credentials;
use latchkey_core::client_auth::PresentedCredentials;
use latchkey_core::testing::{confidential, World, SECRET};
use latchkey_core::{ErrorCode, Failure, Form};
use latchkey_endpoints::token::{introspect, revoke, token, ClientRequest};
use latchkey_endpoints::{Context, SigningKeys};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct Setup {
    runtime: tokio::runtime::Runtime,
    ctx: Context,
    refresh_token: String,
    _world: World,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let world = World::sqlite();
        let grants = ["authorization_code", "refresh_token", "client_credentials"];
        let app = world.client(confidential("app", &grants, &["openid", "profile", "offline_access", "api"]));
        world.user("alice");
        let (_, minted) = world.grant(&app, Some("alice"), "openid profile offline_access");
        let refresh_token = minted.refresh_token.expect("a refresh token").expose().to_owned();
        let ctx = Context::new(
            world.store.clone(),
            world.issuer.clone(),
            world.clock.clone(),
            SigningKeys::new(world.kek.clone()),
        );
        ctx.keys.reload(&ctx.store, ctx.now()).expect("keys loaded");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        Setup { runtime, ctx, refresh_token, _world: world }
    })
}

fn replace(input: &str, setup: &Setup) -> String {
    input.replace("{refresh}", &setup.refresh_token).replace("{secret}", SECRET)
}

fuzz_target!(|input: &[u8]| {
    let setup = setup();
    let Some((&endpoint, rest)) = input.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let (header, body) = text.split_once('\n').unwrap_or(("", &text));
    let (header, body) = (replace(header, setup), replace(body, setup));
    let Ok(basic) = basic_credentials(&header) else { return }; // the HTTP layer answers invalid_client
    let form = Form::parse(body.as_bytes());
    let text = |name| form.text(name);
    let (Ok(body_client_id), Ok(body_client_secret), Ok(client_assertion_type), Ok(client_assertion)) =
        (text("client_id"), text("client_secret"), text("client_assertion_type"), text("client_assertion"))
    else {
        return; // the HTTP layer answers invalid_request
    };
    let credentials = PresentedCredentials {
        basic,
        body_client_id,
        body_client_secret,
        client_assertion_type,
        client_assertion,
    };
    let request = ClientRequest { credentials, form, client_address: "192.0.2.1".into() };
    let ctx = &setup.ctx;
    let outcome = setup.runtime.block_on(async move {
        match endpoint % 3 {
            0 => token(ctx, request).await.map(|_| ()),
            1 => introspect(ctx, request).await.map(|_| ()),
            _ => revoke(ctx, request).await,
        }
    });
    match outcome {
        Ok(()) => {}
        Err(Failure::Refused(error)) => {
            assert_ne!(error.code, ErrorCode::ServerError, "{error:?}");
            assert_ne!(error.code, ErrorCode::TemporarilyUnavailable, "{error:?}");
        }
        Err(Failure::Storage(error)) => panic!("storage failed on a healthy database: {error}"),
    }
});
