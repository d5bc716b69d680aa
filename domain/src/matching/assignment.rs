//! Program-wide assignment (everyone at once, maximising the total score) and per-mentee
//! suggestions, over a mentee × mentor score matrix.
//!
//! # The problem
//!
//! Mentees `i` (each paired at most once), mentors `j` with free capacities `c_j`, scores
//! `s_ij` in `0..=100`, and a minimum score below which a pair is not allowed. Find pairs
//! maximising `Σ s_ij`; a mentee may stay unassigned (there are usually fewer mentor
//! places than mentees). Among assignments with the same total, the one with the most
//! pairs wins (so score-0 pairs above the minimum are still made when nothing better is
//! possible): internally a pair is worth `s_ij·K + 1` with `K = min(mentees, places) + 1`,
//! and since at most `K − 1` pairs exist the `+1`s can only break ties of the total.
//!
//! # The algorithm, and why
//!
//! [`assign`] is **exact**: it returns an optimal assignment, not an approximation. It is
//! the shortest augmenting path (Hungarian) algorithm in the rectangular form of
//! Jonker–Volgenant / Crouse ("On implementing 2D rectangular assignment algorithms",
//! 2016), with:
//!
//! - rows = mentor *places* (mentor `j` expanded into `c_j` rows sharing one score row),
//!   columns = mentees, so the augmentations number the places (~6,000), not the mentees;
//! - each place has a private zero-valued "stays empty" column, so places may remain
//!   unused and mentees unassigned;
//! - integer costs and duals (`i64`), hence no ε and no rounding: the result is optimal by
//!   LP duality (the duals are kept feasible and complementary throughout; free mentee
//!   columns keep potential 0, which is what optimality needs when columns may stay free).
//!
//! Each augmentation is a Dijkstra over dense rows; rows scanned per augmentation stay few
//! because free mentees are plentiful and, among equally short paths, a free mentee ends
//! the search at once (ties are frequent with integer scores). The worst case is
//! `O(places² × mentees)`, but measured on 10,000 mentees × 2,000 mentors (capacities 1–5,
//! ~6,000 places) it takes about 1 s on one core (`benches/matching.rs`, which also checks
//! the total against an independent min-cost flow and a residual-graph certificate).
//!
//! Alternatives considered: an auction (Bertsekas) with ε-scaling is fast on average but
//! with fewer places than mentees it needs the reverse-auction repair for the asymmetric
//! case to be exact, and without scaling integer ties cause price wars; a general
//! min-cost max-flow on the dense 20M-edge graph is exact but heavier; greedy is neither.
//! Sparsifying to each mentee's top-K mentors has no a-priori guarantee, so it is not used.

use std::fmt;

/// Scores of every mentee (rows) against every mentor (columns), row-major.
#[derive(Clone, PartialEq, Eq)]
pub struct ScoreMatrix {
    mentees: usize,
    mentors: usize,
    scores: Vec<u8>,
}

impl fmt::Debug for ScoreMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScoreMatrix")
            .field("mentees", &self.mentees)
            .field("mentors", &self.mentors)
            .finish()
    }
}

impl ScoreMatrix {
    /// Wraps row-major scores (`scores[i * mentors + j]` = mentee `i` with mentor `j`);
    /// `None` if the length is not `mentees × mentors`.
    pub fn new(mentees: usize, mentors: usize, scores: Vec<u8>) -> Option<Self> {
        (mentees.checked_mul(mentors) == Some(scores.len())).then_some(ScoreMatrix {
            mentees,
            mentors,
            scores,
        })
    }

    /// Fills the matrix with `score(mentee, mentor)`, mentee by mentee.
    pub fn from_fn(
        mentees: usize,
        mentors: usize,
        mut score: impl FnMut(usize, usize) -> u8,
    ) -> Self {
        let mut scores = Vec::with_capacity(mentees * mentors);
        for i in 0..mentees {
            scores.extend((0..mentors).map(|j| score(i, j)));
        }
        ScoreMatrix {
            mentees,
            mentors,
            scores,
        }
    }

