//! Error types and exit codes.
//!
//! [`InputError`] is bad input from the user: a scenario, a trace or an argument. It names the
//! file, the line (and column) and the key or column at fault, and says what was expected. The
//! binary maps it to exit status [`EXIT_BAD_INPUT`]; everything else is [`EXIT_FAILURE`].

use std::fmt;
use std::path::{Path, PathBuf};

/// Success.
pub const EXIT_OK: i32 = 0;
/// Any failure that is not bad input (I/O while writing results, a Docker engine missing, ...).
pub const EXIT_FAILURE: i32 = 1;
/// Bad input: an unreadable or invalid scenario, trace or argument.
pub const EXIT_BAD_INPUT: i32 = 2;

/// Bad input, located as precisely as the input allows.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    /// The file at fault, if the input came from a file.
    pub file: Option<PathBuf>,
    /// 1-based line number.
    pub line: Option<usize>,
    /// 1-based column number.
    pub column: Option<usize>,
    /// The scenario key (dotted, such as `cluster.min_replicas`) or trace column at fault.
    pub key: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl InputError {
    pub fn new(message: impl Into<String>) -> Self {
        InputError {
            file: None,
            line: None,
            column: None,
            key: None,
            message: message.into(),
        }
    }

    pub fn in_file(mut self, file: impl AsRef<Path>) -> Self {
        self.file = Some(file.as_ref().to_path_buf());
        self
    }

    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
                if let Some(col) = self.column {
                    write!(f, ":{col}")?;
                }
            }
            write!(f, ": ")?;
        } else if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "`{key}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for InputError {}

/// Any error of the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input (exit status 2).
    #[error("{0}")]
    Input(#[from] InputError),
    /// Reading or writing a file failed for a reason other than bad input.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Anything else (exit status 1).
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The exit status the binary returns for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) => EXIT_BAD_INPUT,
            _ => EXIT_FAILURE,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Input text as a message quotes it: in double quotes, cut to about 80 characters (`...`
/// marks the cut), with control characters escaped (`\u{1b}`, `\u{0}`, `\n`), so that a 10 MB
/// field or an ANSI escape sequence from a file never reaches the terminal as it is.
pub fn quoted(text: &str) -> String {
    const MAX: usize = 80;
    let mut out = String::with_capacity(text.len().min(MAX) + 8);
    out.push('"');
    for (i, c) in text.chars().enumerate() {
        if i == MAX - 3 && text.chars().nth(MAX).is_some() {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// A number as a message shows it: plain when it is of an ordinary size (`0.5`, `1200`), in
/// scientific notation otherwise (`1e-300`, `1e200`), never hundreds of digits.
pub fn num(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 || !a.is_finite() || (1e-4..1e15).contains(&a) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// Converts a byte offset in `text` into a 1-based (line, column).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_every_part() {
        let e = InputError::new("expected a number")
            .in_file("s.toml")
            .at(3, 7)
            .key("cluster.min_replicas");
        assert_eq!(
            e.to_string(),
            "s.toml:3:7: `cluster.min_replicas`: expected a number"
        );
    }

    #[test]
    fn quoted_input_is_cut_and_escaped() {
        assert_eq!(quoted("abc"), "\"abc\"");
        assert_eq!(quoted("a\u{1b}[31mb\0"), "\"a\\u{1b}[31mb\\u{0}\"");
        let long = "x".repeat(10_000_000);
        let q = quoted(&long);
        assert_eq!(q, format!("\"{}...\"", "x".repeat(77)));
        assert_eq!(quoted(&"y".repeat(80)), format!("\"{}\"", "y".repeat(80)));
    }

    #[test]
    fn numbers_stay_short() {
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(1200.0), "1200");
        assert_eq!(num(1e-300), "1e-300");
        assert_eq!(num(-1e200), "-1e200");
        assert_eq!(num(0.0), "0");
    }

    #[test]
    fn line_col_counts_from_one() {
        let t = "a = 1\nbb = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 8), (2, 3));
    }
}
