//! A client changed while one of its token requests is between authentication and issue.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{context, world};
use latchkey_core::client_auth::PresentedCredentials;
use latchkey_core::testing::{confidential, SECRET};
use latchkey_core::{ErrorCode, Failure, Form};
use latchkey_endpoints::token::{token, ClientRequest};
use latchkey_model::ClientId;
use latchkey_store::testing::TestDatabase;

/// client_credentials authenticates on a read and stores its token in a later write. A rotation of the
/// secret that commits in between (here: the write queued just ahead of the token's, on SQLite's one
/// writer) must stop the token, or a token authenticated by a secret already replaced would be issued
/// after the rotation, unseen by any revocation that followed it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_rotated_between_authentication_and_issue_stops_the_token() {
    let world = world(&TestDatabase::sqlite());
    let ctx = context(&world);
    world.client(confidential("svc", &["client_credentials"], &["read"]));
    let (store, now) = (ctx.store.clone(), ctx.now());

    // The operator's rotation, held inside the writer until the token request has queued its insert.
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let (inside, entered) = std::sync::mpsc::channel::<()>();
    let id = ClientId::parse("svc").unwrap();
    let rotated = world.hasher().hash("rotated-secret-0123456789abcdefghij");
    let rotation = tokio::spawn(async move {
        store
            .write_async(move |repo| {
                inside.send(()).unwrap();
                let _ = gate.recv();
                repo.replace_client_secret(&id, &rotated, now)
            })
            .await
    });
    tokio::task::spawn_blocking(move || entered.recv().unwrap()).await.unwrap();

    let request = ClientRequest {
        credentials: PresentedCredentials {
            basic: Some(("svc".into(), SECRET.into())),
            ..Default::default()
        },
        form: Form::from_pairs([("grant_type", "client_credentials")]),
        client_address: "192.0.2.9".into(),
    };
    let issuing = {
        let ctx = ctx.clone();
        tokio::spawn(async move { token(&ctx, request).await })
    };
    // Authenticated with the old secret (a read, which the held writer does not block); its insert queues.
    while ctx.store.write_batches().unwrap().queued < 1 {
        tokio::task::yield_now().await;
    }
    release.send(()).unwrap();

    assert_eq!(rotation.await.unwrap(), Ok(true));
    match issuing.await.unwrap() {
        Err(Failure::Refused(error)) => assert_eq!(error.code, ErrorCode::InvalidClient),
        Ok(_) => panic!("a token was issued on a secret replaced before it was stored"),
        Err(other) => panic!("expected invalid_client, got {other:?}"),
    }
}
