//! Category names, and how the operator names categories in filters.

use std::fmt;
use std::str::FromStr;

use proofpoint_et_client::CategoryRef;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::config::MapperConfig;
use crate::error::Error;
use crate::record::CategoryKey;

/// The category table, as the mapper needs it: names by ID and IDs by name.
///
/// `proofpoint-et-client`'s table (read from `categories.txt`, or its built-in copy) is the one
/// the feed uses; tests use small hand-written tables. IDs have gaps: never index by `id - 1`.
pub trait CategoryNames {
    /// The short name of category `id`, such as `TorNode`, or `None` for an ID the table does
    /// not know (an unknown ID is data, not an error: it becomes the tag `ET Category <id>`).
    fn name(&self, id: u16) -> Option<&str>;

    /// The ID of the category with this short name, compared exactly.
    fn id_by_name(&self, name: &str) -> Option<u16>;
}

impl<T: CategoryNames + ?Sized> CategoryNames for &T {
    fn name(&self, id: u16) -> Option<&str> {
        (**self).name(id)
    }

    fn id_by_name(&self, name: &str) -> Option<u16> {
        (**self).id_by_name(name)
    }
}

/// The published table, as `proofpoint-et-client` reads it: what the feed maps with.
impl CategoryNames for proofpoint_et_client::CategoryTable {
    fn name(&self, id: u16) -> Option<&str> {
        proofpoint_et_client::CategoryTable::name(self, id)
    }

    fn id_by_name(&self, name: &str) -> Option<u16> {
        proofpoint_et_client::CategoryTable::id_by_name(self, name)
    }
}

/// A category as the operator names it in an allow or deny list: by ID or by short name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CategorySelector {
    /// A category ID, such as `10`.
    Id(u16),
    /// A category short name, such as `TorNode`; it must be in the category table.
    Name(String),
}

impl FromStr for CategorySelector {
    type Err = std::convert::Infallible;

    /// Digits give an ID, anything else a name (trimmed).
    fn from_str(text: &str) -> Result<CategorySelector, Self::Err> {
        let text = text.trim();
        Ok(match text.parse::<u16>() {
            Ok(id) => CategorySelector::Id(id),
            Err(_) => CategorySelector::Name(text.to_owned()),
        })
    }
}

impl fmt::Display for CategorySelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CategorySelector::Id(id) => id.fmt(f),
            CategorySelector::Name(name) => f.write_str(name),
        }
    }
}

/// The tag of a category whose ID the table does not know.
pub(crate) fn unknown_id_tag(id: u16) -> String {
    format!("ET Category {id}")
}

/// Whether a text can be a tag name: 1 to 128 characters, no control characters.
pub(crate) fn check_tag_name(name: &str) -> Result<(), &'static str> {
    if name.trim().is_empty() {
        return Err("a tag name cannot be empty");
    }
    if name.chars().count() > 128 {
        return Err("a tag name is at most 128 characters");
    }
    if name.chars().any(char::is_control) {
        return Err("a tag name cannot hold control characters");
    }
    Ok(())
}

/// What the operator's filters say about a category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Keep,
    Denied,
    NotAllowed,
    /// The name cannot be a tag.
    Invalid,
}

/// A category as a row names it, resolved once and then looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub(crate) key: CategoryKey,
    pub(crate) verdict: Verdict,
    /// Whether the table knows it; unknown categories are counted.
    pub(crate) known: bool,
}

/// Resolves the categories of rows to keys, verdicts and tag names, each category once.
///
/// IDs are looked up in a vector indexed by ID; names (JSON lists) in a map by name. A name
/// the table knows becomes its ID, so that `TorNode` in a JSON list and `10` in a CSV list are
/// one category; a name it does not know is kept as a name of its own.
#[derive(Debug, Clone, Default)]
pub(crate) struct CategoryResolver {
    by_id: Vec<Option<(Resolved, Box<str>)>>,
    by_name: FxHashMap<Box<str>, Resolved>,
    unknown_names: Vec<Box<str>>,
    allow: FxHashSet<u16>,
    deny: FxHashSet<u16>,
}

impl CategoryResolver {
    /// A resolver for the filters of `config`, whose category names must be in `names`.
    pub(crate) fn new<N>(config: &MapperConfig, names: &N) -> Result<CategoryResolver, Error>
    where
        N: CategoryNames + ?Sized,
    {
        Ok(CategoryResolver {
            allow: filter_ids("categories.allow", config.allowed_categories(), names)?,
            deny: filter_ids("categories.deny", config.denied_categories(), names)?,
            ..CategoryResolver::default()
        })
    }

