//! The presence service: contact lists (GetList, CreateList, DeleteList, ListManage) and
//! attribute lists (Create/Delete/GetAttributeList) so far,
//! with a default list, per-user limits and every change stored durably before it is
//! acknowledged. Plain functions over a [`crate::shard::Shard`]; no I/O.

pub mod attribute_lists;
pub mod contact_lists;
