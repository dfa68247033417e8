//! GPT-2's reversible map between bytes and printable characters.
//!
//! Byte-level BPE vocabularies store each token as a string in which every byte is one
//! character: the 188 printable bytes map to themselves (`!`..`~`, `¡`..`¬`, `®`..`ÿ`) and the
//! other 68 (control characters, space, DEL, NBSP, soft hyphen) to `U+0100`.. in byte order.
//! So a space becomes `Ġ` (U+0120) and a newline `Ċ` (U+010A), as in every GPT-2 vocabulary.

use alloc::string::String;
use alloc::vec::Vec;

fn printable(b: u8) -> bool {
    matches!(b, 33..=126 | 161..=172 | 174..=255)
}

/// The character that stands for byte `b` in a byte-level vocabulary.
pub fn byte_to_char(b: u8) -> char {
    if printable(b) {
        return char::from(b);
    }
    // Index of b among the 68 non-printable bytes: 0..=32, then 127..=160, then 173.
    let n = match b {
        0..=32 => b as u32,
        127..=160 => 33 + (b as u32 - 127),
        _ => 67, // 173, the only other non-printable byte
    };
    char::from_u32(256 + n).expect("U+0100..U+0143 are valid chars")
}

/// The byte that character `c` stands for, or `None` if `c` is not in the map.
pub fn char_to_byte(c: char) -> Option<u8> {
    let u = c as u32;
    if u < 256 {
        let b = u as u8;
        return printable(b).then_some(b);
    }
    match u - 256 {
        n @ 0..=32 => Some(n as u8),
        n @ 33..=66 => Some((127 + (n - 33)) as u8),
        67 => Some(173),
        _ => None,
    }
}

/// Maps raw bytes to their vocabulary string.
pub fn bytes_to_token_string(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| byte_to_char(b)).collect()
}

/// Maps a vocabulary string back to raw bytes, or `None` if a character is outside the map.
pub fn token_string_to_bytes(s: &str) -> Option<Vec<u8>> {
    s.chars().map(char_to_byte).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_is_a_bijection_on_bytes() {
        let mut seen = alloc::collections::BTreeSet::new();
        for b in 0..=255u8 {
            let c = byte_to_char(b);
            assert!(seen.insert(c), "{c:?} used twice");
            assert_eq!(char_to_byte(c), Some(b));
        }
        assert_eq!(byte_to_char(b' '), 'Ġ');
        assert_eq!(byte_to_char(b'\n'), 'Ċ');
        assert_eq!(char_to_byte('\u{144}'), None);
        assert_eq!(char_to_byte('\u{a0}'), None);
    }
}
