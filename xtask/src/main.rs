//! `cargo xtask build [--release]`: builds the console and the server without cargo-leptos.
//!
//! 1. the `app` crate for `wasm32-unknown-unknown` with the `hydrate` feature;
//! 2. wasm-bindgen (the library, pinned to the same version as the `wasm-bindgen` crate) into
//!    `target/site/pkg/latchkey{.js,_bg.wasm}`;
//! 3. in release, `wasm-opt -Oz` from the npm package `binaryen@132` (never Debian's binaryen:
//!    its v108 output breaks hydration);
//! 4. `style/main.css` → `pkg/latchkey.css`, `public/*` → site root, gzip copies of each file;
//! 5. the server binary, which embeds `target/site`.
//!
//! Prints the gzip size of the hydration bundle (BENCH P12).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

type Result<T> = std::result::Result<T, String>;

fn root() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    p.canonicalize().unwrap_or(p)
}

fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root().join("target"))
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: {cmd:?}");
    let status = cmd.status().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{cmd:?} failed with {status}")) }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn find_wasm_opt() -> Option<PathBuf> {
    let local = root().join("tools/node_modules/.bin/wasm-opt");
    if local.exists() {
        return Some(local);
    }
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join("wasm-opt")).find(|p| p.exists()))
}

fn wasm_opt_is_npm_132(path: &Path) -> bool {
    Command::new(path)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("version 132"))
        .unwrap_or(false)
}

fn gzip(path: &Path) -> Result<u64> {
    let data = std::fs::read(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&data).map_err(|e| e.to_string())?;
    let out = enc.finish().map_err(|e| e.to_string())?;
    let gz = PathBuf::from(format!("{}.gz", path.display()));
    std::fs::write(&gz, &out).map_err(|e| format!("write {}: {e}", gz.display()))?;
    Ok(out.len() as u64)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(from) else { return Ok(()) };
    std::fs::create_dir_all(to).map_err(|e| e.to_string())?;
    for e in entries.flatten() {
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &dest)?;
        } else {
            std::fs::copy(&p, &dest).map_err(|e| format!("copy {}: {e}", p.display()))?;
        }
    }
    Ok(())
}

fn build_site(release: bool) -> Result<u64> {
    let target = target_dir();
    let profile = if release { "wasm-release" } else { "dev" };
    run(cargo()
        .current_dir(root())
        .args(["build", "--package", "app", "--lib", "--target", "wasm32-unknown-unknown"])
        .args(["--no-default-features", "--features", "hydrate", "--profile", profile]))?;
    let profile_dir = if release { "wasm-release" } else { "debug" };
    let wasm = target.join("wasm32-unknown-unknown").join(profile_dir).join("app.wasm");
    let site = target.join("site");
    let pkg = site.join("pkg");
    let _ = std::fs::remove_dir_all(&site);
    std::fs::create_dir_all(&pkg).map_err(|e| e.to_string())?;
    eprintln!("xtask: wasm-bindgen {}", wasm.display());
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .web(true)
        .map_err(|e| e.to_string())?
        .out_name("latchkey")
        .typescript(false)
        .debug(!release)
        .generate(&pkg)
        .map_err(|e| format!("wasm-bindgen: {e}"))?;
    let bg = pkg.join("latchkey_bg.wasm");
    if release {
        let Some(opt) = find_wasm_opt() else {
            return Err("wasm-opt not found: run `make setup` (installs npm binaryen@132 into tools/)".into());
        };
        if !wasm_opt_is_npm_132(&opt) {
            return Err(format!(
                "{} is not binaryen version 132 (Debian's binaryen breaks hydration); run `make setup`",
                opt.display()
            ));
        }
        let tmp = pkg.join("latchkey_bg.opt.wasm");
        run(Command::new(&opt)
            .arg("-Oz")
            .arg("--enable-bulk-memory")
            .arg("--enable-nontrapping-float-to-int")
            .arg("--enable-sign-ext")
            .arg("--enable-reference-types")
            .arg("--enable-multivalue")
            .arg(&bg)
            .arg("-o")
            .arg(&tmp))?;
        std::fs::rename(&tmp, &bg).map_err(|e| e.to_string())?;
    }
    std::fs::copy(root().join("style/main.css"), pkg.join("latchkey.css")).map_err(|e| format!("style: {e}"))?;
    copy_dir(&root().join("public"), &site)?;
    let mut bundle_gz = 0;
    for f in walk(&site) {
        let n = gzip(&f)?;
        let name = f.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        if name.ends_with(".wasm") || name.ends_with(".js") {
            bundle_gz += n;
        }
    }
    Ok(bundle_gz)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if !p.to_string_lossy().ends_with(".gz") {
            out.push(p);
        }
    }
    out
}

fn build(release: bool) -> Result<()> {
    let bundle = build_site(release)?;
    let mut cmd = cargo();
    cmd.current_dir(root()).args(["build", "--package", "server"]);
    if std::env::var_os("CARGO_TARGET_DIR").is_some() {
        // The server's build script looks in ./target/site by default; only say so when elsewhere.
        cmd.env("LATCHKEY_SITE_DIR", target_dir().join("site"));
    }
    if release {
        cmd.arg("--release");
    }
    run(&mut cmd)?;
    let bin = target_dir().join(if release { "release" } else { "debug" }).join("latchkey");
    println!("built {}", bin.display());
    println!("hydration bundle (wasm + js), gzip: {:.1} KB", bundle as f64 / 1024.0);
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("build") => build(args.iter().any(|a| a == "--release")),
        Some("site") => build_site(args.iter().any(|a| a == "--release")).map(|n| {
            println!("hydration bundle (wasm + js), gzip: {:.1} KB", n as f64 / 1024.0);
        }),
        _ => Err("usage: cargo xtask build [--release] | cargo xtask site [--release]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
