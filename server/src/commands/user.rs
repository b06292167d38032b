use std::io::BufRead;
use std::process::ExitCode;

use latchkey_core::domain::audit::Ctx;
use latchkey_core::domain::environment::EnvironmentSlug;
use latchkey_core::domain::user::{Password, Role, Username};
use latchkey_core::services::users::NewLocalUser;

use super::{CmdResult, describe, load_config, open};

pub async fn create(username: &str, role: &str, environment: Option<&str>, password_stdin: bool) -> CmdResult {
    let username = Username::parse(username).map_err(describe)?;
    let role = Role::parse(role).map_err(describe)?;
    let environment = environment.map(EnvironmentSlug::parse).transpose().map_err(describe)?;
    if !password_stdin {
        return Err(
            "pass --password-stdin and pipe the password, e.g. `printf %s \"$PW\" | latchkey user create …`".into()
        );
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| format!("cannot read the password: {e}"))?;
    let password = Password::new_checked(line.trim_end_matches(['\r', '\n']).to_owned()).map_err(describe)?;
    line.clear();
    let cfg = load_config()?;
    let s = open(&cfg).await?;
    let ctx = Ctx::system("cli", format!("cli_{}", std::process::id()));
    let user = s
        .create_local_user(&ctx, NewLocalUser { username, password, role, environment: environment.clone() })
        .await
        .map_err(describe)?;
    s.db.close().await;
    println!(
        "created {} {} with role {}{}",
        user.username.as_deref().unwrap_or_default(),
        user.id,
        role.as_str(),
        environment.map(|e| format!(" in {e}")).unwrap_or_else(|| " in every environment".into())
    );
    Ok(ExitCode::SUCCESS)
}
