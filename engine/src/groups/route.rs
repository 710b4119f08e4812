//! Group messages arriving from other shards, to their handlers.

use super::mesh::GroupMsg;
use super::messaging::GroupPost;
use super::ops::Asker;
use crate::core::Millis;
use crate::shard::Shard;

impl Shard {
    /// Handles a group message from shard `from`.
    pub(crate) fn handle_group_msg(&mut self, now: Millis, from: usize, msg: GroupMsg) {
        match msg {
            GroupMsg::Request {
                query,
                part,
                session,
                user,
                version,
                group,
                request,
            } => {
                let asker = Asker {
                    session,
                    user,
                    version,
                    group,
                };
                self.handle_group_request(now, from, (query, part), asker, *request);
            }
            GroupMsg::Answer {
                query,
                part,
                session,
                content,
                membership,
            } => self.handle_group_answer(query, part, session, *content, membership),
            GroupMsg::Notify {
                to,
                primitive,
                left,
            } => self.handle_group_notify(&to, &primitive, left.as_ref()),
            GroupMsg::Post {
                query,
                part,
                letter,
                group,
                to_screen_name,
                session,
            } => {
                let post = GroupPost {
                    letter,
                    group,
                    to_screen_name,
                    session,
                };
                self.handle_group_post(from, (query, part), post);
            }
            GroupMsg::Deliver {
                letter,
                group,
                screen_name,
                to,
            } => self.handle_group_deliver(&letter, &group, screen_name.as_deref(), &to),
            GroupMsg::SessionEnded { session, groups } => {
                self.handle_group_session_ended(session, &groups);
            }
        }
    }
}
