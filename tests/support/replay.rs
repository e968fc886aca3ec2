//! Recorded responses for APIs no emulator implements (Logs Insights query definitions):
//! an HTTP server on 127.0.0.1 that answers each `awsJson1_1` call with the response
//! recorded for its operation (the `X-Amz-Target` header) and remembers every request,
//! so a test can check what monplan sent and how it reads what AWS returns. It has no
//! behaviour of its own: the test sets each answer.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

#[derive(Default)]
struct State {
    /// Operation (`DescribeQueryDefinitions`) -> the recorded response body.
    responses: BTreeMap<String, serde_json::Value>,
    /// (operation, request body) in arrival order.
    requests: Vec<(String, serde_json::Value)>,
}

pub struct Replay {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
}

impl Replay {
    /// # Panics
    /// If it cannot listen on 127.0.0.1.
    pub fn start() -> Replay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let endpoint = format!("http://{}", listener.local_addr().expect("local_addr"));
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                thread::spawn(move || serve(stream, &state));
            }
        });
        Replay { endpoint, state }
    }

    /// The response to give `operation` from now on.
    pub fn answer(&self, operation: &str, body: serde_json::Value) {
        self.state
            .lock()
            .unwrap()
            .responses
            .insert(operation.to_string(), body);
    }

    /// The bodies of the requests for `operation` so far, oldest first.
    pub fn requests(&self, operation: &str) -> Vec<serde_json::Value> {
        self.state
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|(op, _)| op == operation)
            .map(|(_, body)| body.clone())
            .collect()
    }
}

/// One keep-alive connection: requests with `Content-Length` bodies, one after another.
fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut writer = stream.try_clone().expect("clone the stream");
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0usize;
        let mut operation = String::new();
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "x-amz-target" => {
                    operation = value.trim().rsplit('.').next().unwrap_or("").to_string();
                }
                _ => {}
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let request = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        let (status, response) = {
            let mut state = state.lock().unwrap();
            state.requests.push((operation.clone(), request));
            match state.responses.get(&operation) {
                Some(body) => ("200 OK", body.to_string()),
                None => (
                    "400 Bad Request",
                    serde_json::json!({
                        "__type": "UnknownOperationException",
                        "message": format!("no recorded response for {operation}"),
                    })
                    .to_string(),
                ),
            }
        };
        let reply = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: replay\r\nContent-Length: {}\r\n\r\n{response}",
            response.len()
        );
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}
