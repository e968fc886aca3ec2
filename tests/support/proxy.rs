//! The project's loopback proxy (`bench/proxy.py`) in front of an emulator: per-operation
//! rate quotas answered as AWS throttles, and injected faults.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// The proxy, killed when dropped.
pub struct Proxy {
    child: Child,
    pub endpoint: String,
    port: u16,
}

impl Proxy {
    /// A proxy to `upstream`, with `proxy.py`'s own flags (`--rate OP=N`,
    /// `--fault OP=KIND`, ...).
    pub fn start(upstream: &str, flags: &[&str]) -> Proxy {
        let python = std::env::var_os("MONPLAN_PYTHON").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-moto/bin/python"),
            PathBuf::from,
        );
        let mut child = Command::new(python)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/proxy.py"))
            .args(["--upstream", upstream, "--listen-port", "0"])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .expect("start the proxy");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let endpoint = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("proxy said {line:?}"))
            .to_string();
        let port = endpoint.rsplit(':').next().unwrap().parse().unwrap();
        Proxy {
            child,
            endpoint,
            port,
        }
    }

    /// `GET /__proxy/stats`: `{"operations": {Op: {...}}, "totals": {...}, "kill": {...}}`.
    pub fn stats(&self) -> Value {
        self.control("GET", "/__proxy/stats", "")
    }

    /// `POST /__proxy/config` with `change` (`{"kill_after_writes": K, "kill_pid": PID}`,
    /// `{"faults": {...}}`, ...); the new config.
    ///
    /// # Panics
    /// If the proxy refuses the change.
    pub fn config(&self, change: &Value) -> Value {
        self.control("POST", "/__proxy/config", &change.to_string())
    }

    fn control(&self, method: &str, path: &str, body: &str) -> Value {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        assert!(
            head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
            "proxy {method} {path}: {response}"
        );
        serde_json::from_str(body).unwrap()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
