//! A hostile identity provider for the negative OIDC tests (SECURITY O2–O4): it serves valid
//! discovery and keys, then answers the token request with an ID token that has exactly one
//! defect — a wrong issuer, audience, nonce or expiry, `alg: none`, or HMAC signatures keyed
//! with its public key or the client secret. Its `Good` scenario proves the rest of its tokens
//! would have been accepted, so each refusal is for the stated defect alone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use p256::ecdsa::SigningKey;
use p256::ecdsa::signature::Signer;
use serde_json::{Value, json};
use sha2::Sha256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Good,
    WrongIssuer,
    WrongAudience,
    Expired,
    WrongNonce,
    AlgNone,
    Hs256WithPublicKey,
    Hs256WithClientSecret,
}

#[derive(Clone)]
struct Inner {
    issuer: String,
    client_id: String,
    client_secret: String,
    key: SigningKey,
    jwk: Value,
    scenario: Arc<Mutex<Scenario>>,
    nonces: Arc<Mutex<HashMap<String, String>>>,
    now_secs: Arc<dyn Fn() -> i64 + Send + Sync>,
}

pub struct RogueIdp {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    scenario: Arc<Mutex<Scenario>>,
}

impl RogueIdp {
    pub fn set(&self, s: Scenario) {
        *self.scenario.lock().unwrap() = s;
    }
}

fn b64(v: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(v)
}

async fn discovery(State(s): State<Inner>) -> Json<Value> {
    Json(json!({
        "issuer": s.issuer,
        "authorization_endpoint": format!("{}/authorize", s.issuer),
        "token_endpoint": format!("{}/token", s.issuer),
        "jwks_uri": format!("{}/jwks", s.issuer),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        // Advertising HMAC and none is part of the attack: the client must not listen.
        "id_token_signing_alg_values_supported": ["ES256", "HS256", "none"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }))
}

async fn jwks(State(s): State<Inner>) -> Json<Value> {
    Json(json!({ "keys": [s.jwk] }))
}

async fn authorize(State(s): State<Inner>, Query(q): Query<HashMap<String, String>>) -> Response {
    let code = format!("code-{}", latchkey_core::random::base62(16).unwrap());
    s.nonces.lock().unwrap().insert(code.clone(), q.get("nonce").cloned().unwrap_or_default());
    let to = format!(
        "{}?code={code}&state={}",
        q.get("redirect_uri").cloned().unwrap_or_default(),
        q.get("state").cloned().unwrap_or_default()
    );
    Redirect::to(&to).into_response()
}

fn sign(s: &Inner, header: Value, claims: Value, scenario: Scenario) -> String {
    let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let sig = match scenario {
        Scenario::AlgNone => Vec::new(),
        Scenario::Hs256WithPublicKey | Scenario::Hs256WithClientSecret => {
            let key =
                if scenario == Scenario::Hs256WithPublicKey { s.jwk.to_string() } else { s.client_secret.clone() };
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).unwrap();
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        _ => {
            let sig: p256::ecdsa::Signature = s.key.sign(input.as_bytes());
            sig.to_bytes().to_vec()
        }
    };
    format!("{input}.{}", b64(&sig))
}

async fn token(State(s): State<Inner>, Form(f): Form<HashMap<String, String>>) -> Response {
    let code = f.get("code").cloned().unwrap_or_default();
    let Some(nonce) = s.nonces.lock().unwrap().remove(&code) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant"}))).into_response();
    };
    let scenario = *s.scenario.lock().unwrap();
    let now = (s.now_secs)();
    let mut claims = json!({
        "iss": s.issuer, "sub": "rogue-user", "aud": s.client_id, "iat": now, "exp": now + 600,
        "nonce": nonce, "email": "rogue@example.com",
    });
    match scenario {
        Scenario::WrongIssuer => claims["iss"] = json!("http://127.0.0.1:1/not-the-issuer"),
        Scenario::WrongAudience => claims["aud"] = json!("someone-else"),
        Scenario::Expired => {
            claims["iat"] = json!(now - 7200);
            claims["exp"] = json!(now - 3600);
        }
        Scenario::WrongNonce => claims["nonce"] = json!("not-the-nonce"),
        _ => {}
    }
    let alg = match scenario {
        Scenario::AlgNone => "none",
        Scenario::Hs256WithPublicKey | Scenario::Hs256WithClientSecret => "HS256",
        _ => "ES256",
    };
    let header = json!({"alg": alg, "typ": "JWT", "kid": "rogue-1"});
    let id_token = sign(&s, header, claims, scenario);
    Json(json!({"access_token": "rogue-access", "token_type": "Bearer", "expires_in": 600, "id_token": id_token}))
        .into_response()
}

/// Starts the rogue IdP on a loopback port for one client.
pub async fn start(redirect_uri: &str, now_secs: Arc<dyn Fn() -> i64 + Send + Sync>) -> RogueIdp {
    let _ = redirect_uri;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let key = SigningKey::from_slice(&latchkey_core::random::bytes::<32>().unwrap()).unwrap();
    let point = key.verifying_key().to_sec1_point(false);
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "kid": "rogue-1", "use": "sig", "alg": "ES256",
        "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap()),
    });
    let scenario = Arc::new(Mutex::new(Scenario::Good));
    let inner = Inner {
        issuer: issuer.clone(),
        client_id: "latchkey-test".into(),
        client_secret: "rogue-shared-secret-0123456789".into(),
        key,
        jwk,
        scenario: scenario.clone(),
        nonces: Arc::new(Mutex::new(HashMap::new())),
        now_secs,
    };
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .with_state(inner.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    RogueIdp { issuer, client_id: inner.client_id, client_secret: inner.client_secret, scenario }
}