    pub fn mentees(&self) -> usize {
        self.mentees
    }

    pub fn mentors(&self) -> usize {
        self.mentors
    }

    /// The score of mentee `i` with mentor `j`. Panics if out of range.
    #[inline]
    pub fn get(&self, mentee: usize, mentor: usize) -> u8 {
        assert!(mentor < self.mentors, "mentor index out of range");
        self.scores[mentee * self.mentors + mentor]
    }

    /// Mentee `i`'s scores against every mentor.
    #[inline]
    pub fn row(&self, mentee: usize) -> &[u8] {
        &self.scores[mentee * self.mentors..(mentee + 1) * self.mentors]
    }
}

/// One pair of an assignment or a suggestion: indices into the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pair {
    pub mentee: usize,
    pub mentor: usize,
    pub score: u8,
}

/// Sum of the scores of `pairs`.
pub fn total_score(pairs: &[Pair]) -> u64 {
    pairs.iter().map(|p| u64::from(p.score)).sum()
}

/// An optimal program-wide assignment: each mentee at most once, each mentor at most its
/// capacity, no pair below `min_score`, maximum total score (then most pairs). Pairs are
/// sorted by mentee.
///
/// `capacities[j]` is mentor `j`'s *free* capacity (0 = full). Exact; see the module doc.
///
/// # Panics
/// If `capacities.len() != scores.mentors()`.
pub fn assign(scores: &ScoreMatrix, capacities: &[u32], min_score: u8) -> Vec<Pair> {
    assert_eq!(capacities.len(), scores.mentors, "one capacity per mentor");
    let n = scores.mentees;
    let m = scores.mentors;
    // Mentors that can take someone, with their column of scores laid out contiguously.
    let mut mentor_of_row: Vec<u32> = Vec::new();
    let mut useful: Vec<usize> = Vec::new();
    for (j, &cap) in capacities.iter().enumerate() {
        if cap == 0 || !(0..n).any(|i| scores.scores[i * m + j] >= min_score) {
            continue;
        }
        let k = useful.len() as u32;
        useful.push(j);
        mentor_of_row.extend(std::iter::repeat_n(k, (cap as usize).min(n)));
    }
    let rows = mentor_of_row.len();
    if rows == 0 || n == 0 {
        return Vec::new();
    }
    let mut by_mentor = vec![0u8; useful.len() * n];
    for (k, &j) in useful.iter().enumerate() {
        let col = &mut by_mentor[k * n..(k + 1) * n];
        for (i, cell) in col.iter_mut().enumerate() {
            *cell = scores.scores[i * m + j];
        }
    }

    // Costs to minimise: −(s·K + 1), or FORBIDDEN.
    let big_k = n.min(rows) as i64 + 1;
    let mut cost_of = [FORBIDDEN; 256];
    for (s, c) in cost_of.iter_mut().enumerate() {
        if s >= usize::from(min_score) {
            *c = -(s as i64 * big_k + 1);
        }
    }

    let solver = Solver::new(n, rows);
    let col4row = solver.run(
        |row| {
            let k = mentor_of_row[row] as usize;
            &by_mentor[k * n..(k + 1) * n]
        },
        &cost_of,
    );

    let mut pairs: Vec<Pair> = col4row
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c != NONE)
        .map(|(row, &c)| {
            let mentor = useful[mentor_of_row[row] as usize];
            let mentee = c as usize;
            Pair {
                mentee,
                mentor,
                score: scores.scores[mentee * m + mentor],
            }
        })
        .collect();
    pairs.sort_unstable();
    pairs
}

const FORBIDDEN: i64 = i64::MAX / 4;
const INF: i64 = i64::MAX / 2;
const NONE: u32 = u32::MAX;

/// Rectangular shortest-augmenting-path assignment: every row (mentor place) gets a
/// real column or its private empty column (cost 0).
struct Solver {
    cols: usize,
    rows: usize,
}

impl Solver {
    fn new(cols: usize, rows: usize) -> Self {
        Solver { cols, rows }
    }

