//! The OpenAPI 3.1 document of `/api/v1`, generated from the types the
//! handlers deserialise and serialise (their `JsonSchema`s, the same ones
//! the MCP tools publish), so the document cannot drift from the server.
//! OpenAPI 3.1 schemas are JSON Schema 2020-12, as MCP's are: one schema
//! per type serves both.

use super::wire::{ErrorBody, LogQuery, RollbackBody, RunList, Started};
use crate::remote::capture::{Edited, LogTail};
use crate::remote::options::RunOptions;
use crate::remote::orchestrate::OrchestrateRequest;
use crate::remote::runs::RunInfo;
use crate::report::tree::PhaseDoc;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

const DESCRIPTION: &str = "Drive roadmap-runner over HTTP: the same commands as the CLI (their --json documents), runs started as child processes, live events as Server-Sent Events. Every route needs `Authorization: Bearer <key>` or `X-API-Key: <key>` when the server has a key (ROADMAP_RUNNER_API_KEY or --api-key-file); GET /events also accepts `?key=` because EventSource cannot set headers. Every error is `{\"error\": message}` (with `exit_code` when a command failed).";

/// The path parameters, by name.
const PATH_PARAMS: &[(&str, &str)] = &[
    ("id", "The id POST /runs returned"),
    ("phase", "Phase number, e.g. 1 or 12.1"),
    ("group", "Group id, e.g. A"),
    (
        "task",
        "Task id, e.g. A1, or `gate` for the group's gate log",
    ),
];

/// Schemas of what the server reads and of what it writes: one generator
/// each (an `Option` field is optional to send, always present in a reply).
struct Schemas {
    read: SchemaGenerator,
    written: SchemaGenerator,
}

fn generator(mut settings: SchemaSettings) -> SchemaGenerator {
    settings.definitions_path = "/components/schemas".into();
    settings.meta_schema = None;
    settings.into_generator()
}

impl Schemas {
    fn new() -> Schemas {
        Schemas {
            read: generator(SchemaSettings::draft2020_12()),
            written: generator(SchemaSettings::draft2020_12().for_serialize()),
        }
    }

    fn body<T: JsonSchema>(&mut self) -> Value {
        json!({
            "required": false,
            "content": { "application/json": { "schema": self.read.subschema_for::<T>() } },
        })
    }

    fn required_body<T: JsonSchema>(&mut self) -> Value {
        let mut body = self.body::<T>();
        body["required"] = true.into();
        body
    }

    fn reply<T: JsonSchema>(&mut self, description: &str) -> Value {
        json_reply(description, self.written.subschema_for::<T>().to_value())
    }

    /// `status --json`: its tree of phases, groups and tasks typed (a
    /// split task's `sub` holds groups of the same type), the rest as the
    /// document the CLI prints.
    fn status_reply(&mut self) -> Value {
        let phases = self.written.subschema_for::<PhaseDoc>();
        let doc = json!({ "type": "object", "description": "The `status --json` document",
                          "properties": { "phases": { "type": "array", "items": phases } } });
        json_reply(
            "phases, groups, tasks (a split task's beneath it), next action",
            doc,
        )
    }

    /// A query string's fields as parameters.
    fn query<T: JsonSchema>(&mut self) -> Vec<Value> {
        let schema: Schema = self.read.root_schema_for::<T>();
        let props = schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        props
            .into_iter()
            .map(|(name, mut schema)| {
                let description = schema
                    .as_object_mut()
                    .and_then(|s| s.remove("description"))
                    .unwrap_or_default();
                json!({ "name": name, "in": "query", "required": false,
                        "schema": schema, "description": description })
            })
            .collect()
    }

    /// Every named schema either generator made.
    fn components(mut self) -> Map<String, Value> {
        // Named by every error response.
        self.written.subschema_for::<ErrorBody>();
        let mut all = self.read.take_definitions(true);
        for (name, schema) in self.written.take_definitions(true) {
            all.entry(name).or_insert(schema);
        }
        all.insert(
            "Document".into(),
            json!({ "type": "object", "description": "A command's `--json` document, as the CLI prints it" }),
        );
        all
    }
}

