//! Lists read by the real parser of `proofpoint-et-client`, as the feed reads them.

use proofpoint_et_client::RowSink;

/// Pushes every row of `text` (a list in any shape) into `sink`.
///
/// # Panics
///
/// Where the parser refuses the list as a whole: a test list that does not read is a test bug.
pub fn read_list(text: &str, sink: &mut impl RowSink) {
    proofpoint_et_client::parse_reader(text.as_bytes(), "test list", sink)
        .expect("the test list reads as a whole");
}
