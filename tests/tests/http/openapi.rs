//! docs/openapi.yaml against the running server: every documented operation is exercised, every answer
//! has a documented status, and every JSON body matches its documented schema (no missing required field,
//! no undocumented one, the documented types). An operation the server lacks, or an answer the document
//! does not describe, fails here.

use crate::on_both_backends;
use crate::support::{tokens_for, Fixture, TestDatabase, ADMIN_TOKEN};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

on_both_backends!(the_server_answers_as_its_openapi_document_says);

fn document() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

fn resolve<'a>(doc: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let mut target = doc;
            for part in reference.trim_start_matches("#/").split('/') {
                target = &target[part];
            }
            resolve(doc, target)
        }
        None => node,
    }
}

/// The subset of JSON Schema the document uses.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema);
    if value.is_null() {
        return if schema["nullable"] == true { Ok(()) } else { Err(format!("{at}: null is not allowed")) };
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        return match options.iter().any(|option| check(doc, option, value, at).is_ok()) {
            true => Ok(()),
            false => Err(format!("{at}: matches none of oneOf")),
        };
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            return Err(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    let fits = match schema.get("type").and_then(Value::as_str) {
        None => true,
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("boolean") => value.is_boolean(),
        Some("array") => value.is_array(),
        Some("object") => value.is_object(),
        Some(other) => return Err(format!("{at}: the checker does not know type {other}")),
    };
    if !fits {
        return Err(format!("{at}: {value} is not of type {}", schema["type"]));
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (index, item) in values.iter().enumerate() {
            check(doc, items, item, &format!("{at}[{index}]"))?;
        }
    }
    if let (Some(properties), Some(object)) =
        (schema.get("properties").and_then(Value::as_object), value.as_object())
    {
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let name = required.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                return Err(format!("{at}: required field {name} is missing"));
            }
        }
        for (name, field) in object {
            match properties.get(name) {
                Some(property) => check(doc, property, field, &format!("{at}.{name}"))?,
                None if schema["additionalProperties"] == false => {
                    return Err(format!("{at}: field {name} is not documented"))
                }
                None => {}
            }
        }
    }
    Ok(())
}

struct Exercise<'a> {
    fixture: &'a Fixture,
    doc: Value,
    exercised: BTreeSet<(String, String)>,
}

impl Exercise<'_> {
    /// Sends the request and checks the answer against operation `template` (a documented path).
    async fn call(
        &mut self,
        method: Method,
        template: &str,
        path: &str,
        bearer: &str,
        body: Option<Value>,
    ) -> Value {
        let mut request =
            self.fixture.app.http.request(method.clone(), self.fixture.url(path)).bearer_auth(bearer);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16().to_string();
        let text = response.text().await.unwrap();
        let operation = &self.doc["paths"][template][method.as_str().to_lowercase()];
        assert!(operation.is_object(), "{method} {template} is not documented");
        let documented = resolve(&self.doc, &operation["responses"][&status]);
        assert!(documented.is_object(), "{method} {path} answered {status}, not documented: {text}");
        let body = match documented["content"]["application/json"]["schema"].clone() {
            Value::Null => {
                assert!(text.is_empty(), "{method} {path}: {status} is documented without a body: {text}");
                Value::Null
            }
            schema => {
                let body: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {text}"));
                if let Err(why) = check(&self.doc, &schema, &body, "body") {
                    panic!("{method} {path} ({status}): {why}\n{body}");
                }
                body
            }
        };
        self.exercised.insert((method.as_str().to_lowercase(), template.to_owned()));
        body
    }
}