    /// The category of a row.
    pub(crate) fn resolve<N>(&mut self, category: CategoryRef<'_>, names: &N) -> Resolved
    where
        N: CategoryNames + ?Sized,
    {
        match category {
            CategoryRef::Id(id) => self.resolve_id(id, names),
            CategoryRef::Name(name) => self.resolve_name(name, names),
        }
    }

    fn resolve_id<N: CategoryNames + ?Sized>(&mut self, id: u16, names: &N) -> Resolved {
        let slot = usize::from(id);
        if let Some(Some((resolved, _))) = self.by_id.get(slot) {
            return *resolved;
        }

        let (tag, known) = match names.name(id) {
            Some(name) => (name.to_owned(), true),
            None => (unknown_id_tag(id), false),
        };
        let verdict = match check_tag_name(&tag) {
            Ok(()) => self.verdict_of_id(id),
            Err(_) => Verdict::Invalid,
        };
        let resolved = Resolved {
            key: CategoryKey::id(id),
            verdict,
            known,
        };
        if self.by_id.len() <= slot {
            self.by_id.resize(slot + 1, None);
        }
        self.by_id[slot] = Some((resolved, tag.into_boxed_str()));
        resolved
    }

    fn resolve_name<N: CategoryNames + ?Sized>(&mut self, name: &str, names: &N) -> Resolved {
        if let Some(resolved) = self.by_name.get(name) {
            return *resolved;
        }

        let resolved = match names.id_by_name(name) {
            Some(id) => self.resolve_id(id, names),
            None => self.intern_unknown_name(name),
        };
        self.by_name.insert(name.into(), resolved);
        resolved
    }

    fn intern_unknown_name(&mut self, name: &str) -> Resolved {
        let verdict = match check_tag_name(name) {
            Err(_) => Verdict::Invalid,
            // Filters name only categories the table knows, so an allow list leaves this out.
            Ok(()) if !self.allow.is_empty() => Verdict::NotAllowed,
            Ok(()) => Verdict::Keep,
        };
        let index = self.unknown_names.len();
        self.unknown_names.push(name.into());
        Resolved {
            key: CategoryKey::name(index),
            verdict,
            known: false,
        }
    }

    fn verdict_of_id(&self, id: u16) -> Verdict {
        if self.deny.contains(&id) {
            Verdict::Denied
        } else if !self.allow.is_empty() && !self.allow.contains(&id) {
            Verdict::NotAllowed
        } else {
            Verdict::Keep
        }
    }

    /// The tag of a category that a row resolved to.
    pub(crate) fn tag(&self, key: CategoryKey) -> &str {
        match key.split() {
            Ok(id) => match &self.by_id[usize::from(id)] {
                Some((_, tag)) => tag,
                None => unreachable!("category {id} was resolved before it was grouped"),
            },
            Err(index) => &self.unknown_names[index],
        }
    }

    /// The name of an unknown category name key, for counting.
    pub(crate) fn unknown_name(&self, index: usize) -> &str {
        &self.unknown_names[index]
    }

    /// Takes in the categories another resolver saw; returns how its keys become this one's.
    pub(crate) fn absorb(&mut self, other: &CategoryResolver) -> KeyRemap {
        for (id, entry) in other.by_id.iter().enumerate() {
            let Some(entry) = entry else { continue };
            if self.by_id.len() <= id {
                self.by_id.resize(id + 1, None);
            }
            if self.by_id[id].is_none() {
                self.by_id[id] = Some(entry.clone());
            }
        }

        let mut names = Vec::with_capacity(other.unknown_names.len());
        for name in &other.unknown_names {
            let resolved = match self.by_name.get(&**name) {
                Some(resolved) => *resolved,
                None => {
                    let resolved = self.intern_unknown_name(name);
                    self.by_name.insert(name.clone(), resolved);
                    resolved
                }
            };
            names.push(resolved.key);
        }
        KeyRemap { names }
    }
}

/// How another grouper's category keys become this one's: IDs stay, names are re-numbered.
pub(crate) struct KeyRemap {
    names: Vec<CategoryKey>,
}

impl KeyRemap {
    pub(crate) fn apply(&self, key: CategoryKey) -> CategoryKey {
        match key.split() {
            Ok(_) => key,
            Err(index) => self.names[index],
        }
    }
}

/// The IDs a filter setting names, or an error for a name the table does not know.
fn filter_ids<N: CategoryNames + ?Sized>(
    setting: &str,
    selectors: &[CategorySelector],
    names: &N,
) -> Result<FxHashSet<u16>, Error> {
    selectors
        .iter()
        .map(|selector| match selector {
            CategorySelector::Id(id) => Ok(*id),
            CategorySelector::Name(name) => {
                names
                    .id_by_name(name.trim())
                    .ok_or_else(|| Error::UnknownCategory {
                        setting: setting.to_owned(),
                        name: name.clone(),
                    })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_read_digits_as_ids() {
        assert_eq!(
            "10".parse::<CategorySelector>(),
            Ok(CategorySelector::Id(10))
        );
        assert_eq!(
            " TorNode ".parse::<CategorySelector>(),
            Ok(CategorySelector::Name("TorNode".to_owned()))
        );
    }

    #[test]
    fn tag_names_are_checked() {
        assert!(check_tag_name("ET Removed").is_ok());
        assert!(check_tag_name("").is_err());
        assert!(check_tag_name(" ").is_err());
        assert!(check_tag_name(&"x".repeat(129)).is_err());
        assert!(check_tag_name("a\rb").is_err());
    }
}
