//! The layers' dependency rules, checked on the source text (ARCHITECTURE.md, STYLE.md §1):
//!
//! - `domain/` refers to nothing of the crate but `domain` (no `crate::x`, no `super::`
//!   out of `domain`);
//! - `service/` and `db/` never refer to `http` or `app`; `db/` never to `service`;
//! - `auth/` never refers to `http` or `app`.
//!
//! Every path that starts at `crate`, `self` or `super` (in code, not in comments or
//! strings) is resolved against the module it is written in, inline `mod`s included, and
//! its top-level module is checked. `use crate::{a, b::c}` groups count each member.

// clippy's allow-unwrap-in-tests does not reach the helper functions.
#![expect(clippy::unwrap_used, reason = "a test fails loudly on a file it cannot read")]

use std::fs;
use std::path::{Path, PathBuf};

/// Known exceptions, as (file under `src/`, top-level module it may refer to), each with
/// the slice of issue 10 that removes it. Empty: there is none.
const ALLOWED: &[(&str, &str)] = &[];

/// The rule a file is held to: which top-level modules it must not refer to, or the only
/// one it may.
enum Rule {
    Only(&'static str),
    Never(&'static [&'static str]),
}

fn rules_for(file: &str) -> Vec<Rule> {
    let mut rules = Vec::new();
    if file.starts_with("domain/") {
        rules.push(Rule::Only("domain"));
    }
    if file.starts_with("service/") || file.starts_with("db/") || file.starts_with("auth/") {
        rules.push(Rule::Never(&["http", "app"]));
    }
    if file.starts_with("db/") {
        rules.push(Rule::Never(&["service"]));
    }
    rules
}

#[test]
fn layers_refer_only_inward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    let mut checked = 0;
    for path in rust_files(&src) {
        let file = path.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        let rules = rules_for(&file);
        if rules.is_empty() {
            continue;
        }
        checked += 1;
        let text = fs::read_to_string(&path).unwrap();
        for (line, top) in referenced_modules(&module_of(&file), &text) {
            if ALLOWED.contains(&(file.as_str(), top.as_str())) {
                continue;
            }
            let broken = rules.iter().any(|r| match r {
                Rule::Only(m) => top != *m,
                Rule::Never(ms) => ms.contains(&top.as_str()),
            });
            if broken {
                violations.push(format!("src/{file}:{line}: refers to `{top}`"));
            }
        }
    }
    assert!(checked > 20, "found only {checked} files to check under {}", src.display());
    assert!(violations.is_empty(), "layering broken:\n{}", violations.join("\n"));
}

#[test]
fn the_allow_list_names_only_real_exceptions() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (file, top) in ALLOWED {
        let text = fs::read_to_string(src.join(file)).unwrap();
        assert!(
            referenced_modules(&module_of(file), &text).iter().any(|(_, t)| t == top),
            "src/{file} no longer refers to `{top}`: drop it from ALLOWED"
        );
    }
}

#[test]
fn the_checker_resolves_paths_as_rustc_does() {
    let tops = |file: &str, text: &str| -> Vec<String> { referenced_modules(&module_of(file), text).into_iter().map(|(_, t)| t).collect() };
    assert_eq!(tops("service/x.rs", "use crate::http::AppState;"), ["http"]);
    assert_eq!(tops("service/x.rs", "use crate::{app, db::{repo, DbConn}};"), ["app", "db"]);
    assert_eq!(tops("service/x.rs", "use super::super::http::x; use super::y;"), ["http", "service"]);
    assert_eq!(tops("service/reports/mod.rs", "use super::super::app;"), ["app"]);
    assert_eq!(tops("domain/mod.rs", "use super::error::ApiError;"), ["error"]);
    assert_eq!(tops("domain/mod.rs", "mod tests { use super::*; }"), ["domain"]);
    assert_eq!(tops("domain/a.rs", "fn f() { self::g(); crate::domain::b::h(); }"), ["domain", "domain"]);
    assert_eq!(tops("domain/a.rs", "mod inner { mod deeper { use super::super::super::x; } }"), ["domain"]);
    assert_eq!(tops("domain/a.rs", "mod inner { mod deeper { use super::super::super::super::http; } } use super::y;"), ["http", "domain"]);
    assert_eq!(tops("lib.rs", "pub use crate::{*};"), ["*"]);
    let ignored = r###"
        // use crate::http;
        /* crate::app /* nested */ crate::app */
        /// [`crate::http`]
        const S: &str = "crate::http";
        const R: &str = r#"crate::app "quoted" "#;
        const C: char = '{';
        fn f<'a>(x: &'a str) -> &'a str { x }
        use crate::domain::x;
    "###;
    assert_eq!(tops("domain/a.rs", ignored), ["domain"]);
}

