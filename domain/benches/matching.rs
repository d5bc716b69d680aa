//! Matching benchmarks: profiles + suggestions, and the program-wide assignment, on
//! deterministic random programs of 1,000 × 200 and 10,000 × 2,000 (capacities 1–5).
//!
//! Before timing, a report compares the assignment's total with:
//! - an independent exact optimum: successive shortest paths min-cost flow (Dijkstra with
//!   potentials on the explicit flow graph), where that is feasible (1,000 × 200);
//! - an independent optimality certificate at every size: the assignment is optimal iff
//!   the residual graph of the corresponding flow has no negative cycle (Bellman–Ford over
//!   all mentee × mentor arcs);
//! - greedy (best remaining pair first), for comparison.
//!
//! `cargo bench -p tandem-domain --bench matching`; set `MATCHING_REPORT_ONLY=1` to skip
//! the timed part.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use tandem_domain::matching::{
    assign, suggestions, total_score, MatchModel, Pair, Profile, ScoreMatrix,
};
use tandem_domain::question::{
    AnswerValue, Answers, Audience, ChoiceOption, Question, QuestionKind,
};

/// splitmix64: tiny, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    /// Index drawn from relative weights.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.below(total as usize) as u32;
        for (i, &w) in weights.iter().enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

fn choice(key: &str, kind: QuestionKind, n: usize, weight: u8) -> Question {
    Question {
        key: key.to_owned(),
        text: format!("{key}?"),
        kind,
        options: (0..n)
            .map(|i| ChoiceOption {
                value: format!("{key}_{i}"),
                label: format!("{key} {i}"),
            })
            .collect(),
        audience: Audience::Both,
        required: false,
        match_weight: weight,
        min: None,
        max: None,
    }
}

fn number(key: &str, min: f64, max: f64, weight: u8) -> Question {
    Question {
        key: key.to_owned(),
        text: format!("{key}?"),
        kind: QuestionKind::Number,
        options: Vec::new(),
        audience: Audience::Both,
        required: false,
        match_weight: weight,
        min: Some(min),
        max: Some(max),
    }
}

/// 8 matching questions of mixed kinds plus an unweighted and a text question.
fn questions() -> Vec<Question> {
    let mut about = choice("about", QuestionKind::Text, 0, 3);
    about.options.clear();
    vec![
        choice("stage", QuestionKind::SingleChoice, 5, 5),
        choice("goal", QuestionKind::SingleChoice, 6, 4),
        choice("format", QuestionKind::SingleChoice, 3, 2),
        choice("languages", QuestionKind::MultiChoice, 6, 3),
        choice("interests", QuestionKind::MultiChoice, 12, 4),
        choice("days", QuestionKind::MultiChoice, 7, 2),
        number("years_experience", 0.0, 30.0, 2),
        number("age", 18.0, 80.0, 1),
        choice("city", QuestionKind::SingleChoice, 10, 0),
        about,
    ]
}

fn pick(key: &str, i: usize) -> String {
    format!("{key}_{i}")
}

/// Realistic-ish answers: skewed single choices, a few multi choices, some gaps.
fn answers(rng: &mut Rng, mentor: bool) -> Answers {
    let mut a = Answers::new();
    let single = |a: &mut Answers, rng: &mut Rng, key: &str, weights: &[u32]| {
        if rng.chance(0.95) {
            a.insert(
                key.to_owned(),
                AnswerValue::Text(pick(key, rng.weighted(weights))),
            );
        }
    };
    single(&mut a, rng, "stage", &[30, 25, 20, 15, 10]);
    single(&mut a, rng, "goal", &[25, 20, 20, 15, 10, 10]);
    single(&mut a, rng, "format", &[40, 35, 25]);
    single(&mut a, rng, "city", &[1; 10]);
    let multi = |a: &mut Answers, rng: &mut Rng, key: &str, probs: &[f64]| {
        let mut chosen: Vec<String> = probs
            .iter()
            .enumerate()
            .filter(|(_, &p)| rng.chance(p))
            .map(|(i, _)| pick(key, i))
            .collect();
        if chosen.is_empty() {
            chosen.push(pick(key, rng.below(probs.len())));
        }
        a.insert(key.to_owned(), AnswerValue::Choices(chosen));
    };
    multi(&mut a, rng, "languages", &[0.9, 0.5, 0.2, 0.1, 0.05, 0.05]);
    if rng.chance(0.9) {
        multi(
            &mut a,
            rng,
            "interests",
            &[
                0.3, 0.25, 0.25, 0.2, 0.2, 0.15, 0.15, 0.1, 0.1, 0.1, 0.05, 0.05,
            ],
        );
    }
    multi(&mut a, rng, "days", &[0.5, 0.5, 0.5, 0.5, 0.4, 0.3, 0.3]);
    let years = if mentor {
        3 + rng.below(25)
    } else {
        rng.below(8)
    };
    a.insert(
        "years_experience".to_owned(),
        AnswerValue::Number(years as f64),
    );
    if rng.chance(0.8) {
        let age = if mentor {
            28 + rng.below(40)
        } else {
            20 + rng.below(30)
        };
        a.insert("age".to_owned(), AnswerValue::Number(age as f64));
    }
    a.insert("about".to_owned(), AnswerValue::Text("hello".to_owned()));
    a
}

