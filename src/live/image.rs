//! `autoscale-sim live image`: the workload image, built with no registry and no base image.
//!
//! What it guarantees:
//! - The image holds only the project's own binary (by default the running executable) and,
//!   when that binary is dynamically linked, the shared libraries its dynamic loader resolves
//!   for it, at the same paths: a `FROM scratch` image that needs nothing from a registry, so
//!   it builds on an engine with no images at all.
//! - The build context is assembled in memory as a tar archive with fixed times and owners, and
//!   sent to the engine's classic builder through the API.
//! - Its entry point is `/autoscale-sim serve`; the container's command adds `serve`'s options
//!   (listening on port [`CONTAINER_PORT`]).

use super::docker::{CONTAINER_PORT, Engine};
use crate::error::{Error, InputError};
use bollard::query_parameters::BuildImageOptionsBuilder;
use futures_util::StreamExt;
use std::path::{Path, PathBuf};

/// The image `live` runs unless told otherwise.
pub const DEFAULT_IMAGE: &str = "autoscale-sim-workload:latest";
/// Where the binary lives in the image.
pub const BINARY_IN_IMAGE: &str = "/autoscale-sim";

/// How an executable is linked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Linking {
    /// Statically linked (no program interpreter): it runs alone.
    Static,
    /// Dynamically linked: it needs its program interpreter (the dynamic loader) and these
    /// shared libraries, as the loader resolves them on this machine.
    Dynamic {
        interpreter: PathBuf,
        libraries: Vec<PathBuf>,
    },
}

impl Linking {
    /// A short description for messages.
    pub fn describe(&self) -> String {
        match self {
            Linking::Static => "statically linked".into(),
            Linking::Dynamic { libraries, .. } => format!(
                "dynamically linked, with its {} shared libraries",
                libraries.len()
            ),
        }
    }
}

/// Reads how the executable at `path` is linked. For a dynamic one, asks its own dynamic
/// loader (`<interpreter> --list`, what `ldd` does) which files it loads.
pub fn inspect(path: &Path) -> Result<Linking, Error> {
    let bytes =
        std::fs::read(path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let elf = goblin::elf::Elf::parse(&bytes).map_err(|e| {
        Error::Input(
            InputError::new(format!("expected a Linux executable (ELF), but {e}"))
                .in_file(path)
                .key("--binary"),
        )
    })?;
    let Some(interp) = elf.interpreter else {
        return Ok(Linking::Static);
    };
    let interpreter = PathBuf::from(interp);
    let out = std::process::Command::new(&interpreter)
        .arg("--list")
        .arg(path)
        .output()
        .map_err(|e| {
            Error::io(
                format!(
                    "cannot run the dynamic loader {} of {} to list its libraries",
                    interpreter.display(),
                    path.display()
                ),
                e,
            )
        })?;
    if !out.status.success() {
        return Err(Error::Other(format!(
            "the dynamic loader {} cannot load {}: {}",
            interpreter.display(),
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let libraries = parse_loader_list(&String::from_utf8_lossy(&out.stdout))
        .map_err(|lib| {
            Error::Other(format!(
                "{} needs the shared library {lib}, which the dynamic loader cannot find",
                path.display()
            ))
        })?
        .into_iter()
        .filter(|p| p != &interpreter)
        .collect();
    Ok(Linking::Dynamic {
        interpreter,
        libraries,
    })
}

/// The files listed by `ld.so --list`: `name => /path (0x...)` and `/path (0x...)` lines;
/// virtual objects (`linux-vdso.so.1 (0x...)`) are skipped. A library `not found` is an error
/// naming it.
pub fn parse_loader_list(text: &str) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let target = match line.split_once("=>") {
            Some((name, rest)) => {
                let rest = rest.trim();
                if rest.starts_with("not found") {
                    return Err(name.trim().to_string());
                }
                rest
            }
            None => line,
        };
        let path = target.split(" (").next().unwrap_or("").trim();
        if path.starts_with('/') && !out.iter().any(|p: &PathBuf| p == Path::new(path)) {
            out.push(PathBuf::from(path));
        }
    }
    Ok(out)
}

/// The Dockerfile of the workload image.
pub fn dockerfile() -> String {
    format!(
        "FROM scratch\n\
         COPY rootfs/ /\n\
         LABEL org.opencontainers.image.title=\"autoscale-sim workload\" autoscale-sim.version=\"{}\"\n\
         EXPOSE {CONTAINER_PORT}\n\
         ENTRYPOINT [\"{BINARY_IN_IMAGE}\", \"serve\"]\n\
         CMD [\"--port\", \"{CONTAINER_PORT}\"]\n",
        env!("CARGO_PKG_VERSION")
    )
}

fn append_file(
    tar: &mut tar::Builder<Vec<u8>>,
    name: &str,
    data: &[u8],
    mode: u32,
) -> std::io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(mode);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut h, name, data)
}

fn append_dir(tar: &mut tar::Builder<Vec<u8>>, name: &str) -> std::io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_size(0);
    h.set_mode(0o755);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_entry_type(tar::EntryType::Directory);
    tar.append_data(&mut h, name, std::io::empty())
}

