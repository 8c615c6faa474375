//! The table of reputation categories: `categories.txt`, or the built-in copy.

use crate::parse::{Lines, quote_text};
use crate::reject::{Field, Rejection};

/// The file that holds the category table.
pub const CATEGORIES_FILE: &str = "categories.txt";

/// One reputation category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// The numeric ID the CSV lists give.
    pub id: u16,
    /// The short name the JSON lists give, such as `TorNode`.
    pub name: String,
    /// What the category means.
    pub description: String,
}

/// The categories as published: id, short name, description. IDs have gaps (8, 11, 12, ...),
/// which is why a table must never be indexed by `id - 1`.
const BUILTIN: &[(u16, &str, &str)] = &[
    (1, "CnC", "Malware Command and Control Server"),
    (2, "Bot", "Known Infected Bot"),
    (3, "Spam", "Known Spam Source"),
    (4, "Drop", "Drop site for logs or stolen credentials"),
    (5, "SpywareCnC", "Spyware Reporting Server"),
    (6, "OnlineGaming", "Questionable Gaming Site"),
    (7, "DriveBySrc", "Driveby Source"),
    (9, "ChatServer", "POLICY Chat Server"),
    (10, "TorNode", "POLICY Tor Node"),
    (13, "Compromised", "Known compromised or Hostile"),
    (15, "P2P", "P2P Node"),
    (16, "Proxy", "Proxy Host"),
    (17, "IPCheck", "IP Check Services"),
    (19, "Utility", "Known Good Public Utility"),
    (20, "DDoSTarget", "Target of a DDoS"),
    (21, "Scanner", "Host Performing Scanning"),
    (23, "Brute_Forcer", "SSH or other brute forcer"),
    (24, "FakeAV", "Fake AV and AS Products"),
    (
        25,
        "DynDNS",
        "Domain or IP Related to a Dynamic DNS Entry or Request",
    ),
    (26, "Undesirable", "Undesirable but not illegal"),
    (27, "AbusedTLD", "Abused or free TLD Related"),
    (
        28,
        "SelfSignedSSL",
        "Self Signed SSL or other suspicious encryption",
    ),
    (29, "Blackhole", "Blackhole or Sinkhole systems"),
    (
        30,
        "RemoteAccessService",
        "GoToMyPC and similar remote access services",
    ),
    (31, "P2PCnC", "Distributed CnC Nodes"),
    (33, "Parking", "Domain or SEO Parked"),
    (34, "VPN", "VPN Server"),
    (35, "EXE_Source", "Observed serving executables"),
    (37, "Mobile_CnC", "Known CnC for Mobile specific Family"),
    (
        38,
        "Mobile_Spyware_CnC",
        "Spyware CnC specific to mobile devices",
    ),
    (
        39,
        "Skype_SuperNode",
        "Observed Skype Bootstrap or Supernode",
    ),
    (40, "Bitcoin_Related", "Bitcoin Mining and related"),
    (41, "DDoSAttacker", "DDoS Source"),
];

/// The reputation categories, by ID and by short name.
///
/// An ID that is in no table is data, not an error: a caller shows it by number.
///
/// ```
/// use proofpoint_et_client::CategoryTable;
///
/// let table = CategoryTable::parse(b"1,CnC,Command and Control\r\n9,ChatServer,Chat\r\n");
/// assert_eq!(table.name(9), Some("ChatServer"));
/// assert_eq!(table.name(8), None);
/// assert_eq!(table.id_by_name("CnC"), Some(1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryTable {
    /// Sorted by ID, one entry per ID.
    by_id: Vec<Category>,
    builtin: bool,
    rejections: Vec<Rejection>,
}

impl CategoryTable {
    /// The published table as built into this crate: the fallback when no `categories.txt`
    /// can be had.
    pub fn builtin() -> CategoryTable {
        let by_id = BUILTIN
            .iter()
            .map(|&(id, name, description)| Category {
                id,
                name: name.to_owned(),
                description: description.to_owned(),
            })
            .collect();
        CategoryTable {
            by_id,
            builtin: true,
            rejections: Vec::new(),
        }
    }

    /// Reads a `categories.txt`: `id,short name,description` per line, no header. Blank
    /// lines and lines starting with `#` are skipped; any line ending is accepted. A line
    /// that cannot be read is kept in [`CategoryTable::rejections`] and skipped; so is a
    /// second line for an ID already read.
    pub fn parse(text: &[u8]) -> CategoryTable {
        let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
        let mut table = CategoryTable {
            by_id: Vec::new(),
            builtin: false,
            rejections: Vec::new(),
        };

        let mut lines = Lines::default();
        let mut read_line = |number: u64, line: &[u8]| table.read_line(number, line);
        lines.feed(text, &mut read_line);
        lines.finish(&mut read_line);

        table.by_id.sort_by_key(|category| category.id);
        table
    }

