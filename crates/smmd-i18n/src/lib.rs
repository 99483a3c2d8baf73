//! Languages of smmd. Owns the message catalogues of every page and e-mail: Project Fluent
//! files (`locales/<lang>/*.ftl`) embedded in the binary, one bundle per [`Lang`] built once
//! and shared by all threads, the choice of a visitor's language from `Accept-Language`
//! (RFC 9110 §12.5.4, matched by `fluent-langneg`) and each language's text direction.
//!
//! English is the source: every key exists there first, and a key a translation lacks falls
//! back to English at run time (logged) — [`check`] is what makes CI fail on such a gap
//! before it ships (a missing or extra key, a file that does not parse, a translation that
//! uses a variable English does not pass, a message that does not format).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use fluent_syntax::ast;
use unic_langid::LanguageIdentifier;

/// A value passed to a message (`{ $name }`): text, or a number (which also picks plural
/// forms, `{ $n -> [one] … *[other] … }`). Build with `.into()` from `&str`, `String`, `i64`.
pub use fluent_bundle::FluentValue as Arg;

/// A language smmd ships complete. Stored as its code (`users.language`, the `lang` cookie).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    #[default]
    En,
    Es,
    Ru,
    Ar,
}

/// The catalogue's files, the same names in every language directory.
macro_rules! files {
    ($lang:literal) => {
        [
            (
                "shell",
                include_str!(concat!("../locales/", $lang, "/shell.ftl")),
            ),
            (
                "public",
                include_str!(concat!("../locales/", $lang, "/public.ftl")),
            ),
            (
                "orders",
                include_str!(concat!("../locales/", $lang, "/orders.ftl")),
            ),
            (
                "account",
                include_str!(concat!("../locales/", $lang, "/account.ftl")),
            ),
            (
                "mail",
                include_str!(concat!("../locales/", $lang, "/mail.ftl")),
            ),
            (
                "admin",
                include_str!(concat!("../locales/", $lang, "/admin.ftl")),
            ),
        ]
    };
}

/// A language's catalogue: (file name, FTL text).
type Files = [(&'static str, &'static str); 6];

impl Lang {
    /// Every shipped language, English first.
    pub const ALL: [Lang; 4] = [Lang::En, Lang::Es, Lang::Ru, Lang::Ar];

