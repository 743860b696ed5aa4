//! What a file holds, told from its first bytes: gzip or zstd data (which the trace readers
//! decompress as they read), another compressed format or archive, binary data, or text.
//!
//! Every reader of text input (scenarios, traces, plans, results, start-up samples) looks
//! before it reads, so that a gzip file given as a scenario, or a tar archive given as a trace,
//! is named as such ("looks like gzip-compressed data") instead of being echoed as raw bytes.
//! Only the first [`HEAD`] bytes are looked at: a file is taken as text unless they show
//! otherwise (a known magic number, a NUL byte, or mostly control characters).

use crate::error::{InputError, line_col};
use std::path::Path;

/// How many bytes at the start of a file [`sniff`] needs to see.
pub const HEAD: usize = 8192;

/// What a file with a NUL byte among its first bytes holds.
const NUL_DATA: &str = "binary data (it holds NUL bytes)";

/// What the first bytes of a file say it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// gzip (RFC 1952), read transparently by the trace readers.
    Gzip,
    /// Zstandard (RFC 8878), read transparently by the trace readers.
    Zstd,
    /// Data that is not text, with what it looks like (`"a tar archive"`).
    Binary(&'static str),
    /// Text, as far as the first bytes tell.
    Text,
}

impl Content {
    /// What the data looks like, for messages (`None` for text).
    pub fn describe(self) -> Option<&'static str> {
        match self {
            Content::Gzip => Some("gzip-compressed data"),
            Content::Zstd => Some("zstd-compressed data"),
            Content::Binary(what) => Some(what),
            Content::Text => None,
        }
    }
}

/// Magic numbers at the start of a file, and what they mean.
const MAGIC: &[(&[u8], &str)] = &[
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"BZh", "bzip2-compressed data"),
    (b"\x04\x22\x4d\x18", "lz4-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (
        b"PK\x03\x04",
        "a zip archive (a spreadsheet is one too: export it as CSV)",
    ),
    (b"\x7fELF", "an executable program"),
    (b"PAR1", "a Parquet file"),
    (b"\x89PNG", "a PNG image"),
    (b"%PDF-", "a PDF document"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\xff\xfe", "UTF-16 text (save it as UTF-8)"),
    (b"\xfe\xff", "UTF-16 text (save it as UTF-8)"),
];

/// What `head`, the first bytes of a file (at most [`HEAD`] of them are looked at), holds.
pub fn sniff(head: &[u8]) -> Content {
    if head.starts_with(b"\x1f\x8b") {
        return Content::Gzip;
    }
    if head.starts_with(b"\x28\xb5\x2f\xfd") {
        return Content::Zstd;
    }
    if let Some((_, what)) = MAGIC.iter().find(|(m, _)| head.starts_with(m)) {
        return Content::Binary(what);
    }
    // A POSIX tar archive names itself at offset 257.
    if head.get(257..262) == Some(b"ustar") {
        return Content::Binary("a tar archive");
    }
    let head = &head[..head.len().min(HEAD)];
    if head.contains(&0) {
        return Content::Binary(NUL_DATA);
    }
    // Control characters other than tab, line feed, form feed and carriage return.
    let control = head
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r')) || b == 0x7f)
        .count();
    if head.len() >= 16 && control * 10 > head.len() {
        return Content::Binary("binary data (mostly control characters)");
    }
    Content::Text
}

/// The most a scenario, plan or start-up samples file may hold: far more than any real one.
pub const TEXT_CAP: u64 = 64 << 20;
/// The most a results CSV may hold (a results folder of the largest run the default limits
/// allow is a fraction of it).
pub const RESULTS_CAP: u64 = 1 << 30;

