//! The README's error-code catalogue is generated from `domain::code` and checked here:
//! every `Code` and `ProblemType` has exactly one row (no extras), with its meaning and
//! the modules that use it. `UPDATE_README=1 cargo test --test catalogue` rewrites it.

// clippy's allow-unwrap-in-tests does not reach the helper functions.
#![expect(clippy::unwrap_used, reason = "a test fails loudly on a file it cannot read")]

use std::collections::BTreeSet;
use std::path::Path;

use canteen_ledger::domain::code::{Code, ProblemType};

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let module = path.strip_prefix("src").unwrap().with_extension("").to_string_lossy().replace("/mod", "");
            out.push((module, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// Modules mentioning `Type::Variant` (as a whole word), the catalogue itself aside.
fn used_in(files: &[(String, String)], path: &str) -> String {
    let mut found = BTreeSet::new();
    for (module, text) in files {
        if module == "domain/code" {
            continue;
        }
        let hit = text.match_indices(path).any(|(i, _)| {
            let next = text[i + path.len()..].chars().next();
            !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
        });
        if hit {
            found.insert(format!("`{module}`"));
        }
    }
    found.into_iter().collect::<Vec<_>>().join(", ")
}

fn variant_name<T: std::fmt::Debug>(v: T) -> String {
    format!("{v:?}")
}

fn table(files: &[(String, String)]) -> String {
    let mut t = String::from("| `code` | meaning | used in |\n|---|---|---|\n");
    for c in Code::ALL {
        t += &format!("| `{}` | {} | {} |\n", c.as_str(), c.meaning(), used_in(files, &format!("Code::{}", variant_name(c))));
    }
    t += "\n| problem `type` slug | meaning | used in |\n|---|---|---|\n";
    for p in ProblemType::ALL {
        t += &format!("| `{}` | {} | {} |\n", p.as_str(), p.meaning(), used_in(files, &format!("ProblemType::{}", variant_name(p))));
    }
    t
}

const BEGIN: &str = "<!-- error-codes:begin (generated: UPDATE_README=1 cargo test --test catalogue) -->\n";
const END: &str = "<!-- error-codes:end -->";

#[test]
fn the_readme_lists_every_code_and_problem_type_and_nothing_else() {
    let mut files = Vec::new();
    sources(Path::new("src"), &mut files);
    files.sort();
    let readme = std::fs::read_to_string("README.md").unwrap();
    let start = readme.find(BEGIN).expect("README has the error-code catalogue markers") + BEGIN.len();
    let end = start + readme[start..].find(END).expect("end marker");
    let expected = table(&files);
    if std::env::var_os("UPDATE_README").is_some() {
        std::fs::write("README.md", format!("{}{expected}{}", &readme[..start], &readme[end..])).unwrap();
        return;
    }
    assert_eq!(&readme[start..end], expected, "the README's catalogue is stale: run UPDATE_README=1 cargo test --test catalogue");
}

#[test]
fn every_code_and_problem_type_is_used() {
    let mut files = Vec::new();
    sources(Path::new("src"), &mut files);
    for c in Code::ALL {
        assert!(!used_in(&files, &format!("Code::{}", variant_name(c))).is_empty(), "{c} is never used");
    }
    for p in ProblemType::ALL {
        assert!(!used_in(&files, &format!("ProblemType::{}", variant_name(p))).is_empty(), "{p} is never used");
    }
}

#[test]
fn the_spec_names_every_problem_type_slug_and_every_code() {
    let spec: serde_json::Value = serde_json::from_str(&std::fs::read_to_string("openapi/openapi.json").unwrap()).unwrap();
    let schemas = &spec["components"]["schemas"];
    let described = schemas["Problem"]["properties"]["type"]["description"].as_str().unwrap();
    let named: BTreeSet<&str> = described.split('`').skip(1).step_by(2).filter(|s| !s.contains(':')).collect();
    let slugs: BTreeSet<&str> = ProblemType::ALL.iter().map(|p| p.as_str()).collect();
    assert_eq!(named, slugs, "Problem.type's description in the spec");
    let codes: Vec<&str> = schemas["Code"]["enum"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(codes, Code::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>());
}
