//! A pair's weeks: time zones, the clock, and what members are told along the way.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::{TestApp, TestUser};

impl TestApp {
    /// `user` moves to the IANA time zone `zone`.
    pub fn set_time_zone(&self, user: &TestUser, zone: &str) {
        let response = self
            .patch("/v1/me")
            .token(&user.token)
            .json(&json!({"time_zone": zone}))
            .send();
        assert_eq!(response.status, 200, "set time zone: {}", response.body);
    }

    /// Every notification in `user`'s feed, oldest first.
    pub fn notifications_of(&self, user: &TestUser) -> Vec<Value> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut request = self
                .get("/v1/me/notifications")
                .token(&user.token)
                .query("limit", "100");
            if let Some(cursor) = &cursor {
                request = request.query("cursor", cursor);
            }
            let page = request.send();
            assert_eq!(page.status, 200, "notifications: {}", page.body);
            all.extend(page.body["items"].as_array().cloned().unwrap_or_default());
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        all.reverse();
        all
    }

    /// `user`'s notifications of one kind, oldest first.
    pub fn notifications_of_kind(&self, user: &TestUser, kind: &str) -> Vec<Value> {
        self.notifications_of(user)
            .into_iter()
            .filter(|n| n["kind"] == kind)
            .collect()
    }

    /// How many notifications of each kind `user` has.
    pub fn notification_kinds(&self, user: &TestUser) -> BTreeMap<String, usize> {
        let mut kinds = BTreeMap::new();
        for notification in self.notifications_of(user) {
            let kind = notification["kind"].as_str().unwrap_or_default().to_owned();
            *kinds.entry(kind).or_insert(0) += 1;
        }
        kinds
    }

    /// The pairing as `user` reads it.
    pub fn pairing_as(&self, user: &TestUser, pairing: &Value) -> Value {
        let id = pairing["id"].as_str().expect("pairing id");
        let response = self
            .get(&format!("/v1/pairings/{id}"))
            .token(&user.token)
            .send();
        assert_eq!(response.status, 200, "get pairing: {}", response.body);
        response.body
    }
}
