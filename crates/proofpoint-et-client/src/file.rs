//! The files ET Intelligence publishes, by name.

use std::fmt;

use crate::row::ListKind;

/// The layout a published list file is named for. The parser reads the content and does not
/// trust the name; the name only says which file to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileFormat {
    /// `detailed-iprepdata.txt`, `detailed-domainrepdata.txt`: with dates and ports.
    Detailed,
    /// `iprepdata.txt`, `domainrepdata.txt`: `value,category,score`.
    Short,
    /// `iprepdata.csv`, `domainrepdata.csv`: the short list under a `.csv` name.
    ShortCsv,
    /// `iprepdata.json`, `domainrepdata.json`.
    Json,
}

/// One published reputation list file, such as `detailed-iprepdata.txt.gz`.
///
/// ```
/// use proofpoint_et_client::{FileFormat, ListFile, ListKind};
///
/// let file = ListFile::new(ListKind::Ip, FileFormat::Detailed).gzipped();
/// assert_eq!(file.name(), "detailed-iprepdata.txt.gz");
/// assert_eq!(file.sidecar_name(), "detailed-iprepdata.txt.gz.md5sum");
/// assert_eq!(ListFile::from_name("domainrepdata.json"), Some(ListFile::DOMAIN_JSON));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListFile {
    kind: ListKind,
    format: FileFormat,
    gzip: bool,
}

impl ListFile {
    /// `detailed-iprepdata.txt`.
    pub const DETAILED_IP: ListFile = ListFile::new(ListKind::Ip, FileFormat::Detailed);
    /// `detailed-domainrepdata.txt`.
    pub const DETAILED_DOMAIN: ListFile = ListFile::new(ListKind::Domain, FileFormat::Detailed);
    /// `iprepdata.txt`.
    pub const SHORT_IP: ListFile = ListFile::new(ListKind::Ip, FileFormat::Short);
    /// `domainrepdata.txt`.
    pub const SHORT_DOMAIN: ListFile = ListFile::new(ListKind::Domain, FileFormat::Short);
    /// `iprepdata.json`.
    pub const IP_JSON: ListFile = ListFile::new(ListKind::Ip, FileFormat::Json);
    /// `domainrepdata.json`.
    pub const DOMAIN_JSON: ListFile = ListFile::new(ListKind::Domain, FileFormat::Json);

    /// The uncompressed file of `kind` in `format`.
    pub const fn new(kind: ListKind, format: FileFormat) -> ListFile {
        ListFile {
            kind,
            format,
            gzip: false,
        }
    }

    /// The `.gz` of this file.
    pub const fn gzipped(self) -> ListFile {
        ListFile { gzip: true, ..self }
    }

    /// The list family the file is published for.
    pub fn kind(&self) -> ListKind {
        self.kind
    }

    /// The layout the file is named for.
    pub fn format(&self) -> FileFormat {
        self.format
    }

    /// Whether this is the `.gz` file.
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// The file's name, as it appears in the URL and in a local directory.
    pub fn name(&self) -> &'static str {
        let (plain, gzip) = self.names();
        if self.gzip { gzip } else { plain }
    }

    /// The name of the file's `.md5sum` sidecar.
    pub fn sidecar_name(&self) -> String {
        format!("{}.md5sum", self.name())
    }

    /// The file called `name`, if it is one of the published lists.
    pub fn from_name(name: &str) -> Option<ListFile> {
        ListFile::all().find(|file| file.name() == name)
    }

    /// Every published list file, plain and gzip.
    pub fn all() -> impl Iterator<Item = ListFile> {
        let kinds = [ListKind::Ip, ListKind::Domain];
        let formats = [
            FileFormat::Detailed,
            FileFormat::Short,
            FileFormat::ShortCsv,
            FileFormat::Json,
        ];
        kinds.into_iter().flat_map(move |kind| {
            formats.into_iter().flat_map(move |format| {
                let plain = ListFile::new(kind, format);
                [plain, plain.gzipped()]
            })
        })
    }

    fn names(&self) -> (&'static str, &'static str) {
        match (self.kind, self.format) {
            (ListKind::Ip, FileFormat::Detailed) => {
                ("detailed-iprepdata.txt", "detailed-iprepdata.txt.gz")
            }
            (ListKind::Domain, FileFormat::Detailed) => (
                "detailed-domainrepdata.txt",
                "detailed-domainrepdata.txt.gz",
            ),
            (ListKind::Ip, FileFormat::Short) => ("iprepdata.txt", "iprepdata.txt.gz"),
            (ListKind::Domain, FileFormat::Short) => ("domainrepdata.txt", "domainrepdata.txt.gz"),
            (ListKind::Ip, FileFormat::ShortCsv) => ("iprepdata.csv", "iprepdata.csv.gz"),
            (ListKind::Domain, FileFormat::ShortCsv) => {
                ("domainrepdata.csv", "domainrepdata.csv.gz")
            }
            (ListKind::Ip, FileFormat::Json) => ("iprepdata.json", "iprepdata.json.gz"),
            (ListKind::Domain, FileFormat::Json) => ("domainrepdata.json", "domainrepdata.json.gz"),
        }
    }
}

impl fmt::Display for ListFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_has_a_distinct_name_that_maps_back_to_it() {
        let files: Vec<ListFile> = ListFile::all().collect();
        assert_eq!(files.len(), 16);
        for file in files {
            assert_eq!(ListFile::from_name(file.name()), Some(file));
            assert_eq!(file.name().ends_with(".gz"), file.is_gzip());
        }
        assert_eq!(ListFile::from_name("categories.txt"), None);
    }
}