async fn the_server_answers_as_its_openapi_document_says(db: TestDatabase) {
    let fixture = Fixture::new(db).await;
    let doc = document();
    let alice = tokens_for(&fixture, "openid offline_access latchkey:tokens").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut x = Exercise { fixture: &fixture, doc: doc.clone(), exercised: BTreeSet::new() };
    let admin = ADMIN_TOKEN;

    // The owner token API.
    x.call(Method::GET, "/api/tokens", "/api/tokens", &alice, None).await;
    x.call(Method::GET, "/api/tokens", "/api/tokens", "wrong", None).await;
    let ordinary = tokens_for(&fixture, "openid").await["access_token"].as_str().unwrap().to_owned();
    x.call(Method::GET, "/api/tokens", "/api/tokens", &ordinary, None).await;
    x.call(Method::POST, "/api/tokens", "/api/tokens", &alice, Some(json!({"name": "x", "extra": 1}))).await;
    let created = x
        .call(
            Method::POST,
            "/api/tokens",
            "/api/tokens",
            &alice,
            Some(json!({"name": "ci", "ttl": "1d", "data": {"k": "v"}})),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let one = format!("/api/tokens/{id}");
    x.call(Method::GET, "/api/tokens/{id}", &one, &alice, None).await;
    x.call(Method::GET, "/api/tokens/{id}", "/api/tokens/current", &alice, None).await;
    x.call(Method::GET, "/api/tokens/{id}", "/api/tokens/nothing", &alice, None).await;
    x.call(Method::PATCH, "/api/tokens/{id}", &one, &alice, Some(json!({"name": "ci 2"}))).await;
    x.call(Method::PATCH, "/api/tokens/{id}", &one, &alice, Some(json!({"name": ""}))).await;
    x.call(Method::DELETE, "/api/tokens/{id}", &one, &alice, None).await;
    x.call(Method::DELETE, "/api/tokens/{id}", &one, &alice, None).await;

    // The admin API.
    x.call(Method::GET, "/admin/users", "/admin/users?limit=1", admin, None).await;
    x.call(
        Method::POST,
        "/admin/users",
        "/admin/users",
        admin,
        Some(json!({"username": "carol", "password": "long enough pw"})),
    )
    .await;
    x.call(
        Method::POST,
        "/admin/users",
        "/admin/users",
        admin,
        Some(json!({"username": "carol", "password": "long enough pw"})),
    )
    .await;
    x.call(Method::GET, "/admin/users/{username}", "/admin/users/carol", admin, None).await;
    x.call(
        Method::PATCH,
        "/admin/users/{username}",
        "/admin/users/carol",
        admin,
        Some(json!({"name": "Carol", "email": null})),
    )
    .await;
    x.call(Method::POST, "/admin/users/{username}/revoke", "/admin/users/carol/revoke", admin, None).await;
    x.call(Method::DELETE, "/admin/users/{username}", "/admin/users/carol", admin, None).await;
    x.call(Method::GET, "/admin/users/{username}", "/admin/users/carol", admin, None).await;

    x.call(Method::GET, "/admin/clients", "/admin/clients", admin, None).await;
    let client = json!({"id": "reports", "grant_types": ["client_credentials"], "scopes": ["api:read"]});
    x.call(Method::POST, "/admin/clients", "/admin/clients", admin, Some(client.clone())).await;
    x.call(Method::POST, "/admin/clients", "/admin/clients", admin, Some(client)).await;
    x.call(Method::GET, "/admin/clients/{id}", "/admin/clients/reports", admin, None).await;
    x.call(
        Method::PATCH,
        "/admin/clients/{id}",
        "/admin/clients/reports",
        admin,
        Some(json!({"refresh_token_ttl": null})),
    )
    .await;
    x.call(Method::POST, "/admin/clients/{id}/secret", "/admin/clients/reports/secret", admin, None).await;
    x.call(Method::POST, "/admin/clients/{id}/secret", "/admin/clients/spa/secret", admin, None).await;
    x.call(Method::POST, "/admin/clients/{id}/revoke", "/admin/clients/reports/revoke", admin, None).await;
    x.call(Method::DELETE, "/admin/clients/{id}", "/admin/clients/reports", admin, None).await;

    let key = x
        .call(
            Method::POST,
            "/admin/tokens",
            "/admin/tokens",
            admin,
            Some(json!({"clientId": "service", "name": "k", "scopes": ["api:read"]})),
        )
        .await;
    x.call(Method::POST, "/admin/tokens", "/admin/tokens", admin, Some(json!({"name": "nobody's"}))).await;
    x.call(Method::GET, "/admin/tokens", "/admin/tokens?type=api-key&active=true", admin, None).await;
    x.call(Method::GET, "/admin/tokens", "/admin/tokens?type=nonsense", admin, None).await;
    let key = format!("/admin/tokens/{}", key["id"].as_str().unwrap());
    x.call(Method::GET, "/admin/tokens/{id}", &key, admin, None).await;
    x.call(Method::PATCH, "/admin/tokens/{id}", &key, admin, Some(json!({"data": {"team": "ops"}}))).await;
    x.call(Method::DELETE, "/admin/tokens/{id}", &key, admin, None).await;
    x.call(Method::GET, "/admin/tokens/{id}", "/admin/tokens/nothing", admin, None).await;
    x.call(Method::POST, "/admin/keys/rotate", "/admin/keys/rotate", admin, None).await;
    x.call(Method::POST, "/admin/keys/rotate", "/admin/keys/rotate", "wrong", None).await;

    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .unwrap()
                .keys()
                .filter(|m| *m != "parameters")
                .map(|m| (m.clone(), path.clone()))
        })
        .collect();
    let missed: Vec<_> = documented.difference(&x.exercised).collect();
    assert!(missed.is_empty(), "documented but not exercised: {missed:?}");
}
