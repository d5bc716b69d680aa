//! A small HTTP client for tests: build a request, send it, read status, headers and JSON.

use serde_json::Value;

pub struct Request {
    inner: ureq::Request,
    body: Option<(String, Vec<u8>)>,
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: String,
    headers: Vec<(String, String)>,
    pub text: String,
    /// The body as JSON (`Value::Null` when it is not JSON).
    pub body: Value,
}

impl Request {
    pub fn new(inner: ureq::Request) -> Self {
        Self { inner, body: None }
    }

    pub fn token(mut self, token: &str) -> Self {
        self.inner = self.inner.set("Authorization", &format!("Bearer {token}"));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.inner = self.inner.set(name, value);
        self
    }

    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.inner = self.inner.query(name, value);
        self
    }

    /// Gives up after `timeout` (the agent's default is 30 s).
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.inner = self.inner.timeout(timeout);
        self
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.body = Some(("application/json".into(), body.to_string().into_bytes()));
        self
    }

    pub fn raw(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some((content_type.into(), body.into()));
        self
    }

    pub fn send(self) -> Response {
        self.try_send()
            .unwrap_or_else(|error| panic!("request failed: {error}"))
    }

    /// Sends; a transport failure (refused, reset, timed out) is an `Err`, for tests
    /// that cut the server off on purpose.
    pub fn try_send(self) -> Result<Response, String> {
        let result = match self.body {
            Some((content_type, bytes)) => self
                .inner
                .set("Content-Type", &content_type)
                .send_bytes(&bytes),
            None => self.inner.call(),
        };
        let response = match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(other) => return Err(other.to_string()),
        };
        let status = response.status();
        let content_type = response
            .header("content-type")
            .unwrap_or_default()
            .to_owned();
        let headers = response
            .headers_names()
            .into_iter()
            .filter_map(|name| {
                response
                    .header(&name)
                    .map(|v| (name.to_lowercase(), v.to_owned()))
            })
            .collect();
        let text = response.into_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Response {
            status,
            content_type,
            headers,
            text,
            body,
        })
    }
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A string at a JSON pointer; panics with the body when absent.
    pub fn str(&self, pointer: &str) -> String {
        self.body
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no string at {pointer} in {}", self.body))
            .to_owned()
    }

    /// Asserts a problem+json answer with this status, and answers the problem.
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(
            self.status, status,
            "expected {status}, got {}: {}",
            self.status, self.text
        );
        assert!(
            self.content_type.starts_with("application/problem+json"),
            "expected problem+json, got {:?}: {}",
            self.content_type,
            self.text
        );
        assert_eq!(
            self.body["status"], status,
            "problem status field: {}",
            self.body
        );
        assert!(
            self.body["type"].is_string()
                && self.body["title"].is_string()
                && self.body["detail"].is_string()
        );
        &self.body
    }

    /// Asserts a 422 whose errors name `field`.
    pub fn invalid_field(&self, field: &str) {
        let problem = self.problem(422);
        let named = problem["errors"]
            .as_array()
            .is_some_and(|errors| errors.iter().any(|e| e["field"] == field));
        assert!(named, "expected an error on {field}: {problem}");
    }
}
