//! Where many tests begin: a group with members, an open program, a mentor and a mentee
//! waiting to be paired, a pairing made. Each scenario is a struct with named parts, so
//! a test takes the parts it needs by name.
//!
//! The cast is fixed, because tests check names: Ada owns the group, Bea is a member
//! (the mentee where there is one), Cleo is a member (the mentor where there is one).

use serde_json::{json, Value};

use crate::{TestApp, TestUser};

/// What the admin writes when pairing Cleo and Bea in these scenarios.
pub const INTRODUCTION: &str =
    "Giulia has been through the first months with twins; Sara is expecting her first.";

/// Ada's group "Parents" with Bea and Cleo as members.
pub struct GroupWithMembers {
    pub owner: TestUser,
    /// Bea and Cleo, in the order they joined.
    pub members: [TestUser; 2],
    pub group: Value,
    pub group_id: String,
}

/// Ada's group "Parents", Bea a member, and an open new-parents program.
pub struct OpenProgram {
    /// Ada, who owns the group and runs the program.
    pub admin: TestUser,
    /// Bea, a member who has not enrolled.
    pub member: TestUser,
    pub group: Value,
    pub program: Value,
}

/// An [`OpenProgram`] where Bea enrolled as a mentee and Cleo as a mentor with two
/// places, both active and unpaired.
pub struct PairCandidates {
    pub admin: TestUser,
    /// Bea.
    pub mentee: TestUser,
    /// Cleo.
    pub mentor: TestUser,
    pub group: Value,
    pub program: Value,
    pub mentee_enrolment: Value,
    pub mentor_enrolment: Value,
}

/// [`PairCandidates`] after Ada paired Cleo with Bea, introducing them with
/// [`INTRODUCTION`].
pub struct PairedProgram {
    pub admin: TestUser,
    /// Bea.
    pub mentee: TestUser,
    /// Cleo.
    pub mentor: TestUser,
    pub group: Value,
    pub program: Value,
    pub mentee_enrolment: Value,
    pub mentor_enrolment: Value,
    pub pairing: Value,
}

impl TestApp {
    /// Ada creates the group "Parents"; Bea and Cleo join it.
    pub fn group_with_members(&self) -> GroupWithMembers {
        let ada = self.register("Ada");
        let bea = self.register("Bea");
        let cleo = self.register("Cleo");
        let group = self.create_group(&ada, "Parents");
        self.join(&bea, &group);
        self.join(&cleo, &group);
        let group_id = group["id"].as_str().expect("group id").to_owned();
        GroupWithMembers {
            owner: ada,
            members: [bea, cleo],
            group,
            group_id,
        }
    }

    /// Ada's group with Bea in it, and a new-parents program opened by Ada; `settings`
    /// (an object) are added to the program's creation body.
    pub fn open_program(&self, settings: Value) -> OpenProgram {
        let ada = self.register("Ada");
        let bea = self.register("Bea");
        let group = self.create_group(&ada, "Parents");
        self.join(&bea, &group);
        let mut body = json!({"template_key": "new-parents"});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), settings.as_object()) {
            body.extend(extra.clone());
        }
        let program = self.create_open_program(&ada, &group, body);
        OpenProgram {
            admin: ada,
            member: bea,
            group,
            program,
        }
    }

    /// An open program (default settings) with Bea enrolled as a mentee and Cleo as a
    /// mentor with two places, unpaired.
    pub fn program_with_pair_candidates(&self) -> PairCandidates {
        let OpenProgram {
            admin,
            member: bea,
            group,
            program,
        } = self.open_program(json!({}));
        let cleo = self.member(&group, "Cleo");
        let mentee_enrolment = self.enrol_mentee(&bea, &program);
        let mentor_enrolment = self.enrol_mentor(&cleo, &program, Some(2));
        PairCandidates {
            admin,
            mentee: bea,
            mentor: cleo,
            group,
            program,
            mentee_enrolment,
            mentor_enrolment,
        }
    }

    /// Ada's group with a new-parents program of `weeks` weekly check-ins; Bea (a mentee in
    /// `mentee_zone`) and Cleo (a mentor with two places, in `mentor_zone`) are paired at
    /// `paired_at` (the server's clock is set to it).
    pub fn short_program(
        &self,
        weeks: u16,
        mentee_zone: &str,
        mentor_zone: &str,
        paired_at: &str,
    ) -> PairedProgram {
        let OpenProgram {
            admin,
            member: bea,
            group,
            program,
        } = self.open_program(json!({"duration_weeks": weeks, "cadence_days": 7}));
        let cleo = self.member(&group, "Cleo");
        self.set_time_zone(&bea, mentee_zone);
        self.set_time_zone(&cleo, mentor_zone);
        let mentee_enrolment = self.enrol_mentee(&bea, &program);
        let mentor_enrolment = self.enrol_mentor(&cleo, &program, Some(2));
        self.clock
            .set(paired_at.parse().expect("an RFC 3339 instant"));
        let pairing = self.pair(
            &admin,
            &program,
            mentor_enrolment["id"]
                .as_str()
                .expect("mentor enrolment id"),
            mentee_enrolment["id"]
                .as_str()
                .expect("mentee enrolment id"),
            INTRODUCTION,
        );
        PairedProgram {
            admin,
            mentee: bea,
            mentor: cleo,
            group,
            program,
            mentee_enrolment,
            mentor_enrolment,
            pairing,
        }
    }

    /// [`Self::program_with_pair_candidates`], then Ada pairs Cleo with Bea.
    pub fn paired_program(&self) -> PairedProgram {
        let PairCandidates {
            admin,
            mentee,
            mentor,
            group,
            program,
            mentee_enrolment,
            mentor_enrolment,
        } = self.program_with_pair_candidates();
        let pairing = self.pair(
            &admin,
            &program,
            mentor_enrolment["id"]
                .as_str()
                .expect("mentor enrolment id"),
            mentee_enrolment["id"]
                .as_str()
                .expect("mentee enrolment id"),
            INTRODUCTION,
        );
        PairedProgram {
            admin,
            mentee,
            mentor,
            group,
            program,
            mentee_enrolment,
            mentor_enrolment,
            pairing,
        }
    }
}

impl TestApp {
    /// A two-week program (a check-in every 7 days) where Ada pairs Cleo, a mentor with
    /// one place who lives in Los Angeles, with Bea in Rome.
    pub fn paired_short_program(&self) -> PairedProgram {
        let OpenProgram {
            admin,
            member: bea,
            group,
            program,
        } = self.open_program(json!({"duration_weeks": 2, "cadence_days": 7}));
        let cleo = self.member(&group, "Cleo");
        self.set_time_zone(&cleo, "America/Los_Angeles");
        let mentee_enrolment = self.enrol_mentee(&bea, &program);
        let mentor_enrolment = self.enrol_mentor(&cleo, &program, Some(1));
        let pairing = self.pair(
            &admin,
            &program,
            mentor_enrolment["id"]
                .as_str()
                .expect("mentor enrolment id"),
            mentee_enrolment["id"]
                .as_str()
                .expect("mentee enrolment id"),
            INTRODUCTION,
        );
        PairedProgram {
            admin,
            mentee: bea,
            mentor: cleo,
            group,
            program,
            mentee_enrolment,
            mentor_enrolment,
            pairing,
        }
    }
}