/// Reads a whole input file of at most `cap` bytes. A device, FIFO or socket (`/dev/zero`, a
/// pipe no one writes to) is refused before it is opened, and a larger file before it is read,
/// so no input can make a reader hang or fill memory. The errors are `InvalidInput` I/O errors
/// saying which, for the caller's "cannot read ..." message.
pub fn read_file(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is not a regular file (a folder, device, FIFO or socket); give the path of a file",
        ));
    }
    let too_large = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "it holds more than {} MiB, more than any such file should; check the path",
                cap >> 20
            ),
        )
    };
    if meta.len() > cap {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)?
        .take(cap + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Checks that `bytes`, read from `path`, are UTF-8 text (`what` names the text expected: "a
/// TOML scenario"), and returns the text. Compressed or binary data is named for what it looks
/// like; other bytes that are not UTF-8 are located by line and column. Nothing of the bytes
/// is quoted.
pub fn text(path: &Path, bytes: Vec<u8>, what: &str) -> Result<String, InputError> {
    let content = sniff(&bytes);
    if let Some(looks) = content.describe() {
        let advice = match content {
            Content::Gzip => "; decompress it first (gunzip)",
            Content::Zstd => "; decompress it first (unzstd)",
            _ => "",
        };
        // Located at the first NUL byte, or at the start (where a magic number is).
        let (line, col) = match bytes.iter().position(|&b| b == 0) {
            Some(nul) if content == Content::Binary(NUL_DATA) => {
                line_col(&String::from_utf8_lossy(&bytes[..nul]), nul)
            }
            _ => (1, 1),
        };
        return Err(InputError::new(format!(
            "this file looks like {looks}, not text: expected {what}{advice}"
        ))
        .in_file(path)
        .at(line, col));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let (line, col) = line_col(&String::from_utf8_lossy(&e.as_bytes()[..valid]), valid);
        InputError::new(format!(
            "expected UTF-8 text ({what}), found bytes that are not UTF-8"
        ))
        .in_file(path)
        .at(line, col)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_name_the_format() {
        assert_eq!(sniff(b"\x1f\x8b\x08\x00rest"), Content::Gzip);
        assert_eq!(sniff(b"\x28\xb5\x2f\xfd\x00"), Content::Zstd);
        assert_eq!(
            sniff(b"\xfd7zXZ\x00\x00").describe(),
            Some("xz-compressed data")
        );
        assert_eq!(
            sniff(b"BZh91AY&SY").describe(),
            Some("bzip2-compressed data")
        );
        let mut tar = vec![b'a'; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(sniff(&tar).describe(), Some("a tar archive"));
        assert_eq!(
            sniff(b"\xff\xfet\x00i\x00").describe(),
            Some("UTF-16 text (save it as UTF-8)")
        );
    }

    #[test]
    fn text_is_text_and_nul_or_control_bytes_are_binary() {
        assert_eq!(sniff(b""), Content::Text);
        assert_eq!(sniff(b"time_s,count\r\n0,4\n"), Content::Text);
        assert_eq!(sniff("naïve,ü\n".as_bytes()), Content::Text);
        // One ANSI escape in a line of text is text (its messages escape it).
        assert_eq!(sniff(b"name = \"\x1b[31mred\"\n"), Content::Text);
        assert!(matches!(sniff(b"a,b\n\x00c"), Content::Binary(_)));
        assert!(matches!(
            sniff(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]),
            Content::Binary(_)
        ));
        // A NUL past the bytes looked at is not seen.
        let mut late = vec![b'a'; HEAD + 10];
        late[HEAD + 5] = 0;
        assert_eq!(sniff(&late), Content::Text);
    }

    #[test]
    fn text_refuses_what_is_not_text_and_locates_bad_bytes() {
        let p = Path::new("s.toml");
        let gz = text(p, b"\x1f\x8b\x08\x00\xff\xfe".to_vec(), "a TOML scenario").unwrap_err();
        assert_eq!(
            gz.to_string(),
            "s.toml:1:1: this file looks like gzip-compressed data, not text: expected a TOML scenario; decompress it first (gunzip)"
        );
        let nul = text(p, b"a = 1\nb = \"x\x00\"\n".to_vec(), "a TOML scenario").unwrap_err();
        assert_eq!((nul.line, nul.column), (Some(2), Some(7)));
        let latin1 = text(p, b"a = 1\nb = \"\xe9\"\n".to_vec(), "a TOML scenario").unwrap_err();
        assert_eq!((latin1.line, latin1.column), (Some(2), Some(6)));
        assert!(latin1.message.contains("not UTF-8"));
        assert_eq!(text(p, b"a = 1\n".to_vec(), "x").unwrap(), "a = 1\n");
    }
}
