//! A message to a group on the group's shard: the sender must be joined (or a member of a
//! restricted group); the letter reaches every other joined session, one batch per shard; a
//! message to a screen name goes to that user only, if the group and the user allow private
//! messages (812, 813). The delivery report covers delivery to the group.

use std::sync::Arc;

use imps_protocol::StatusCode;

use super::mesh::GroupMsg;
use super::remote_members::is_remote;
use crate::im::mailbox::Letter;
use crate::im::mesh::ImMsg;
use crate::presence::publication::SessionRef;
use crate::shard::{Shard, ShardMsg};

/// A message for a group.
pub(crate) struct GroupPost {
    pub(crate) letter: Arc<Letter>,
    pub(crate) group: Arc<str>,
    pub(crate) to_screen_name: Option<Box<str>>,
    pub(crate) session: SessionRef,
}

impl Shard {
    /// A message posted to a group of this shard; answered with `ImMsg::Posted`.
    pub(crate) fn handle_group_post(
        &mut self,
        from: usize,
        (query, part): (u64, u32),
        post: GroupPost,
    ) {
        let code = self.group_post(&post);
        let msg = ImMsg::Posted {
            query,
            part,
            results: vec![(post.group.clone(), code)],
        };
        if code == StatusCode::Successful {
            let recipient = post.group.to_string();
            self.report(&post.letter, &recipient, code, Some(post.letter.sent_ms));
        }
        self.send_after_records(from, ShardMsg::Im(msg));
    }

    pub(super) fn group_post(&mut self, post: &GroupPost) -> StatusCode {
        let Some(g) = self.groups.get(&*post.group) else {
            return StatusCode::GroupMissing;
        };
        let sender = g.joined_by(post.session);
        let Some(sender) = sender else {
            return StatusCode::GroupNotJoined;
        };
        let screen_name: Option<Arc<str>> = Some(Arc::from(&*sender.screen_name));
        let targets: Vec<SessionRef> = match &post.to_screen_name {
            Some(name) => {
                if !g.private_messaging() {
                    return StatusCode::GroupPrivateMessagingDisabled;
                }
                let Some(target) = g.joined.iter().find(|j| *j.screen_name == **name) else {
                    return StatusCode::UnknownUser;
                };
                if !target.private_messaging || !sender.private_messaging {
                    return StatusCode::UserPrivateMessagingDisabled;
                }
                vec![target.session]
            }
            None => g
                .joined
                .iter()
                .filter(|j| j.session != post.session)
                .map(|j| j.session)
                .collect(),
        };
        let remote: Vec<String> = g
            .joined
            .iter()
            .filter(|j| is_remote(j.session) && targets.contains(&j.session))
            .map(|j| j.user.to_string())
            .collect();
        let mut by_shard: Vec<Vec<SessionRef>> = vec![Vec::new(); self.shards];
        for s in targets {
            if let Some(b) = by_shard.get_mut(usize::from(s.shard)) {
                b.push(s);
            }
        }
        for (shard, to) in by_shard.into_iter().enumerate() {
            if to.is_empty() {
                continue;
            }
            self.group_deliveries += to.len() as u64;
            let msg = GroupMsg::Deliver {
                letter: post.letter.clone(),
                group: post.group.clone(),
                screen_name: screen_name.clone(),
                to,
            };
            self.send_after_records(shard, ShardMsg::Group(msg));
        }
        self.post_to_remote_members(&post.group, &post.letter, screen_name.as_deref(), remote);
        StatusCode::Successful
    }
}
