//! STCP framing and commands, sans-IO: bytes from the client in, [`Command`]s out.
//!
//! Lines end with CRLF (a bare LF is accepted too) and carry at most [`MAX_LINE`] bytes
//! before the terminator. The client's commands are `HELO <SessionID>` and `PING`
//! (command words in any case); an empty line is ignored. Anything else is an error, after
//! which the connection is closed, so the buffer need not recover from one.

/// Most bytes of a line, terminator excluded.
pub const MAX_LINE: usize = 512;

/// A command from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `HELO <SessionID>`: bind this connection to the session.
    Helo(String),
    /// `PING`: keep-alive, answered `OK`.
    Ping,
    /// An empty line (ignored).
    Empty,
}

/// Why a line is not a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// The line is longer than [`MAX_LINE`] bytes.
    #[error("line longer than {MAX_LINE} bytes")]
    TooLong,
    /// The line holds bytes other than printable ASCII, space and tab.
    #[error("line is not printable ASCII")]
    NotText,
    /// The command word is not `HELO` or `PING`.
    #[error("unknown command {0:?}")]
    UnknownCommand(String),
    /// `HELO` without exactly one SessionID, or `PING` with arguments.
    #[error("bad arguments to {0}")]
    BadArguments(&'static str),
}

/// Parses one line (terminator removed).
pub fn parse_command(line: &[u8]) -> Result<Command, LineError> {
    if line.len() > MAX_LINE {
        return Err(LineError::TooLong);
    }
    if !line
        .iter()
        .all(|&b| b == b' ' || b == b'\t' || b.is_ascii_graphic())
    {
        return Err(LineError::NotText);
    }
    // Only printable ASCII is left, so this cannot fail.
    let text = std::str::from_utf8(line).map_err(|_| LineError::NotText)?;
    let mut words = text.split_ascii_whitespace();
    let Some(word) = words.next() else {
        return Ok(Command::Empty);
    };
    if word.eq_ignore_ascii_case("HELO") {
        match (words.next(), words.next()) {
            (Some(session), None) => Ok(Command::Helo(session.to_owned())),
            _ => Err(LineError::BadArguments("HELO")),
        }
    } else if word.eq_ignore_ascii_case("PING") {
        match words.next() {
            None => Ok(Command::Ping),
            Some(_) => Err(LineError::BadArguments("PING")),
        }
    } else {
        let mut shown = word.to_owned();
        shown.truncate(32);
        Err(LineError::UnknownCommand(shown))
    }
}

/// Bytes received and not yet consumed as lines.
#[derive(Debug, Default)]
pub struct LineBuffer {
    buf: Vec<u8>,
    start: usize,
}

impl LineBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes read from the connection.
    pub fn push(&mut self, data: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// No partial line is waiting.
    pub fn is_empty(&self) -> bool {
        self.start == self.buf.len()
    }

    /// The next complete line as a command; `None` when more bytes are needed. A line
    /// growing past [`MAX_LINE`] is an error as soon as it is seen, terminator or not.
    pub fn next_command(&mut self) -> Option<Result<Command, LineError>> {
        let pending = &self.buf[self.start..];
        match pending.iter().position(|&b| b == b'\n') {
            Some(end) => {
                let line = &pending[..end];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let command = parse_command(line);
                self.start += end + 1;
                if self.start == self.buf.len() {
                    self.buf.clear();
                    self.start = 0;
                }
                Some(command)
            }
            // One more byte for a CR whose LF is still on its way.
            None if pending.len() > MAX_LINE + 1 => Some(Err(LineError::TooLong)),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands(buf: &mut LineBuffer) -> Vec<Result<Command, LineError>> {
        std::iter::from_fn(|| buf.next_command()).collect()
    }

    #[test]
    fn parses_commands() {
        assert_eq!(
            parse_command(b"HELO 1-abc"),
            Ok(Command::Helo("1-abc".into()))
        );
        assert_eq!(
            parse_command(b"helo  1-abc \t"),
            Ok(Command::Helo("1-abc".into()))
        );
        assert_eq!(parse_command(b"PING"), Ok(Command::Ping));
        assert_eq!(parse_command(b"ping "), Ok(Command::Ping));
        assert_eq!(parse_command(b""), Ok(Command::Empty));
        assert_eq!(parse_command(b"  "), Ok(Command::Empty));
        assert_eq!(parse_command(b"HELO"), Err(LineError::BadArguments("HELO")));
        assert_eq!(
            parse_command(b"HELO a b"),
            Err(LineError::BadArguments("HELO"))
        );
        assert_eq!(
            parse_command(b"PING now"),
            Err(LineError::BadArguments("PING"))
        );
        assert_eq!(
            parse_command(b"GET / HTTP/1.1"),
            Err(LineError::UnknownCommand("GET".into()))
        );
        assert_eq!(parse_command(b"HELO \x01"), Err(LineError::NotText));
        assert_eq!(parse_command("HELO é".as_bytes()), Err(LineError::NotText));
        assert_eq!(
            parse_command(&[b'a'; MAX_LINE + 1]),
            Err(LineError::TooLong)
        );
    }

    #[test]
    fn frames_crlf_and_lf_across_pushes() {
        let mut buf = LineBuffer::new();
        buf.push(b"HELO 0-a\r");
        assert_eq!(buf.next_command(), None);
        assert!(!buf.is_empty());
        buf.push(b"\nPING\nPI");
        assert_eq!(
            commands(&mut buf),
            vec![Ok(Command::Helo("0-a".into())), Ok(Command::Ping)]
        );
        buf.push(b"NG\r\n\r\n");
        assert_eq!(
            commands(&mut buf),
            vec![Ok(Command::Ping), Ok(Command::Empty)]
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn long_lines_are_refused_early() {
        // Exactly MAX_LINE bytes with CRLF is fine, even when the CR comes alone.
        let mut buf = LineBuffer::new();
        let mut line = b"HELO ".to_vec();
        line.resize(MAX_LINE, b'x');
        buf.push(&line);
        buf.push(b"\r");
        assert_eq!(buf.next_command(), None);
        buf.push(b"\n");
        assert!(matches!(buf.next_command(), Some(Ok(Command::Helo(_)))));

        // One more byte and no terminator yet: refused before the end of the line.
        let mut buf = LineBuffer::new();
        buf.push(&[b'x'; MAX_LINE + 2]);
        assert_eq!(buf.next_command(), Some(Err(LineError::TooLong)));

        let mut buf = LineBuffer::new();
        let mut line = vec![b'x'; MAX_LINE + 1];
        line.extend_from_slice(b"\r\n");
        buf.push(&line);
        assert_eq!(buf.next_command(), Some(Err(LineError::TooLong)));
    }
}
