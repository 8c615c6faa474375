//! The settings of a batch job: what `POST /v2/batch` (or the `config` part of
//! createAndUpload) carries.

use serde::{Deserialize, Serialize};

/// What a batch job does with the items of its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum BatchAction {
    /// Create the items, or update those that exist.
    Create,
    /// Delete the items that match.
    Delete,
}

/// How a job writes the attributes of an item that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AttributeWriteType {
    /// The document's attributes replace the item's: attributes not in it are removed.
    Replace,
    /// The document's attributes are added to the item's.
    Append,
    /// One attribute of each type: the document's replaces the item's of the same type.
    Singleton,
    /// Attributes are written only where the item has none.
    Static,
}

/// How a job writes the tags (or security labels) of an item that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TagWriteType {
    /// The document's tags replace the item's: tags not in it are removed.
    Replace,
    /// The document's tags are added to the item's.
    Append,
}

/// The settings of one batch job.
///
/// The defaults suit a bulk feed: `Create`, no halt on error, and playbook triggers off (a
/// bulk import must not fire playbooks for every indicator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSettings {
    /// The document format version: `V2`.
    pub version: String,
    /// The owner (organisation or source) the items go to.
    pub owner: String,
    /// Whether the job stops at its first error.
    pub halt_on_error: bool,
    /// Create (or update), or delete.
    pub action: BatchAction,
    /// How attributes are written.
    pub attribute_write_type: AttributeWriteType,
    /// How tags are written.
    pub tag_write_type: TagWriteType,
    /// How security labels are written.
    pub security_label_write_type: TagWriteType,
    /// Whether playbooks may fire on the job's items.
    pub playbook_triggers_enabled: bool,
}

impl JobSettings {
    /// Settings for a Create job to `owner` that replaces tags and attributes.
    pub fn new(owner: impl Into<String>) -> JobSettings {
        JobSettings {
            version: "V2".to_owned(),
            owner: owner.into(),
            halt_on_error: false,
            action: BatchAction::Create,
            attribute_write_type: AttributeWriteType::Replace,
            tag_write_type: TagWriteType::Replace,
            security_label_write_type: TagWriteType::Replace,
            playbook_triggers_enabled: false,
        }
    }
}
