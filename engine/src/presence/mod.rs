//! The presence service: contact lists so far (GetList, CreateList, DeleteList, ListManage),
//! with a default list, per-user limits and every change stored durably before it is
//! acknowledged. Plain functions over a [`crate::shard::Shard`]; no I/O.

pub mod contact_lists;
