//! Server functions, grouped by domain. Each authenticates and authorizes in its own body (SSR
//! calls skip route layers). `RULES` states each one's rule in the REST API's vocabulary, with a
//! sample form body; the authorization matrix test calls every registered server function and
//! fails for one missing here.

pub mod account;
pub mod members;
pub mod signin;

/// Every server function's path under this prefix.
pub const PREFIX: &str = "/api/console";

/// `(path, rule, sample url-encoded body)`.
pub const RULES: &[(&str, &str, &str)] = &[
    ("/api/console/sign_in_state", "public", ""),
    ("/api/console/login", "public", "username=nobody&password=x"),
    ("/api/console/enroll_start", "public", ""),
    ("/api/console/enroll_confirm", "public", "code=000000"),
    ("/api/console/recovery_codes", "public", ""),
    ("/api/console/recovery_codes_stored", "public", ""),
    ("/api/console/mfa", "public", "code=000000"),
    ("/api/console/step_up", "signed_in", "code=000000&next=%2Faccount"),
    ("/api/console/logout", "public", ""),
    ("/api/console/me", "signed_in", ""),
    ("/api/console/members", "manage_members@global", ""),
    ("/api/console/grant_role", "manage_members@global", "user_id=usr_00000000000000000000&role=auditor&environment="),
    (
        "/api/console/remove_grant",
        "manage_members@global",
        "user_id=usr_00000000000000000000&grant_id=grant_00000000000000000000",
    ),
    ("/api/console/disable_member", "manage_members@global", "user_id=usr_00000000000000000000"),
];
