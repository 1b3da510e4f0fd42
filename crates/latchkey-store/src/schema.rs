// The one schema both backends share; keep in step with migrations/{sqlite,postgres}.

diesel::table! {
    clients (id) {
        id -> Text,
        name -> Text,
        secret_hash -> Nullable<Text>,
        jwks -> Nullable<Text>,
        redirect_uris -> Text,
        grant_types -> Text,
        scope -> Text,
        access_token_ttl -> BigInt,
        refresh_token_ttl -> Nullable<BigInt>,
        id_token_alg -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    users (username) {
        username -> Text,
        subject -> Text,
        password_hash -> Text,
        email -> Nullable<Text>,
        email_verified -> Bool,
        name -> Nullable<Text>,
        claims -> Text,
        disabled -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    tokens (id) {
        id -> Text,
        code_hash -> Nullable<Text>,
        code_expires -> Nullable<BigInt>,
        code_redeemed_at -> Nullable<BigInt>,
        access_token_hash -> Nullable<Text>,
        access_token_expires -> Nullable<BigInt>,
        refresh_token_hash -> Nullable<Text>,
        refresh_token_expires -> Nullable<BigInt>,
        id_token_hash -> Nullable<Text>,
        client_id -> Text,
        username -> Nullable<Text>,
        issuer -> Text,
        audience -> Text,
        scope -> Text,
        scope_descriptions -> Text,
        grant_type -> Text,
        stage -> Text,
        state -> Nullable<Text>,
        redirect_uri -> Nullable<Text>,
        response_type -> Nullable<Text>,
        response_mode -> Nullable<Text>,
        nonce -> Nullable<Text>,
        code_challenge -> Nullable<Text>,
        code_challenge_method -> Nullable<Text>,
        auth_time -> Nullable<BigInt>,
        properties -> Text,
        name -> Nullable<Text>,
        created_at -> BigInt,
        active_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
        family_id -> Text,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        private_key -> Text,
        public_jwk -> Text,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
        expires_at -> Nullable<BigInt>,
        signs_from -> BigInt,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        username -> Nullable<Text>,
        auth_time -> Nullable<BigInt>,
        created_at -> BigInt,
        last_seen_at -> BigInt,
        expires_at -> BigInt,
        amr -> Text,
    }
}

diesel::table! {
    consents (username, client_id) {
        username -> Text,
        client_id -> Text,
        scope -> Text,
        granted_at -> BigInt,
    }
}

diesel::table! {
    client_assertions (client_id, jti) {
        client_id -> Text,
        jti -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    login_failures (subject) {
        subject -> Text,
        failures -> BigInt,
        locked_until -> Nullable<BigInt>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    change_versions (topic) {
        topic -> Text,
        version -> BigInt,
    }
}

diesel::joinable!(tokens -> clients (client_id));
diesel::table! {
    known_sign_ins (username, source) {
        username -> Text,
        source -> Text,
        signed_in_at -> BigInt,
    }
}

diesel::table! {
    hash_keys (name) {
        name -> Text,
        sealed -> Text,
        created_at -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    clients,
    users,
    tokens,
    signing_keys,
    sessions,
    consents,
    login_failures,
    known_sign_ins,
    client_assertions,
    change_versions,
    hash_keys
);
