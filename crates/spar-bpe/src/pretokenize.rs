//! GPT-2's pre-tokenizer, written by hand so it needs neither std nor a regex engine.
//!
//! Text is cut into pieces before BPE runs on each piece. The pieces are those of GPT-2's
//! pattern, evaluated leftmost-first at each position:
//!
//! ```text
//! 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//! ```
//!
//! `\p{L}` and `\p{N}` are Unicode General_Category letters and numbers (from category tables,
//! not `char::is_alphabetic`), `\s` is Unicode White_Space, and the optional leading space is
//! U+0020 only. `\s+(?!\S)` takes a whitespace run but leaves its last character to prefix the
//! next word. With [`PreTokenizer::split_digits`] the text is first cut so that every number
//! character stands alone (the `Digits(individual_digits=true)` pre-tokenizer of Hugging Face
//! `tokenizers`), and the pattern then runs on each remaining stretch separately.

use unicode_general_category::{get_general_category, GeneralCategory as Gc};

/// The character classes the pattern distinguishes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    Letter,
    Number,
    Space,
    Other,
}

fn class(c: char) -> Class {
    if c.is_ascii() {
        return match c {
            'a'..='z' | 'A'..='Z' => Class::Letter,
            '0'..='9' => Class::Number,
            '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' => Class::Space,
            _ => Class::Other,
        };
    }
    if c.is_whitespace() {
        return Class::Space;
    }
    match get_general_category(c) {
        Gc::UppercaseLetter
        | Gc::LowercaseLetter
        | Gc::TitlecaseLetter
        | Gc::ModifierLetter
        | Gc::OtherLetter => Class::Letter,
        Gc::DecimalNumber | Gc::LetterNumber | Gc::OtherNumber => Class::Number,
        _ => Class::Other,
    }
}

/// Whether `c` is a Unicode number (`\p{N}`), the class split off by the digit option.
pub fn is_number(c: char) -> bool {
    class(c) == Class::Number
}

/// How text is cut into pieces before BPE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreTokenizer {
    /// Apply GPT-2's pattern (`use_regex` in `tokenizers`); if false a stretch is one piece.
    pub use_regex: bool,
    /// Cut every number character into a piece of its own first (one token per digit).
    pub split_digits: bool,
}

impl Default for PreTokenizer {
    fn default() -> Self {
        PreTokenizer {
            use_regex: true,
            split_digits: false,
        }
    }
}

impl PreTokenizer {
    /// Calls `f` on each piece of `text`, in order. The pieces concatenate to `text`.
    pub fn for_each_piece<'t>(&self, text: &'t str, mut f: impl FnMut(&'t str)) {
        if !self.split_digits {
            self.pattern_pieces(text, &mut f);
            return;
        }
        let mut start = 0;
        for (i, c) in text.char_indices() {
            if is_number(c) {
                if start < i {
                    self.pattern_pieces(&text[start..i], &mut f);
                }
                let end = i + c.len_utf8();
                f(&text[i..end]);
                start = end;
            }
        }
        if start < text.len() {
            self.pattern_pieces(&text[start..], &mut f);
        }
    }

    fn pattern_pieces<'t>(&self, text: &'t str, f: &mut impl FnMut(&'t str)) {
        if !self.use_regex {
            if !text.is_empty() {
                f(text);
            }
            return;
        }
        let mut pos = 0;
        while pos < text.len() {
            let len = gpt2_piece_len(&text[pos..]);
            debug_assert!(len > 0);
            f(&text[pos..pos + len]);
            pos += len;
        }
    }
}

/// Length in bytes of the piece GPT-2's pattern matches at the start of a non-empty `s`.
fn gpt2_piece_len(s: &str) -> usize {
    let b = s.as_bytes();
    // Contractions: 's 't 'm 'd 're 've 'll (lower case, ASCII apostrophe).
    if b[0] == b'\'' && b.len() >= 2 {
        match b[1] {
            b's' | b't' | b'm' | b'd' => return 2,
            b'r' | b'v' if b.len() >= 3 && b[2] == b'e' => return 3,
            b'l' if b.len() >= 3 && b[2] == b'l' => return 3,
            _ => {}
        }
    }
    let mut chars = s.chars();
    let first = chars.next().expect("piece of non-empty text");
    let c1 = class(first);
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space, then a run of one class.
    let (run_class, run_start) = if first == ' ' {
        match s[1..].chars().next().map(class) {
            Some(k @ (Class::Letter | Class::Number | Class::Other)) => (k, 1),
            _ => (Class::Space, 0),
        }
    } else {
        (c1, 0)
    };
    if run_class != Class::Space {
        return run_start + run_len(&s[run_start..], run_class);
    }
    // `\s+(?!\S)` then `\s+`: a whitespace run, less its last character when a non-space follows.
    let ws = run_len(s, Class::Space);
    if ws == s.len() {
        return ws;
    }
    let last = s[..ws].chars().next_back().expect("run is non-empty");
    if ws > last.len_utf8() {
        ws - last.len_utf8()
    } else {
        ws
    }
}

/// Length in bytes of the run of characters of class `k` at the start of `s`.
fn run_len(s: &str, k: Class) -> usize {
    s.char_indices()
        .find(|&(_, c)| class(c) != k)
        .map_or(s.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn pieces(text: &str, split_digits: bool) -> Vec<&str> {
        let mut out = Vec::new();
        let pre = PreTokenizer {
            use_regex: true,
            split_digits,
        };
        pre.for_each_piece(text, |p| out.push(p));
        out
    }

    #[test]
    fn splits_like_gpt2() {
        assert_eq!(
            pieces("Hello world! It's 2024, isn't it?", false),
            ["Hello", " world", "!", " It", "'s", " 2024", ",", " isn", "'t", " it", "?"]
        );
        // Whitespace runs leave their last space to the next word.
        assert_eq!(pieces("a   b", false), ["a", "  ", " b"]);
        assert_eq!(pieces("a \n\nb", false), ["a", " \n", "\n", "b"]);
        assert_eq!(pieces("end  ", false), ["end", "  "]);
        assert_eq!(pieces("x\ty", false), ["x", "\t", "y"]);
        // Punctuation runs, apostrophes outside contractions, unicode classes.
        assert_eq!(pieces("a:=>'b", false), ["a", ":=>'", "b"]);
        assert_eq!(pieces("'ll 'LL", false), ["'ll", " '", "LL"]);
        assert_eq!(pieces("café ½ 日本語", false), ["café", " ½", " 日本語"]);
        assert_eq!(pieces("🙂🙂 ok", false), ["🙂🙂", " ok"]);
    }

    #[test]
    fn digit_option_gives_one_piece_per_digit() {
        assert_eq!(pieces("12+345=", true), ["1", "2", "+", "3", "4", "5", "="]);
        assert_eq!(pieces("x 12", true), ["x", " ", "1", "2"]);
    }

    #[test]
    fn pieces_concatenate_to_the_text() {
        for text in [
            "",
            " ",
            "  a  ",
            "\n\n\n",
            "a'b'c",
            "‘quoted’ ‘x’",
            "1 2  3\t\t4",
        ] {
            for digits in [false, true] {
                assert_eq!(pieces(text, digits).concat(), text);
            }
        }
    }
}