struct Program {
    questions: Vec<Question>,
    mentees: Vec<Answers>,
    mentors: Vec<Answers>,
    capacities: Vec<u32>,
}

fn program(mentees: usize, mentors: usize, seed: u64) -> Program {
    let mut rng = Rng(seed);
    Program {
        questions: questions(),
        mentees: (0..mentees).map(|_| answers(&mut rng, false)).collect(),
        mentors: (0..mentors).map(|_| answers(&mut rng, true)).collect(),
        capacities: (0..mentors).map(|_| 1 + rng.below(5) as u32).collect(),
    }
}

/// What an API call does: compile, score all pairs, top 5 per mentee.
fn profiles_and_suggestions(p: &Program) -> (ScoreMatrix, Vec<Vec<Pair>>) {
    let model = MatchModel::new(&p.questions);
    let mentees: Vec<Profile> = p.mentees.iter().map(|a| model.profile(a)).collect();
    let mentors: Vec<Profile> = p.mentors.iter().map(|a| model.profile(a)).collect();
    let matrix = model.score_matrix(&mentees, &mentors);
    let top = suggestions(&matrix, &p.capacities, 5, 0);
    (matrix, top)
}

// ---------------------------------------------------------------------------------------
// Independent references, not used in production.

/// Greedy: best remaining allowed pair first (ties by mentee, then mentor).
fn greedy(scores: &ScoreMatrix, capacities: &[u32], min_score: u8) -> u64 {
    let mut buckets: Vec<Vec<(u32, u32)>> = vec![Vec::new(); 101];
    for i in 0..scores.mentees() {
        for (j, &s) in scores.row(i).iter().enumerate() {
            if s >= min_score {
                buckets[usize::from(s)].push((i as u32, j as u32));
            }
        }
    }
    let mut free = capacities.to_vec();
    let mut taken = vec![false; scores.mentees()];
    let mut total = 0u64;
    for s in (0..=100).rev() {
        for &(i, j) in &buckets[s] {
            if !taken[i as usize] && free[j as usize] > 0 {
                taken[i as usize] = true;
                free[j as usize] -= 1;
                total += s as u64;
            }
        }
    }
    total
}