    /// The BCP 47 code (`en`, `es`, `ru`, `ar`): `<html lang>`, the cookie, the column.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
            Lang::Ru => "ru",
            Lang::Ar => "ar",
        }
    }

    /// The language by its code (case-insensitive, a region ignored: `es-MX` → Spanish);
    /// `None` for a language smmd does not ship.
    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The language's own name, as a picker lists it ("Español").
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Es => "Español",
            Lang::Ru => "Русский",
            Lang::Ar => "العربية",
        }
    }

    /// Whether the language is written right to left (the page gets `dir="rtl"`).
    pub fn is_rtl(self) -> bool {
        self == Lang::Ar
    }

    /// `<html dir>`: `rtl` or `ltr`.
    pub fn dir(self) -> &'static str {
        if self.is_rtl() {
            "rtl"
        } else {
            "ltr"
        }
    }

    fn id(self) -> LanguageIdentifier {
        self.code().parse().unwrap_or_default()
    }

    fn files(self) -> Files {
        match self {
            Lang::En => files!("en"),
            Lang::Es => files!("es"),
            Lang::Ru => files!("ru"),
            Lang::Ar => files!("ar"),
        }
    }

    /// The best shipped language for an `Accept-Language` header (`es-ES,es;q=0.9,en;q=0.8`),
    /// English when none matches. The header is untrusted: only its first 256 bytes are read.
    pub fn negotiate(accept_language: &str) -> Lang {
        let mut end = accept_language.len().min(256);
        while !accept_language.is_char_boundary(end) {
            end -= 1;
        }
        let requested = fluent_langneg::accepted_languages::parse(&accept_language[..end]);
        let available: Vec<LanguageIdentifier> = Lang::ALL.iter().map(|l| l.id()).collect();
        let default = Lang::En.id();
        fluent_langneg::negotiate_languages(
            &requested,
            &available,
            Some(&default),
            fluent_langneg::NegotiationStrategy::Lookup,
        )
        .first()
        .and_then(|id| Lang::parse(id.language.as_str()))
        .unwrap_or_default()
    }

    /// The message `key` in this language (English when the translation lacks it, the key
    /// itself when English does too — [`check`] keeps both from shipping).
    pub fn t(self, key: &str) -> String {
        self.ta(key, &[])
    }

    /// The message `key` with its variables (`("n", 3.into())`), as [`Lang::t`].
    pub fn ta(self, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        let cat = catalog();
        let mut fluent = FluentArgs::new();
        for (name, value) in args {
            fluent.set(*name, value.clone());
        }
        for lang in [self, Lang::En] {
            if let Some(text) = cat.format(lang, key, &fluent) {
                return text;
            }
        }
        tracing::warn!(
            key,
            lang = self.code(),
            "message missing from the catalogue"
        );
        key.to_string()
    }

    /// Whether the English catalogue has `key` (what the key-usage test asks).
    pub fn has(key: &str) -> bool {
        catalog().bundle(Lang::En).has_message(key)
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// One bundle per language, built once.
struct Catalog {
    bundles: Vec<FluentBundle<FluentResource>>,
}

impl Catalog {
    fn build() -> Catalog {
        let bundles = Lang::ALL
            .iter()
            .map(|&lang| {
                let mut bundle = FluentBundle::new_concurrent(vec![lang.id()]);
                // Pages escape what they insert; isolation marks would only show up in
                // e-mail subjects and plain-text bodies.
                bundle.set_use_isolating(false);
                for (name, text) in lang.files() {
                    let res = FluentResource::try_new(text.to_string()).unwrap_or_else(|(res, errs)| {
                        tracing::error!(lang = lang.code(), file = name, errors = ?errs, "catalogue does not parse");
                        res
                    });
                    if let Err(errs) = bundle.add_resource(res) {
                        tracing::error!(lang = lang.code(), file = name, errors = ?errs, "catalogue has duplicate keys");
                    }
                }
                bundle
            })
            .collect();
        Catalog { bundles }
    }

    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        let i = Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0);
        &self.bundles[i]
    }

    fn format(&self, lang: Lang, key: &str, args: &FluentArgs<'_>) -> Option<String> {
        let bundle = self.bundle(lang);
        let pattern = bundle.get_message(key)?.value()?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(args), &mut errors);
        if !errors.is_empty() {
            tracing::warn!(key, lang = lang.code(), errors = ?errors, "message did not format");
        }
        Some(text.into_owned())
    }
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(Catalog::build)
}

/// A message's variables, per key, in one language's files; parse errors and duplicate keys
/// are reported into `problems`.
fn messages(lang: Lang, problems: &mut Vec<String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for (name, text) in lang.files() {
        let res = match FluentResource::try_new(text.to_string()) {
            Ok(res) => res,
            Err((res, errs)) => {
                for e in errs {
                    problems.push(format!("{lang}/{name}.ftl does not parse: {e:?}"));
                }
                res
            }
        };
        for entry in res.entries() {
            if let ast::Entry::Message(m) = entry {
                let mut vars = BTreeSet::new();
                match &m.value {
                    Some(p) => pattern_vars(p, &mut vars),
                    None => problems.push(format!("{lang}/{name}.ftl: {} has no value", m.id.name)),
                }
                if out.insert(m.id.name.to_string(), vars).is_some() {
                    problems.push(format!("{lang}/{name}.ftl: {} is defined twice", m.id.name));
                }
            }
        }
    }
    out
}

fn pattern_vars(p: &ast::Pattern<&str>, vars: &mut BTreeSet<String>) {
    for el in &p.elements {
        if let ast::PatternElement::Placeable { expression } = el {
            expression_vars(expression, vars);
        }
    }
}

fn expression_vars(e: &ast::Expression<&str>, vars: &mut BTreeSet<String>) {
    match e {
        ast::Expression::Select { selector, variants } => {
            inline_vars(selector, vars);
            for v in variants {
                pattern_vars(&v.value, vars);
            }
        }
        ast::Expression::Inline(i) => inline_vars(i, vars),
    }
}

fn inline_vars(i: &ast::InlineExpression<&str>, vars: &mut BTreeSet<String>) {
    match i {
        ast::InlineExpression::VariableReference { id } => {
            vars.insert(id.name.to_string());
        }
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                inline_vars(a, vars);
            }
            for a in &arguments.named {
                inline_vars(&a.value, vars);
            }
        }
        ast::InlineExpression::Placeable { expression } => expression_vars(expression, vars),
        _ => {}
    }
}