fn json_reply(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn document_reply(description: &str) -> Value {
    json_reply(
        description,
        json!({ "$ref": "#/components/schemas/Document" }),
    )
}

/// An operation's parts besides its method and path.
struct Op<'a> {
    summary: &'a str,
    params: Vec<Value>,
    body: Option<Value>,
    ok: (&'a str, Value),
    errors: &'a [(&'a str, &'a str)],
}

impl<'a> Op<'a> {
    /// An operation without parameters or body.
    fn new(summary: &'a str, ok: (&'a str, Value), errors: &'a [(&'a str, &'a str)]) -> Op<'a> {
        Op {
            summary,
            params: Vec::new(),
            body: None,
            ok,
            errors,
        }
    }
}

/// A route of the document: method, path, operation.
type Route = (&'static str, &'static str, Value);

const NOT_FOUND: (&str, &str) = ("404", "No such run, task or log");
const BAD: (&str, &str) = ("400", "A bad value: the message says which and why");
const INVALID: (&str, &str) = ("422", "The roadmap or the configuration has errors");

/// One operation: its summary, parameters, body and responses; the errors
/// by status code with what each means here; 401 and 403 on every route.
fn operation(method: &'static str, path: &'static str, op: Op<'_>) -> Route {
    let mut params: Vec<Value> = path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let description = PATH_PARAMS
                .iter()
                .find(|(n, _)| *n == name)
                .map_or("", |(_, d)| d);
            json!({ "name": name, "in": "path", "required": true,
                    "schema": { "type": "string" }, "description": description })
        })
        .collect();
    params.extend(op.params);
    let mut responses = Map::new();
    responses.insert(op.ok.0.into(), op.ok.1);
    for (code, what) in op.errors {
        responses.insert(
            code.to_string(),
            json_reply(what, json!({ "$ref": "#/components/schemas/ErrorBody" })),
        );
    }
    for (code, name) in [("401", "Unauthorized"), ("403", "Forbidden")] {
        let reference = format!("#/components/responses/{name}");
        responses.insert(code.into(), json!({ "$ref": reference }));
    }
    let mut value = json!({ "summary": op.summary, "responses": responses });
    if !params.is_empty() {
        value["parameters"] = params.into();
    }
    if let Some(body) = op.body {
        value["requestBody"] = body;
    }
    (method, path, value)
}

/// The CLI's `--json` documents, read-only.
fn document_operations(s: &mut Schemas) -> Vec<Route> {
    vec![
        operation(
            "get",
            "/status",
            Op::new(
                "The `status --json` document",
                ("200", s.status_reply()),
                &[],
            ),
        ),
        operation(
            "get",
            "/validate",
            Op::new(
                "The `validate --json` document",
                ("200", document_reply("diagnostics and counts")),
                &[],
            ),
        ),
        operation(
            "get",
            "/plan",
            Op::new(
                "The plan: `run --dry-run --json`",
                ("200", document_reply("groups and tasks that would run")),
                &[INVALID],
            ),
        ),
        operation(
            "get",
            "/openapi.json",
            Op::new(
                "This document",
                ("200", json_reply("OpenAPI 3.1", json!({"type": "object"}))),
                &[],
            ),
        ),
    ]
}

/// The runs this server starts, follows and stops.
fn run_operations(s: &mut Schemas) -> Vec<Route> {
    vec![
        operation(
            "get",
            "/runs",
            Op::new(
                "Runs started by this server",
                ("200", s.reply::<RunList>("the runs, oldest first")),
                &[],
            ),
        ),
        operation(
            "post",
            "/runs",
            Op {
                body: Some(s.body::<RunOptions>()),
                ..Op::new(
                    "Start a run in the background with `run`'s options (an empty body: none); what the run would refuse before it starts is refused here and nothing starts",
                    ("202", s.reply::<Started>("the run, started")),
                    &[
                        BAD,
                        (
                            "409",
                            "Another run holds the project's lock, or a run of this server is drafting its roadmap",
                        ),
                        ("413", "The body is too large"),
                        INVALID,
                    ],
                )
            },
        ),
        operation(
            "post",
            "/orchestrate",
            Op {
                body: Some(s.required_body::<OrchestrateRequest>()),
                ..Op::new(
                    "From a request to a finished roadmap: the agent drafts the roadmap for `request` (`init --goal`), then it runs with `config` as a plain run would; drafting and run events on /events",
                    ("202", s.reply::<Started>("the run, drafting")),
                    &[
                        BAD,
                        (
                            "409",
                            "The roadmap file exists (send `force`), another run holds the project's lock, or a run of this server is running",
                        ),
                        ("413", "The body is too large"),
                    ],
                )
            },
        ),
        operation(
            "get",
            "/runs/{id}",
            Op::new(
                "A run's state",
                ("200", s.reply::<RunInfo>("the run")),
                &[NOT_FOUND],
            ),
        ),
        operation(
            "post",
            "/runs/{id}/stop",
            Op::new(
                "Stop a run as SIGTERM does: agents stopped, state recorded, the next run resumes",
                ("200", s.reply::<RunInfo>("the run, stopping")),
                &[NOT_FOUND, ("409", "The run has finished already")],
            ),
        ),
    ]
}