/// Exact maximum total by successive shortest paths min-cost flow: source → mentee (1),
/// mentee → mentor (cost 100 − s), mentor → sink (c_j). Every s–t path has one more
/// mentee→mentor arc forward than backward, so its cost is 100 − (gain); augment while
/// the gain is positive. Dijkstra with potentials, binary heap.
fn min_cost_flow_optimum(scores: &ScoreMatrix, capacities: &[u32], min_score: u8) -> u64 {
    let n = scores.mentees();
    let m = scores.mentors();
    let (src, sink) = (n + m, n + m + 1);
    let nodes = n + m + 2;
    // Edge list with paired reverse edges.
    let mut to = Vec::new();
    let mut cap: Vec<i64> = Vec::new();
    let mut cost: Vec<i64> = Vec::new();
    let mut head = vec![usize::MAX; nodes];
    let mut next = Vec::new();
    let mut add = |u: usize,
                   v: usize,
                   c: i64,
                   w: i64,
                   to: &mut Vec<usize>,
                   cap: &mut Vec<i64>,
                   cost: &mut Vec<i64>,
                   next: &mut Vec<usize>| {
        for (a, b, cc, ww) in [(u, v, c, w), (v, u, 0, -w)] {
            to.push(b);
            cap.push(cc);
            cost.push(ww);
            next.push(head[a]);
            head[a] = to.len() - 1;
        }
    };
    for i in 0..n {
        add(src, i, 1, 0, &mut to, &mut cap, &mut cost, &mut next);
        for (j, &s) in scores.row(i).iter().enumerate() {
            if s >= min_score {
                add(
                    i,
                    n + j,
                    1,
                    100 - i64::from(s),
                    &mut to,
                    &mut cap,
                    &mut cost,
                    &mut next,
                );
            }
        }
    }
    for (j, &c) in capacities.iter().enumerate() {
        add(
            n + j,
            sink,
            i64::from(c),
            0,
            &mut to,
            &mut cap,
            &mut cost,
            &mut next,
        );
    }
    let mut pot = vec![0i64; nodes];
    let mut total = 0i64;
    let mut dist = vec![i64::MAX; nodes];
    let mut prev = vec![usize::MAX; nodes];
    loop {
        dist.fill(i64::MAX);
        dist[src] = 0;
        let mut heap = BinaryHeap::new();
        heap.push(Reverse((0i64, src)));
        while let Some(Reverse((d, u))) = heap.pop() {
            if d > dist[u] {
                continue;
            }
            let mut e = head[u];
            while e != usize::MAX {
                if cap[e] > 0 {
                    let v = to[e];
                    let nd = d + cost[e] + pot[u] - pot[v];
                    if nd < dist[v] {
                        dist[v] = nd;
                        prev[v] = e;
                        heap.push(Reverse((nd, v)));
                    }
                }
                e = next[e];
            }
        }
        if dist[sink] == i64::MAX {
            break;
        }
        for v in 0..nodes {
            if dist[v] != i64::MAX {
                pot[v] += dist[v];
            }
        }
        let path_cost = pot[sink] - pot[src];
        if path_cost >= 100 {
            break; // no positive gain left
        }
        let mut v = sink;
        while v != src {
            let e = prev[v];
            cap[e] -= 1;
            cap[e ^ 1] += 1;
            v = to[e ^ 1];
        }
        total += 100 - path_cost;
    }
    total as u64
}

/// True iff `pairs` is a maximum-total assignment: the residual graph of its flow has no
/// negative cycle (Bellman–Ford from a virtual root over every arc, costs −s forward).
/// Nodes: mentees, mentors, and one hub standing for both source and sink (the flow
/// amount is free, so s and t are merged). Gives up (None) after `max_passes`.
fn certify_optimal(
    scores: &ScoreMatrix,
    capacities: &[u32],
    min_score: u8,
    pairs: &[Pair],
    max_passes: usize,
) -> Option<bool> {
    let n = scores.mentees();
    let m = scores.mentors();
    let mut mentor_of = vec![usize::MAX; n];
    let mut load = vec![0u32; m];
    for p in pairs {
        mentor_of[p.mentee] = p.mentor;
        load[p.mentor] += 1;
    }
    // d: mentees 0..n, mentors n..n+m, hub n+m. All start at 0 (virtual root).
    let mut d = vec![0i64; n + m + 1];
    let hub = n + m;
    for pass in 0..max_passes {
        let mut changed = false;
        let relax = |d: &mut [i64], changed: &mut bool, from: usize, to: usize, w: i64| {
            if d[from] + w < d[to] {
                d[to] = d[from] + w;
                *changed = true;
            }
        };
        for i in 0..n {
            if mentor_of[i] == usize::MAX {
                relax(&mut d, &mut changed, hub, i, 0); // source → free mentee
            } else {
                relax(&mut d, &mut changed, i, hub, 0); // un-assign: mentee → source
                let j = mentor_of[i];
                relax(&mut d, &mut changed, n + j, i, i64::from(scores.get(i, j)));
                // mentor → its mentee
            }
            let di = d[i];
            for (j, &s) in scores.row(i).iter().enumerate() {
                if s >= min_score && mentor_of[i] != j && di - i64::from(s) < d[n + j] {
                    d[n + j] = di - i64::from(s);
                    changed = true;
                }
            }
        }
        for j in 0..m {
            if load[j] < capacities[j] {
                relax(&mut d, &mut changed, n + j, hub, 0); // mentor → sink
            }
            if load[j] > 0 {
                relax(&mut d, &mut changed, hub, n + j, 0); // sink → mentor
            }
        }
        if !changed {
            let _ = pass;
            return Some(true);
        }
        if pass > n + m + 1 {
            return Some(false);
        }
    }
    None
}

