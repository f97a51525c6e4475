//! The MCP server's stdio transport: one JSON-RPC message a line. It
//! answers what the SDK's own transport leaves unanswered or answers
//! wrongly: a line that is not JSON gets `-32700` with `"id": null` (the
//! SDK drops it, and would omit the id), a standard method whose params do
//! not fit (`tools/call` with `arguments` that are not an object) gets
//! `-32602` (the SDK takes it for an unknown method, `-32601`), and other
//! JSON that is not a message gets `-32600`. Notifications are never
//! answered.

use rmcp::RoleServer;
use rmcp::model::{ClientRequest, JsonRpcMessage};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const INVALID_PARAMS: i64 = -32602;

/// The requests of MCP a client sends a server: one of these that the SDK
/// could not read as its typed request had params that do not fit it.
const STANDARD_REQUESTS: &[&str] = &[
    "initialize",
    "ping",
    "completion/complete",
    "logging/setLevel",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "resources/templates/list",
    "tools/call",
    "tools/list",
];

pub struct LineTransport<R, W> {
    read: BufReader<R>,
    write: Arc<Mutex<W>>,
    /// The line being read: kept across a cancelled `receive` (the service
    /// polls it in a `select!`), cleared once the whole line is handled.
    line: Vec<u8>,
}

impl<R: AsyncRead, W> LineTransport<R, W> {
    pub fn new(read: R, write: W) -> Self {
        LineTransport {
            read: BufReader::new(read),
            write: Arc::new(Mutex::new(write)),
            line: Vec::new(),
        }
    }
}

async fn write_line<W: AsyncWrite + Unpin>(write: &Mutex<W>, text: String) -> std::io::Result<()> {
    let mut w = write.lock().await;
    w.write_all(text.as_bytes()).await?;
    w.write_all(b"\n").await?;
    w.flush().await
}

/// What to do with one line.
enum Line {
    Message(Box<RxJsonRpcMessage<RoleServer>>),
    /// An error response to write.
    Answer(Value),
    Ignore,
}

fn error(id: Value, code: i64, message: String) -> Line {
    Line::Answer(json!({
        "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message },
    }))
}

fn read_line(line: &[u8]) -> Line {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Line::Ignore;
    }
    let value: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(e) => return error(Value::Null, PARSE_ERROR, format!("Parse error: {e}")),
    };
    // Only a string or a number is an id; anything else cannot be answered by it.
    let id = match &value["id"] {
        id @ (Value::String(_) | Value::Number(_)) => id.clone(),
        _ => Value::Null,
    };
    let is_notification = value.get("id").is_none() && value.get("method").is_some();
    match serde_json::from_value::<RxJsonRpcMessage<RoleServer>>(value.clone()) {
        Ok(JsonRpcMessage::Request(r)) => match &r.request {
            ClientRequest::CustomRequest(c) if STANDARD_REQUESTS.contains(&c.method.as_str()) => {
                error(
                    id,
                    INVALID_PARAMS,
                    params_problem(&c.method, &value["params"]),
                )
            }
            _ => Line::Message(Box::new(JsonRpcMessage::Request(r))),
        },
        Ok(message) => Line::Message(Box::new(message)),
        Err(_) if is_notification => Line::Ignore,
        Err(e) => error(id, INVALID_REQUEST, format!("Invalid request: {e}")),
    }
}

fn params_problem(method: &str, params: &Value) -> String {
    let arguments = &params["arguments"];
    if method == "tools/call" && !arguments.is_null() && !arguments.is_object() {
        return "Invalid params: `arguments` of tools/call must be an object".into();
    }
    format!("Invalid params: the params of `{method}` do not have the shape MCP gives them")
}

impl<R, W> Transport<RoleServer> for LineTransport<R, W>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let write = self.write.clone();
        async move {
            let text = serde_json::to_string(&item).map_err(std::io::Error::other)?;
            write_line(&write, text).await
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        loop {
            match self.read.read_until(b'\n', &mut self.line).await {
                Ok(0) => return None,
                Ok(_) if !self.line.ends_with(b"\n") => return None,
                Ok(_) => {}
                Err(e) => {
                    tracing::error!("reading the MCP client's messages: {e}");
                    return None;
                }
            }
            let line = std::mem::take(&mut self.line);
            match read_line(line.strip_suffix(b"\n").unwrap_or(&line)) {
                Line::Message(m) => return Some(*m),
                Line::Ignore => {}
                // Written by a task of its own: `receive` may be cancelled
                // at any await, and half a line written would break the stream.
                Line::Answer(v) => {
                    let write = self.write.clone();
                    tokio::spawn(async move {
                        if let Err(e) = write_line(&write, v.to_string()).await {
                            tracing::error!("answering the MCP client: {e}");
                        }
                    });
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.write.lock().await.shutdown().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(line: &str) -> Value {
        match read_line(line.as_bytes()) {
            Line::Answer(v) => v,
            Line::Message(m) => panic!("read as a message: {m:?}"),
            Line::Ignore => panic!("ignored"),
        }
    }

    #[test]
    fn each_kind_of_bad_line_gets_its_answer() {
        let parse = answer("{not json");
        assert_eq!(parse["error"]["code"], PARSE_ERROR);
        assert!(parse.get("id").is_some_and(Value::is_null), "{parse}");
        let params = answer(
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"status","arguments":[1]}}"#,
        );
        assert_eq!(params["error"]["code"], INVALID_PARAMS, "{params}");
        assert_eq!(params["id"], 7);
        let request = answer(r#"{"jsonrpc":"2.0","id":"x","result":5,"error":{}}"#);
        assert_eq!(request["error"]["code"], INVALID_REQUEST, "{request}");
        assert!(matches!(
            read_line(br#"{"jsonrpc":"2.0","method":"notifications/whatever","params":3}"#),
            Line::Ignore | Line::Message(_)
        ));
        assert!(matches!(
            read_line(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
            Line::Message(_)
        ));
    }
}
