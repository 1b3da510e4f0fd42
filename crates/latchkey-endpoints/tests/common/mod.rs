//! What the endpoint layer's tests share: a world and a context over it.
#![allow(dead_code)]

use latchkey_core::testing::World;
use latchkey_endpoints::{Context, SigningKeys};
use latchkey_store::testing::TestDatabase;

pub fn context(world: &World) -> Context {
    let ctx = Context::new(
        world.store.clone(),
        world.issuer.clone(),
        world.clock.clone(),
        SigningKeys::new(world.kek.clone()),
    );
    ctx.keys.reload(&ctx.store, ctx.now()).unwrap();
    ctx
}

/// A fresh world on the backend of `db`.
pub fn world(db: &TestDatabase) -> World {
    World::new(TestDatabase::create(db.backend()).unwrap())
}

/// Runs each listed async case, a `fn(TestDatabase) -> impl Future`, on SQLite and (with `--ignored` and
/// `LATCHKEY_TEST_POSTGRES_URL`) on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(&latchkey_store::testing::TestDatabase::sqlite()).await; } )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL: set LATCHKEY_TEST_POSTGRES_URL and run with --ignored"]
                async fn $case() {
                    let db = latchkey_store::testing::TestDatabase::postgres().expect("PostgreSQL test database");
                    super::$case(&db).await;
                }
            )*
        }
    };
}
