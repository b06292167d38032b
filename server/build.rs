//! Embeds the built console (wasm, JS, CSS, public files) into the binary, so the server is one
//! file. The site is produced by `cargo xtask build` in `target/site` (or `LATCHKEY_SITE_DIR`).
//! Without it the server still builds and serves server-rendered pages, without hydration.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn main() {
    println!("cargo:rerun-if-env-changed=LATCHKEY_SITE_DIR");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let site =
        std::env::var("LATCHKEY_SITE_DIR").map(PathBuf::from).unwrap_or_else(|_| manifest.join("../target/site"));
    println!("cargo:rerun-if-changed={}", site.display());
    println!("cargo:rerun-if-changed={}", site.join("pkg").display());
    let mut files = Vec::new();
    walk(&site, &mut files);
    files.sort();
    let mut code = String::from(
        "/// (url path, content, gzip of content or empty, etag)\npub static ASSETS: &[(&str, &[u8], &[u8], &str)] = &[\n",
    );
    for f in &files {
        let Ok(rel) = f.strip_prefix(&site) else { continue };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if rel.ends_with(".gz") {
            continue;
        }
        println!("cargo:rerun-if-changed={}", f.display());
        let bytes = std::fs::read(f).unwrap_or_default();
        let mut h = DefaultHasher::new();
        bytes.hash(&mut h);
        let gz = PathBuf::from(format!("{}.gz", f.display()));
        let gz_expr = if gz.exists() {
            println!("cargo:rerun-if-changed={}", gz.display());
            format!("include_bytes!({:?})", gz.display().to_string())
        } else {
            "&[]".to_owned()
        };
        code.push_str(&format!(
            "    (\"/{rel}\", include_bytes!({:?}), {gz_expr}, \"\\\"{:016x}\\\"\"),\n",
            f.display().to_string(),
            h.finish()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("site_assets.rs");
    if let Err(e) = std::fs::write(&out, code) {
        println!("cargo:warning=cannot write {}: {e}", out.display());
    }
}
