//! `tandem demo --scale N`: benchmark data. Scale 1 is about 5,000 users, 50 groups,
//! 200 programs, 10,000 enrolments, 4,000 pairings with 40,000 check-in entries and
//! 20,000 messages; scale 10 ten times that. The same seed makes the same people,
//! answers, pairs and dates (relative to now); ids are fresh UUIDv7s.
//!
//! One user in 200 (at least one, where the scale has 20 pairings to give) is a busy
//! member: a mentor with a higher capacity in several programs, joining their groups,
//! partner in at least 20 pairings, so that `GET /v1/me/pairings?limit=20` can be
//! measured with full pages. The busy mentors take pairings the programs make anyway:
//! the counts above stay as they are.
//!
//! Every row goes through [`actions`], so generated pairs follow the domain's rules
//! (capacities, check-in windows, who may post). Speed comes from hashing the shared
//! password once and from transactions over batches (a thousand users, a hundred
//! groups, one program with all its enrolments, pairings, check-ins and messages).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tandem_domain::catalogue::BUILTIN_KEYS;
use tandem_domain::clock::storable;
use tandem_domain::enrolment::EnrolmentRole;
use tandem_domain::group::Role;
use tandem_domain::ids::{GroupId, UserId};
use tandem_domain::program::{ProgramStatus, SettingsChange};
use tandem_domain::template::Language;
use tandem_domain::user::Email;
use tandem_persistence::{programs, users, Db, DbConn};

use super::{actions, answers_for, names};
use crate::progress;
use crate::workflows::journey;

/// The password of every generated account.
pub const BENCH_PASSWORD: &str = "tandem-bench-2026";

/// Users committed together.
const USER_BATCH: usize = 1_000;
/// Groups (with their memberships) committed together.
const GROUP_BATCH: usize = 100;
/// The size of the program made for match suggestions (at scale 1 and above).
const MATCH_PROGRAM: usize = 200;
/// Check-ins each generated pair has reached and both partners completed.
const CHECK_INS_PER_PAIR: u16 = 5;
/// Messages in each generated pair space.
const MESSAGES_PER_PAIR: usize = 5;
/// How many of each kind of login `users.json` lists.
const LISTED: usize = 500;
/// Pairings each busy member mentors: a full page of `GET /v1/me/pairings?limit=20`.
const BUSY_PAIRINGS: usize = 20;
/// One user in this many is a busy member.
const USERS_PER_BUSY_MEMBER: usize = 200;
/// The most mentees a busy member takes in one program while programs are many, so
/// that busy members mentor across several programs and groups, as busy people do.
const BUSY_SHARE: usize = 5;

/// What to generate and where to write the credentials file.
#[derive(Debug, Clone)]
pub struct Options {
    pub scale: f64,
    pub seed: u64,
    pub out: PathBuf,
}

/// How many rows of each kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub users: usize,
    pub groups: usize,
    pub programs: usize,
    pub enrolments: usize,
    pub pairings: usize,
    pub check_in_entries: usize,
    pub messages: usize,
}

impl Counts {
    /// The rows scale `scale` asks for: never fewer than a group of four people with one
    /// program.
    pub fn at_scale(scale: f64) -> Self {
        let of = |per_unit: f64, least: usize| ((per_unit * scale).round() as usize).max(least);
        let users = of(5_000.0, 4);
        let pairings = of(4_000.0, 1);
        Self {
            users,
            groups: of(50.0, 1),
            programs: of(200.0, 1),
            enrolments: of(10_000.0, 2),
            pairings,
            check_in_entries: pairings * 2 * usize::from(CHECK_INS_PER_PAIR),
            messages: pairings * MESSAGES_PER_PAIR,
        }
    }
}

/// What a run made, and where its credentials are.
#[derive(Debug, Clone)]
pub struct Summary {
    pub counts: Counts,
    /// Members who partner in at least [`BUSY_PAIRINGS`] pairings each.
    pub busy_members: usize,
    pub credentials: PathBuf,
}

/// The generated account `index`.
pub fn email_of(index: usize) -> String {
    format!("bench.{index:06}@bench.example.org")
}

/// A group's language: every other group is Italian.
fn language_of_group(group: usize) -> Language {
    if group.is_multiple_of(2) {
        Language::En
    } else {
        Language::It
    }
}