    fn read_line(&mut self, number: u64, line: &[u8]) {
        let line = line.trim_ascii();
        if line.is_empty() || line[0] == b'#' {
            return;
        }
        match self.read_category(line) {
            Ok(category) => self.by_id.push(category),
            Err((field, reason)) => {
                tracing::debug!(line = number, %field, %reason, "skipped a line of the categories");
                self.rejections.push(Rejection {
                    line: number,
                    field,
                    reason,
                });
            }
        }
    }

    fn read_category(&self, line: &[u8]) -> Result<Category, (Field, String)> {
        let line = std::str::from_utf8(line).map_err(|error| {
            (
                Field::Line,
                format!("invalid utf-8 at byte {}", error.valid_up_to() + 1),
            )
        })?;
        let mut parts = line.splitn(3, ',').map(str::trim_ascii);
        let id_text = parts.next().unwrap_or_default();
        let name = parts.next().unwrap_or_default();
        let description = parts.next().unwrap_or_default();

        let id: u16 = id_text.parse().map_err(|_| {
            (
                Field::Category,
                format!("{} is not a category id", quote_text(id_text)),
            )
        })?;
        if name.is_empty() {
            return Err((Field::Line, format!("category {id} has no name")));
        }
        if self.by_id.iter().any(|category| category.id == id) {
            return Err((
                Field::Category,
                format!("category {id} is listed a second time"),
            ));
        }
        Ok(Category {
            id,
            name: name.to_owned(),
            description: description.to_owned(),
        })
    }

    /// The category with `id`.
    pub fn get(&self, id: u16) -> Option<&Category> {
        self.by_id
            .binary_search_by_key(&id, |category| category.id)
            .ok()
            .map(|index| &self.by_id[index])
    }

    /// The short name of category `id`, or `None` for an ID the table does not have.
    pub fn name(&self, id: u16) -> Option<&str> {
        self.get(id).map(|category| category.name.as_str())
    }

    /// The ID of the category with the short name `name`: exact first, then ignoring ASCII
    /// case.
    pub fn id_by_name(&self, name: &str) -> Option<u16> {
        let exact = self.by_id.iter().find(|category| category.name == name);
        exact
            .or_else(|| {
                self.by_id
                    .iter()
                    .find(|category| category.name.eq_ignore_ascii_case(name))
            })
            .map(|category| category.id)
    }

    /// The categories in order of ID.
    pub fn iter(&self) -> impl Iterator<Item = &Category> {
        self.by_id.iter()
    }

    /// How many categories the table has.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether the table has no category.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Whether this is the built-in copy rather than a table that was read.
    pub fn is_builtin(&self) -> bool {
        self.builtin
    }

    /// The lines of the text this table was read from that could not be read.
    pub fn rejections(&self) -> &[Rejection] {
        &self.rejections
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_table_has_gaps_and_is_never_indexed_by_id_minus_one() {
        let table = CategoryTable::builtin();
        assert!(table.is_builtin());
        assert_eq!(table.len(), 33);
        assert_eq!(table.name(8), None);
        assert_eq!(table.name(9), Some("ChatServer"));
        assert_eq!(table.name(10), Some("TorNode"));
        assert_eq!(table.name(41), Some("DDoSAttacker"));
        assert_eq!(table.id_by_name("TorNode"), Some(10));
        assert_eq!(table.id_by_name("tornode"), Some(10));
        assert_eq!(table.id_by_name("Web_Crawler"), None);
    }

    #[test]
    fn categories_with_crlf_endings_give_names_without_cr_f04() {
        // F04: categories.txt with CRLF endings.
        let table = CategoryTable::parse(
            b"1,CnC,Malware Command and Control Server\r\n2,Bot,Known Infected Bot\r\n",
        );
        assert_eq!(table.name(1), Some("CnC"));
        assert_eq!(table.get(2).unwrap().description, "Known Infected Bot");
        assert!(
            table
                .iter()
                .all(|c| !c.name.contains('\r') && !c.description.contains('\r'))
        );
        assert!(table.rejections().is_empty());
    }

    #[test]
    fn blank_comment_and_broken_lines_are_skipped_and_counted() {
        let text = b"# the categories\n\n1,CnC,one\nx,Bad,two\n2,,three\n1,Again,four\n\
            42,Web_Crawler,new\n";
        let table = CategoryTable::parse(text);
        assert_eq!(table.len(), 2);
        assert_eq!(table.name(42), Some("Web_Crawler"));
        assert_eq!(table.name(1), Some("CnC"));
        let lines: Vec<u64> = table.rejections().iter().map(|r| r.line).collect();
        assert_eq!(lines, [4, 5, 6]);
        assert_eq!(table.rejections()[0].reason, "`x` is not a category id");
    }

    #[test]
    fn a_description_may_hold_commas() {
        let table = CategoryTable::parse(b"7,DriveBySrc,Driveby Source, and more\n");
        assert_eq!(
            table.get(7).unwrap().description,
            "Driveby Source, and more"
        );
    }
}