    /// Returns, per row, its column or `NONE` (its private empty column).
    fn run<'a>(&self, row_scores: impl Fn(usize) -> &'a [u8], cost_of: &[i64; 256]) -> Vec<u32> {
        let n = self.cols;
        let mut u = vec![0i64; self.rows];
        let mut v = vec![0i64; n];
        let mut spc = vec![INF; n];
        let mut path = vec![NONE; n];
        let mut row4col = vec![NONE; n];
        let mut col4row = vec![NONE; self.rows];
        let mut remaining: Vec<u32> = Vec::with_capacity(n);
        let mut scanned_rows: Vec<u32> = Vec::new();
        let mut scanned_cols: Vec<u32> = Vec::new();

        for cur in 0..self.rows {
            remaining.clear();
            remaining.extend(0..n as u32);
            spc.fill(INF);
            scanned_rows.clear();
            scanned_cols.clear();

            let mut min_val = 0i64;
            let mut i = cur;
            // Best private empty column reached so far: (distance, its row).
            let mut best_empty = (INF, NONE);
            let sink_col: u32; // NONE = the empty column of `best_empty.1`
            loop {
                scanned_rows.push(i as u32);
                let base = min_val - u[i];
                if base < best_empty.0 {
                    best_empty = (base, i as u32);
                }
                let scores = row_scores(i);
                let mut lowest = INF;
                let mut index = usize::MAX;
                let mut lowest_free = false;
                for (it, &c) in remaining.iter().enumerate() {
                    let c = c as usize;
                    let cost = cost_of[usize::from(scores[c])];
                    if cost != FORBIDDEN {
                        let r = base + cost - v[c];
                        if r < spc[c] {
                            spc[c] = r;
                            path[c] = i as u32;
                        }
                    }
                    let s = spc[c];
                    if s < lowest || (s == lowest && !lowest_free && row4col[c] == NONE) {
                        lowest = s;
                        index = it;
                        lowest_free = row4col[c] == NONE;
                    }
                }
                if best_empty.0 <= lowest {
                    min_val = best_empty.0;
                    sink_col = NONE;
                    break;
                }
                min_val = lowest;
                let c = remaining.swap_remove(index);
                scanned_cols.push(c);
                if row4col[c as usize] == NONE {
                    sink_col = c;
                    break;
                }
                i = row4col[c as usize] as usize;
            }

            // Dual update: keeps reduced costs ≥ 0 and those on the new path 0.
            u[cur] += min_val;
            for &r in &scanned_rows[1..] {
                let r = r as usize;
                u[r] += min_val - spc[col4row[r] as usize];
            }
            for &c in &scanned_cols {
                let c = c as usize;
                v[c] -= min_val - spc[c];
            }

            // Augment along the path back to `cur`.
            let mut j = sink_col;
            if j == NONE {
                let r = best_empty.1 as usize;
                j = col4row[r];
                col4row[r] = NONE;
                if r == cur {
                    continue;
                }
            }
            loop {
                let r = path[j as usize] as usize;
                row4col[j as usize] = r as u32;
                let old = std::mem::replace(&mut col4row[r], j);
                if r == cur {
                    break;
                }
                j = old;
            }
        }
        col4row
    }
}

/// For each mentee, the best `k` mentors with free capacity scoring at least `min_score`:
/// highest score first, ties by lower mentor index (so results are deterministic).
///
/// `free_capacity[j] == 0` excludes mentor `j`. O(mentees × mentors) with a small
/// constant: one counting pass over each row, no sorting of whole rows.
///
/// # Panics
/// If `free_capacity.len() != scores.mentors()`.
pub fn suggestions(
    scores: &ScoreMatrix,
    free_capacity: &[u32],
    k: usize,
    min_score: u8,
) -> Vec<Vec<Pair>> {
    assert_eq!(
        free_capacity.len(),
        scores.mentors,
        "one capacity per mentor"
    );
    (0..scores.mentees)
        .map(|i| top_mentors(i, scores.row(i), free_capacity, k, min_score))
        .collect()
}