/// Generates the data into `db` (migrated, without generated data yet) as of `now`.
pub fn generate(db: &Db, options: &Options, now: DateTime<Utc>) -> anyhow::Result<Summary> {
    if !(options.scale.is_finite() && options.scale > 0.0 && options.scale <= 1_000.0) {
        anyhow::bail!("--scale must be a number above 0 and at most 1000");
    }
    let now = storable(now);
    let first = Email::parse(&email_of(0)).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    if db
        .read(|conn| Ok::<_, anyhow::Error>(users::find_by_email(conn, &first)?))?
        .is_some()
    {
        anyhow::bail!(
            "this database already holds generated data ({} exists); generate into an empty one",
            email_of(0)
        );
    }
    let wanted = Counts::at_scale(options.scale);
    let plan = Plan::new(wanted);
    let mut rng = StdRng::seed_from_u64(options.seed);
    let hash = crate::auth::password::hash(BENCH_PASSWORD)
        .map_err(|e| anyhow::anyhow!("hashing the bench password: {e:?}"))?;
    let users = make_users(db, &plan, &hash, &mut rng, now)?;
    let groups = make_groups(db, &plan, &users, now)?;
    let mut listing = Listing {
        busy_members: plan
            .busy
            .iter()
            .map(|&user| BusyMember {
                email: email_of(user),
                pairings: 0,
            })
            .collect(),
        ..Listing::default()
    };
    for (index, group) in groups.iter().enumerate().take(LISTED) {
        listing.admins.push(Login {
            email: email_of(index),
            group_id: group.to_string(),
            program_id: None,
        });
    }
    let progress = progress::bar(plan.programs.len() as u64, "programs");
    let mut made = Counts {
        users: users.len(),
        groups: groups.len(),
        programs: 0,
        enrolments: 0,
        pairings: 0,
        check_in_entries: 0,
        messages: 0,
    };
    for (index, program) in plan.programs.iter().enumerate() {
        let seed = rng.gen::<u64>();
        let one = db
            .write(|conn| {
                make_program(
                    conn,
                    &plan,
                    index,
                    program,
                    &users,
                    &groups,
                    seed,
                    &mut listing,
                    now,
                )
            })
            .with_context(|| format!("generating program {index}"))?;
        made.programs += 1;
        made.enrolments += one.enrolments;
        made.pairings += one.pairings;
        made.check_in_entries += one.check_in_entries;
        made.messages += one.messages;
        progress.advance(1);
    }
    progress.finish();
    db.settle_after_bulk_load()
        .context("settling the database after the load")?;
    listing.password = BENCH_PASSWORD;
    listing.scale = options.scale;
    listing.seed = options.seed;
    listing.counts = Some(made);
    write_listing(&options.out, &listing)?;
    Ok(Summary {
        counts: made,
        busy_members: listing.busy_members.len(),
        credentials: options.out.clone(),
    })
}

/// Who is where: members of each group, and each program's group, size and pairings.
struct Plan {
    users: usize,
    /// The users of each group (by index); the group's owner first.
    members: Vec<Vec<usize>>,
    /// Busy members who join each group (beyond `members`) to mentor in its programs.
    joiners: Vec<Vec<usize>>,
    /// The busy members (by index).
    busy: Vec<usize>,
    /// Where each busy member stands in `busy`, by user index.
    busy_position: HashMap<usize, usize>,
    programs: Vec<ProgramPlan>,
}

struct ProgramPlan {
    group: usize,
    template: &'static str,
    enrolments: usize,
    pairings: usize,
    /// Busy members who enrol first, as mentors, each with the mentees they take (their
    /// capacity); part of `enrolments` and `pairings`.
    busy_mentors: Vec<(usize, usize)>,
}

