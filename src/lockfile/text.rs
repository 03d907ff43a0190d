//! Text helpers shared by the parsers: decoding and byte-offset-to-line maps.

/// Maps byte offsets to 1-based line numbers.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the line starts of `text`.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr_newlines(text.as_bytes()));
        Self { starts }
    }

    /// The line of the array-of-tables header (`[[package]]`) that starts the
    /// entry whose span begins at `offset`: the span may start at the header
    /// or at the entry's first key, depending on the parser.
    pub fn header_line(&self, content: &str, offset: usize) -> u32 {
        let offset = offset.min(content.len());
        if content.get(offset..).is_some_and(|at| at.starts_with("[[")) {
            return self.line_of(offset);
        }
        let before = content.get(..offset).unwrap_or("");
        match before.rfind("\n[[") {
            Some(pos) => self.line_of(pos + 1),
            None if before.starts_with("[[") => 1,
            None => self.line_of(offset),
        }
    }

    /// The 1-based line containing byte `offset` (offsets past the end map to the last line).
    pub fn line_of(&self, offset: usize) -> u32 {
        let idx = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        u32::try_from(idx + 1).unwrap_or(u32::MAX)
    }
}

fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
}

/// Decodes file bytes: UTF-8 (a BOM is dropped) or UTF-16 LE/BE with a BOM
/// (as PowerShell's `>` writes requirements files). NUL bytes in UTF-8 text and
/// invalid UTF-8 are errors naming the line.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return utf8(rest);
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let (text, _, had_errors) = if bytes[0] == 0xFF {
            encoding_rs::UTF_16LE.decode(bytes)
        } else {
            encoding_rs::UTF_16BE.decode(bytes)
        };
        if had_errors {
            return Err("invalid UTF-16 text".into());
        }
        return check_nul(text.into_owned());
    }
    utf8(bytes)
}

fn utf8(bytes: &[u8]) -> Result<String, String> {
    match std::str::from_utf8(bytes) {
        Ok(s) => check_nul(s.to_string()),
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            Err(format!(
                "line {line}: not UTF-8 text (invalid byte at offset {}); is this a binary file?",
                e.valid_up_to()
            ))
        }
    }
}

fn check_nul(text: String) -> Result<String, String> {
    if let Some(pos) = text.find('\0') {
        let line = text[..pos].matches('\n').count() + 1;
        return Err(format!(
            "line {line}: contains a NUL byte; is this a binary file?"
        ));
    }
    Ok(text)
}

/// Decodes `%XX` escapes; anything that is not one (`%`, `%2`, `%+1`) stays as written.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(Ok(b)) = s
                .get(i + 1..i + 3)
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                .map(|h| u8::from_str_radix(h, 16))
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_from_offsets() {
        let idx = LineIndex::new("a\nbc\n\nd");
        assert_eq!(idx.line_of(0), 1);
        assert_eq!(idx.line_of(1), 1);
        assert_eq!(idx.line_of(2), 2);
        assert_eq!(idx.line_of(5), 3);
        assert_eq!(idx.line_of(6), 4);
        assert_eq!(idx.line_of(600), 4);
    }

    #[test]
    fn decodes_boms_and_rejects_binary() {
        assert_eq!(decode(b"\xEF\xBB\xBFsix==1").unwrap(), "six==1");
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("six==1\r\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&utf16).unwrap(), "six==1\r\n");
        assert!(decode(b"a\nb\0c").unwrap_err().contains("line 2"));
        assert!(decode(b"ok\n\xFF\xFE\xFD").unwrap_err().contains("line 2"));
    }
}