/// The live events.
fn event_operations() -> Vec<Route> {
    let query = |name: &str, description: &str| {
        json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"},
               "description": description})
    };
    vec![operation(
        "get",
        "/events",
        Op {
            params: vec![
                json!({"name": "Last-Event-ID", "in": "header", "required": false, "schema": {"type": "string"}}),
                query(
                    "last_event_id",
                    "Last-Event-ID, for clients that cannot set headers",
                ),
                query(
                    "key",
                    "The API key (for EventSource, which cannot set headers)",
                ),
            ],
            ..Op::new(
                "Server-Sent Events: the runs' `--json` event objects, `id: <events file stem>:<line>`. Without Last-Event-ID the newest run's events so far come first; with it, the events after it.",
                (
                    "200",
                    json!({"description": "text/event-stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}),
                ),
                &[("400", "Last-Event-ID is not an event id")],
            )
        },
    )]
}

/// A task's log, and the edits of a group's state.
fn group_operations(s: &mut Schemas) -> Vec<Route> {
    const FAILED: (&str, &str) = ("422", "The command failed");
    vec![
        operation(
            "get",
            "/tasks/{phase}/{group}/{task}/log",
            Op {
                params: s.query::<LogQuery>(),
                ..Op::new(
                    "A task's latest agent log, readable (`logs N:X:ID`), its last lines",
                    ("200", s.reply::<LogTail>("the end of the log")),
                    &[BAD, NOT_FOUND],
                )
            },
        ),
        operation(
            "post",
            "/groups/{phase}/{group}/skip",
            Op::new(
                "Mark a group complete (`skip N:X`)",
                ("200", s.reply::<Edited>("what was done")),
                &[BAD, FAILED],
            ),
        ),
        operation(
            "post",
            "/groups/{phase}/{group}/rollback",
            Op {
                body: Some(s.body::<RollbackBody>()),
                ..Op::new(
                    "Make a group run again (`rollback N:X`)",
                    ("200", s.reply::<Edited>("what was done")),
                    &[BAD, FAILED],
                )
            },
        ),
    ]
}

/// Every operation of `/api/v1`. The router's routes are exactly these
/// (tested).
fn operations(s: &mut Schemas) -> Vec<Route> {
    let mut all = document_operations(s);
    all.extend(run_operations(s));
    all.extend(event_operations());
    all.extend(group_operations(s));
    all
}

/// The whole document.
pub(crate) fn document() -> Value {
    let mut schemas = Schemas::new();
    let mut paths = Map::new();
    for (method, path, op) in operations(&mut schemas) {
        let item = paths.entry(path).or_insert_with(|| json!({}));
        item[method] = op;
    }
    let error = |what: &str| json_reply(what, json!({ "$ref": "#/components/schemas/ErrorBody" }));
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": { "title": "roadmap-runner", "version": env!("CARGO_PKG_VERSION"), "description": DESCRIPTION },
        "servers": [{ "url": "/api/v1" }],
        "security": [{ "bearer": [] }, { "apiKey": [] }],
        "paths": paths,
        "components": {
            "schemas": schemas.components(),
            "responses": {
                "Unauthorized": error("Missing or wrong API key"),
                "Forbidden": error("A cross-origin POST, or (without a key) a host name that is not loopback"),
            },
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "apiKey": { "type": "apiKey", "in": "header", "name": "X-API-Key" },
            },
        },
    })
}