impl Plan {
    fn new(counts: Counts) -> Self {
        let groups = counts.groups.min(counts.users);
        let programs = counts.programs;
        // The first program is the one for match suggestions: bigger than the rest.
        let big = if programs == 1 {
            counts.enrolments
        } else {
            MATCH_PROGRAM
                .min(4 * counts.enrolments / programs)
                .min(counts.enrolments / 2)
        };
        // User i belongs to group i mod G (so user g owns group g); the first users also
        // join group 0, so that its big program has enough people.
        let mut members: Vec<Vec<usize>> = (0..groups)
            .map(|g| (g..counts.users).step_by(groups).collect())
            .collect();
        let extra = (big + big / 4).min(counts.users);
        members[0].extend((0..extra).filter(|i| i % groups != 0));
        let rest = counts.enrolments - big;
        let others = programs.saturating_sub(1).max(1);
        let mut plans: Vec<ProgramPlan> = (0..programs)
            .map(|p| {
                let group = p % groups;
                let wanted = if p == 0 {
                    big
                } else {
                    rest / others + usize::from(p - 1 < rest % others)
                };
                ProgramPlan {
                    group,
                    template: BUILTIN_KEYS[p % BUILTIN_KEYS.len()],
                    // One enrolment per person and program.
                    enrolments: wanted.min(members[group].len()),
                    pairings: 0,
                    busy_mentors: Vec::new(),
                }
            })
            .collect();
        // Pairings in proportion to enrolments, within what each program can hold.
        let total: usize = plans.iter().map(|p| p.enrolments).sum::<usize>().max(1);
        let mut left = counts.pairings;
        for plan in &mut plans {
            let share = counts.pairings * plan.enrolments / total;
            plan.pairings = share.min(plan.room()).min(left);
            left -= plan.pairings;
        }
        for plan in &mut plans {
            let more = (plan.room() - plan.pairings).min(left);
            plan.pairings += more;
            left -= more;
        }
        let mut joiners = vec![Vec::new(); groups];
        let busy = plan_busy_members(counts.users, &members, &mut joiners, &mut plans);
        Self {
            users: counts.users,
            members,
            joiners,
            busy_position: busy.iter().enumerate().map(|(k, &u)| (u, k)).collect(),
            busy,
            programs: plans,
        }
    }
}

/// Picks the busy members and gives each [`BUSY_PAIRINGS`] of the programs' planned
/// pairings, walking the programs in turn (a share of each), as a mentor whose capacity
/// is that share; a busy member joins the group of each of their programs. Stops early
/// when the programs have no room for one more.
fn plan_busy_members(
    users: usize,
    members: &[Vec<usize>],
    joiners: &mut [Vec<usize>],
    plans: &mut [ProgramPlan],
) -> Vec<usize> {
    let wanted = (users / USERS_PER_BUSY_MEMBER).max(1);
    let stride = users / wanted;
    let share = BUSY_SHARE.max(BUSY_PAIRINGS.div_ceil(plans.len()));
    let mut busy = Vec::with_capacity(wanted);
    let mut next_program = 0;
    for k in 0..wanted {
        // The last of each stretch of users: group owners and admins come first.
        let user = users - 1 - k * stride;
        let mut taken = Vec::new();
        let mut needed = BUSY_PAIRINGS;
        for step in 0..plans.len() {
            if needed == 0 {
                break;
            }
            let p = (next_program + step) % plans.len();
            if let Some(mentees) = plans[p].busy_take(share.min(needed)) {
                taken.push((p, mentees));
                needed -= mentees;
            }
        }
        if needed > 0 {
            break;
        }
        for &(p, mentees) in &taken {
            let group = plans[p].group;
            plans[p].busy_mentors.push((user, mentees));
            if !members[group].contains(&user) && !joiners[group].contains(&user) {
                joiners[group].push(user);
            }
            next_program = p + 1;
        }
        busy.push(user);
    }
    busy
}

impl ProgramPlan {
    /// Two in five enrol as mentors (at least one), the rest as mentees.
    fn mentors(&self) -> usize {
        ((self.enrolments * 2 + 2) / 5).clamp(1, self.enrolments.max(1))
    }

    /// Pairings the program can hold: each mentee once, each mentor twice.
    fn room(&self) -> usize {
        let mentees = self.enrolments - self.mentors().min(self.enrolments);
        mentees.min(2 * self.mentors())
    }

    /// How many of this program's pairings (at most `wanted`) one more busy mentor can
    /// take, leaving the other mentors no more than two each; `None` if none.
    fn busy_take(&self, wanted: usize) -> Option<usize> {
        let given: usize = self.busy_mentors.iter().map(|(_, mentees)| mentees).sum();
        let free = self.pairings - given;
        let others = self.mentors().checked_sub(self.busy_mentors.len() + 1)?;
        let take = wanted.min(free);
        (take > 0 && free - take <= 2 * others).then_some(take)
    }
}

