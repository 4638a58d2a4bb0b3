//! The served schema: Cartesi's file, and introspection over HTTP.

use super::*;

/// The shape of introspection GraphiQL and codegen tools send: `ofType` nested seven deep.
const INTROSPECTION: &str = "query IntrospectionQuery {
  __schema {
    queryType { name }
    types { kind name description fields(includeDeprecated: true) { name args { name type { ...TypeRef } } type { ...TypeRef } } }
  }
}
fragment TypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}";

#[tokio::test]
async fn introspection_works_over_http() {
    let server = start(filled_store()).await;
    let answer = data(query(&server, "IntrospectionQuery", INTROSPECTION, json!({})).await);
    assert_eq!(answer["__schema"]["queryType"]["name"], "Query");
    let input = answer["__schema"]["types"].as_array().unwrap().iter().find(|t| t["name"] == "Input").unwrap();
    let timestamp = input["fields"].as_array().unwrap().iter().find(|f| f["name"] == "timestamp").unwrap();
    assert_eq!(
        timestamp["type"],
        json!({ "kind": "NON_NULL", "name": null, "ofType": { "kind": "SCALAR", "name": "BigInt", "ofType": null } })
    );
}

/// A type system in a form that ignores formatting and the order of types, fields, arguments and
/// values: one line per member, with its type and description.
fn normalize(sdl: &str) -> BTreeMap<String, Vec<String>> {
    let doc = async_graphql::parser::parse_schema(sdl).unwrap();
    let describe = |d: &Option<async_graphql::parser::Positioned<String>>| {
        d.as_ref().map(|d| d.node.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default()
    };
    let value = |v: &InputValueDefinition| {
        let default = v.default_value.as_ref().map(|d| format!(" = {}", d.node)).unwrap_or_default();
        format!("{}: {}{default}", v.name.node, v.ty.node)
    };
    let mut types = BTreeMap::new();
    for def in doc.definitions {
        let TypeSystemDefinition::Type(t) = def else { continue };
        let t = t.node;
        let mut members = match &t.kind {
            TypeKind::Scalar => vec!["scalar".to_string()],
            TypeKind::Object(o) => o
                .fields
                .iter()
                .map(|f| {
                    let mut args: Vec<String> = f.node.arguments.iter().map(|a| value(&a.node)).collect();
                    args.sort();
                    let f = &f.node;
                    format!(
                        "field {}({}): {} \"{}\"",
                        f.name.node,
                        args.join(", "),
                        f.ty.node,
                        describe(&f.description)
                    )
                })
                .collect(),
            TypeKind::Enum(e) => e.values.iter().map(|v| format!("value {}", v.node.value.node)).collect(),
            TypeKind::InputObject(i) => i
                .fields
                .iter()
                .map(|f| format!("input {} \"{}\"", value(&f.node), describe(&f.node.description)))
                .collect(),
            TypeKind::Interface(_) | TypeKind::Union(_) => vec!["unexpected kind".to_string()],
        };
        members.sort();
        members.insert(0, format!("description \"{}\"", describe(&t.description)));
        types.insert(t.name.node.to_string(), members);
    }
    types
}

/// The keccak-256 of Cartesi's `api/graphql/reader.graphql` of rollups-node v1.5.1.
const READER_V1_KECCAK: &str = "aa7e45947321445bfcf7337025f38d0b156cd735bd259ba97b56d351355073c1";

#[test]
fn served_schema_is_cartesis_reader_v1() {
    // Cartesi's file, unmodified (tests/data/cartesi/README.md says where it comes from).
    let reference = include_str!("../../data/cartesi/reader-v1.graphql");
    assert_eq!(
        hex::encode(devnode::l1::keccak256(reference.as_bytes()).0),
        READER_V1_KECCAK,
        "tests/data/cartesi/reader-v1.graphql is not Cartesi's file any more"
    );
    let served = devnode::graphql::schema(Arc::new(Store::open_in_memory().unwrap())).sdl();
    let expected = normalize(reference);
    let actual = normalize(&served);
    assert!(expected.len() >= 18, "the reference parsed into too few types: {expected:?}");
    for (name, members) in &expected {
        assert_eq!(actual.get(name), Some(members), "type {name} differs");
    }
    let extra: Vec<&String> = actual.keys().filter(|k| !expected.contains_key(*k)).collect();
    assert!(extra.is_empty(), "served schema has types Cartesi's has not: {extra:?}");
}