/// The (method, path) pairs the document describes.
#[cfg(test)]
pub(crate) fn documented_routes(doc: &Value) -> Vec<(String, String)> {
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            routes.push((method.clone(), path.clone()));
        }
    }
    routes.sort();
    routes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` in `value`, with where it was found.
    fn refs<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push((at.clone(), r)),
                        _ => refs(v, format!("{at}/{k}"), out),
                    }
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    refs(v, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    /// Every schema object in `value` whose `required` names a property it lacks.
    fn bad_required(value: &Value, at: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let (Some(Value::Array(req)), Some(Value::Object(props))) =
                    (map.get("required"), map.get("properties"))
                {
                    for name in req.iter().filter_map(Value::as_str) {
                        if !props.contains_key(name) {
                            out.push(format!("{at}: required `{name}`"));
                        }
                    }
                }
                for (k, v) in map {
                    bad_required(v, format!("{at}/{k}"), out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| bad_required(v, at.clone(), out)),
            _ => {}
        }
    }

    /// The document has what OpenAPI 3.1 requires of it: its required
    /// fields, a description on every response, every path template's
    /// parameters declared as required path parameters, every `$ref`
    /// resolving inside the document, every `required` naming a property.
    #[test]
    fn the_document_is_valid_openapi_3() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
        let paths = doc["paths"].as_object().unwrap();
        assert!(!paths.is_empty());
        for (path, item) in paths {
            assert!(path.starts_with('/'), "{path}");
            for (method, op) in item.as_object().unwrap() {
                let at = format!("{method} {path}");
                assert!(
                    ["get", "post", "put", "delete", "patch"].contains(&method.as_str()),
                    "{at}"
                );
                let responses = op["responses"].as_object().unwrap();
                assert!(!responses.is_empty(), "{at}");
                for (code, r) in responses {
                    assert!(
                        code.len() == 3 && code.parse::<u16>().is_ok(),
                        "{at} {code}"
                    );
                    assert!(
                        r["description"].is_string() || r["$ref"].is_string(),
                        "{at} {code}"
                    );
                }
                let params = op["parameters"].as_array().cloned().unwrap_or_default();
                for p in &params {
                    assert!(
                        p["name"].is_string() && p["schema"].is_object(),
                        "{at}: {p}"
                    );
                    assert!(
                        ["path", "query", "header", "cookie"].contains(&p["in"].as_str().unwrap()),
                        "{at}: {p}"
                    );
                }
                for name in path
                    .split('/')
                    .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                {
                    assert!(
                        params.iter().any(|p| p["name"] == name
                            && p["in"] == "path"
                            && p["required"] == true),
                        "{at}: path parameter `{name}` not declared"
                    );
                }
                if let Some(body) = op.get("requestBody") {
                    assert!(body["content"].is_object(), "{at}");
                }
            }
        }
        let mut found = Vec::new();
        refs(&doc, String::new(), &mut found);
        assert!(found.len() > 20, "{found:?}");
        for (at, r) in found {
            let pointer = r
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("{at}: `{r}` is not local"));
            assert!(
                doc.pointer(pointer).is_some(),
                "{at}: `{r}` does not resolve"
            );
        }
        let mut bad = Vec::new();
        bad_required(&doc, String::new(), &mut bad);
        assert!(bad.is_empty(), "{bad:?}");
    }

    fn property_names(schema: &Value) -> Vec<String> {
        let mut names: Vec<String> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    /// `POST /runs` takes every run option the CLI has (the flags of `run`
    /// but those said not to be remote options), and MCP's `start_run` and
    /// `plan` take the same: the one type's schema.
    #[test]
    fn post_runs_and_mcp_take_every_run_option_of_the_cli() {
        let doc = document();
        let body =
            &doc["paths"]["/runs"]["post"]["requestBody"]["content"]["application/json"]["schema"];
        let pointer = body["$ref"].as_str().unwrap().trim_start_matches('#');
        let options = doc.pointer(pointer).unwrap();
        assert_eq!(
            property_names(options),
            crate::remote::options::remote_run_flags()
        );
        assert_eq!(options["additionalProperties"], false);
        assert_eq!(options["properties"]["max_parallel"]["minimum"], 1);
        let mcp = rmcp::handler::server::tool::schema_for_type::<RunOptions>();
        let mcp = Value::Object((*mcp).clone());
        assert_eq!(
            property_names(&mcp),
            crate::remote::options::remote_run_flags()
        );
        for (name, schema) in mcp["properties"].as_object().unwrap() {
            // The same schema, but where each keeps its named parts.
            let ours = options["properties"][name].to_string();
            let theirs = schema
                .to_string()
                .replace("#/$defs/", "#/components/schemas/");
            assert_eq!(ours, theirs, "{name}");
        }
    }
}