/// Every English key, sorted (for the key-usage test and tooling).
pub fn keys() -> Vec<String> {
    messages(Lang::En, &mut Vec::new()).into_keys().collect()
}

/// What is wrong with the shipped catalogues, one line per problem; empty when every
/// language has exactly English's keys, every file parses, no translation uses a variable
/// English does not pass, and every message formats without error in every language.
pub fn check() -> Vec<String> {
    let mut problems = Vec::new();
    let english = messages(Lang::En, &mut problems);
    let cat = catalog();
    for lang in Lang::ALL {
        let theirs = messages(lang, &mut problems);
        for (key, vars) in &english {
            match theirs.get(key) {
                None => problems.push(format!("{lang}: missing key {key}")),
                Some(their_vars) => {
                    for v in their_vars.difference(vars) {
                        problems.push(format!(
                            "{lang}: {key} uses ${v}, which English does not pass"
                        ));
                    }
                }
            }
            let mut args = FluentArgs::new();
            for v in vars {
                args.set(v.as_str(), 2);
            }
            let bundle = cat.bundle(lang);
            if let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                let _ = bundle.format_pattern(pattern, Some(&args), &mut errors);
                for e in errors {
                    problems.push(format!("{lang}: {key} does not format: {e:?}"));
                }
            }
        }
        for key in theirs.keys().filter(|k| !english.contains_key(*k)) {
            problems.push(format!("{lang}: {key} is not an English key"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_key_and_formats() {
        let problems = check();
        assert!(
            problems.is_empty(),
            "catalogue problems:\n{}",
            problems.join("\n")
        );
    }

    #[test]
    fn negotiation_picks_the_best_shipped_language() {
        assert_eq!(Lang::negotiate("es-ES,es;q=0.9,en;q=0.8"), Lang::Es);
        assert_eq!(Lang::negotiate("de-DE,de;q=0.9,ru;q=0.5"), Lang::Ru);
        assert_eq!(Lang::negotiate("ar-EG"), Lang::Ar);
        assert_eq!(Lang::negotiate("ja,zh;q=0.5"), Lang::En);
        assert_eq!(Lang::negotiate(""), Lang::En);
        assert_eq!(Lang::negotiate("###,;;q=x"), Lang::En);
        // A long header is cut, never read whole (and a cut inside a character is safe).
        let long = format!("{},ru", "é".repeat(300));
        assert_eq!(Lang::negotiate(&long), Lang::En);
    }

    #[test]
    fn codes_round_trip_and_only_arabic_is_rtl() {
        for l in Lang::ALL {
            assert_eq!(Lang::parse(l.code()), Some(l));
            assert_eq!(l.dir() == "rtl", l == Lang::Ar);
        }
        assert_eq!(Lang::parse("ES-mx"), Some(Lang::Es));
        assert_eq!(Lang::parse("de"), None);
        assert_eq!(Lang::parse(""), None);
    }

    #[test]
    fn messages_translate_with_variables_and_plurals() {
        assert_eq!(Lang::En.t("nav-orders"), "Orders");
        assert_eq!(Lang::Es.t("nav-orders"), "Pedidos");
        assert_ne!(Lang::Ar.t("nav-orders"), Lang::En.t("nav-orders"));
        // Russian has three plural forms for counts: 1, 2–4, 5+.
        let n = |lang: Lang, n: i64| lang.ta("home-services-count", &[("n", n.into())]);
        assert_eq!(n(Lang::Ru, 1), "1 услуга");
        assert_eq!(n(Lang::Ru, 3), "3 услуги");
        assert_eq!(n(Lang::Ru, 5), "5 услуг");
        assert_eq!(n(Lang::Ru, 21), "21 услуга");
        assert_eq!(n(Lang::En, 1), "1 service");
        assert_eq!(n(Lang::En, 3), "3 services");
        // Arabic has six forms; two is its own word.
        assert_ne!(n(Lang::Ar, 2), n(Lang::Ar, 3));
        // An unknown key is the key itself, never a panic.
        assert_eq!(Lang::Es.t("no-such-key"), "no-such-key");
    }
}