/// The best `k` mentors for one mentee from its row of scores (see [`suggestions`]).
pub fn top_mentors(
    mentee: usize,
    row: &[u8],
    free_capacity: &[u32],
    k: usize,
    min_score: u8,
) -> Vec<Pair> {
    if k == 0 {
        return Vec::new();
    }
    let eligible = |j: usize| free_capacity.get(j).is_some_and(|&c| c > 0) && row[j] >= min_score;
    // Histogram of eligible scores, then the lowest score that still makes the top k.
    let mut count = [0usize; 256];
    for (j, &s) in row.iter().enumerate() {
        if eligible(j) {
            count[usize::from(s)] += 1;
        }
    }
    let mut found = None;
    let mut above = 0usize; // eligible mentors scoring above the threshold
    for s in (0..256).rev() {
        if above + count[s] >= k {
            found = Some(s);
            break;
        }
        above += count[s];
    }
    // Fewer than k eligible: take them all.
    let (threshold, mut take_at_threshold) = match found {
        Some(t) => (t, k - above),
        None => (0, usize::MAX),
    };
    let mut out: Vec<Pair> = Vec::with_capacity(k);
    for (j, &s) in row.iter().enumerate() {
        if !eligible(j) || usize::from(s) < threshold {
            continue;
        }
        if usize::from(s) == threshold {
            if take_at_threshold == 0 {
                continue;
            }
            take_at_threshold -= 1;
        }
        out.push(Pair {
            mentee,
            mentor: j,
            score: s,
        });
    }
    out.sort_by(|a, b| b.score.cmp(&a.score).then(a.mentor.cmp(&b.mentor)));
    out.truncate(k);
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// (best total, most pairs among best totals) by trying every choice of every mentee.
    fn brute_force(scores: &ScoreMatrix, capacities: &[u32], min_score: u8) -> (u64, usize) {
        fn go(
            i: usize,
            s: &ScoreMatrix,
            free: &mut [u32],
            min: u8,
            total: u64,
            pairs: usize,
            best: &mut (u64, usize),
        ) {
            if i == s.mentees() {
                if (total, pairs) > *best {
                    *best = (total, pairs);
                }
                return;
            }
            go(i + 1, s, free, min, total, pairs, best);
            for j in 0..s.mentors() {
                let score = s.get(i, j);
                if free[j] > 0 && score >= min {
                    free[j] -= 1;
                    go(
                        i + 1,
                        s,
                        free,
                        min,
                        total + u64::from(score),
                        pairs + 1,
                        best,
                    );
                    free[j] += 1;
                }
            }
        }
        let mut best = (0, 0);
        go(
            0,
            scores,
            &mut capacities.to_vec(),
            min_score,
            0,
            0,
            &mut best,
        );
        best
    }

    fn check_valid(scores: &ScoreMatrix, capacities: &[u32], min_score: u8, pairs: &[Pair]) {
        let mut seen = vec![false; scores.mentees()];
        let mut load = vec![0u32; scores.mentors()];
        for p in pairs {
            assert!(!seen[p.mentee], "mentee {} twice", p.mentee);
            seen[p.mentee] = true;
            load[p.mentor] += 1;
            assert!(
                load[p.mentor] <= capacities[p.mentor],
                "mentor {} over capacity",
                p.mentor
            );
            assert_eq!(p.score, scores.get(p.mentee, p.mentor));
            assert!(p.score >= min_score);
        }
    }

    fn arb_instance(
        max_mentees: usize,
        max_mentors: usize,
        max_cap: u32,
    ) -> impl Strategy<Value = (ScoreMatrix, Vec<u32>, u8)> {
        (1..=max_mentees, 1..=max_mentors).prop_flat_map(move |(n, m)| {
            (
                // Few distinct values: ties are the hard case.
                proptest::collection::vec(
                    prop_oneof![0u8..=100, Just(0u8), Just(50), Just(100), 48u8..=52],
                    n * m,
                ),
                proptest::collection::vec(0..=max_cap, m),
                prop_oneof![Just(0u8), 0u8..=100],
            )
                .prop_map(move |(scores, caps, min)| {
                    (
                        ScoreMatrix::new(n, m, scores).expect("sizes match"),
                        caps,
                        min,
                    )
                })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(600))]

        #[test]
        fn assignment_is_optimal_on_small_instances((scores, caps, min) in arb_instance(7, 4, 3)) {
            let pairs = assign(&scores, &caps, min);
            check_valid(&scores, &caps, min, &pairs);
            prop_assert_eq!((total_score(&pairs), pairs.len()), brute_force(&scores, &caps, min));
        }

        #[test]
        fn more_mentees_than_places((scores, caps, min) in arb_instance(8, 2, 2)) {
            let pairs = assign(&scores, &caps, min);
            check_valid(&scores, &caps, min, &pairs);
            prop_assert_eq!((total_score(&pairs), pairs.len()), brute_force(&scores, &caps, min));
        }

        #[test]
        fn suggestions_are_the_best_eligible_mentors((scores, caps, min) in arb_instance(5, 12, 2), k in 0usize..6) {
            let lists = suggestions(&scores, &caps, k, min);
            prop_assert_eq!(lists.len(), scores.mentees());
            for (i, list) in lists.iter().enumerate() {
                let mut all: Vec<Pair> = (0..scores.mentors())
                    .filter(|&j| caps[j] > 0 && scores.get(i, j) >= min)
                    .map(|j| Pair { mentee: i, mentor: j, score: scores.get(i, j) })
                    .collect();
                all.sort_by(|a, b| b.score.cmp(&a.score).then(a.mentor.cmp(&b.mentor)));
                all.truncate(k);
                prop_assert_eq!(list, &all);
            }
        }
    }

    #[test]
    fn beats_greedy_where_greedy_is_wrong() {
        // Greedy takes (0,0)=10 and leaves mentee 1 with 0; optimal is 9 + 9.
        let scores = ScoreMatrix::new(2, 2, vec![10, 9, 9, 0]).expect("sizes match");
        let pairs = assign(&scores, &[1, 1], 1);
        assert_eq!(
            pairs,
            vec![
                Pair {
                    mentee: 0,
                    mentor: 1,
                    score: 9
                },
                Pair {
                    mentee: 1,
                    mentor: 0,
                    score: 9
                }
            ]
        );
    }

    #[test]
    fn respects_capacity_and_minimum() {
        let scores = ScoreMatrix::from_fn(5, 2, |i, j| if j == 0 { 90 - i as u8 } else { 10 });
        let pairs = assign(&scores, &[2, 3], 50);
        assert_eq!(pairs.len(), 2);
        assert_eq!(total_score(&pairs), 90 + 89);
        let pairs = assign(&scores, &[2, 3], 0);
        assert_eq!(pairs.len(), 5);
        assert_eq!(total_score(&pairs), 90 + 89 + 30);
    }

    #[test]
    fn empty_inputs() {
        let none = ScoreMatrix::new(0, 0, vec![]).expect("sizes match");
        assert!(assign(&none, &[], 0).is_empty());
        let full = ScoreMatrix::new(2, 1, vec![80, 70]).expect("sizes match");
        assert!(assign(&full, &[0], 0).is_empty());
        assert!(suggestions(&full, &[0], 3, 0).iter().all(Vec::is_empty));
        assert!(ScoreMatrix::new(2, 2, vec![1]).is_none());
    }

    #[test]
    fn suggestion_ties_go_to_the_lower_mentor_index() {
        let scores = ScoreMatrix::new(1, 5, vec![70, 80, 70, 80, 70]).expect("sizes match");
        let top: Vec<usize> = suggestions(&scores, &[1, 1, 1, 0, 1], 3, 0)[0]
            .iter()
            .map(|p| p.mentor)
            .collect();
        assert_eq!(top, vec![1, 0, 2]);
    }
}
