//! Splitting a byte stream into lines, across the chunks it arrives in.
//!
//! A line ends at LF, CRLF or a lone CR. The chunks may cut anywhere, including between the CR
//! and the LF of one CRLF, so the splitter carries an unfinished line and a pending CR from one
//! chunk to the next.

use memchr::memchr2;

/// Hands out the lines of a stream fed to it in chunks, numbered from 1.
#[derive(Debug, Default)]
pub(crate) struct LineSplitter {
    /// The start of a line whose end has not arrived yet.
    partial: Vec<u8>,
    /// The previous chunk ended with a CR: an LF at the start of the next one belongs to it.
    after_cr: bool,
    /// How many lines were handed out.
    lines: u64,
}

impl LineSplitter {
    /// A splitter for text that starts after `lines` lines, which it numbers on from.
    pub(crate) fn after_lines(lines: u64) -> LineSplitter {
        LineSplitter {
            lines,
            ..LineSplitter::default()
        }
    }

    /// How many lines were handed out so far.
    pub(crate) fn lines(&self) -> u64 {
        self.lines
    }

    /// Hands every line that `chunk` completes to `on_line`, without its line ending.
    pub(crate) fn feed(&mut self, chunk: &[u8], mut on_line: impl FnMut(u64, &[u8])) {
        let mut rest = self.skip_lf_of_split_crlf(chunk);

        if !self.partial.is_empty() {
            let Some(end) = memchr2(b'\n', b'\r', rest) else {
                self.partial.extend_from_slice(rest);
                return;
            };
            let mut line = std::mem::take(&mut self.partial);
            line.extend_from_slice(&rest[..end]);
            self.lines += 1;
            on_line(self.lines, &line);
            line.clear();
            self.partial = line;
            rest = self.after_line_end(rest, end);
        }

        while let Some(end) = memchr2(b'\n', b'\r', rest) {
            self.lines += 1;
            on_line(self.lines, &rest[..end]);
            rest = self.after_line_end(rest, end);
        }
        self.partial.extend_from_slice(rest);
    }

    /// Hands out the last line where the stream does not end with a line ending.
    pub(crate) fn finish(&mut self, mut on_line: impl FnMut(u64, &[u8])) {
        if !self.partial.is_empty() {
            self.lines += 1;
            on_line(self.lines, &self.partial);
            self.partial.clear();
        }
    }

    fn skip_lf_of_split_crlf<'c>(&mut self, chunk: &'c [u8]) -> &'c [u8] {
        if !self.after_cr || chunk.is_empty() {
            return chunk;
        }
        self.after_cr = false;
        chunk.strip_prefix(b"\n").unwrap_or(chunk)
    }

    /// The text after the line ending that starts at `end`.
    fn after_line_end<'c>(&mut self, text: &'c [u8], end: usize) -> &'c [u8] {
        if text[end] == b'\n' {
            return &text[end + 1..];
        }
        match text.get(end + 1) {
            Some(b'\n') => &text[end + 2..],
            Some(_) => &text[end + 1..],
            None => {
                self.after_cr = true;
                &[]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_in_chunks(text: &[u8], chunk_len: usize) -> Vec<(u64, String)> {
        let mut splitter = LineSplitter::default();
        let mut lines = Vec::new();
        let mut keep = |number: u64, line: &[u8]| {
            lines.push((number, String::from_utf8(line.to_vec()).unwrap()));
        };
        for chunk in text.chunks(chunk_len) {
            splitter.feed(chunk, &mut keep);
        }
        splitter.finish(&mut keep);
        lines
    }

    fn expected(lines: &[&str]) -> Vec<(u64, String)> {
        (1..)
            .zip(lines.iter().map(|line| line.to_string()))
            .collect()
    }

    #[test]
    fn lf_crlf_and_cr_endings_give_the_same_lines_whatever_the_chunk_size() {
        let want = expected(&["a,1", "b,2", "", "c,3"]);
        for text in [
            &b"a,1\nb,2\n\nc,3\n"[..],
            b"a,1\r\nb,2\r\n\r\nc,3\r\n",
            b"a,1\rb,2\r\rc,3",
            b"a,1\r\nb,2\n\rc,3",
        ] {
            for chunk_len in 1..=text.len() {
                assert_eq!(
                    split_in_chunks(text, chunk_len),
                    want,
                    "{text:?} by {chunk_len}"
                );
            }
        }
    }

    #[test]
    fn a_last_line_without_newline_is_read() {
        assert_eq!(split_in_chunks(b"x\ny", 2), expected(&["x", "y"]));
    }

    #[test]
    fn an_empty_stream_has_no_lines() {
        assert_eq!(split_in_chunks(b"", 1), Vec::new());
    }
}