/// Services a handler may hand a closure, as (file under `src/`, function), each with why.
/// Empty: control goes http → service → db and back, and a service renders what it stores
/// itself (`service::views`).
const CALLBACKS_ALLOWED: &[(&str, &str)] = &[];

/// No `pub` function of `service/` takes a closure (`impl Fn…`, `&dyn FnMut…`, a generic
/// bound `F: FnOnce…`): a handler that passed one would put `http` code back inside a use
/// case (the render callbacks issue 10 removed).
#[test]
fn services_take_no_callbacks() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let files = rust_files(&src.join("service"));
    assert!(files.len() > 10, "found only {} files under {}/service", files.len(), src.display());
    for path in files {
        let file = path.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        let text = fs::read_to_string(&path).unwrap();
        for (line, name) in public_fns_taking_closures(&text) {
            if !CALLBACKS_ALLOWED.contains(&(file.as_str(), name.as_str())) {
                found.push(format!("src/{file}:{line}: `{name}` takes a closure"));
            }
        }
    }
    assert!(found.is_empty(), "services taking callbacks:\n{}", found.join("\n"));
}

/// Roles are told apart in one place (`domain/access.rs`, `Grants::of`): no code of
/// `service/`, `http/` or `db/` names a role's variant (a new role then touches the role
/// type and that table only). Parsing a role (`Role::parse`) and the first administrator
/// `service/accounts.rs` creates are not a match on roles.
#[test]
fn only_the_access_table_tells_roles_apart() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let variants = ["Role::Admin", "Role::Province", "Role::Prefecture", "Role::County", "Role::Canteen", "Role::Supplier"];
    let mut found = Vec::new();
    for layer in ["service", "http", "db"] {
        for path in rust_files(&src.join(layer)) {
            let file = path.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
            let text = fs::read_to_string(&path).unwrap();
            let code = code_only(&text);
            let code = code.split("#[cfg(test)]").next().unwrap_or_default();
            for (i, line) in code.lines().enumerate() {
                for v in variants {
                    let first_admin = file == "service/accounts.rs" && v == "Role::Admin" && line.contains("add_user(");
                    if line.contains(v) && !first_admin {
                        found.push(format!("src/{file}:{}: {}", i + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "roles told apart outside domain/access.rs:\n{}", found.join("\n"));
}

/// What `service/` stores it renders with its own views: no attribute string
/// (`#[serde(with = "…")]`, `#[schema(value_type = …)]`) names an `http` path either.
#[test]
fn service_attributes_name_no_http_path() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for path in rust_files(&src.join("service")) {
        let file = path.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        for (n, line) in fs::read_to_string(&path).unwrap().lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if code.contains("crate::http") || code.contains("crate::app") {
                found.push(format!("src/{file}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "service refers to http:\n{}", found.join("\n"));
}

#[test]
fn the_callback_check_sees_every_form_of_closure_parameter() {
    let names = |text: &str| -> Vec<String> { public_fns_taking_closures(text).into_iter().map(|(_, n)| n).collect() };
    assert_eq!(names("pub fn a(render: impl Fn(&X) -> Result<String, E>) {}"), ["a"]);
    assert_eq!(names("pub(crate) fn b(x: u8,\n answer: &dyn Fn(&X) -> String,\n) -> u8 { 1 }"), ["b"]);
    assert_eq!(names("pub fn c<F: FnOnce(&str) -> u8>(f: F) {}"), ["c"]);
    assert_eq!(names("pub fn d<F>(f: F) -> u8 where F: FnMut() { 1 }"), ["d"]);
    assert_eq!(names("impl X { pub fn e(&self, f: Box<dyn Fn()>) {} }"), ["e"]);
    assert_eq!(names("pub fn f(x: u8) -> impl Iterator<Item = u8> { let g = |y: u8| y; std::iter::once(g(x)) }"), Vec::<String>::new());
    assert_eq!(
        names("fn private(f: impl Fn()) {} // pub fn g(f: impl Fn())\nconst S: &str = \"pub fn h(f: impl Fn())\";"),
        Vec::<String>::new()
    );
    assert_eq!(names("pub fn i(x: u8) -> u8 { x }\npub fn j(f: impl FnOnce()) {}"), ["j"]);
    assert_eq!(names("pub trait T { fn k(&self) -> u8; }\npub fn l(x: u8) -> u8 { let m = |f: &dyn Fn()| f(); x }"), Vec::<String>::new());
}

/// `pub` (any visibility but private) functions whose signature (up to the body's `{` or a
/// `;`) names `Fn`, `FnOnce` or `FnMut`, as (line, name).
fn public_fns_taking_closures(text: &str) -> Vec<(usize, String)> {
    let code = code_only(text);
    let toks = tokens(&code);
    let ident = |i: usize| match toks.get(i) {
        Some((_, Token::Ident(w))) => Some(w.as_str()),
        _ => None,
    };
    let mut out = Vec::new();
    for (i, (line, t)) in toks.iter().enumerate() {
        if *t != Token::Ident("fn".to_owned()) {
            continue;
        }
        // `pub fn`, or `pub(crate) fn` / `pub(super) fn` (tokens: pub ( crate ) fn).
        let public = (i >= 1 && ident(i - 1) == Some("pub")) || (i >= 4 && ident(i - 4) == Some("pub") && ident(i - 2).is_some());
        let Some(name) = ident(i + 1).filter(|_| public) else { continue };
        let takes_closure = toks[i + 2..]
            .iter()
            .take_while(|(_, t)| !matches!(t, Token::Open | Token::Semi))
            .any(|(_, t)| matches!(t, Token::Ident(w) if matches!(w.as_str(), "Fn" | "FnOnce" | "FnMut")));
        if takes_closure {
            out.push((*line, name.to_owned()));
        }
    }
    out
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out
}

/// The module a file under `src/` defines: `domain/access.rs` → `[domain, access]`,
/// `http/imports/mod.rs` → `[http, imports]`, `lib.rs` → `[]`.
fn module_of(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file.trim_end_matches(".rs").split('/').map(str::to_owned).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// The source with comments, strings and char literals blanked out (lines kept).
fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |out: &mut String, s: &[char]| out.extend(s.iter().map(|&ch| if ch == '\n' { '\n' } else { ' ' }));
    while i < c.len() {
        let start = i;
        let ident_before = i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_');
        if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if (c[i] == 'r' || (c[i] == 'b' && c.get(i + 1) == Some(&'r'))) && !ident_before && raw_string_start(&c, i).is_some() {
            let (hashes, open) = raw_string_start(&c, i).unwrap_or_default();
            i = open + 1;
            loop {
                if i >= c.len() {
                    break;
                }
                if c[i] == '"' && c[i + 1..].iter().take(hashes).filter(|&&h| h == '#').count() == hashes {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c[i] == '\'' && (c.get(i + 1) == Some(&'\\') || c.get(i + 2) == Some(&'\'')) {
            i += 1;
            while i < c.len() && c[i] != '\'' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else {
            out.push(c[i]);
            i += 1;
            continue;
        }
        let end = i.min(c.len());
        blank(&mut out, &c[start..end]);
    }
    out
}

/// `r"`, `r#"`, `br##"`…: the number of `#` and the index of the opening quote.
fn raw_string_start(c: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i + if c[i] == 'b' { 2 } else { 1 };
    let mut hashes = 0;
    while c.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (c.get(j) == Some(&'"')).then_some((hashes, j))
}

#[derive(Debug, PartialEq)]
enum Token {
    Ident(String),
    Colons,
    Open,
    Close,
    Comma,
    Star,
    Semi,
    Other,
}

fn tokens(code: &str) -> Vec<(usize, Token)> {
    let c: Vec<char> = code.chars().collect();
    let (mut out, mut i, mut line) = (Vec::new(), 0, 1);
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            // `$crate` (macros) is another crate's path; `'a` is a lifetime.
            let t = if start > 0 && (c[start - 1] == '$' || c[start - 1] == '\'') { Token::Other } else { Token::Ident(word) };
            out.push((line, t));
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push((line, Token::Colons));
            i += 2;
        } else {
            out.push((
                line,
                match ch {
                    '{' => Token::Open,
                    '}' => Token::Close,
                    ',' => Token::Comma,
                    '*' => Token::Star,
                    ';' => Token::Semi,
                    _ => Token::Other,
                },
            ));
            i += 1;
        }
    }
    out
}

/// Every crate-local path in `text` (a file of module `module`), as (line, the top-level
/// module it refers to).
fn referenced_modules(module: &[String], text: &str) -> Vec<(usize, String)> {
    let toks = tokens(&code_only(text));
    let ident = |i: usize| match toks.get(i) {
        Some((_, Token::Ident(w))) => Some(w.as_str()),
        _ => None,
    };
    let is = |i: usize, t: Token| toks.get(i).is_some_and(|(_, x)| *x == t);
    let mut out = Vec::new();
    // Inline modules: (name, brace depth inside them).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].1 {
            Token::Open => depth += 1,
            Token::Close => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Token::Ident(w) if w == "mod" => {
                if let (Some(name), true) = (ident(i + 1), is(i + 2, Token::Open)) {
                    inline.push((name.to_owned(), depth + 1));
                }
            }
            Token::Ident(w)
                if matches!(w.as_str(), "crate" | "self" | "super") && is(i + 1, Token::Colons) && !(i > 0 && is(i - 1, Token::Colons)) =>
            {
                let line = toks[i].0;
                let mut here: Vec<String> = module.to_vec();
                here.extend(inline.iter().map(|(n, _)| n.clone()));
                let mut base = match w.as_str() {
                    "crate" => Vec::new(),
                    _ => here.clone(),
                };
                let mut j = i;
                if w == "super" {
                    // Count the chain of `super::`.
                    while ident(j) == Some("super") && is(j + 1, Token::Colons) {
                        if base.pop().is_none() {
                            out.push((line, "<outside the crate>".to_owned()));
                        }
                        j += 2;
                    }
                } else {
                    j += 2;
                }
                let next: Vec<String> = if is(j, Token::Open) { group_heads(&toks, j) } else { vec![segment(&toks, j)] };
                for n in next {
                    out.push((line, base.first().cloned().unwrap_or(n)));
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn segment(toks: &[(usize, Token)], i: usize) -> String {
    match toks.get(i) {
        Some((_, Token::Ident(w))) => w.clone(),
        Some((_, Token::Star)) => "*".to_owned(),
        _ => "?".to_owned(),
    }
}

/// The first segment of each member of the group opening at `open`.
fn group_heads(toks: &[(usize, Token)], open: usize) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut at_start = true;
    for (_, t) in &toks[open..] {
        match t {
            Token::Open => {
                depth += 1;
                if depth == 1 {
                    at_start = true;
                    continue;
                }
            }
            Token::Close => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Token::Comma if depth == 1 => {
                at_start = true;
                continue;
            }
            _ => {}
        }
        if at_start && depth == 1 {
            heads.push(match t {
                Token::Ident(w) => w.clone(),
                Token::Star => "*".to_owned(),
                _ => "?".to_owned(),
            });
        }
        at_start = false;
    }
    heads
}
