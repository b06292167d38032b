use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::ExitCode;

use latchkey_core::secrets::{Keys, SECRET_NAMES};

use super::{CmdResult, describe};

/// Prints `LATCHKEY_*=…` lines, or writes one 0600 file per secret and prints `LATCHKEY_*_FILE=…`.
pub fn generate(out_dir: Option<&Path>) -> CmdResult {
    let keys = Keys::generate().map_err(describe)?;
    for name in SECRET_NAMES {
        let value = keys.get(name).ok_or("secret generation failed")?;
        let var = format!("LATCHKEY_{}", name.to_ascii_uppercase());
        match out_dir {
            None => println!("{var}={value}"),
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                let path = dir.join(name);
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
                writeln!(f, "{value}").map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                println!("{var}_FILE={}", path.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
