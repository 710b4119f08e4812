//! The user list format of `impsd users import`: CSV lines of
//! `user,password[,first_name,last_name,email,alias,mobile]`, fields optionally in double
//! quotes (`""` for a quote inside). A first line starting `user,password` is a header.

use crate::record::Profile;

/// One user of an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedUser {
    /// The user ID as written.
    pub user: String,
    /// The password.
    pub password: String,
    /// Profile fields given.
    pub profile: Profile,
}

/// A line that is not a user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct CsvError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: &'static str,
}

fn fields(line: &str) -> Result<Vec<String>, &'static str> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.trim().is_empty() && !was_quoted => {
                field.clear();
                quoted = true;
                was_quoted = true;
            }
            (false, ',') => {
                out.push(if was_quoted {
                    std::mem::take(&mut field)
                } else {
                    field.trim().to_owned()
                });
                field.clear();
                was_quoted = false;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote");
    }
    out.push(if was_quoted {
        field
    } else {
        field.trim().to_owned()
    });
    Ok(out)
}

/// Parses an import file.
pub fn parse_users(text: &str) -> Result<Vec<ImportedUser>, CsvError> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let f = fields(line).map_err(|reason| CsvError {
            line: line_no,
            reason,
        })?;
        if n == 0 && f.first().is_some_and(|u| u.eq_ignore_ascii_case("user")) {
            continue;
        }
        if f.len() < 2 || f[0].is_empty() {
            return Err(CsvError {
                line: line_no,
                reason: "expected user,password",
            });
        }
        if f[1].is_empty() {
            return Err(CsvError {
                line: line_no,
                reason: "empty password",
            });
        }
        let opt = |i: usize| f.get(i).filter(|s| !s.is_empty()).cloned();
        out.push(ImportedUser {
            user: f[0].clone(),
            password: f[1].clone(),
            profile: Profile {
                first_name: opt(2),
                last_name: opt(3),
                email: opt(4),
                alias: opt(5),
                mobile: opt(6),
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_users_with_quotes_and_header() {
        let text = "user,password,first\nalice,secret,Alice\n\n# comment\n\"bob, jr\",\"p\"\"w\",,Smith\r\n";
        let users = parse_users(text).unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].profile.first_name.as_deref(), Some("Alice"));
        assert_eq!(users[1].user, "bob, jr");
        assert_eq!(users[1].password, "p\"w");
        assert_eq!(users[1].profile.last_name.as_deref(), Some("Smith"));
        assert_eq!(parse_users("x\n").unwrap_err().line, 1);
        assert_eq!(
            parse_users("a,\"open\n").unwrap_err().reason,
            "unterminated quote"
        );
        assert_eq!(
            parse_users("a,b\nc,\n").unwrap_err(),
            CsvError {
                line: 2,
                reason: "empty password"
            }
        );
    }
}
