//! Opening a trace file: transparent decompression and a bounded line length.
//!
//! Every trace reader (the four formats, format detection, and the serverless `[functions]`
//! trace and durations) opens its file here, so each gets the same guarantees:
//! - **gzip and zstd are read as they are**, told by their magic bytes, not by the file's
//!   name (a `.csv` that is gzip is decompressed; a `.gz` that is plain text is read as text).
//!   Concatenated gzip members are read one after the other, as `gunzip` does.
//! - **Anything else that is not text is refused** before a record is read, naming what it
//!   looks like (an xz file, a tar archive, binary data), and so is compressed data that
//!   decompresses to something that is not text (a `.tar.gz`). Nothing of the bytes is echoed.
//! - **Lines are at most [`MAX_LINE_BYTES`] long**, counted on the decompressed stream: a
//!   decompression bomb of a billion bytes without a line break is refused at its first line,
//!   after 1 MB, and the readers' own row and count limits hold on what is decompressed.

use crate::error::InputError;
use crate::sniff::{self, Content};
use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;

/// The longest line any trace reader accepts: a longer one (a binary file, or a 900 MB file
/// without a line break) is an error at that line, and is never held in memory whole.
pub const MAX_LINE_BYTES: u64 = 1 << 20;

/// A trace file, decompressed if it is gzip or zstd, whose lines are at most
/// [`MAX_LINE_BYTES`] long: reading past that without a line break is an `InvalidData`
/// error, which the readers report at the line.
pub(crate) struct BoundedLines {
    input: Box<dyn Read + Send>,
    /// Bytes since the last line break.
    run: u64,
}

impl Read for BoundedLines {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.input.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.run = 0;
            } else {
                self.run += 1;
                if self.run > MAX_LINE_BYTES {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "a line is longer than {} MB: expected a text trace with one record per line (is this a binary file?)",
                            MAX_LINE_BYTES >> 20
                        ),
                    ));
                }
            }
        }
        Ok(n)
    }
}

/// A decompressor whose errors say which compression failed.
struct Decoder {
    inner: Box<dyn Read + Send>,
    what: &'static str,
}

impl Read for Decoder {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "cannot decompress the {} (is the file truncated or corrupt?): {e}",
                    self.what
                ),
            )
        })
    }
}

/// Reads up to [`sniff::HEAD`] bytes of `input`, and returns them with a reader that gives
/// them again followed by the rest.
fn peek(mut input: Box<dyn Read + Send>) -> std::io::Result<(Vec<u8>, Box<dyn Read + Send>)> {
    let mut head = Vec::with_capacity(sniff::HEAD);
    (&mut input)
        .take(sniff::HEAD as u64)
        .read_to_end(&mut head)?;
    let again = Cursor::new(head.clone());
    Ok((head, Box::new(again.chain(input))))
}

/// Opens a trace file for reading, decompressed and line-bounded (see the module's guarantees);
/// names the file's absolute path if it cannot be opened.
pub(crate) fn open_file(path: &Path) -> Result<BoundedLines, InputError> {
    let file = File::open(path).map_err(|e| {
        let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        InputError::new(format!(
            "cannot open the trace file {}: {e}",
            shown.display()
        ))
        .in_file(path)
    })?;
    let read_error =
        |e: std::io::Error| InputError::new(format!("cannot read the trace: {e}")).in_file(path);
    let (head, raw) = peek(Box::new(file)).map_err(read_error)?;
    let content = sniff::sniff(&head);
    let input = match content {
        Content::Text => raw,
        Content::Binary(what) => {
            return Err(InputError::new(format!(
                "this file looks like {what}, not a text trace: expected CSV rows or log lines \
                 (gzip and zstd files are decompressed as they are read; extract or convert \
                 anything else first)"
            ))
            .in_file(path));
        }
        Content::Gzip | Content::Zstd => {
            let what = content.describe().unwrap_or("compressed data");
            let inner: Box<dyn Read + Send> = if content == Content::Gzip {
                Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(raw)))
            } else {
                Box::new(zstd::stream::read::Decoder::new(raw).map_err(read_error)?)
            };
            let (head, decoded) = peek(Box::new(Decoder { inner, what })).map_err(read_error)?;
            if let Some(inside) = sniff::sniff(&head).describe() {
                return Err(InputError::new(format!(
                    "this file is {what} that decompresses to {inside}, not a text trace: \
                     extract the trace from it first"
                ))
                .in_file(path));
            }
            decoded
        }
    };
    Ok(BoundedLines { input, run: 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p =
            std::env::temp_dir().join(format!("autoscale-sim-input-{}-{name}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn read_all(path: &Path) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        open_file(path)
            .map_err(|e| e.to_string())?
            .read_to_end(&mut out)
            .map_err(|e| e.to_string())?;
        Ok(out)
    }

    #[test]
    fn gzip_and_zstd_are_decompressed_whatever_the_name() {
        let text = b"time_s,count\n0,4\n60,5\n";
        let gz = temp("a.csv", &gzip(text));
        assert_eq!(read_all(&gz).unwrap(), text);
        // Two gzip members, as `cat a.gz b.gz` makes.
        let two = [gzip(b"0,4\n"), gzip(b"60,5\n")].concat();
        assert_eq!(read_all(&temp("two.gz", &two)).unwrap(), b"0,4\n60,5\n");
        let zst = temp("a.zst", &zstd::stream::encode_all(&text[..], 3).unwrap());
        assert_eq!(read_all(&zst).unwrap(), text);
        // A `.gz` name on plain text is read as text.
        assert_eq!(read_all(&temp("plain.gz", text)).unwrap(), text);
    }

    #[test]
    fn binary_and_archives_are_refused_by_what_they_look_like() {
        let xz = temp("x.csv", b"\xfd7zXZ\x00\x00\x04");
        assert!(
            read_all(&xz)
                .unwrap_err()
                .contains("looks like xz-compressed data, not a text trace")
        );
        let mut tar = vec![0u8; 1024];
        tar[..5].copy_from_slice(b"a.csv");
        tar[257..262].copy_from_slice(b"ustar");
        let tgz = temp("t.tar.gz", &gzip(&tar));
        assert!(
            read_all(&tgz).unwrap_err().contains(
                "is gzip-compressed data that decompresses to a tar archive, not a text trace"
            ),
            "{:?}",
            read_all(&tgz)
        );
    }

    #[test]
    fn a_truncated_gzip_is_an_error_that_says_so() {
        let gz = gzip(&b"0,4\n".repeat(10_000));
        let cut = temp("cut.gz", &gz[..gz.len() / 2]);
        let e = read_all(&cut).unwrap_err();
        assert!(
            e.contains(
                "cannot decompress the gzip-compressed data (is the file truncated or corrupt?)"
            ),
            "{e}"
        );
    }

    #[test]
    fn the_line_bound_holds_on_the_decompressed_stream() {
        // 64 MB of one line compresses to about 64 KB.
        let bomb = temp("bomb.gz", &gzip(&vec![b'1'; 64 << 20]));
        assert!(std::fs::metadata(&bomb).unwrap().len() < 1 << 20);
        let e = read_all(&bomb).unwrap_err();
        assert!(e.contains("a line is longer than 1 MB"), "{e}");
    }
}
