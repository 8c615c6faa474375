//! The local directory source.

mod common;

use std::path::Path;

use common::Collected;
use proofpoint_et_client::{
    DirectorySource, Error, FetchOutcome, ListFile, ListSource, Md5Digest, Validators,
};

const SHORT_LIST: &[u8] = b"198.51.100.23,1,98\n";
const SHORT_LIST_MD5: &str = "1927989b8146cbc0cc828f1d7f13de04";

fn folder_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    dir
}

fn fetch(
    dir: &Path,
    file: ListFile,
    known: &Validators,
) -> (Result<FetchOutcome, Error>, Collected) {
    let mut sink = Collected::default();
    let outcome = DirectorySource::new(dir).fetch_blocking(file, known, &mut sink);
    (outcome, sink)
}

#[test]
fn without_a_sidecar_the_md5_is_computed_from_the_file() {
    let dir = folder_with(&[("iprepdata.txt", SHORT_LIST)]);

    let (outcome, sink) = fetch(dir.path(), ListFile::SHORT_IP, &Validators::default());
    let FetchOutcome::Complete {
        validators,
        summary,
    } = outcome.unwrap()
    else {
        panic!("a first fetch reads the list");
    };
    assert_eq!(validators.md5.unwrap().to_string(), SHORT_LIST_MD5);
    assert_eq!(summary.rows, 1);
    assert_eq!(sink.rendered_rows(), ["198.51.100.23 1 98 - - []"]);

    let (again, sink) = fetch(dir.path(), ListFile::SHORT_IP, &validators);
    assert_eq!(again.unwrap(), FetchOutcome::NotModified { validators });
    assert!(sink.rows.is_empty());
}

#[test]
fn a_sidecar_that_matches_what_was_imported_skips_the_list() {
    let sidecar = format!("{}  iprepdata.txt\n", SHORT_LIST_MD5.to_uppercase());
    let dir = folder_with(&[("iprepdata.txt.md5sum", sidecar.as_bytes())]);
    let known = Validators {
        md5: Some(SHORT_LIST_MD5.parse().unwrap()),
        ..Validators::default()
    };

    // The list itself is not even there: the sidecar is enough to say it is unchanged.
    let (outcome, sink) = fetch(dir.path(), ListFile::SHORT_IP, &known);
    assert!(matches!(outcome.unwrap(), FetchOutcome::NotModified { .. }));
    assert!(sink.rows.is_empty());
}

#[test]
fn a_file_that_does_not_match_its_sidecar_is_refused_showing_both_hashes() {
    let dir = folder_with(&[
        ("iprepdata.txt", SHORT_LIST),
        (
            "iprepdata.txt.md5sum",
            b"00000000000000000000000000000000\n",
        ),
    ]);

    let (outcome, _) = fetch(dir.path(), ListFile::SHORT_IP, &Validators::default());
    let error = outcome.unwrap_err();
    assert!(matches!(error, Error::Md5Mismatch { .. }));
    assert_eq!(
        error.to_string(),
        format!(
            "iprepdata.txt does not match its md5 sidecar: expected \
             00000000000000000000000000000000, got {SHORT_LIST_MD5}"
        )
    );
}

#[test]
fn a_sidecar_without_an_md5_is_an_error() {
    let dir = folder_with(&[
        ("iprepdata.txt", SHORT_LIST),
        ("iprepdata.txt.md5sum", b"not-a-hash\n"),
    ]);

    let (outcome, sink) = fetch(dir.path(), ListFile::SHORT_IP, &Validators::default());
    assert!(
        matches!(outcome, Err(Error::InvalidSidecar { .. })),
        "{outcome:?}"
    );
    assert!(sink.rows.is_empty());
}

#[test]
fn a_missing_list_is_an_error_naming_the_file() {
    let dir = folder_with(&[]);

    let (outcome, _) = fetch(dir.path(), ListFile::DETAILED_IP, &Validators::default());
    let error = outcome.unwrap_err();
    assert!(matches!(error, Error::Open { .. }));
    assert!(
        error.to_string().contains("detailed-iprepdata.txt"),
        "{error}"
    );
}

#[test]
fn a_gz_list_and_its_sidecar_are_read_from_the_folder() {
    let gz = std::fs::read(common::fixture("f08/full.gz")).unwrap();
    let sidecar = format!("{}\n", Md5Digest::of(&gz));
    let dir = folder_with(&[
        ("iprepdata.txt.gz", &gz),
        ("iprepdata.txt.gz.md5sum", sidecar.as_bytes()),
    ]);

    let (outcome, sink) = fetch(
        dir.path(),
        ListFile::SHORT_IP.gzipped(),
        &Validators::default(),
    );
    let FetchOutcome::Complete { summary, .. } = outcome.unwrap() else {
        panic!("read")
    };
    assert!(summary.gzip);
    assert_eq!(sink.rows.len(), 2);
}

#[test]
fn a_truncated_gz_list_in_the_folder_is_refused_naming_the_file() {
    let cut = std::fs::read(common::fixture("f08/cut-in-trailer.gz")).unwrap();
    let dir = folder_with(&[("iprepdata.txt.gz", &cut)]);

    let (outcome, _) = fetch(
        dir.path(),
        ListFile::SHORT_IP.gzipped(),
        &Validators::default(),
    );
    let error = outcome.unwrap_err();
    assert!(matches!(error, Error::TruncatedGzip { .. }));
    assert!(
        error
            .to_string()
            .starts_with("iprepdata.txt.gz is truncated"),
        "{error}"
    );
}

#[test]
fn categories_in_the_folder_win_over_the_builtin_table() {
    let dir = folder_with(&[("categories.txt", b"1,CnC,one\r\n42,Web_Crawler,new\r\n")]);
    let table = DirectorySource::new(dir.path())
        .categories_blocking()
        .unwrap();
    assert!(!table.is_builtin());
    assert_eq!(table.name(42), Some("Web_Crawler"));
    assert_eq!(table.name(10), None);

    let empty = folder_with(&[]);
    let table = DirectorySource::new(empty.path())
        .categories_blocking()
        .unwrap();
    assert!(table.is_builtin());
    assert_eq!(table.name(10), Some("TorNode"));
}

#[tokio::test]
async fn the_directory_source_works_through_the_list_source_trait() {
    let dir = folder_with(&[("iprepdata.txt", SHORT_LIST)]);
    let source: Box<dyn ListSource> = Box::new(DirectorySource::new(dir.path()));

    let mut sink = Collected::default();
    let outcome = source
        .fetch(ListFile::SHORT_IP, &Validators::default(), &mut sink)
        .await;
    assert!(matches!(outcome.unwrap(), FetchOutcome::Complete { .. }));
    assert_eq!(sink.rows.len(), 1);
    assert!(source.categories().await.unwrap().is_builtin());
}
