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
    /// The file, line, column, key and message, each through [`tame`]: whatever a message was
    /// built from, it reaches the terminal without control characters or a long quoted stretch.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", tame(&file.display().to_string()))?;
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
            write!(f, "`{}`: ", tame_key(key))?;
        }
        write!(f, "{}", tame(&self.message))
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
/// marks the cut), with control characters and double quotes escaped (`\u{1b}`, `\u{0}`, `\n`,
/// `\"`), so that a 10 MB field or an ANSI escape sequence from a file never reaches the
/// terminal as it is, and the quotes always pair.
pub fn quoted(text: &str) -> String {
    format!("\"{}\"", shortened(text))
}

/// [`quoted`] without the quotes, for input a message shows between other delimiters or none
/// (a sweep point's `key = value`).
pub fn shortened(text: &str) -> String {
    const MAX: usize = 80;
    let mut out = String::with_capacity(text.len().min(MAX) + 8);
    for (i, c) in text.chars().enumerate() {
        if i == MAX - 3 && text.chars().nth(MAX).is_some() {
            out.push_str("...");
            break;
        }
        if c.is_control() || c == '"' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The longest stretch of a message between double quotes that [`tame`] leaves whole, in
/// characters of the input (an escape such as `\u{1b}` or `\"` counts as one): what
/// [`quoted`] writes.
const MAX_QUOTED: usize = 80;

/// A message made safe for a terminal, the net under [`quoted`] for text that other libraries
/// (TOML, CSV, JSON, the operating system) put into their messages: control characters other
/// than the line feed are escaped (`\u{1b}`), a stretch between double quotes longer than 80
/// characters is cut to 77 and `...` (as [`quoted`] cuts), and so is any line longer than
/// 1,500 characters. Idempotent, and the identity on messages that need none of it.
pub fn tame(text: &str) -> String {
    const MAX_LINE: usize = 1500;
    if !text.chars().any(|c| c.is_control() && c != '\n') && text.len() <= MAX_QUOTED {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len().min(8192));
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        tame_line(line, MAX_LINE, &mut out);
    }
    out
}

/// [`tame`] for one line.
fn tame_line(line: &str, max: usize, out: &mut String) {
    let mut shown = 0usize;
    let mut in_quotes = false;
    let mut rest = line;
    loop {
        let end = quote_at(rest);
        let segment = &rest[..end.unwrap_or(rest.len())];
        let units = escape_units(segment);
        let long = in_quotes && units.clone().nth(MAX_QUOTED).is_some();
        let take = if long { MAX_QUOTED - 3 } else { usize::MAX };
        for unit in units.take(take) {
            if shown >= max {
                out.push_str("...");
                return;
            }
            match unit.chars().next() {
                Some(c) if c.is_control() => out.extend(c.escape_default()),
                _ => out.push_str(unit),
            }
            shown += 1;
        }
        if long {
            out.push_str("...");
        }
        match end {
            Some(p) => {
                if shown >= max {
                    out.push_str("...");
                    return;
                }
                out.push('"');
                shown += 1;
                in_quotes = !in_quotes;
                rest = &rest[p + 1..];
            }
            None => return,
        }
    }
}

/// The byte offset of the first double quote of `s` that is not escaped (`\"`).
fn quote_at(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    (0..b.len()).find(|&i| b[i] == b'"' && (i == 0 || b[i - 1] != b'\\'))
}

/// The characters of `s`, with the escapes [`quoted`] writes (`\u{1b}`, `\n`, `\"`) kept
/// together as one unit each.
fn escape_units(s: &str) -> impl Iterator<Item = &str> + Clone {
    let mut rest = s;
    std::iter::from_fn(move || {
        let mut chars = rest.char_indices();
        let (_, c) = chars.next()?;
        let mut len = c.len_utf8();
        if c == '\\' {
            if rest[1..].starts_with("u{") {
                if let Some(close) = rest.find('}') {
                    len = close + 1;
                }
            } else if let Some(n) = rest[1..].chars().next()
                && matches!(n, 'n' | 't' | 'r' | '"' | '\'' | '\\' | '0')
            {
                len = 1 + n.len_utf8();
            }
        }
        let (unit, tail) = rest.split_at(len);
        rest = tail;
        Some(unit)
    })
}

/// A key (dotted, or a column name) as a message shows it: tamed, and at most 80 characters.
fn tame_key(key: &str) -> String {
    if key.chars().count() <= 80 && !key.chars().any(char::is_control) {
        return key.to_string();
    }
    let q = quoted(key);
    q[1..q.len() - 1].to_string()
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
        assert_eq!(quoted("say \"hi\""), "\"say \\\"hi\\\"\"");
        let long = "x".repeat(10_000_000);
        let q = quoted(&long);
        assert_eq!(q, format!("\"{}...\"", "x".repeat(77)));
        assert_eq!(quoted(&"y".repeat(80)), format!("\"{}\"", "y".repeat(80)));
    }

    #[test]
    fn tame_escapes_control_characters_and_cuts_long_quoted_stretches() {
        assert_eq!(tame("plain \"text\"\nline two"), "plain \"text\"\nline two");
        assert_eq!(tame("a\u{1b}[31mb\0"), "a\\u{1b}[31mb\\u{0}");
        let long = format!(
            "invalid type: string \"{}\", expected u64",
            "x".repeat(10_000_000)
        );
        assert_eq!(
            tame(&long),
            format!(
                "invalid type: string \"{}...\", expected u64",
                "x".repeat(77)
            )
        );
        // What `quoted` writes is left as it is, even with every character escaped.
        for input in ["\u{1b}".repeat(1000), "\"".repeat(90), "a\"b\\c".repeat(30)] {
            let q = quoted(&input);
            assert_eq!(
                tame(&format!("found {q}, expected more")),
                format!("found {q}, expected more")
            );
        }
        // A long line outside quotes, and an unclosed quote.
        assert_eq!(tame(&"y".repeat(5000)), format!("{}...", "y".repeat(1500)));
        assert_eq!(
            tame(&format!("found \"{}", "z".repeat(100))),
            format!("found \"{}...", "z".repeat(77))
        );
        for t in [long.as_str(), "a\u{1b}b", "ok"] {
            assert_eq!(tame(&tame(t)), tame(t));
        }
    }

    #[test]
    fn displayed_errors_are_tamed() {
        let e = InputError::new("found \u{1b}[2J")
            .in_file("a\u{7}.csv")
            .key("k\u{0}".repeat(100));
        let shown = e.to_string();
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(shown.len() < 600, "{shown}");
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
