//! Content negotiation for built-in content: which [`Language`] a request asks for.
//!
//! `?lang=en|it` wins; otherwise the `Accept-Language` header, with its q-values
//! (RFC 9110 §12.5.4, basic filtering: `it-IT` counts as `it`, `*` as any language);
//! otherwise English. An unsupported `?lang=` is a 422 naming `lang`; an
//! `Accept-Language` that lists nothing supported falls back to English, as the header
//! is a preference, not a demand.

use std::future::{ready, Ready};

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{dev::Payload, FromRequest, HttpRequest};
use tandem_domain::template::Language;

use crate::error::ApiError;

/// The language a request asks built-in content in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestedLanguage(pub Language);

impl FromRequest for RequestedLanguage {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(negotiate(req).map(RequestedLanguage))
    }
}

/// The `Content-Language` header of an answer in `language`.
pub fn content_language_header(language: Language) -> (HeaderName, HeaderValue) {
    (
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(language.code()),
    )
}

fn negotiate(req: &HttpRequest) -> Result<Language, ApiError> {
    let asked = form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(name, _)| name == "lang")
        .map(|(_, value)| value.into_owned());
    if let Some(code) = asked {
        return Language::from_code(&code)
            .ok_or_else(|| ApiError::invalid("lang", "must be one of: en, it"));
    }
    let accepted = req
        .headers()
        .get_all(header::ACCEPT_LANGUAGE)
        .filter_map(|value| value.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    Ok(from_accept_language(&accepted).unwrap_or_default())
}

/// The supported language the header prefers most, if it accepts any: highest q-value
/// first, then the one listed first. `q=0` means "not this one".
pub fn from_accept_language(header: &str) -> Option<Language> {
    let ranges: Vec<(String, f32)> = header
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let range = parts.next()?.trim().to_ascii_lowercase();
            if range.is_empty() {
                return None;
            }
            let mut q = 1.0;
            for param in parts {
                if let Some((name, value)) = param.split_once('=') {
                    if name.trim().eq_ignore_ascii_case("q") {
                        q = value
                            .trim()
                            .parse::<f32>()
                            .ok()
                            .filter(|q| (0.0..=1.0).contains(q))?;
                    }
                }
            }
            Some((range, q))
        })
        .collect();
    Language::ALL
        .into_iter()
        .filter_map(|language| {
            let code = language.code();
            // The most specific range that matches decides: an explicit `it` (or
            // `it-IT`) before `*`.
            let explicit = ranges
                .iter()
                .enumerate()
                .filter(|(_, (range, _))| {
                    range == code
                        || range
                            .strip_prefix(code)
                            .is_some_and(|rest| rest.starts_with('-'))
                })
                .max_by(|(ia, (_, qa)), (ib, (_, qb))| qa.total_cmp(qb).then(ib.cmp(ia)));
            let (position, q) = match explicit {
                Some((position, (_, q))) => (position, *q),
                None => ranges
                    .iter()
                    .enumerate()
                    .find(|(_, (range, _))| range == "*")
                    .map(|(position, (_, q))| (position, *q))?,
            };
            (q > 0.0).then_some((language, q, position))
        })
        // Ties go to the range listed first, then to English (the default).
        .rev()
        .max_by(|(_, qa, pa), (_, qb, pb)| qa.total_cmp(qb).then(pb.cmp(pa)))
        .map(|(language, _, _)| language)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preferred_supported_language_wins() {
        let cases = [
            ("it", Some(Language::It)),
            ("it-IT", Some(Language::It)),
            ("IT-it,en;q=0.8", Some(Language::It)),
            ("en-GB,it;q=0.9", Some(Language::En)),
            ("fr-FR,fr;q=0.9,it;q=0.8,en;q=0.7", Some(Language::It)),
            ("en;q=0.5, it;q=0.6", Some(Language::It)),
            ("it, en", Some(Language::It)),
            ("en, it", Some(Language::En)),
            ("it;q=0, en;q=0.1", Some(Language::En)),
            ("fr, *;q=0.5", Some(Language::En)),
            ("it;q=0.4, *;q=0.5", Some(Language::En)),
            ("*;q=0.5, en;q=0", Some(Language::It)),
            ("fr, de", None),
            ("", None),
            ("italian", None),
            ("it;q=2", None),
        ];
        for (header, expected) in cases {
            assert_eq!(from_accept_language(header), expected, "{header:?}");
        }
    }
}
