//! Server functions, grouped by domain. Each authenticates and authorizes in its own body (SSR
//! calls skip route layers). `RULES` states each one's rule in the REST API's vocabulary, with a
//! sample form body; the authorization matrix test calls every registered server function and
//! fails for one missing here.

pub mod account;
pub mod audit;
pub mod credentials;
pub mod dashboard;
pub mod members;
pub mod requests;
pub mod settings;
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
    ("/api/console/applications", "view_metadata@any", "q="),
    ("/api/console/create_application", "create_application@any", "name=matrix-app&owner=team&description="),
    ("/api/console/application_detail", "view_metadata@any", "id=APP"),
    (
        "/api/console/issue_credential",
        "request_credential@env",
        "application_id=APP&environment=staging&name=k&scopes=&expires_in_days=&reason=matrix",
    ),
    ("/api/console/credential_detail", "view_metadata@env", "id=CRED"),
    ("/api/console/rotate_credential", "request_credential@env", "credential_id=CRED&grace_seconds=60&reason=matrix"),
    ("/api/console/end_grace", "revoke@env", "credential_id=CRED&reason=matrix"),
    ("/api/console/revoke_credential", "revoke@env", "credential_id=CRED&reason=matrix&emergency=on"),
    ("/api/console/revoke_all", "revoke@env", "application_id=APP&environment=staging&reason=matrix"),
    ("/api/console/find_credential", "view_metadata@env", "q=CRED"),
    ("/api/console/request_lists", "view_metadata@any", ""),
    ("/api/console/request_detail", "view_metadata@env", "id=REQ"),
    ("/api/console/decide_request", "approve@env", "id=REQ&decision=approve&comment="),
    ("/api/console/cancel_request", "view_metadata@env+requester", "id=REQ&comment="),
    ("/api/console/execute_request", "request_credential@env+requester", "id=REQ"),
    ("/api/console/environments", "view_metadata@any", ""),
    (
        "/api/console/update_policy",
        "manage_environments@env",
        "slug=staging&issue_approvals=0&rotate_approvals=0&max_lifetime_days=365&default_grace_seconds=3600&max_grace_seconds=604800&step_up_required=&blind_delivery=optional&reason=",
    ),
    ("/api/console/settings", "manage_settings@global", ""),
    (
        "/api/console/add_webhook",
        "manage_settings@global",
        "name=matrix&url=https%3A%2F%2Fhooks.example.com%2Fx&events=",
    ),
    ("/api/console/webhook_action", "manage_settings@global", "id=HOOK&action=test"),
    ("/api/console/audit_page", "view_audit@any", "action=&environment=&actor=&before="),
    ("/api/console/dashboard", "public", ""),
    ("/api/console/credentials_page", "view_metadata@any", "environment=&status=&after="),
];
