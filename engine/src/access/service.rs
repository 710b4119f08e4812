//! Service negotiation: which features (leaf codes of the `WVCSPFeat` tree) a session may
//! use. Sets of leaves are bit sets over [`LEAVES`].

use imps_protocol::Primitive;
use imps_protocol::primitives::{
    FEATURES, Feature, FeatureTree, Function, Functions, ServiceRequest, ServiceResponse,
};

/// Every leaf code of the feature tree, in tree order (bit `i` of a set is `LEAVES[i]`).
pub const LEAVES: &[&str] = &[
    "GETSPI", "SRCH", "STSRC", "INVIT", "CAINV", "VRID", "GCLI", "CCLI", "DCLI", "MCLS", "GETWL",
    "REACT", "CAAUT", "GETAUT", "GETPR", "UPDPR", "CALI", "DALI", "GALS", "MDELIV", "FWMSG",
    "SETD", "GETLM", "GETM", "REJCM", "NOTIF", "NEWM", "GLBLU", "BLENT", "CREAG", "DELGR", "GETGP",
    "SETGP", "SUBGCN", "GRCHN", "GETJU", "GETGM", "ADDGM", "RMVGM", "MBRAC", "REJEC",
];

/// The leaves this server implements today; grows as services land.
pub const IMPLEMENTED: &[&str] = &[
    "GETSPI", "SRCH", "STSRC", "INVIT", "CAINV", "GCLI", "CCLI", "DCLI", "MCLS", "GETWL", "REACT",
    "CAAUT", "GETAUT", "GETPR", "UPDPR", "CALI", "DALI", "GALS", "MDELIV", "FWMSG", "SETD",
    "GETLM", "GETM", "REJCM", "NOTIF", "NEWM", "GLBLU", "BLENT",
];

/// The bit of a leaf code.
pub fn bit(leaf: &str) -> Option<u64> {
    LEAVES.iter().position(|l| *l == leaf).map(|i| 1u64 << i)
}

/// The set of `leaves`.
pub fn set_of<'a>(leaves: impl IntoIterator<Item = &'a str>) -> u64 {
    leaves.into_iter().filter_map(bit).fold(0, |a, b| a | b)
}

/// The leaf a client-originated primitive needs, or `None` for the always-available ones
/// (login, logout, keep-alive, polling, negotiation, answers).
pub fn leaf_of(p: &Primitive) -> Option<&'static str> {
    Some(match p {
        Primitive::GetSpInfoRequest(_) => "GETSPI",
        Primitive::SearchRequest(_) => "SRCH",
        Primitive::StopSearchRequest(_) => "STSRC",
        Primitive::InviteRequest(_) => "INVIT",
        Primitive::CancelInviteRequest(_) => "CAINV",
        Primitive::VerifyIdRequest(_) => "VRID",
        Primitive::GetListRequest(_) => "GCLI",
        Primitive::CreateListRequest(_) => "CCLI",
        Primitive::DeleteListRequest(_) => "DCLI",
        Primitive::ListManageRequest(_) => "MCLS",
        Primitive::GetWatcherListRequest(_) => "GETWL",
        Primitive::PresenceAuthUser(_) => "REACT",
        Primitive::CancelAuthRequest(_) => "CAAUT",
        Primitive::GetReactiveAuthStatusRequest(_) => "GETAUT",
        Primitive::GetPresenceRequest(_) => "GETPR",
        Primitive::UpdatePresenceRequest(_) => "UPDPR",
        Primitive::CreateAttributeListRequest(_) => "CALI",
        Primitive::DeleteAttributeListRequest(_) => "DALI",
        Primitive::GetAttributeListRequest(_) => "GALS",
        Primitive::SendMessageRequest(_) => "MDELIV",
        Primitive::ForwardMessageRequest(_) => "FWMSG",
        Primitive::SetDeliveryMethodRequest(_) => "SETD",
        Primitive::GetMessageListRequest(_) => "GETLM",
        Primitive::GetMessageRequest(_) => "GETM",
        Primitive::RejectMessageRequest(_) => "REJCM",
        Primitive::GetBlockedListRequest(_) => "GLBLU",
        Primitive::BlockEntityRequest(_) => "BLENT",
        Primitive::CreateGroupRequest(_) => "CREAG",
        Primitive::DeleteGroupRequest(_) => "DELGR",
        Primitive::GetGroupPropsRequest(_) => "GETGP",
        Primitive::SetGroupPropsRequest(_) => "SETGP",
        Primitive::SubscribeGroupNoticeRequest(_) => "SUBGCN",
        Primitive::GetJoinedUsersRequest(_) => "GETJU",
        Primitive::GetGroupMembersRequest(_) => "GETGM",
        Primitive::AddGroupMembersRequest(_) => "ADDGM",
        Primitive::RemoveGroupMembersRequest(_) => "RMVGM",
        Primitive::MemberAccessRequest(_) => "MBRAC",
        Primitive::RejectListRequest(_) => "REJEC",
        _ => return None,
    })
}

/// The leaves a request's tree names (an empty tree or no tree: nothing).
pub fn requested(tree: Option<&Functions>) -> u64 {
    tree.map_or(0, |f| set_of(f.tree.leaves()))
}

/// The tree of the leaves in `set`.
pub fn tree_of(set: u64) -> FeatureTree {
    let mut features = Vec::new();
    for (feat, funcs) in FEATURES {
        let mut functions = Vec::new();
        for (func, leaves) in funcs.iter() {
            let chosen: Vec<String> = leaves
                .iter()
                .filter(|l| bit(l).is_some_and(|b| set & b != 0))
                .map(|l| (*l).to_owned())
                .collect();
            if !chosen.is_empty() {
                functions.push(Function {
                    name: (*func).to_owned(),
                    leaves: chosen,
                });
            }
        }
        if !functions.is_empty() {
            features.push(Feature {
                name: (*feat).to_owned(),
                functions,
            });
        }
    }
    FeatureTree { features }
}

/// Negotiates: the agreed set (requested ∩ supported; a request naming nothing asks for
/// everything) and the response. `Functions` in the response lists what was agreed;
/// `AllFunctions` (when asked) everything the server supports.
pub fn negotiate(req: &ServiceRequest, supported: u64) -> (u64, ServiceResponse) {
    let asked = match requested(req.functions.as_ref()) {
        0 => supported,
        set => set,
    };
    let agreed = asked & supported;
    let response = ServiceResponse {
        client_id: req.client_id.clone(),
        functions: Some(Functions {
            tree: tree_of(agreed),
        }),
        all_functions: req
            .all_functions_request
            .unwrap_or(false)
            .then(|| Functions {
                tree: tree_of(supported),
            }),
        not_available_functions: None,
    };
    (agreed, response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_are_the_feature_tree() {
        assert!(LEAVES.len() <= 64);
        let all = FeatureTree::everything().leaves();
        assert_eq!(all.len(), LEAVES.len());
        for leaf in all {
            assert!(bit(leaf).is_some(), "{leaf}");
        }
        let set = set_of(["SRCH", "GETSPI"]);
        let tree = tree_of(set);
        assert_eq!(tree.features.len(), 1);
        assert_eq!(set_of(tree.leaves()), set);
    }
}
