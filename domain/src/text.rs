//! User-written text: the one rule for every text people type (names, emails,
//! descriptions, introductions, reasons, template texts, text answers).
//!
//! Text is normalised to NFC, so that the same words stored or compared twice are the
//! same bytes, and trimmed. Characters that change how text looks without being seen
//! are refused: controls (general category Cc) and formatting characters (Cf, such as
//! U+202E RIGHT-TO-LEFT OVERRIDE or U+200B ZERO WIDTH SPACE), with which one name can
//! pass for another. Line and paragraph separators are refused too; multi-line fields
//! keep `\n` (and `\r\n` becomes `\n`).

use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeEmoji, UnicodeGeneralCategory};

use crate::ValidationError;

/// Whether a field may span several lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// A name, a title, an email: one line.
    One,
    /// A description, an introduction, a reason: `\n` allowed.
    Many,
}

/// Normalises and checks a text for `field`: NFC, trimmed, no hidden characters.
/// Length limits are the caller's, counted on the text this answers.
pub fn clean(raw: &str, field: &str, lines: Lines) -> Result<String, ValidationError> {
    let text = normalise(raw, lines);
    match hidden_char(&text, lines) {
        None => Ok(text),
        Some(c) => Err(ValidationError::new(field, hidden_message(c))),
    }
}

/// The length a limit applies to: the characters as sent, or as stored when NFC made
/// the text longer. Counting what was sent (trimmed spaces included) is what JSON
/// Schema's `maxLength` counts, so the spec states each limit exactly; a text must
/// still have a visible character after trimming, which callers check on `cleaned`.
pub fn length(raw: &str, cleaned: &str) -> usize {
    raw.chars().count().max(cleaned.chars().count())
}

/// NFC and trimmed; in multi-line text, `\r\n` becomes `\n`. Refuses nothing.
pub fn normalise(raw: &str, lines: Lines) -> String {
    let text: String = raw.trim().nfc().collect();
    match lines {
        Lines::Many if text.contains('\r') => text.replace("\r\n", "\n"),
        _ => text,
    }
}

/// The first character the text may not hold, if any.
pub fn hidden_char(text: &str, lines: Lines) -> Option<char> {
    let chars: Vec<char> = text.chars().collect();
    chars.iter().enumerate().find_map(|(i, &c)| {
        let refused = match c {
            '\n' => lines == Lines::One,
            // A zero-width joiner inside an emoji sequence (👩‍💻) is how the emoji is
            // written, and shows; anywhere else it is invisible.
            '\u{200D}' => !joins_emoji(i.checked_sub(1).map(|p| chars[p]), chars.get(i + 1)),
            c => hidden_category(c),
        };
        refused.then_some(c)
    })
}

/// Controls, formatting characters, line and paragraph separators.
fn hidden_category(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// A JSON Schema `pattern` (anchored, ECMA-262 and Python alike) for the texts `clean`
/// accepts: no hidden characters, between any whitespace that trimming removes, and
/// with `non_blank` at least one visible character. It is derived from the same rule,
/// so the API's spec says what the server checks. A zero-width joiner is left out
/// (the rule allows it inside emoji only), so there the pattern is a little stricter.
pub fn pattern(lines: Lines, non_blank: bool) -> &'static str {
    static PATTERNS: OnceLock<[String; 4]> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        [
            build_pattern(Lines::One, false),
            build_pattern(Lines::One, true),
            build_pattern(Lines::Many, false),
            build_pattern(Lines::Many, true),
        ]
    });
    &patterns[usize::from(lines == Lines::Many) * 2 + usize::from(non_blank)]
}

fn build_pattern(lines: Lines, non_blank: bool) -> String {
    let hidden = |c: char| match c {
        '\n' => lines == Lines::One,
        '\u{200D}' => true,
        c => hidden_category(c),
    };
    let hidden_class = class(hidden);
    let space_class = class(char::is_whitespace);
    let visible_class = class(|c| hidden(c) || c.is_whitespace());
    let allowed = match lines {
        Lines::One => format!("[^{hidden_class}]"),
        // `\r\n` becomes `\n`; a lone `\r` is refused.
        Lines::Many => format!("(?:[^{hidden_class}]|\\r\\n)"),
    };
    let visible = format!("[^{visible_class}]");
    let core = format!("{visible}(?:{allowed}*{visible})?");
    let core = if non_blank {
        core
    } else {
        format!("(?:{core})?")
    };
    format!("^[{space_class}]*{core}[{space_class}]*$")
}