fn valid(scores: &ScoreMatrix, capacities: &[u32], min_score: u8, pairs: &[Pair]) -> bool {
    let mut seen = vec![false; scores.mentees()];
    let mut load = vec![0u32; scores.mentors()];
    pairs.iter().all(|p| {
        let ok =
            !seen[p.mentee] && p.score >= min_score && p.score == scores.get(p.mentee, p.mentor);
        seen[p.mentee] = true;
        load[p.mentor] += 1;
        ok && load[p.mentor] <= capacities[p.mentor]
    })
}

fn report(name: &str, p: &Program, exact_feasible: bool) {
    let places: u32 = p.capacities.iter().sum();
    println!(
        "== {name}: {} mentees × {} mentors, {places} places",
        p.mentees.len(),
        p.mentors.len()
    );
    let t = Instant::now();
    let model = MatchModel::new(&p.questions);
    let mentees: Vec<Profile> = p.mentees.iter().map(|a| model.profile(a)).collect();
    let mentors: Vec<Profile> = p.mentors.iter().map(|a| model.profile(a)).collect();
    let t_profiles = t.elapsed();
    let matrix = model.score_matrix(&mentees, &mentors);
    let t_matrix = t.elapsed() - t_profiles;
    let top = suggestions(&matrix, &p.capacities, 5, 0);
    let t_top = t.elapsed() - t_matrix - t_profiles;
    println!(
        "  profiles {t_profiles:?}, score matrix {t_matrix:?}, top-5 suggestions {t_top:?} ({} lists)",
        top.len()
    );
    for min_score in [0u8, 60] {
        let t = Instant::now();
        let pairs = assign(&matrix, &p.capacities, min_score);
        let t_assign = t.elapsed();
        let total = total_score(&pairs);
        let ok = valid(&matrix, &p.capacities, min_score, &pairs);
        let greedy_total = greedy(&matrix, &p.capacities, min_score);
        println!(
            "  min_score {min_score}: assign {t_assign:?}: {} pairs, total {total} (valid: {ok})",
            pairs.len()
        );
        println!(
            "    greedy total {greedy_total} ({:+.3}% vs assign)",
            100.0 * (greedy_total as f64 - total as f64) / total.max(1) as f64
        );
        if exact_feasible {
            let t = Instant::now();
            let exact = min_cost_flow_optimum(&matrix, &p.capacities, min_score);
            println!(
                "    exact optimum (SSP min-cost flow) {exact} in {:?}: assign is {}",
                t.elapsed(),
                if exact == total {
                    "optimal"
                } else {
                    "NOT optimal"
                }
            );
        } else {
            println!("    exact SSP min-cost flow skipped: ~{places} Dijkstras over a {}-arc graph would take hours", p.mentees.len() * p.mentors.len());
        }
        let t = Instant::now();
        let cert = certify_optimal(&matrix, &p.capacities, min_score, &pairs, 10_000);
        let verdict = match cert {
            Some(true) => "no negative cycle: optimal (certified)",
            Some(false) => "negative cycle found: NOT optimal",
            None => "undecided",
        };
        println!(
            "    residual-graph certificate (Bellman–Ford): {verdict} in {:?}",
            t.elapsed()
        );
    }
}

fn main() {
    let small = program(1_000, 200, 7);
    let large = program(10_000, 2_000, 11);
    report("small", &small, true);
    report("large", &large, false);
    if std::env::var_os("MATCHING_REPORT_ONLY").is_some() {
        return;
    }

    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    for (name, p) in [("1000x200", &small), ("10000x2000", &large)] {
        let mut group = c.benchmark_group(format!("matching/{name}"));
        group.bench_function("profiles+suggestions", |b| {
            b.iter(|| black_box(profiles_and_suggestions(p)))
        });
        let (matrix, _) = profiles_and_suggestions(p);
        group.bench_function("assign", |b| {
            b.iter(|| black_box(assign(&matrix, &p.capacities, 0)))
        });
        group.finish();
    }
    c.final_summary();
}
