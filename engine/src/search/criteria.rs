//! A Search-Request's pairs, checked and folded once on the searcher's shard, then shared
//! (as an `Arc`) with every shard that evaluates them.
//!
//! Rules: every pair must match (AND); users and groups are not searched together (402);
//! text shorter than [`MIN_CHARS`] characters is too broad (537), and so is a user search
//! with nothing but `USER_ONLINE_STATUS` (it would list everyone online); owner and joined
//! user IDs are compared whole.

use imps_protocol::StatusCode;
use imps_protocol::primitives::{SearchElement, SearchPair};
use imps_protocol::types::UserId;

use super::index::{GroupField, Matching, UserField, fold};

/// Characters a text criterion needs at least (fewer: 537).
pub const MIN_CHARS: usize = 2;
/// Pairs one search may have (402 beyond).
pub const MAX_PAIRS: usize = 16;

/// What a search lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Users (UserList).
    Users,
    /// Groups (GroupList).
    Groups,
}

/// One folded criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Criterion {
    /// A user field matches the (folded) text.
    User(UserField, String),
    /// The user's OnlineStatus is this, and the searcher may see it.
    Online(bool),
    /// A group field matches the (folded) text.
    Group(GroupField, String),
    /// This user (normalized ID) is joined to the group now.
    Joined(String),
}

/// A search, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criteria {
    /// Users or groups.
    pub target: Target,
    /// All must match.
    pub all: Vec<Criterion>,
}

/// Why a search is refused before it runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CriteriaError {
    /// An element this server does not search.
    #[error("search element {0} is not supported")]
    Unsupported(String),
    /// User and group elements in one search.
    #[error("users and groups cannot be searched together")]
    Mixed,
    /// A value that cannot be read (an online status that is not T/F, a bad user ID).
    #[error("bad search value {0:?}")]
    BadValue(String),
    /// More than [`MAX_PAIRS`] pairs.
    #[error("{0} search pairs, at most {MAX_PAIRS} allowed")]
    TooMany(usize),
    /// No pairs, too short a text, or only an online status.
    #[error("search criteria too broad")]
    TooBroad,
}

impl CriteriaError {
    /// The CSP status code.
    pub fn code(&self) -> StatusCode {
        match self {
            CriteriaError::TooBroad => StatusCode::SearchTooBroad,
            _ => StatusCode::InvalidParameter,
        }
    }
}

fn text(s: &str, matching: Matching) -> Result<String, CriteriaError> {
    let mut folded = fold(s, matching);
    if matching == Matching::LocalWords
        && let Some(rest) = folded.strip_prefix("wv:")
    {
        folded = rest.to_owned();
    }
    if folded.chars().count() < MIN_CHARS {
        return Err(CriteriaError::TooBroad);
    }
    Ok(folded)
}

fn user_id(s: &str, domain: &str) -> Result<String, CriteriaError> {
    UserId::from(s.trim())
        .normalize(domain)
        .map_err(|_| CriteriaError::BadValue(s.to_owned()))
}

fn online(s: &str) -> Result<bool, CriteriaError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "t" | "true" | "online" => Ok(true),
        "f" | "false" | "offline" => Ok(false),
        _ => Err(CriteriaError::BadValue(s.to_owned())),
    }
}

impl Criteria {
    /// Checks and folds the pairs of a first Search-Request.
    pub fn parse(pairs: &[SearchPair], domain: &str) -> Result<Self, CriteriaError> {
        if pairs.len() > MAX_PAIRS {
            return Err(CriteriaError::TooMany(pairs.len()));
        }
        let mut target = None;
        let mut all = Vec::with_capacity(pairs.len());
        for pair in pairs {
            let user = |f: UserField| -> Result<Criterion, CriteriaError> {
                Ok(Criterion::User(f, text(&pair.string, f.matching())?))
            };
            let group = |f: GroupField| -> Result<Criterion, CriteriaError> {
                Ok(Criterion::Group(f, text(&pair.string, f.matching())?))
            };
            let (t, c) = match &pair.element {
                SearchElement::UserId => (Target::Users, user(UserField::Id)?),
                SearchElement::UserFirstName => (Target::Users, user(UserField::FirstName)?),
                SearchElement::UserLastName => (Target::Users, user(UserField::LastName)?),
                SearchElement::UserEmailAddress => (Target::Users, user(UserField::Email)?),
                SearchElement::UserAlias => (Target::Users, user(UserField::Alias)?),
                SearchElement::UserMobileNumber => (Target::Users, user(UserField::Mobile)?),
                SearchElement::UserOnlineStatus => {
                    (Target::Users, Criterion::Online(online(&pair.string)?))
                }
                SearchElement::GroupId => (Target::Groups, group(GroupField::Id)?),
                SearchElement::GroupName => (Target::Groups, group(GroupField::Name)?),
                SearchElement::GroupTopic => (Target::Groups, group(GroupField::Topic)?),
                SearchElement::GroupUserIdOwner => (
                    Target::Groups,
                    Criterion::Group(GroupField::Owner, user_id(&pair.string, domain)?),
                ),
                SearchElement::GroupUserIdJoined => (
                    Target::Groups,
                    Criterion::Joined(user_id(&pair.string, domain)?),
                ),
                other => return Err(CriteriaError::Unsupported(format!("{other:?}"))),
            };
            if target.is_some_and(|x| x != t) {
                return Err(CriteriaError::Mixed);
            }
            target = Some(t);
            all.push(c);
        }
        let target = target.ok_or(CriteriaError::TooBroad)?;
        if all.iter().all(|c| matches!(c, Criterion::Online(_))) {
            return Err(CriteriaError::TooBroad);
        }
        Ok(Self { target, all })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(element: SearchElement, s: &str) -> SearchPair {
        SearchPair {
            element,
            string: s.into(),
        }
    }

    #[test]
    fn pairs_fold_and_refuse() {
        let c = Criteria::parse(
            &[
                pair(SearchElement::UserId, "WV:Ali"),
                pair(SearchElement::UserOnlineStatus, "T"),
            ],
            "imps.local",
        )
        .unwrap();
        assert_eq!(c.target, Target::Users);
        assert_eq!(
            c.all,
            vec![
                Criterion::User(UserField::Id, "ali".into()),
                Criterion::Online(true)
            ]
        );
        let err = |pairs: &[SearchPair]| Criteria::parse(pairs, "imps.local").unwrap_err();
        assert_eq!(err(&[]), CriteriaError::TooBroad);
        assert_eq!(
            err(&[pair(SearchElement::UserAlias, " a* ")]),
            CriteriaError::TooBroad
        );
        assert_eq!(
            err(&[pair(SearchElement::UserOnlineStatus, "T")]),
            CriteriaError::TooBroad
        );
        assert_eq!(
            err(&[
                pair(SearchElement::UserAlias, "bob"),
                pair(SearchElement::GroupName, "chess")
            ]),
            CriteriaError::Mixed
        );
        assert_eq!(
            err(&[pair(SearchElement::UserOnlineStatus, "maybe")]).code(),
            StatusCode::InvalidParameter
        );
        let many = vec![pair(SearchElement::UserAlias, "bob"); MAX_PAIRS + 1];
        assert_eq!(err(&many), CriteriaError::TooMany(MAX_PAIRS + 1));
        let owner = Criteria::parse(
            &[pair(SearchElement::GroupUserIdOwner, "Bob")],
            "imps.local",
        )
        .unwrap();
        assert_eq!(
            owner.all,
            vec![Criterion::Group(
                GroupField::Owner,
                "wv:bob@imps.local".into()
            )]
        );
    }
}