/// The body of a character class holding every character with `member`: ranges of
/// `\uXXXX` escapes, and astral characters written as themselves (their escapes differ
/// between regex dialects).
fn class(member: impl Fn(char) -> bool) -> String {
    let escape = |c: char| {
        if u32::from(c) <= 0xFFFF {
            format!("\\u{:04X}", u32::from(c))
        } else {
            c.to_string()
        }
    };
    let mut out = String::new();
    let mut chars = (0..=u32::from(char::MAX))
        .filter_map(char::from_u32)
        .peekable();
    while let Some(start) = chars.next() {
        if !member(start) {
            continue;
        }
        let mut end = start;
        while let Some(&next) = chars.peek() {
            if member(next) && u32::from(next) == u32::from(end) + 1 {
                end = next;
                chars.next();
            } else {
                break;
            }
        }
        out.push_str(&escape(start));
        if end != start {
            out.push('-');
            out.push_str(&escape(end));
        }
    }
    out
}

/// The message for a refused character, naming it so the client can find it.
pub fn hidden_message(c: char) -> String {
    if c == '\n' {
        "must be a single line".to_owned()
    } else {
        format!(
            "must not contain control or invisible formatting characters (found U+{:04X})",
            u32::from(c)
        )
    }
}

/// Both sides of a joiner belong to an emoji sequence: a pictographic character (or its
/// presentation selector or skin-tone modifier) before, a pictographic one after.
/// ASCII digits, `#` and `*` are emoji characters too, but a joiner between them is not
/// an emoji sequence.
fn joins_emoji(before: Option<char>, after: Option<&char>) -> bool {
    let pictographic = |c: char| !c.is_ascii() && c.is_emoji_char();
    let before_ok = before.is_some_and(|c| c == '\u{FE0F}' || pictographic(c));
    let after_ok = after.is_some_and(|&c| pictographic(c));
    before_ok && after_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str, lines: Lines) -> Option<char> {
        clean(text, "name", lines)
            .err()
            .and(hidden_char(text, lines))
    }

    #[test]
    fn the_pattern_describes_the_rule() {
        let one = pattern(Lines::One, true);
        assert!(one.starts_with("^[\\u0009-\\u000D\\u0020"), "{one}");
        assert!(
            one.contains("\\u2028-\\u202E\\u2060"),
            "bidi overrides are hidden: {one}"
        );
        assert!(pattern(Lines::Many, false).contains("|\\r\\n"));
    }

    #[test]
    fn spoofing_characters_are_refused() {
        for text in [
            "Ada\u{202E}nimda",     // right-to-left override
            "A\u{200B}da",          // zero width space
            "Ada\u{0001}",          // a C0 control
            "Ad\u{0085}a",          // a C1 control (next line)
            "\u{FEFF}Ada",          // byte order mark
            "Ada\u{2066}x\u{2069}", // isolates
            "Ad\u{00AD}a",          // soft hyphen
            "A\u{200D}da",          // a joiner between letters
            "1\u{200D}2",           // a joiner between digits
            "Ada\u{2028}Lovelace",  // line separator
            "Ada\tLovelace",
        ] {
            assert!(refused(text, Lines::One).is_some(), "{text:?}");
            assert!(refused(text, Lines::Many).is_some(), "{text:?}");
        }
    }

    #[test]
    fn the_error_names_the_field_and_the_character() {
        let error = clean("Ada\u{202E}", "display_name", Lines::One).err();
        let error = error.unwrap_or_else(|| panic!("refused"));
        assert_eq!(error.field, "display_name");
        assert!(error.message.contains("U+202E"), "{}", error.message);
    }

    #[test]
    fn new_lines_only_where_lines_are_allowed() {
        assert_eq!(
            clean("one\r\ntwo\n", "description", Lines::Many),
            Ok("one\ntwo".to_owned())
        );
        let error = clean("one\ntwo", "name", Lines::One).err();
        assert_eq!(
            error.map(|e| e.message),
            Some("must be a single line".to_owned())
        );
        assert!(clean("one\rtwo", "description", Lines::Many).is_err());
    }

    #[test]
    fn text_is_normalised_to_nfc_and_trimmed() {
        // "è" as e + combining grave accent becomes the one precomposed character.
        assert_eq!(
            clean("  Arie\u{0300}  ", "name", Lines::One),
            Ok("Ari\u{00E8}".to_owned())
        );
        assert_eq!(normalise("Ari\u{00E8}", Lines::One), "Ari\u{00E8}");
    }

    #[test]
    fn ordinary_text_in_any_script_passes() {
        for text in [
            "Ada Lovelace",
            "Zoë O'Brien-Smith",
            "Αθηνά",
            "محمد",
            "東京の友達",
            "Ada 👩‍💻",
            "🏳️‍🌈 Pride",
            "👩🏽‍🍼 new mum",
            "Giulia 🇮🇹",
        ] {
            assert_eq!(clean(text, "name", Lines::One), Ok(text.nfc().collect()));
        }
    }
}