fn make_users(
    db: &Db,
    plan: &Plan,
    hash: &str,
    rng: &mut StdRng,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<UserId>> {
    let groups = plan.members.len();
    let progress = progress::bar(plan.users as u64, "users");
    let mut ids = Vec::with_capacity(plan.users);
    let start = now - Duration::days(90);
    for batch in (0..plan.users).collect::<Vec<_>>().chunks(USER_BATCH) {
        // Names and zones drawn before the transaction, so a retry would draw the same.
        let people: Vec<(usize, String, &str)> = batch
            .iter()
            .map(|&i| {
                let language = language_of_group(i % groups);
                let first = names::first_names(language);
                let last = names::last_names(language);
                let zones = names::time_zones(language);
                let name = format!(
                    "{} {}",
                    first[rng.gen_range(0..first.len())],
                    last[rng.gen_range(0..last.len())]
                );
                (i, name, zones[rng.gen_range(0..zones.len())])
            })
            .collect();
        let made = db.write(|conn| {
            people
                .iter()
                .map(|(i, name, zone)| {
                    let at = start + Duration::seconds(i64::try_from(*i).unwrap_or(0));
                    actions::register(conn, &email_of(*i), name, zone, hash, at).map(|u| u.id)
                })
                .collect::<anyhow::Result<Vec<_>>>()
        })?;
        progress.advance(made.len() as u64);
        ids.extend(made);
    }
    progress.finish();
    Ok(ids)
}

fn make_groups(
    db: &Db,
    plan: &Plan,
    users: &[UserId],
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<GroupId>> {
    let progress = progress::bar(plan.members.len() as u64, "groups");
    let at = now - Duration::days(85);
    let mut ids = Vec::with_capacity(plan.members.len());
    let indexes: Vec<usize> = (0..plan.members.len()).collect();
    for batch in indexes.chunks(GROUP_BATCH) {
        let made = db.write(|conn| {
            let mut made = Vec::with_capacity(batch.len());
            for &g in batch {
                let members = &plan.members[g];
                let (name, description) = names::group(language_of_group(g));
                let group = actions::create_group(
                    conn,
                    users[g],
                    &format!("{name} {}", g + 1),
                    description,
                    at,
                )?;
                // The second member helps the owner run the group.
                let joining = members.iter().chain(&plan.joiners[g]);
                for (k, &member) in joining.enumerate().skip(1) {
                    let role = if k == 1 { Role::Admin } else { Role::Member };
                    let joined = at + Duration::seconds(i64::try_from(k).unwrap_or(0));
                    actions::join(conn, group.id, users[member], role, joined)?;
                }
                made.push(group.id);
            }
            Ok::<_, anyhow::Error>(made)
        })?;
        progress.advance(made.len() as u64);
        ids.extend(made);
    }
    progress.finish();
    Ok(ids)
}

/// What one program added.
struct Made {
    enrolments: usize,
    pairings: usize,
    check_in_entries: usize,
    messages: usize,
}

#[expect(
    clippy::too_many_arguments,
    reason = "one program's step reads the whole plan"
)]
fn make_program(
    conn: &mut DbConn,
    plan: &Plan,
    index: usize,
    program_plan: &ProgramPlan,
    users: &[UserId],
    groups: &[GroupId],
    seed: u64,
    listing: &mut Listing,
    now: DateTime<Utc>,
) -> anyhow::Result<Made> {
    let mut rng = StdRng::seed_from_u64(seed);
    let language = language_of_group(program_plan.group);
    let created = now - Duration::days(80);
    let change = SettingsChange {
        name: Some(format!("Bench program {}", index + 1)),
        default_capacity: Some(2),
        ..SettingsChange::default()
    };
    let program = actions::create_program(
        conn,
        groups[program_plan.group],
        program_plan.template,
        language,
        change,
        created,
    )?;
    actions::set_status(conn, program.id, ProgramStatus::Open, created)?;
    let program = programs::find(conn, program.id)?;
    // Programs of one group enrol different people where the group allows.
    let members = &plan.members[program_plan.group];
    let offset = (index / groups.len()) * program_plan.enrolments;
    let busy = &program_plan.busy_mentors;
    let regular = (0..members.len())
        .map(|j| members[(offset + j) % members.len()])
        .filter(|person| !busy.iter().any(|(user, _)| user == person))
        .take(program_plan.enrolments - busy.len())
        .map(|person| (person, None));
    let capacities = busy.iter().map(|&(user, mentees)| (user, Some(mentees)));
    let mentors = program_plan.mentors();
    let mut mentor_ids = Vec::with_capacity(mentors);
    let mut mentee_ids = Vec::new();
    for (j, (person, capacity)) in capacities.chain(regular).enumerate() {
        let role = if j < mentors {
            EnrolmentRole::Mentor
        } else {
            EnrolmentRole::Mentee
        };
        let answers = answers_for(&program, role, &mut rng);
        let at = created + Duration::days(5) + Duration::minutes(i64::try_from(j).unwrap_or(0));
        let capacity = capacity.map(|c| i64::try_from(c).unwrap_or(i64::MAX));
        let enrolment =
            actions::enrol(conn, program.id, users[person], role, answers, capacity, at)?;
        let list = match role {
            EnrolmentRole::Mentor => &mut listing.mentors,
            EnrolmentRole::Mentee => &mut listing.mentees,
        };
        if list.len() < LISTED {
            list.push(Login {
                email: email_of(person),
                group_id: groups[program_plan.group].to_string(),
                program_id: Some(program.id.to_string()),
            });
        }
        match role {
            EnrolmentRole::Mentor => mentor_ids.push((person, enrolment.id)),
            EnrolmentRole::Mentee => mentee_ids.push((person, enrolment.id)),
        }
    }
    let notes = names::notes(language);
    let texts = names::messages(language);
    let mut made = Made {
        enrolments: program_plan.enrolments,
        pairings: 0,
        check_in_entries: 0,
        messages: 0,
    };
    // The busy mentors fill their capacity first; the others take turns.
    let busy_turns = busy
        .iter()
        .zip(&mentor_ids)
        .flat_map(|(&(_, mentees), &mentor)| std::iter::repeat_n(mentor, mentees));
    let turns = busy_turns.chain(mentor_ids[busy.len()..].iter().copied().cycle());
    let pairs = mentee_ids.iter().take(program_plan.pairings).zip(turns);
    for ((mentee, mentee_enrolment), (mentor, mentor_enrolment)) in pairs {
        // Started 29 to 40 days ago: five check-ins reached (the fifth opens on day 28),
        // none of the built-in schedules (six weeks at least) finished.
        let started =
            now - Duration::days(rng.gen_range(29..=40)) - Duration::minutes(rng.gen_range(0..600));
        let pairing = actions::pair(
            conn,
            program.id,
            mentor_enrolment,
            *mentee_enrolment,
            None,
            started,
        )?;
        let partners = [users[mentor], users[*mentee]];
        let followed =
            journey::of(conn, pairing.clone(), &program).map_err(|e| anyhow::anyhow!(e))?;
        // Both partners complete check-ins 1-5, then the pair writes.
        let mut entries = Vec::with_capacity(usize::from(CHECK_INS_PER_PAIR) * 2);
        for number in 1..=CHECK_INS_PER_PAIR {
            let Some(slot) = followed.schedule.slot(number).copied() else {
                break;
            };
            for user in partners {
                // Somewhere in the window's first three days, never after now.
                let at = (slot.opens_at
                    + Duration::hours(2)
                    + Duration::minutes(rng.gen_range(0..3 * 24 * 60)))
                .min(slot.closes_at - Duration::minutes(1))
                .min(now);
                let note = rng
                    .gen_bool(0.6)
                    .then(|| notes[rng.gen_range(0..notes.len())]);
                let rating = rng.gen_range(1..=5);
                entries.push(actions::EntryStep {
                    number,
                    user,
                    rating,
                    note,
                    at,
                });
            }
        }
        actions::check_ins_of(conn, pairing.id, &entries)?;
        made.check_in_entries += entries.len();
        let posts: Vec<actions::Post<'_>> = (0..MESSAGES_PER_PAIR)
            .map(|m| {
                let days = i64::try_from(m).unwrap_or(0) * 5;
                let at = started + Duration::days(days) + Duration::minutes(rng.gen_range(1..600));
                actions::Post {
                    author: partners[m % 2],
                    body: texts[rng.gen_range(0..texts.len())],
                    week: Some(i64::try_from(m).unwrap_or(0) * 5 / 7 + 1),
                    at: at.min(now),
                }
            })
            .collect();
        actions::post_messages(conn, pairing.id, &posts)?;
        made.messages += posts.len();
        made.pairings += 1;
        for partner in [mentor, *mentee] {
            if let Some(&k) = plan.busy_position.get(&partner) {
                listing.busy_members[k].pairings += 1;
            }
        }
        if listing.pairings.len() < LISTED {
            listing.pairings.push(PairingLogin {
                id: pairing.id.to_string(),
                program_id: program.id.to_string(),
                mentor_email: email_of(mentor),
                mentee_email: email_of(*mentee),
            });
        }
    }
    if index == 0 {
        listing.match_program = Some(MatchProgram {
            id: program.id.to_string(),
            enrolments: program_plan.enrolments,
            admin_email: email_of(program_plan.group),
        });
    }
    if listing.programs.len() < LISTED {
        listing.programs.push(program.id.to_string());
    }
    Ok(made)
}