/// The build context: a tar archive with `Dockerfile` and `rootfs/` (the binary at
/// [`BINARY_IN_IMAGE`], and for a dynamic binary its loader and libraries at their own paths,
/// symbolic links followed).
pub fn context(binary: &Path, linking: &Linking) -> Result<Vec<u8>, Error> {
    let mut files: Vec<(String, PathBuf)> = vec![(
        BINARY_IN_IMAGE.trim_start_matches('/').into(),
        binary.into(),
    )];
    if let Linking::Dynamic {
        interpreter,
        libraries,
    } = linking
    {
        for p in std::iter::once(interpreter).chain(libraries) {
            let inside = p.to_string_lossy().trim_start_matches('/').to_string();
            files.push((inside, p.clone()));
        }
    }
    let io = |e: std::io::Error| Error::io("cannot assemble the image's build context", e);
    let mut tar = tar::Builder::new(Vec::new());
    append_file(&mut tar, "Dockerfile", dockerfile().as_bytes(), 0o644).map_err(io)?;
    let mut dirs: Vec<String> = vec!["rootfs".into()];
    for (inside, _) in &files {
        let mut acc = String::from("rootfs");
        let parts: Vec<&str> = inside.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            acc = format!("{acc}/{part}");
            if !dirs.contains(&acc) {
                dirs.push(acc.clone());
            }
        }
    }
    for d in &dirs {
        append_dir(&mut tar, d).map_err(io)?;
    }
    for (inside, source) in &files {
        let data = std::fs::read(source)
            .map_err(|e| Error::io(format!("cannot read {}", source.display()), e))?;
        append_file(&mut tar, &format!("rootfs/{inside}"), &data, 0o755).map_err(io)?;
    }
    tar.into_inner().map_err(io)
}

/// The image built by [`build`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltImage {
    pub tag: String,
    pub id: String,
    pub binary: PathBuf,
    pub linking: Linking,
}

/// Builds image `tag` from `binary` on `engine`.
///
/// An image that `tag` named before and that nothing else uses is removed, so that rebuilding
/// leaves no untagged images behind.
pub async fn build(engine: &Engine, binary: &Path, tag: &str) -> Result<BuiltImage, Error> {
    let linking = inspect(binary)?;
    let previous = engine.image_id(tag).await?;
    let ctx = context(binary, &linking)?;
    let opts = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(tag)
        .rm(true)
        .forcerm(true)
        .build();
    let mut stream = engine
        .client()
        .build_image(opts, None, Some(bollard::body_full(ctx.into())));
    let mut log = String::new();
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| {
            Error::Other(format!(
                "the Docker engine failed to build {tag}: {e}\n{}",
                log.trim_end()
            ))
        })?;
        if let Some(detail) = info.error_detail {
            return Err(Error::Other(format!(
                "the Docker engine failed to build {tag}: {}\n{}",
                detail.message.unwrap_or_default(),
                log.trim_end()
            )));
        }
        if let Some(s) = info.stream {
            log.push_str(&s);
        }
    }
    let id = engine.image_id(tag).await?.ok_or_else(|| {
        Error::Other(format!(
            "the Docker engine reported no error but has no image {tag} after the build:\n{}",
            log.trim_end()
        ))
    })?;
    if let Some(old) = previous.filter(|old| old != &id) {
        // Fails, harmlessly, when a container still uses the old image.
        let _ = engine
            .client()
            .remove_image(
                &old,
                None::<bollard::query_parameters::RemoveImageOptions>,
                None,
            )
            .await;
    }
    Ok(BuiltImage {
        tag: tag.to_string(),
        id,
        binary: binary.to_path_buf(),
        linking,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_loader_list() {
        let text = "\tlinux-vdso.so.1 (0x00007ffc1a5f2000)\n\
                    \tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f0c)\n\
                    \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0b)\n\
                    \t/lib64/ld-linux-x86-64.so.2 (0x00007f0d)\n";
        assert_eq!(
            parse_loader_list(text),
            Ok(vec![
                PathBuf::from("/lib/x86_64-linux-gnu/libgcc_s.so.1"),
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2"),
            ])
        );
        assert_eq!(
            parse_loader_list("\tlibfoo.so.1 => not found\n"),
            Err("libfoo.so.1".to_string())
        );
    }

    /// The test binary itself is a dynamic executable of this machine: its loader and libc
    /// are found, and the context holds them under rootfs/ next to the Dockerfile.
    #[test]
    fn context_of_a_dynamic_binary() {
        let exe = std::env::current_exe().expect("test executable");
        let linking = inspect(&exe).expect("inspect");
        let Linking::Dynamic {
            interpreter,
            libraries,
        } = &linking
        else {
            panic!("the test binary is dynamic here, found {linking:?}");
        };
        assert!(interpreter.is_absolute());
        assert!(
            libraries
                .iter()
                .any(|l| l.file_name().is_some_and(|n| n == "libc.so.6")),
            "{libraries:?}"
        );
        let bytes = context(&exe, &linking).expect("context");
        let mut archive = tar::Archive::new(&bytes[..]);
        let names: Vec<String> = archive
            .entries()
            .expect("entries")
            .map(|e| {
                e.expect("entry")
                    .path()
                    .expect("path")
                    .display()
                    .to_string()
            })
            .collect();
        assert!(names.contains(&"Dockerfile".to_string()));
        assert!(names.contains(&"rootfs/autoscale-sim".to_string()));
        let interp = format!(
            "rootfs/{}",
            interpreter.to_string_lossy().trim_start_matches('/')
        );
        assert!(names.contains(&interp), "{names:?}");
        assert!(dockerfile().starts_with("FROM scratch\n"));
        assert!(dockerfile().contains("ENTRYPOINT [\"/autoscale-sim\", \"serve\"]"));
    }

    #[test]
    fn a_file_that_is_not_an_executable_is_bad_input() {
        let dir = std::env::temp_dir().join(format!("autoscale-sim-image-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let f = dir.join("not-elf");
        std::fs::write(&f, b"#!/bin/sh\necho hi\n").expect("write");
        let e = inspect(&f).unwrap_err();
        assert_eq!(e.exit_code(), crate::error::EXIT_BAD_INPUT);
        assert!(e.to_string().contains("ELF"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
