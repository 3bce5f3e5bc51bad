//! The published JSON Lines schema (crates/trace-merge/schema/opens.schema.json) holds every
//! key `--format json` prints, with its type. Read from the schema file and the output, not
//! from a list kept here: a key added to the printer without its schema entry fails, and so
//! does a type that changed.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::common::{data, hostile_data, options_data, trace_merge, TempDir};

/// The schema file.
pub fn schema_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/opens.schema.json")
}

/// The schema, parsed.
pub fn schema() -> Value {
    let text = std::fs::read_to_string(schema_path()).expect("the schema file");
    serde_json::from_str(&text).expect("the schema is JSON")
}

/// The JSON types a property allows (`type`: a name or a list of names).
pub fn allowed_types(property: &Value) -> Vec<String> {
    match &property["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap().to_owned()).collect(),
        other => panic!("a property without a type: {other}"),
    }
}

/// The JSON Schema type name of a value.
fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Checks one printed object against the schema; returns the keys it had.
fn check_object(object: &Map<String, Value>, schema: &Value, line: &str) {
    let properties = schema["properties"].as_object().unwrap();
    for (key, value) in object {
        let property = properties
            .get(key)
            .unwrap_or_else(|| panic!("key {key:?} is not in the schema: {line}"));
        let types = allowed_types(property);
        assert!(
            types.iter().any(|t| t == type_of(value)),
            "{key}: {value} is {}, the schema says {types:?}: {line}",
            type_of(value)
        );
        if let Some(values) = property.get("enum").and_then(Value::as_array) {
            assert!(values.contains(value), "{key}: {value} not in {values:?}");
        }
        if let (Some(min), Some(v)) = (property["minimum"].as_i64(), value.as_i64()) {
            assert!(v >= min, "{key}: {v} < {min}: {line}");
        }
    }
    for key in schema["required"].as_array().unwrap() {
        let key = key.as_str().unwrap();
        assert!(
            object.contains_key(key),
            "required key {key} missing: {line}"
        );
    }
}

#[test]
fn schema_describes_every_key_with_a_type_and_a_meaning() {
    let schema = schema();
    assert_eq!(schema["version"], 1, "the schema carries its version");
    let properties = schema["properties"].as_object().unwrap();
    for (key, property) in properties {
        let types = allowed_types(property);
        assert!(
            types
                .iter()
                .all(|t| ["integer", "string", "boolean", "null"].contains(&t.as_str())),
            "{key}: {types:?}"
        );
        let meaning = property["description"].as_str().unwrap_or("");
        assert!(meaning.len() > 10, "{key} says what it means");
    }
    for key in schema["required"].as_array().unwrap() {
        assert!(properties.contains_key(key.as_str().unwrap()), "{key}");
    }
    // Bytes that may not be UTF-8 have their exact form beside them.
    for key in ["path", "comm", "resolved"] {
        assert!(properties.contains_key(&format!("{key}_b64")), "{key}_b64");
    }
}

#[test]
fn every_key_printed_is_in_the_schema_with_its_type() {
    let schema = schema();
    let dir = TempDir::new("json-schema");
    // Unfinished opens (null ret), several hosts, hostile bytes, restarts, failures.
    let inputs: Vec<PathBuf> = vec![
        options_data("small.trace"),
        options_data("host-a.trace"),
        options_data("host-b.trace"),
        options_data("odd-paths.trace"),
        hostile_data("invalid-utf8.trace"),
        hostile_data("names-from-trace-gen.trace"),
        hostile_data("nul-bytes.trace"),
        hostile_data("overflow-i64-ret.trace"),
        hostile_data("overflow-u32-ids.trace"),
        // Version-2 details: resolved, flags, resolve, mode, via, fault, cgroup, killed.
        data("details.trace"),
    ];
    let restarted = dir.path("restarted.trace");
    std::fs::write(
        &restarted,
        "=> uid: 0 pid: 1 open: /dev/tty 10\n<= uid: 0 pid: 1 ret: -512 20\n",
    )
    .unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut lines = 0;
    for input in inputs.iter().chain([&restarted]) {
        for args in [&["-N"][..], &["--unfinished"]] {
            let out = trace_merge()
                .args(["--format", "json"])
                .args(args)
                .arg(input)
                .output()
                .unwrap();
            for line in String::from_utf8(out.stdout).unwrap().lines() {
                let value: Value = serde_json::from_str(line).expect("each line is JSON");
                let object = value.as_object().expect("each line is an object");
                check_object(object, &schema, line);
                for (key, value) in object {
                    seen.insert((key.clone(), type_of(value)));
                }
                lines += 1;
            }
        }
    }
    assert!(lines > 50, "{lines} lines checked");
    // The corpus exercises both sides of each nullable key the printer has today.
    for (key, kind) in [
        ("ret", "null"),
        ("ret", "integer"),
        ("errno", "string"),
        ("path_b64", "string"),
        ("path_b64", "null"),
        ("user", "string"),
        ("host", "string"),
        ("restarted", "boolean"),
        ("resolved", "string"),
        ("flags", "string"),
        ("via", "string"),
        ("killed", "integer"),
        ("fault", "string"),
        ("cgroup", "string"),
    ] {
        assert!(
            seen.contains(&(key.to_owned(), kind)),
            "{key} as {kind} not seen"
        );
    }
}

/// The SQL type of a schema property: BIGINT, VARCHAR or BOOLEAN (DuckDB's names).
pub fn sql_type(property: &Value) -> &'static str {
    let types = allowed_types(property);
    match types.iter().find(|t| *t != "null").map(String::as_str) {
        Some("integer") => "BIGINT",
        Some("string") => "VARCHAR",
        Some("boolean") => "BOOLEAN",
        other => panic!("no SQL type for {other:?}"),
    }
}

/// The README's DuckDB reader declares every key of the schema with its type.
#[test]
fn readme_duckdb_columns_are_the_schema() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let at = readme
        .find("columns = {")
        .expect("the README declares DuckDB columns")
        + 11;
    let body = &readme[at..at + readme[at..].find('}').unwrap()];
    let declared: Vec<(String, String)> = body
        .split(',')
        .map(|pair| {
            let (key, ty) = pair.split_once(':').expect("key: 'TYPE'");
            (
                key.trim().to_owned(),
                ty.trim().trim_matches('\'').to_owned(),
            )
        })
        .collect();
    let schema = schema();
    let expected: Vec<(String, String)> = schema["properties"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, p)| (k.clone(), sql_type(p).to_owned()))
        .collect();
    // By name (serde_json's map is sorted; DuckDB matches columns by key, not position).
    let mut declared = declared;
    declared.sort();
    assert_eq!(declared, expected);
}
