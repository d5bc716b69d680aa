//! The steps of a story, as the people in it take them: a member joins, an admin creates
//! and opens a program, members enrol with typical answers, an admin pairs two of them.
//! Each step asserts it succeeded, so a scenario reads as a sequence of steps.

use serde_json::{json, Value};

use crate::answers::new_parent_answers;
use crate::{TestApp, TestUser};

fn id_of<'a>(value: &'a Value, what: &str) -> &'a str {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no {what} id in {value}"))
}

impl TestApp {
    /// Registers `name` and has them join the group.
    pub fn member(&self, group: &Value, name: &str) -> TestUser {
        let user = self.register(name);
        self.join(&user, group);
        user
    }

    /// Creates a program in the group, acting as `admin`; answers the program's JSON.
    pub fn create_program(&self, admin: &TestUser, group: &Value, body: Value) -> Value {
        let id = id_of(group, "group");
        let response = self
            .post(&format!("/v1/groups/{id}/programs"))
            .token(&admin.token)
            .json(&body)
            .send();
        assert_eq!(response.status, 201, "create program: {}", response.body);
        response.body
    }

    /// Moves the program to `status`, acting as `admin`; answers the program's JSON.
    pub fn set_program_status(&self, admin: &TestUser, program: &Value, status: &str) -> Value {
        let id = id_of(program, "program");
        let response = self
            .patch(&format!("/v1/programs/{id}"))
            .token(&admin.token)
            .json(&json!({"status": status}))
            .send();
        assert_eq!(
            response.status, 200,
            "set status {status}: {}",
            response.body
        );
        response.body
    }

    /// Creates a program and opens it for enrolment; answers the open program's JSON.
    pub fn create_open_program(&self, admin: &TestUser, group: &Value, body: Value) -> Value {
        let program = self.create_program(admin, group, body);
        self.set_program_status(admin, &program, "open")
    }

    /// `user` enrols in the program with this body; answers the enrolment's JSON.
    pub fn enrol(&self, user: &TestUser, program: &Value, body: Value) -> Value {
        let id = id_of(program, "program");
        let response = self
            .post(&format!("/v1/programs/{id}/enrolments"))
            .token(&user.token)
            .json(&body)
            .send();
        assert_eq!(response.status, 201, "enrol: {}", response.body);
        response.body
    }

    /// `user` enrols as a mentee with [`new_parent_answers`].
    pub fn enrol_mentee(&self, user: &TestUser, program: &Value) -> Value {
        self.enrol(
            user,
            program,
            json!({"role": "mentee", "answers": new_parent_answers()}),
        )
    }

    /// `user` enrols as a mentor with [`new_parent_answers`], taking `capacity` mentees
    /// (`None`: as many as the program's default).
    pub fn enrol_mentor(&self, user: &TestUser, program: &Value, capacity: Option<u8>) -> Value {
        let mut body = json!({"role": "mentor", "answers": new_parent_answers()});
        if let Some(capacity) = capacity {
            body["capacity"] = json!(capacity);
        }
        self.enrol(user, program, body)
    }

    /// Pairs two enrolments of the program, acting as `admin`; answers the pairing's JSON.
    pub fn pair(
        &self,
        admin: &TestUser,
        program: &Value,
        mentor_enrolment_id: &str,
        mentee_enrolment_id: &str,
        introduction: &str,
    ) -> Value {
        let id = id_of(program, "program");
        let response = self
            .post(&format!("/v1/programs/{id}/pairings"))
            .token(&admin.token)
            .json(&json!({
                "mentor_enrolment_id": mentor_enrolment_id,
                "mentee_enrolment_id": mentee_enrolment_id,
                "introduction": introduction,
            }))
            .send();
        assert_eq!(response.status, 201, "pair: {}", response.text);
        response.body
    }
}