/// `users.json`: what a load script needs to log in as many people and address real
/// resources.
#[derive(Debug, Default, Serialize)]
struct Listing {
    password: &'static str,
    scale: f64,
    seed: u64,
    counts: Option<Counts>,
    /// Group owners, one per group.
    admins: Vec<Login>,
    mentors: Vec<Login>,
    mentees: Vec<Login>,
    programs: Vec<String>,
    /// The program made for match suggestions, with an admin of its group.
    match_program: Option<MatchProgram>,
    pairings: Vec<PairingLogin>,
    /// Members who partner in at least [`BUSY_PAIRINGS`] pairings, all of them listed.
    busy_members: Vec<BusyMember>,
}

#[derive(Debug, Serialize)]
struct BusyMember {
    email: String,
    /// The pairings `GET /v1/me/pairings` shows them.
    pairings: usize,
}

#[derive(Debug, Serialize)]
struct Login {
    email: String,
    group_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    program_id: Option<String>,
}

#[derive(Debug, Serialize)]
struct MatchProgram {
    id: String,
    enrolments: usize,
    admin_email: String,
}

#[derive(Debug, Serialize)]
struct PairingLogin {
    id: String,
    program_id: String,
    mentor_email: String,
    mentee_email: String,
}

fn write_listing(path: &Path, listing: &Listing) -> anyhow::Result<()> {
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("creating {}", folder.display()))?;
    }
    let json = serde_json::to_string_pretty(listing)?;
    std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_one_plans_the_stated_rows() {
        let counts = Counts::at_scale(1.0);
        assert_eq!(
            (counts.users, counts.groups, counts.programs),
            (5_000, 50, 200)
        );
        assert_eq!(counts.enrolments, 10_000);
        assert_eq!(counts.check_in_entries, 40_000);
        let plan = Plan::new(counts);
        assert_eq!(plan.programs[0].enrolments, MATCH_PROGRAM);
        let enrolments: usize = plan.programs.iter().map(|p| p.enrolments).sum();
        let pairings: usize = plan.programs.iter().map(|p| p.pairings).sum();
        assert_eq!((enrolments, pairings), (10_000, 4_000));
    }

    #[test]
    fn ten_times_the_scale_is_ten_times_the_rows() {
        let plan = Plan::new(Counts::at_scale(10.0));
        let pairings: usize = plan.programs.iter().map(|p| p.pairings).sum();
        assert_eq!(pairings, 40_000);
        assert!(plan.programs.iter().all(|p| p.pairings <= p.room()));
    }

    #[test]
    fn one_user_in_two_hundred_is_busy_across_programs_of_groups_they_belong_to() {
        for (scale, busy) in [(0.01, 1), (1.0, 25), (10.0, 250)] {
            let plan = Plan::new(Counts::at_scale(scale));
            assert_eq!(plan.busy.len(), busy, "at scale {scale}");
            let mut mentored = vec![0; plan.busy.len()];
            for program in &plan.programs {
                let given: usize = program.busy_mentors.iter().map(|(_, m)| m).sum();
                let others = program.mentors() - program.busy_mentors.len();
                assert!(given <= program.pairings && program.pairings - given <= 2 * others);
                for &(user, mentees) in &program.busy_mentors {
                    assert!((1..=20).contains(&mentees), "a capacity the domain accepts");
                    let group = program.group;
                    assert!(
                        plan.members[group].contains(&user) || plan.joiners[group].contains(&user)
                    );
                    mentored[plan.busy_position[&user]] += mentees;
                }
            }
            assert!(mentored.iter().all(|&m| m == BUSY_PAIRINGS), "{mentored:?}");
        }
        // Too few pairings for a full page: no busy member.
        assert!(Plan::new(Counts::at_scale(0.001)).busy.is_empty());
    }
}
