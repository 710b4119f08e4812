//! One Rust type per CSP primitive, grouped by service.

pub mod attributes;
pub mod capability;
pub mod groups;
pub mod im;
pub mod presence;
pub mod search_invite;
pub mod session;

pub use attributes::*;
pub use capability::*;
pub use groups::*;
pub use im::*;
pub use presence::*;
pub use search_invite::*;
pub use session::*;
